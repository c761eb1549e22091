"""Password hashing with argon2id (RFC 9106 low-memory profile in production)."""

from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

PROFILES = {
    "production": profiles.RFC_9106_LOW_MEMORY,
    # Minimal cost: only for test suites, where hundreds of accounts are created.
    "fast-for-tests": profiles.CHEAPEST,
}


@cache
def hasher(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(PROFILES[profile])


def hash_password(password: str, *, profile: str) -> str:
    return hasher(profile).hash(password)


def verify_password(stored_hash: str, password: str, *, profile: str) -> bool:
    try:
        return hasher(profile).verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, *, profile: str) -> bool:
    return hasher(profile).check_needs_rehash(stored_hash)
