"""The engine: one per app, configured for SQLite (WAL, a busy timeout) or PostgreSQL."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from api.config import Settings
from api.db import postgres_conninfo


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
    """The SQLAlchemy engine: SQLite's every use, and on PostgreSQL the migrations and the CLI
    (requests go through the loop's pool, api/db/postgres_pool.py)."""
    url = make_url(settings.database_url)
    pool_args: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
    }
    if url.get_backend_name() == "sqlite":
        return sqlite_engine(url, settings, **pool_args)
    # The URL's own parameters win (SQLAlchemy lets connect_args override them, so only what
    # the URL leaves unset is passed). None: never prepare (psycopg's default prepares a
    # statement on its 5th run, which a pooler in transaction mode may not have seen).
    prepare = {} if settings.db_prepared_statements else {"prepare_threshold": None}
    connect_args = {**postgres_conninfo.defaults(url, settings), **prepare}
    return create_engine(url, connect_args=connect_args, **pool_args)


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
