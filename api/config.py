"""Every setting the service reads, in one place, from the environment."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    # DATABASE_URL keeps its conventional twelve-factor name; the rest share a prefix so they
    # cannot collide with other software's variables in the same environment.
    model_config = SettingsConfigDict(env_prefix="HEROES_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///heroes.db",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    migrate_on_startup: bool = Field(
        default=True, description="Apply pending Alembic migrations when the app starts."
    )
    db_pool_size: int = Field(default=20, ge=1, description="Connections kept open per worker.")
    db_max_overflow: int = Field(default=0, ge=0, description="Extra connections under load.")
    db_pool_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a request waits for a connection before it gets a 503.",
    )
    max_queued_requests: int = Field(
        default=1024,
        ge=0,
        description="Requests that may wait for a connection; more are shed with a 503 at once.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5000, ge=0, description="How long SQLite waits on another writer's lock."
    )
    telemetry: bool = Field(
        default=False,
        description="Emit FastAPI's OpenTelemetry request spans and metrics (needs a provider).",
    )
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1, description="Larger request bodies get 413 before being read."
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
