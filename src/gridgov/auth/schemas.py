from datetime import datetime

from pydantic import BaseModel, Field

from gridgov.auth.policy import Role


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class AccessToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class WebSession(BaseModel):
    csrf_token: str
    expires_at: datetime


class IntegrationTokenIn(BaseModel):
    username: str
    label: str = Field(min_length=1, max_length=100)
    valid_days: int | None = Field(default=None, ge=1, le=3650)


class IntegrationTokenOut(BaseModel):
    id: int
    username: str
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class IssuedIntegrationToken(IntegrationTokenOut):
    token: str = Field(description="Shown once; only its digest is stored.")


class UserIn(BaseModel):
    username: str
    display_name: str = Field(min_length=1, max_length=100)
    password: str
    unit_code: str
    roles: list[Role] = Field(min_length=1)
    phone: str | None = Field(default=None, max_length=32)


class UserPatch(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    roles: list[Role] | None = Field(default=None, min_length=1)
    active: bool | None = None
    password: str | None = None


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    phone: str | None
    unit_code: str
    unit_name: str
    roles: list[Role]
    role_labels: list[str]
    active: bool
    locked_until: datetime | None


class Me(UserOut):
    permissions: list[str]
