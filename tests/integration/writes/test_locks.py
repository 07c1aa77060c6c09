"""PostgreSQL under locks another session holds: every request answers within its bound. A
write stuck on a row lock fails after lock_timeout (HEROES_DB_LOCK_TIMEOUT) with a 503 and
changes nothing, and delays the writes sent with it by at most a second; a read under a table
lock waits lock_timeout at most, however many reads are ahead of it."""

import asyncio

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.bounds import GROUP_LOCK_TIMEOUT_SECONDS
from api.config import Settings
from api.main import create_app
from tests.conftest import require_tool, served
from tests.support.pgbouncer import pgbouncer

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

# Far beyond the lock timeout: reaching it means the writes waited for the lock itself.
ANSWERED_WITHIN = 20.0


def test_a_write_stuck_on_a_row_lock_holds_up_no_other_write(database_url: str) -> None:
    app = create_app(Settings(DATABASE_URL=database_url, DB_LOCK_TIMEOUT=0.5))
    holder = create_engine(database_url)

    async def scenario() -> tuple[list[httpx.Response], int, dict[str, object]]:
        async with served(app) as client:
            hero = (
                await client.post("/heroes/", json={"name": "Locked", "secret_name": "S", "age": 1})
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


def test_a_write_waiting_on_a_row_lock_leaves_its_group_and_waits_alone(
    database_url: str,
) -> None:
    """With the default lock_timeout (5 s), a PATCH on a row another session holds waits in its
    group for at most a second, then leaves it: the writes sent with it are answered within
    that second (and a margin for a busy machine), long before the lock goes; the PATCH waits
    on alone, and goes through once the lock is let go."""
    app = create_app(Settings(DATABASE_URL=database_url))
    holder = create_engine(database_url)

    async def scenario() -> tuple[list[float], int, int, float]:
        async with served(app) as client:
            hero = (await client.post("/heroes/", json={"name": "Hot", "secret_name": "S"})).json()
            loop = asyncio.get_running_loop()
            with holder.connect() as other:
                other.execute(text("SELECT 1 FROM hero WHERE id = :id FOR UPDATE"), hero)
                start = loop.time()
                stuck = asyncio.ensure_future(
                    client.patch(f"/heroes/{hero['id']}", json={"age": 7})
                )

                async def post(n: int) -> float:
                    answer = await client.post(
                        "/heroes/", json={"name": f"Free {n}", "secret_name": "S"}
                    )
                    assert answer.status_code == 200, answer.text
                    return loop.time() - start

                waits = await asyncio.gather(*(post(n) for n in range(10)))
                assert not stuck.done()  # still waiting for the lock, alone
                other.rollback()  # the lock goes
            patched = await asyncio.wait_for(stuck, ANSWERED_WITHIN)
            after = (await client.get(f"/heroes/{hero['id']}")).json()
            return waits, patched.status_code, after["age"], loop.time() - start

    try:
        waits, status, age, _ = asyncio.run(scenario())
    finally:
        holder.dispose()
    # The group's lock wait (1 s), and 2 s of margin: far below the 5 s lock_timeout the
    # writes behind the PATCH waited out before it left its group.
    assert max(waits) < GROUP_LOCK_TIMEOUT_SECONDS + 2, waits
    assert (status, age) == (200, 7)


def test_under_a_table_lock_each_read_waits_at_most_lock_timeout(database_url: str) -> None:
    """Ten reads sent together while another session holds the table: each gets its 503 once
    lock_timeout (1 s here) has passed, not once per read ahead of it (a failed statement makes
    the server skip the rest of its batch; run again, each would wait again)."""
    app = create_app(Settings(DATABASE_URL=database_url, DB_LOCK_TIMEOUT=1))
    holder = create_engine(database_url)

    async def scenario() -> list[tuple[int, float]]:
        async with served(app) as client:
            hero = (await client.post("/heroes/", json={"name": "Held", "secret_name": "S"})).json()
            loop = asyncio.get_running_loop()
            with holder.connect() as other:
                other.execute(text("LOCK TABLE hero IN ACCESS EXCLUSIVE MODE"))
                start = loop.time()

                async def get(path: str) -> tuple[int, float]:
                    answer = await client.get(path)
                    return answer.status_code, loop.time() - start

                paths = [f"/heroes/{hero['id']}", "/heroes/"] * 5
                answers = await asyncio.wait_for(
                    asyncio.gather(*(get(path) for path in paths)), ANSWERED_WITHIN
                )
                other.rollback()
            return answers

    try:
        answers = asyncio.run(scenario())
    finally:
        holder.dispose()
    assert [status for status, _ in answers] == [503] * 10
    # lock_timeout, and 2 s of margin: ten reads waiting in turn would take ten.
    assert max(elapsed for _, elapsed in answers) < 1 + 2, answers


def test_through_a_stock_pgbouncer_the_service_timeouts_hold(database_url: str) -> None:
    """PgBouncer as it ships (transaction pooling, no ignore_startup_parameters): the service
    sends no startup parameter it would refuse, and its lock timeout holds on whichever server
    connection a transaction lands (set per transaction)."""
    require_tool("pgbouncer", "The PgBouncer test")
    url = make_url(database_url)
    with pgbouncer(url, pool_size=2) as port:
        through = url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        app = create_app(Settings(DATABASE_URL=through, DB_LOCK_TIMEOUT=0.5))
        holder = create_engine(database_url)

        async def scenario() -> tuple[int, int]:
            async with served(app) as client:
                hero = (
                    await client.post("/heroes/", json={"name": "Pooled", "secret_name": "S"})
                ).json()
                with holder.connect() as other:
                    other.execute(text("LOCK TABLE hero IN ACCESS EXCLUSIVE MODE"))
                    held = await asyncio.wait_for(
                        client.get(f"/heroes/{hero['id']}"), ANSWERED_WITHIN
                    )
                    other.rollback()
                free = await client.get(f"/heroes/{hero['id']}")
                return held.status_code, free.status_code

        try:
            assert asyncio.run(scenario()) == (503, 200)
        finally:
            holder.dispose()
