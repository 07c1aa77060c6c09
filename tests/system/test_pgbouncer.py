"""Behind PgBouncer in transaction pooling mode: the mode that lets many replicas share few
PostgreSQL connections, where each transaction may land on a different server connection.

psycopg 3 prepares a statement once it has run a few times on a connection; under transaction
pooling the next transaction's EXECUTE then meets a server connection that never saw it
("prepared statement "_pg3_0" does not exist"). PgBouncer 1.18 (Debian 12's) cannot track them.
"""

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, literal, select, text
from sqlalchemy.engine import make_url

from api.config import Settings
from api.db import Database, create_db_engine
from tests.conftest import require_tool, start_server, stop_server
from tests.support.pgbouncer import pgbouncer

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

HERO = {"name": "Pooled", "secret_name": "Many Hands"}


def test_every_route_works_through_pgbouncer_in_transaction_mode(
    database_url: str, tmp_path: Path
) -> None:
    require_tool("pgbouncer", "The PgBouncer test")
    url = make_url(database_url)
    # Fewer server connections than the service's pool: transactions hop between them.
    with pgbouncer(url, pool_size=3) as port:
        through = url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        log = tmp_path / "server.log"
        process, base = start_server(through, log=log)
        try:
            with httpx.Client(base_url=base, timeout=30) as client:
                ids = [client.post("/heroes/", json=HERO).json()["id"] for _ in range(8)]

                def round_trip(n: int) -> list[int]:
                    hero = ids[n % len(ids)]
                    return [
                        client.post("/heroes/", json=HERO).status_code,
                        client.patch(f"/heroes/{hero}", json={"age": n}).status_code,
                        client.get(f"/heroes/{hero}").status_code,
                        client.get("/heroes/", params={"name": "Pooled", "limit": 5}).status_code,
                    ]

                with ThreadPoolExecutor(16) as pool:
                    statuses = [s for answer in pool.map(round_trip, range(200)) for s in answer]
                deleted = [client.delete(f"/heroes/{hero}").status_code for hero in ids]
        finally:
            stop_server(process)
    assert statuses == [200] * 800, {s: statuses.count(s) for s in set(statuses)}
    assert deleted == [200] * 8
    assert "prepared statement" not in log.read_text()


def _end_running_sleeps(database_url: str) -> None:
    """Once a pg_sleep runs on the server, end its session (as a restart or a failover would)."""
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    sleeping = "query LIKE '%pg_sleep%' AND state = 'active' AND pid <> pg_backend_pid()"
    deadline = time.monotonic() + 5
    try:
        with admin.connect() as connection:
            while not connection.execute(
                text(f"SELECT count(*) FROM pg_stat_activity WHERE {sleeping}")
            ).scalar_one():
                assert time.monotonic() < deadline, "the statement never ran"
                time.sleep(0.01)
            connection.execute(
                text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {sleeping}")
            )
    finally:
        admin.dispose()


_SLEEP = select(func.pg_sleep(0.5))
_ONE = select(literal(1))


def test_a_read_whose_server_connection_pgbouncer_lost_runs_again_and_logs_nothing(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PgBouncer answers a statement whose server connection died with an error of its own
    ("server conn crashed?", class 08) and then closes the client's connection: the read runs
    again on another connection, and no callback of the event loop fails on the close."""
    require_tool("pgbouncer", "The PgBouncer test")
    url = make_url(database_url)
    with pgbouncer(url, pool_size=3) as port:
        through = url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        settings = Settings(DATABASE_URL=through, migrate_on_startup=False)

        async def scenario() -> tuple[Any, Any]:
            db = Database(create_db_engine(settings), settings)
            try:
                slept = asyncio.ensure_future(db.read(lambda driver: driver.rows(_SLEEP, {})))
                await asyncio.to_thread(_end_running_sleeps, database_url)
                after = db.read(lambda driver: driver.rows(_ONE, {}))
                return await asyncio.wait_for(slept, 10), await asyncio.wait_for(after, 10)
            finally:
                await db.close()

        with caplog.at_level(logging.WARNING):
            slept, after = asyncio.run(scenario())
    assert len(slept) == 1  # pg_sleep's one row, from the run after the first was ended
    assert after == [(1,)]
    assert [record.getMessage() for record in caplog.records] == []
