"""PostgreSQL going away: a documented 503 at once, and recovery without a restart."""

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from _support import free_port
from fastapi.testclient import TestClient
from sqlalchemy import (
    Engine,
    Select,
    bindparam,
    create_engine,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from api.config import Settings
from api.db import Database, create_db_engine
from api.db.connections import Connections
from api.main import create_app
from tests.conftest import LOOPBACK, all_heroes
from tests.support.lossy import CommitAnswerLoser, ServerGoesSilent, ServerLoginFailing, armed
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

UNAVAILABLE = {"detail": "Database unavailable, try again shortly"}


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    url = make_url(database_url)
    tcp_proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432), free_port())
    tcp_proxy.start()
    yield tcp_proxy
    tcp_proxy.stop()


@pytest.fixture
def proxied_client(database_url: str, proxy: TcpProxy) -> Iterator[TestClient]:
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    settings = Settings(DATABASE_URL=url.render_as_string(hide_password=False), db_pool_timeout=2)
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        yield client


def test_outage_is_a_prompt_503_and_the_service_recovers(
    proxied_client: TestClient, proxy: TcpProxy
) -> None:
    client = proxied_client
    hero = client.post("/heroes/", json={"name": "Deadpond", "secret_name": "Dive Wilson"})
    assert hero.status_code == 200

    proxy.stop()
    for method, path, body in [
        ("GET", f"/heroes/{hero.json()['id']}", None),
        ("GET", "/heroes/", None),
        ("POST", "/heroes/", {"name": "Rusty-Man", "secret_name": "Tommy Sharp"}),
        ("PATCH", f"/heroes/{hero.json()['id']}", {"age": 1}),
        ("DELETE", f"/heroes/{hero.json()['id']}", None),
    ]:
        start = time.monotonic()
        response = client.request(method, path, json=body)
        assert response.status_code == 503, (method, path, response.text)
        assert response.json() == UNAVAILABLE
        assert response.headers["retry-after"] == "1"
        assert time.monotonic() - start < 5
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json() == {
        "status": "unavailable",
        "database": "unreachable",
        "detail": "The database does not answer",
    }

    proxy.start()
    assert client.get("/health").json() == {"status": "ok", "database": "ok"}
    assert client.get(f"/heroes/{hero.json()['id']}").json() == hero.json()


def _end_every_other_connection(database_url: str) -> int:
    """What a restart of the database does to the pool: every connection to it ends."""
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    others = "datname = current_database() AND pid <> pg_backend_pid()"
    try:
        with admin.connect() as connection:
            ended = connection.execute(
                text(
                    f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {others}"
                )
            ).scalar_one()
            deadline = time.monotonic() + 5
            while connection.execute(
                text(f"SELECT count(*) FROM pg_stat_activity WHERE {others}")
            ).scalar_one():
                assert time.monotonic() < deadline, "the connections did not end"
                time.sleep(0.05)
    finally:
        admin.dispose()
    return int(ended)


async def _reads_side_by_side(db: Database, database_url: str, count: int) -> None:
    """`count` reads running at once, each started once the one before is running on the
    server: as many of the reads' connections (statements sent together share one)."""
    reads = []
    for running in range(1, count + 1):
        reads.append(
            asyncio.ensure_future(db.read(lambda driver: driver.rows(_SLEEP, {"seconds": 0.5})))
        )
        await asyncio.to_thread(_wait_until_running, database_url, "%pg_sleep%", running)
    await asyncio.gather(*reads)


def _restart_under(client: TestClient, database_url: str) -> None:
    """Several idle connections in the app's pool (the writes') and among the reads', as after
    a busy minute, then every one of them ended by the server, as a restart of the database
    does."""
    db = client.app.state.worker.db  # type: ignore[attr-defined]
    held = [db.engine.raw_connection() for _ in range(5)]
    for connection in held:
        connection.close()
    client.portal.call(_reads_side_by_side, db, database_url, 5)  # type: ignore[union-attr]
    assert _end_every_other_connection(database_url) >= 10


