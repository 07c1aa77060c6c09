"""The engine: one per app, configured for SQLite (WAL, a busy timeout) or PostgreSQL."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from api.config import Settings


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the one writer; NORMAL is durable across a process crash
        # (only an OS crash can lose the last commits) and makes each commit far cheaper.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return on_connect


def create_db_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    pool_args: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
    }
    if url.get_backend_name() == "sqlite":
        return sqlite_engine(url, settings, **pool_args)
    # No pool_pre_ping (a round trip per checkout: 18 % of a GET one): api/db/connections.py
    # replaces a connection the server dropped itself.
    return create_engine(url, connect_args=connect_arguments(settings), **pool_args)


def connect_arguments(settings: Settings) -> dict[str, Any]:
    """What psycopg connects with, beside the URL's own: the writes' pooled connections and
    the reads' on the event loop (api/db/postgres_reads.py) alike."""
    return {
        # A prompt 503 when the server can't be reached, not a hung request.
        "connect_timeout": max(1, round(settings.db_pool_timeout)),
        # None: never prepare (psycopg's default prepares a statement on its 5th run).
        **({} if settings.db_prepared_statements else {"prepare_threshold": None}),
        # Session settings at connect: no round trip per transaction. (PgBouncer ignores
        # `options` (deploy/pgbouncer.ini): behind it its connect_query sets them.)
        "options": session_options(settings),
    }


def session_settings(settings: Settings) -> dict[str, int]:
    """The timeouts (ms) every PostgreSQL session of the service runs with: a write stuck on a
    row lock fails after lock_timeout (503) instead of holding its worker's writes."""
    return {
        "lock_timeout": round(settings.db_lock_timeout * 1000),
        "statement_timeout": round(settings.db_statement_timeout * 1000),
    }


def session_options(settings: Settings) -> str:
    """The session settings as libpq's `options` (sent at connect)."""
    return " ".join(f"-c {name}={value}" for name, value in session_settings(settings).items())


def connect_query(settings: Settings) -> str:
    """The session settings as SQL, for a pooler that drops `options` (PgBouncer's
    connect_query, deploy/pgbouncer.ini)."""
    return " ".join(f"SET {name} = {value};" for name, value in session_settings(settings).items())


def sqlite_engine(url: URL, settings: Settings, **engine_args: Any) -> Engine:
    engine = create_engine(
        url,
        connect_args={
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        },
        **engine_args,
    )
    event.listen(engine, "connect", _sqlite_pragmas(settings.sqlite_busy_timeout_ms))
    return engine
