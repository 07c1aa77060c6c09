"""Every setting the service reads, in one place, from the environment."""

import ipaddress
import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The files prometheus-client's multiprocess mode writes: `<kind>_<pid>.db`.
METRICS_FILE = re.compile(r"^(counter|histogram|summary|gauge_[a-z]+)_\d+\.db$")

_SCHEME = re.compile(r"^([A-Za-z0-9+]+)://")
DATABASE_URL_FORMS = (
    "sqlite:///path/to/file.db or postgresql+psycopg://user:password@host:5432/database"
)


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
    db_pool_size: int = Field(
        default=20,
        ge=1,
        description="Requests that may use the database at once, per worker (their connections).",
    )
    db_max_overflow: int = Field(default=0, ge=0, description="Extra connections under load.")
    db_pool_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a request waits for a connection, or a write for its group "
        "commit, before it gets a 503.",
    )
    max_queued_requests: int = Field(
        default=1024,
        ge=0,
        description="Requests that may wait for a connection (on PostgreSQL, writes: that may "
        "wait for the next group commit); more are shed with a 503 at once.",
    )
    # Off by default: behind a transaction pooler the next transaction may reach a server
    # connection that never saw the statement, and every write fails; on a direct connection
    # it gains nothing (docs/decisions/0012-prepared-statements-off.md). Requests never
    # prepare: it only concerns the engine (migrations and the CLI).
    db_prepared_statements: bool = Field(
        default=False,
        description="PostgreSQL: let psycopg prepare the statements of the start-up migrations "
        "and the CLI (only on direct connections or poolers that track prepared statements). "
        "Requests never prepare.",
    )
    idempotency_ttl: timedelta = Field(
        default=timedelta(hours=24),
        gt=timedelta(0),
        description="How long a write's Idempotency-Key is remembered (seconds, or ISO 8601 "
        "such as PT24H); repeats within it get the stored answer.",
    )
    db_lock_timeout: float = Field(
        default=5.0,
        gt=0,
        description="PostgreSQL: seconds a statement waits for a lock (lock_timeout) before it "
        "fails and its request gets a 503; one write stuck on a lock can't stall the others.",
    )
    db_statement_timeout: float = Field(
        default=30.0,
        gt=0,
        description="PostgreSQL: seconds a statement may run (statement_timeout). A connection "
        "that hears nothing from the server for this long and 2 s more is given up: the server, "
        "or the way to it, is gone.",
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

    # Operating it: metrics (api/metrics.py) and the log (api/logs.py, api/observability.py).
    metrics: bool = Field(
        default=True, description="Serve Prometheus metrics at /metrics and count every request."
    )
    access_log: bool = Field(
        default=True, description="One log line per request (id, route, status, duration)."
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as text, or as one JSON object each."
    )

    # Access control (api/auth.py). Writes always need a key once one exists.
    public_reads: bool = Field(
        default=True, description="GET requests need no key; false makes reads need one too."
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies whose X-Forwarded-For names the client (comma-separated IPs or "
        "CIDRs, or '*'): set it to your load balancer's addresses.",
    )
    key_refresh_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="How often each worker re-reads the API keys (so a revocation lands).",
    )

    # Rate limits (api/ratelimit.py), in the `limits` library's notation: "100/second",
    # "1000 per minute", "10/second;500/hour". Unset means no limit.
    rate_limit_reads: str | None = Field(default=None, description="Per client, for GETs.")
    rate_limit_writes: str | None = Field(default=None, description="Per client, for writes.")
    redis_url: str | None = Field(
        default=None,
        description="redis://host:6379/0: rate-limit counters shared by workers and replicas.",
    )

    # prometheus-client's own variable (read by name, not prefixed): where several workers'
    # metrics meet. Unset: a temporary folder of the service's, removed when it stops.
    prometheus_multiproc_dir: Path | None = Field(
        default=None,
        validation_alias="PROMETHEUS_MULTIPROC_DIR",
        description="With --workers N: a folder of the metrics' own, where the workers' metrics "
        "meet (their files of an earlier run are removed at start; nothing else is touched).",
    )

    # Browsers on other origins (CORS); none are allowed unless listed.
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Origins allowed to call from a browser, as JSON: ["https://app.example"].',
    )

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        """Its dialect, read without SQLAlchemy: a mistake in another setting is then told
        without loading it (a configuration mistake is told within a second). The URL itself
        is read by SQLAlchemy below, once every setting is valid."""
        scheme = _SCHEME.match(value)
        if scheme is None:
            raise ValueError(f"not a database URL: write it as {DATABASE_URL_FORMS}")
        dialect = scheme.group(1).lower()
        if dialect not in ("sqlite", "postgres", "postgresql", "postgresql+psycopg"):
            raise ValueError(
                f"{dialect!r} is not supported (SQLite and PostgreSQL through psycopg are): "
                f"write it as {DATABASE_URL_FORMS}"
            )
        return value

    @model_validator(mode="after")
    def _database_url(self) -> "Settings":
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(self.database_url)
        except ArgumentError:
            raise ValueError(
                f"DATABASE_URL: not a database URL: write it as {DATABASE_URL_FORMS}"
            ) from None
        if url.drivername in ("postgres", "postgresql"):
            # postgres:// is what most hosts hand out; SQLAlchemy would read either as psycopg2,
            # which isn't installed. Both mean PostgreSQL, through psycopg 3.
            url = url.set(drivername="postgresql+psycopg")
        relative = (
            url.database not in (None, "", ":memory:") and not Path(url.database).is_absolute()
        )
        if url.get_backend_name() == "sqlite" and relative:
            # Resolved once, where the command started: the path printed is the file used,
            # and every worker and command of this run uses the same one.
            url = url.set(database=str(Path(str(url.database)).resolve()))
        self.database_url = url.render_as_string(hide_password=False)
        return self

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError(
                "not a Redis URL: write it as redis://host:6379/0 (rediss:// with TLS, "
                "unix:///path/to/redis.sock)"
            )
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            parts = urlsplit(origin)
            if origin != "*" and (
                parts.scheme not in ("http", "https") or not parts.netloc or parts.path
            ):
                raise ValueError(
                    f"{origin!r} is not an origin: write scheme://host[:port], without a path "
                    '(["https://app.example"])'
                )
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: str) -> str:
        for entry in (part.strip() for part in value.split(",")):
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network: write 10.0.0.5, 10.0.0.0/8, "
                    "several separated by commas, or '*'"
                ) from None
        return value

    @field_validator("prometheus_multiproc_dir")
    @classmethod
    def _metrics_folder(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        if not value.exists():
            raise ValueError(f"{value} does not exist: make a folder of the metrics' own there")
        if not value.is_dir():
            raise ValueError(f"{value} is a file, not a folder: the metrics need a folder")
        strangers = sorted(
            entry.name for entry in value.iterdir() if not METRICS_FILE.match(entry.name)
        )
        if strangers:
            shown = ", ".join(strangers[:3]) + (", …" if len(strangers) > 3 else "")
            raise ValueError(
                f"{value} holds files that are not the metrics' own ({shown}): give the "
                "metrics a folder of their own (nothing in it was touched)"
            )
        return value

    @field_validator("rate_limit_reads", "rate_limit_writes")
    @classmethod
    def _valid_rate_limit(cls, value: str | None) -> str | None:
        if value is not None:
            from limits import parse_many

            try:
                parse_many(value)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a rate limit: write it as '100/second' or '1000 per hour'"
                ) from None
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