def test_connections_the_database_dropped_are_replaced_unseen(database_url: str) -> None:
    """After a restart of the database every pooled connection is dead: the next reads and
    writes still succeed (on new connections), with no 503 for anyone."""
    settings = Settings(DATABASE_URL=database_url)
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        hero = client.post("/heroes/", json={"name": "Deadpond", "secret_name": "Dive Wilson"})
        assert hero.status_code == 200
        _restart_under(client, database_url)
        hero_id = hero.json()["id"]
        for method, path, body in [
            ("GET", f"/heroes/{hero_id}", None),
            ("GET", "/heroes/", None),
            ("PATCH", f"/heroes/{hero_id}", {"age": 1}),
            ("POST", "/heroes/", {"name": "Rusty-Man", "secret_name": "Tommy Sharp"}),
            ("GET", "/health", None),
        ]:
            response = client.request(method, path, json=body)
            assert response.status_code == 200, (method, path, response.text)


def _read_only(database_url: str, on: bool) -> None:
    """New sessions on the test's database read-only (as on a standby), or writable again."""
    database = make_url(database_url).database
    setting = (
        "SET default_transaction_read_only = on" if on else "RESET default_transaction_read_only"
    )
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SET default_transaction_read_only = off"))  # this session
            connection.execute(text(f'ALTER DATABASE "{database}" {setting}'))
    finally:
        admin.dispose()
    _end_every_other_connection(database_url)


def test_a_write_that_reaches_a_standby_is_a_503_and_changes_nothing(database_url: str) -> None:
    """In a failover or a switchover, a connection may reach a node that is no longer primary
    (HAProxy checks every 500 ms): PostgreSQL refuses the write (read-only). That is the
    database being unavailable for writes, a 503 to retry, not a 500; reads still answer."""
    settings = Settings(DATABASE_URL=database_url)
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        hero = client.post("/heroes/", json={"name": "Deadpond", "secret_name": "Dive Wilson"})
        assert hero.status_code == 200
        hero_id = hero.json()["id"]
        _read_only(database_url, on=True)
        try:
            for method, path, body in [
                ("POST", "/heroes/", {"name": "Rusty-Man", "secret_name": "Tommy Sharp"}),
                ("PATCH", f"/heroes/{hero_id}", {"age": 1}),
                ("DELETE", f"/heroes/{hero_id}", None),
            ]:
                response = client.request(method, path, json=body)
                assert response.status_code == 503, (method, path, response.text)
                assert response.json() == UNAVAILABLE
                assert response.headers["retry-after"] == "1"
            assert client.get(f"/heroes/{hero_id}").json() == hero.json()
        finally:
            _read_only(database_url, on=False)
        assert client.get("/heroes/").json() == [hero.json()]


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.ProtocolViolation("server conn crashed?"),  # PgBouncer's, class 08
        psycopg.errors.CannotConnectNow("the database system is starting up"),
    ],
    ids=["57P01 shutdown", "08P01 PgBouncer", "57P03 starting up"],
)
def test_a_session_the_server_ended_is_never_given_back_to_the_pool(
    database_url: str, error: psycopg.Error
) -> None:
    """These errors end the session (the server closes the connection after them), but the
    driver may not have read the close yet when the error arrives: in a failover, PgBouncer's
    "server conn crashed?" came first. Such a connection must be dropped, not pooled again
    (its reset would fail, and log a traceback, or the next request would meet it dead)."""
    engine = create_engine(database_url)
    connections = Connections(engine, slots=1)
    try:
        with connections.checkout() as connection:
            translated = connections.translated(error, connection.pooled)
            assert getattr(translated, "connection_invalidated", False)
            assert not connection.pooled.is_valid
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("quiet", "statement_timeout"),
    [(ServerLoginFailing, 30.0), (ServerGoesSilent, 1.0)],
    ids=["pgbouncer's error, then silence", "silence"],
)
def test_a_server_gone_quiet_is_a_prompt_503_that_changes_nothing(
    database_url: str, engine: Engine, quiet: type[ServerGoesSilent], statement_timeout: float
) -> None:
    """Two ways the server stops answering without closing, each a 503 well within the test's
    10 s, and the next request goes out on another connection:

    - While PgBouncer can't log in to a server (a switchover: the old primary shutting down),
      it answers a transaction's first statement with "server login has been failing" (class
      08) and then sends nothing, not even the batch's end, until the client hangs up. The
      error ends the session: the request's batch is over there and then (with the default
      statement_timeout, the silence bound below is far off). Waiting for the rest held a
      group of writes for good, and every write behind it left the line as 503s (in
      `scripts/stress ha`: one group held 39 s, 29 client timeouts).
    - Silence alone (a machine gone, a network cut, a pooler holding its client): given up
      once no statement could still be running there (statement_timeout and a grace), not
      when TCP gives up (~15 minutes with data in flight)."""
    url = make_url(database_url)
    with quiet(url.port or 5432, every=1) as proxy:
        settings = Settings(DATABASE_URL=proxy.through(url), db_statement_timeout=statement_timeout)
        with TestClient(create_app(settings), client=LOOPBACK) as client:
            hero = client.post("/heroes/", json={"name": "Deadpond", "secret_name": "Dive Wilson"})
            assert hero.status_code == 200
            before = all_heroes(engine)
            path = f"/heroes/{hero.json()['id']}"
            with armed(proxy):
                answers = [
                    client.portal.call(_answered_within, client, method, path, body)  # type: ignore[union-attr]
                    for method, path, body in [
                        ("POST", "/heroes/", {"name": "Rusty-Man", "secret_name": "Tommy Sharp"}),
                        ("PATCH", path, {"age": 1}),
                        ("GET", path, None),
                    ]
                ]
            assert answers == [(503, UNAVAILABLE)] * 3
            assert all_heroes(engine) == before
            assert client.patch(path, json={"age": 2}).json()["age"] == 2  # and back


