"""PostgreSQL: a write stuck on a row lock that another session holds fails after lock_timeout
(HEROES_DB_LOCK_TIMEOUT) with a 503 and changes nothing; the writes sent with it are answered
while the lock is still held, not when it goes. Without the timeout they all wait for it."""

import asyncio

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.config import Settings
from api.db.engine import create_db_engine
from api.main import create_app
from tests.conftest import LOOPBACK, require_tool
from tests.reliability.test_pgbouncer import pgbouncer

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

# Far beyond the lock timeout: reaching it means the writes waited for the lock itself.
ANSWERED_WITHIN = 20.0


def test_a_write_stuck_on_a_row_lock_holds_up_no_other_write(database_url: str) -> None:
    app = create_app(Settings(DATABASE_URL=database_url, DB_LOCK_TIMEOUT=0.5))
    holder = create_engine(database_url)

    async def scenario() -> tuple[list[httpx.Response], int, dict[str, object]]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=LOOPBACK)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                hero = (
                    await client.post(
                        "/heroes/", json={"name": "Locked", "secret_name": "S", "age": 1}
                    )
                ).json()
                with holder.connect() as other:
                    # Another session (a migration, an operator's psql) locks the hero's row.
                    other.execute(text("SELECT 1 FROM hero WHERE id = :id FOR UPDATE"), hero)
                    sent = [client.patch(f"/heroes/{hero['id']}", json={"age": 2})] + [
                        client.post("/heroes/", json={"name": f"Free {n}", "secret_name": "S"})
                        for n in range(10)
                    ]
                    answers = await asyncio.wait_for(asyncio.gather(*sent), ANSWERED_WITHIN)
                    still_held = other.execute(
                        text(
                            "SELECT count(*) FROM pg_locks"
                            " WHERE pid = pg_backend_pid() AND mode = 'RowShareLock'"
                        )
                    ).scalar_one()
                    other.rollback()
                after = (await client.get(f"/heroes/{hero['id']}")).json()
        return answers, still_held, after

    try:
        (stuck, *free), still_held, after = asyncio.run(scenario())
    finally:
        holder.dispose()
    assert still_held >= 1  # every answer came while the lock was held
    assert stuck.status_code == 503, stuck.text
    assert "Retry-After" in stuck.headers
    assert "Traceback" not in stuck.text
    assert [answer.status_code for answer in free] == [200] * 10
    assert after["age"] == 1  # the stuck write changed nothing


def test_pgbouncer_gives_its_server_connections_the_service_timeouts(database_url: str) -> None:
    """PgBouncer drops libpq's `options`, where the service sends its timeouts: its
    connect_query (deploy/pgbouncer.ini) must set them instead."""
    require_tool("pgbouncer", "The PgBouncer test")
    url = make_url(database_url)
    direct = create_db_engine(Settings(DATABASE_URL=database_url))
    with pgbouncer(url, pool_size=1) as port:
        through = create_engine(url.set(host="127.0.0.1", port=port))
        try:
            values = {}
            for name, engine in (("direct", direct), ("through PgBouncer", through)):
                with engine.connect() as connection:
                    values[name] = [
                        connection.execute(text(f"SHOW {setting}")).scalar_one()
                        for setting in ("lock_timeout", "statement_timeout")
                    ]
        finally:
            through.dispose()
            direct.dispose()
    assert values["direct"] == ["5s", "30s"]  # the defaults, not PostgreSQL's (none)
    assert values["through PgBouncer"] == values["direct"]
