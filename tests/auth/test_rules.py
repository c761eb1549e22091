from datetime import UTC, datetime, timedelta

from gridgov.auth.policy import Role, mask_name, mask_phone
from gridgov.auth.rules import (
    LockoutPolicy, is_locked, password_problem, roles_problem, token_usable, username_problem,
)
from gridgov.org.rules import UnitKind

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_account_locks_on_the_threshold_failure_and_not_before() -> None:
    policy = LockoutPolicy(threshold=3, duration=timedelta(minutes=15))
    assert policy.after_failure(0, NOW) == (1, None)
    assert policy.after_failure(1, NOW) == (2, None)
    assert policy.after_failure(2, NOW) == (3, NOW + timedelta(minutes=15))


def test_lock_ends_at_its_end_time() -> None:
    until = NOW + timedelta(minutes=15)
    assert is_locked(until, NOW)
    assert not is_locked(until, until)
    assert not is_locked(None, NOW)


def test_token_is_unusable_once_expired_or_revoked() -> None:
    assert token_usable(NOW + timedelta(seconds=1), None, NOW)
    assert not token_usable(NOW, None, NOW)
    assert not token_usable(None, NOW - timedelta(days=1), NOW)
    assert token_usable(None, None, NOW)


def test_passwords_need_length_letters_and_digits() -> None:
    assert password_problem("short1") is not None
    assert password_problem("onlyletterslong") is not None
    assert password_problem("1234567890123") is not None
    assert password_problem("Dongcheng2026") is None


def test_usernames_are_plain_ascii() -> None:
    assert username_problem("zhang.wei") is None
    assert username_problem("张伟") is not None
    assert username_problem("ab") is not None


def test_a_role_must_fit_the_kind_of_unit() -> None:
    assert roles_problem([Role.DEPARTMENT], UnitKind.DEPARTMENT) is None
    assert "系统管理员" in roles_problem([Role.ADMIN], UnitKind.STREET)
    assert roles_problem([], UnitKind.STREET) == "至少要有一个角色"


def test_personal_data_masking_keeps_only_what_identifies_nobody() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李*"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("65123456") == "******56"
    assert mask_phone(None) is None