def test_a_commit_whose_answer_never_comes_is_looked_up_and_stored_once(
    database_url: str, engine: Engine
) -> None:
    """The COMMIT landed, and then the server went silent (no answer, no close): once no
    statement could still be running, the service looks up whether the commit landed, on
    another connection, and answers with the hero it stored, once."""
    url = make_url(database_url)
    with CommitAnswerLoser(url.port or 5432, every=1, silent=True) as proxy:
        settings = Settings(DATABASE_URL=proxy.through(url), db_statement_timeout=1)
        with TestClient(create_app(settings), client=LOOPBACK) as client:
            # The first write commits its writer's marker row (in a transaction of its own).
            first = client.post("/heroes/", json={"name": "First", "secret_name": "s"}).json()
            with armed(proxy):
                hero = {"name": "Once", "secret_name": "s"}
                status, body = client.portal.call(  # type: ignore[union-attr]
                    _answered_within, client, "POST", "/heroes/", hero
                )
    assert proxy.lost == 1
    assert status == 200
    stored = [(hero_id, name) for hero_id, name, _, _ in all_heroes(engine)]
    assert stored == [(first["id"], "First"), (body["id"], "Once")]


async def _answered_within(
    client: TestClient, method: str, path: str, body: Any
) -> tuple[int, Any]:
    """The answer, or a failure if there is none within 10 s (the test's bound: a held
    request has none at all)."""
    transport = httpx.ASGITransport(app=client.app, client=LOOPBACK)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as caller:
        response = await asyncio.wait_for(caller.request(method, path, json=body), 10)
    return response.status_code, response.json()


_NOW = select(func.now())
_SLEEP = select(func.pg_sleep(bindparam("seconds")))
_ONE = select(literal(1))


def test_a_read_is_one_statement_on_the_event_loop_outside_any_transaction(
    database_url: str,
) -> None:
    """A PostgreSQL read runs on the event loop's thread (no thread per read), each statement
    in a transaction of its own (autocommit: no BEGIN before it, no ROLLBACK after)."""

    def work(driver: Any) -> tuple[int, list[Any]]:
        return threading.get_ident(), [driver.rows(_NOW, {})[0] for _ in range(2)]

    async def read() -> tuple[int, tuple[int, list[Any]]]:
        db = Database(create_db_engine(Settings(DATABASE_URL=database_url)), Settings())
        try:
            return threading.get_ident(), await db.read(work)
        finally:
            await db.close()

    loop_thread, (read_thread, stamps) = asyncio.run(read())
    assert read_thread == loop_thread
    # now() is the transaction's start: in one transaction both statements would share it.
    (first,), (second,) = stamps
    assert first < second


