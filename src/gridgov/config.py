"""Settings from environment variables and `.env` (prefix GRIDGOV_)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gridgov.calendar.rules import WorkingHours
from gridgov.errors import InvalidInput

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", env_file=".env", extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is the SQLite file <data_dir>/gridgov.sqlite3. "
        "Production: postgresql+psycopg://user:password@host/dbname",
    )
    database_pool_size: int = Field(
        default=40, ge=1, description="Database connections the web server keeps open per process: as "
        "many as requests it serves at once (the request thread pool's 40), so that no request waits "
        "for a connection and none is opened and closed per request")
    secret_key: SecretStr = SecretStr("dev-only-change-me")
    timezone: str = "Asia/Shanghai"
    working_hours: str = Field(
        default="09:00-12:00,13:30-17:00",
        description="Daily working periods in local time, the same on every working day",
    )
    access_token_minutes: int = 8 * 60
    web_session_minutes: int = 12 * 60
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    password_hash_profile: Literal["production", "fast-for-tests"] = "production"
    cookie_secure: bool = False
    map_tile_url: str | None = Field(
        default=None,
        description="Optional XYZ tile layer for the maps, e.g. https://tiles.example/{z}/{x}/{y}.png; "
        "without it the maps show our own GeoJSON only (no page loads anything remote)",
    )
    dashboard_max_age_seconds: int = Field(
        default=60, ge=0, description="How old the dashboard's figures may be once the data has moved "
        "on: such a figure is served once more while it is recomputed in the background; 0 = always "
        "recompute before answering")
    public_reports_per_hour: int = Field(
        default=10, ge=1, description="Reports one address may send through the public 随手拍 page per hour")
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("working_hours")
    @classmethod
    def _valid_working_hours(cls, value: str) -> str:
        try:
            return str(WorkingHours.parse(value))
        except InvalidInput as exc:
            raise ValueError(exc.detail) from None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gridgov.sqlite3').resolve()}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    return Settings()