def _wait_until_running(database_url: str, text_like: str, count: int = 1) -> None:
    """Until the server runs `count` statements like `text_like` (seen in pg_stat_activity)."""
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    running = text(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
        "AND query LIKE :like AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + 5
    try:
        with admin.connect() as connection:
            while connection.execute(running, {"like": text_like}).scalar_one() < count:
                assert time.monotonic() < deadline, "the statement never ran"
                time.sleep(0.01)
    finally:
        admin.dispose()


_FAILS: Select[Any] = select(literal_column("1 / 0"))
_TWO = select(literal(2))


def _rows(statement: Any, driver: Any) -> list[Any]:
    return list(driver.rows(statement, {}))


def test_reads_sent_together_fail_alone(database_url: str) -> None:
    """Reads of one turn of the event loop go out in one batch, one implicit transaction: a
    statement that fails there makes the server skip the ones after it. Those did not run,
    so they run again, and each read gets its own answer."""
    settings = Settings(DATABASE_URL=database_url)

    async def scenario() -> list[Any]:
        db = Database(create_db_engine(settings), settings)
        try:
            reads = [
                db.read(functools.partial(_rows, statement)) for statement in (_ONE, _FAILS, _TWO)
            ]
            gathered = asyncio.gather(*reads, return_exceptions=True)
            return await asyncio.wait_for(gathered, timeout=10)
        finally:
            await db.close()

    one, failed, two = asyncio.run(scenario())
    assert (one, two) == ([(1,)], [(2,)])
    assert isinstance(failed, DBAPIError)
    assert not isinstance(failed, OperationalError)
    assert getattr(failed.orig, "sqlstate", None) == "22012"  # division_by_zero


def test_a_read_on_a_connection_the_server_ended_runs_again_and_logs_nothing(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The server ends an idle read connection (a restart, a switchover): its goodbye (57P01)
    and then the closed socket are what the next batch on it reads. The read runs again on a
    new connection, and nothing is logged: no callback of the event loop fails."""
    settings = Settings(DATABASE_URL=database_url, db_pool_size=1)

    async def scenario() -> list[Any]:
        db = Database(create_db_engine(settings), settings)
        try:
            assert await db.read(functools.partial(_rows, _ONE)) == [(1,)]
            await asyncio.to_thread(_end_every_other_connection, database_url)
            return await asyncio.wait_for(db.read(functools.partial(_rows, _TWO)), timeout=10)
        finally:
            await db.close()

    with caplog.at_level(logging.WARNING):
        assert asyncio.run(scenario()) == [(2,)]
    assert [record.getMessage() for record in caplog.records] == []


def test_a_read_abandoned_mid_statement_never_hands_its_answer_to_the_next(
    database_url: str,
) -> None:
    """A request cancelled while its statement runs leaves an answer on its way: its connection
    is closed, not reused, so the next read gets its own answer."""
    settings = Settings(DATABASE_URL=database_url, db_pool_size=1)

    async def scenario() -> list[Any]:
        db = Database(create_db_engine(settings), settings)
        try:
            slow = asyncio.create_task(db.read(lambda driver: driver.rows(_SLEEP, {"seconds": 2})))
            await asyncio.to_thread(_wait_until_running, database_url, "%pg_sleep%")
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            return await db.read(lambda driver: driver.rows(_ONE, {}))
        finally:
            await db.close()

    assert asyncio.run(scenario()) == [(1,)]


def test_the_first_write_after_a_restart_meets_dead_connections_and_succeeds(
    database_url: str,
) -> None:
    """A group of writes takes a pooled connection without pinging it first (a round trip per
    group); one found dead before the COMMIT was sent committed nothing, so the group runs
    again on another. After a restart every pooled connection is dead: a write still gets 200."""
    settings = Settings(DATABASE_URL=database_url)
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        hero = client.post("/heroes/", json={"name": "Deadpond", "secret_name": "Dive Wilson"})
        assert hero.status_code == 200
        _restart_under(client, database_url)
        for method, path, body in [
            ("POST", "/heroes/", {"name": "Rusty-Man", "secret_name": "Tommy Sharp"}),
            ("PATCH", f"/heroes/{hero.json()['id']}", {"age": 1}),
        ]:
            response = client.request(method, path, json=body)
            assert response.status_code == 200, (method, path, response.text)
        assert len(client.get("/heroes/").json()) == 2
