"""Group commit: writes that arrive together are committed together, and each still gets its own
answer. A write that fails (in the database or in our code) fails alone; the others of its
group are committed; nothing is answered before it is committed."""

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from sqlalchemy import create_engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from api.config import Settings
from api.db import Database, OutcomeUnknown, Overloaded, Work, markers
from api.heroes import queries
from api.main import create_app
from api.migrate import upgrade_to_head
from api.statements import DriverConnection
from tests.conftest import LOOPBACK, Gate, until

T = TypeVar("T")

_COUNT = select(func.count()).select_from(queries.hero_table)
# Inserting hero 1 twice breaks the primary key: a failure of the database's own.
_DUPLICATE = insert(queries.hero_table).values(id=1, name="Twin", secret_name="Echo", version=1)


@asynccontextmanager
async def held_writer(database: Database) -> AsyncIterator[Callable[[int], Any]]:
    """The writer kept busy, so that the writes sent meanwhile queue up as one group; `ready(n)`
    waits until n of them are queued, then lets the writer go on."""
    started, release = threading.Event(), Gate()

    def hold(connection: DriverConnection) -> None:
        started.set()
        release.wait(10)

    blocker = asyncio.ensure_future(database.write(hold))
    await until(started.is_set)  # the writer is in the blocker's group: what follows queues

    async def ready(queued: int) -> None:
        await until(lambda: database.writes_queued >= queued)
        assert database.writes_queued == queued
        release.set()

    try:
        yield ready
    finally:
        release.set()
        await blocker


async def _in_one_group(database: Database, works: list[Work[Any]]) -> list[Any]:
    """Each work's outcome (its result, or what it raised), the works sent as one group."""
    async with held_writer(database) as ready:
        writes = [asyncio.ensure_future(database.write(work)) for work in works]
        await ready(len(works))
        return await asyncio.gather(*writes, return_exceptions=True)


def _run(database: Database, scenario: Awaitable[T]) -> T:
    """Run `scenario` on an event loop of its own, then close `database` on the same loop (its
    PostgreSQL pool lives on the loop it was first used on)."""

    async def then_close() -> T:
        try:
            return await scenario
        finally:
            await database.close()

    return asyncio.run(then_close())


def _database(url: str) -> Database:
    return Database(create_engine(url), Settings(DATABASE_URL=url))


def _created(name: str) -> Callable[[DriverConnection], tuple[int, queries.HeroRow]]:
    def work(connection: DriverConnection) -> tuple[int, queries.HeroRow]:
        # The connection object names the transaction: one per group, one per write run alone.
        return id(connection), queries.create_hero(
            connection, {"name": name, "age": None, "secret_name": "S"}
        )

    return work


def test_writes_sent_together_share_one_transaction(database_url: str) -> None:
    database = _database(database_url)

    async def scenario() -> list[tuple[int, queries.HeroRow]]:
        async with held_writer(database) as ready:
            writes = [
                asyncio.ensure_future(database.write(_created(f"Hero {n}"))) for n in range(5)
            ]
            await ready(5)
            return await asyncio.gather(*writes)

    outcomes = _run(database, scenario())
    assert len({transaction for transaction, _ in outcomes}) == 1
    # Each got its own hero, in the order sent.
    assert [hero["name"] for _, hero in outcomes] == [f"Hero {n}" for n in range(5)]
    assert len({hero["id"] for _, hero in outcomes}) == 5


def test_on_postgresql_a_groups_writes_run_side_by_side_on_the_event_loop(
    postgres_url: str,
) -> None:
    """On PostgreSQL a group runs on the event loop's thread (no writer thread), its writes side
    by side: the statements they send in one turn of the loop go out in one batch, so a group
    of n writes of two statements each is two round trips, not 2n. Still one transaction."""
    upgrade_to_head(create_engine(postgres_url))
    database = _database(postgres_url)

    def two_heroes(connection: DriverConnection) -> tuple[int, int, int, int]:
        first = queries.create_hero(connection, {"name": "A", "age": None, "secret_name": "S"})
        second = queries.create_hero(connection, {"name": "B", "age": None, "secret_name": "S"})
        return threading.get_ident(), id(connection), first["id"], second["id"]

    async def scenario() -> tuple[int, list[tuple[int, int, int, int]]]:
        async with held_writer(database) as ready:
            writes = [asyncio.ensure_future(database.write(two_heroes)) for _ in range(3)]
            await ready(3)
            return threading.get_ident(), await asyncio.gather(*writes)

    loop_thread, outcomes = _run(database, scenario())
    assert {thread for thread, *_ in outcomes} == {loop_thread}
    assert len({transaction for _, transaction, *_ in outcomes}) == 1
    # Side by side: every write's first hero was inserted before any write's second (one after
    # the other, the ids would alternate).
    assert max(first for *_, first, _ in outcomes) < min(second for *_, second in outcomes)


def test_a_write_that_fails_fails_alone_and_the_rest_are_committed(database_url: str) -> None:
    database = _database(database_url)

    def duplicate(connection: DriverConnection) -> None:
        connection.rows(_DUPLICATE, {})

    def broken(connection: DriverConnection) -> None:
        queries.create_hero(connection, {"name": "Half", "age": None, "secret_name": "S"})
        raise RuntimeError("a bug after a statement ran")

    async def names() -> list[str]:
        page = await database.read(
            lambda c: queries.list_heroes(c, 0, 100, None, queries.Filters())
        )
        return [hero["name"] for hero in page]

    async def scenario() -> tuple[list[Any], list[str]]:
        await database.write(_created("Hero 1"))  # id 1 exists: the duplicate fails
        outcomes = await _in_one_group(
            database,
            [_created("Before"), duplicate, _created("Between"), broken, _created("After")],
        )
        return outcomes, await names()

    (before, failed, between, bug, after), stored = _run(database, scenario())
    assert isinstance(failed, IntegrityError)  # the database's error, as SQLAlchemy names it
    assert isinstance(bug, RuntimeError)
    assert [hero["name"] for _, hero in (before, between, after)] == ["Before", "Between", "After"]
    # The failing writes were told at once; the rest ran again together, not one by one.
    assert len({transaction for transaction, _ in (before, between, after)}) == 1

    # Committed: the three good ones (and hero 1); nothing of the two failures, not even the
    # statement that ran before the bug.
    assert stored == ["Hero 1", "Before", "Between", "After"]


def test_each_request_of_a_group_gets_its_own_status(database_url: str) -> None:
    app: FastAPI = create_app(Settings(DATABASE_URL=database_url))

    async def scenario() -> list[int]:
        async with app.router.lifespan_context(app):
            database: Database = app.state.worker.db
            transport = httpx.ASGITransport(app=app, client=LOOPBACK)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                hero = (
                    await client.post("/heroes/", json={"name": "A", "secret_name": "S"})
                ).json()
                path = f"/heroes/{hero['id']}"
                async with held_writer(database) as ready:
                    requests = [
                        client.post("/heroes/", json={"name": "B", "secret_name": "S"}),
                        client.patch("/heroes/999999", json={"age": 1}),  # 404
                        client.patch(
                            path, json={"age": 2}, headers={"If-Match": f'"{hero["id"]}.9"'}
                        ),  # 412
                        client.patch(path, json={"age": 3}),  # 200
                        client.delete("/heroes/999999"),  # 404
                    ]
                    sent = [asyncio.ensure_future(request) for request in requests]
                    await ready(5)
                    responses = await asyncio.gather(*sent)
                assert (await client.get(path)).json()["age"] == 3
                return [response.status_code for response in responses]

    assert asyncio.run(scenario()) == [200, 404, 412, 200, 404]


def test_a_write_is_answered_only_once_committed(database_url: str) -> None:
    database = _database(database_url)
    observer = create_engine(database_url)

    def count() -> int:
        with observer.connect() as connection:
            return int(connection.execute(_COUNT).scalar_one())

    async def scenario() -> tuple[int, int]:
        async with held_writer(database) as ready:
            write = asyncio.ensure_future(database.write(_created("Durable")))
            await ready(1)
            await write
        # Seen by another connection the moment the caller has its answer.
        return count(), len(
            await database.read(lambda c: queries.list_heroes(c, 0, 10, None, queries.Filters()))
        )

    assert _run(database, scenario()) == (1, 1)
    observer.dispose()


class _CommitPlan:
    """What the next commit of a `_FlakyConnection` does."""

    def __init__(self) -> None:
        self.lands_then_fails = False  # armed by a write, for its own group's commit
        self.then_unreachable = False  # after that failure, nothing answers any more
        self.unreachable = False


class _FlakyConnection:
    """A sqlite3 connection whose commit can land and then raise, as a commit whose answer was
    lost does (the database has it; the caller got an error)."""

    def __init__(self, real: sqlite3.Connection, plan: _CommitPlan) -> None:
        object.__setattr__(self, "_real", real)
        object.__setattr__(self, "_plan", plan)

    def __getattr__(self, name: str) -> Any:
        if self._plan.unreachable and name in ("cursor", "execute"):
            raise sqlite3.OperationalError("unable to open database file")
        return getattr(self._real, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._real, name, value)

    def commit(self) -> None:
        self._real.commit()
        if self._plan.lands_then_fails:
            self._plan.lands_then_fails = False
            self._plan.unreachable = self._plan.then_unreachable
            raise sqlite3.OperationalError("disk I/O error")


def _flaky_database(path: str, plan: _CommitPlan, **settings: Any) -> Database:
    url = f"sqlite:///{path}"

    def connect() -> Any:
        if plan.unreachable:
            raise sqlite3.OperationalError("unable to open database file")
        return _FlakyConnection(sqlite3.connect(path, check_same_thread=False), plan)

    engine = create_engine(url, creator=connect)
    upgrade_to_head(create_engine(url))
    return Database(engine, Settings(DATABASE_URL=url, **settings))


def _arming(
    plan: _CommitPlan, name: str
) -> Callable[[DriverConnection], tuple[int, queries.HeroRow]]:
    created = _created(name)

    armed = False

    def work(connection: DriverConnection) -> tuple[int, queries.HeroRow]:
        nonlocal armed
        if not armed:  # the first time only: this group's commit lands, then raises
            plan.lands_then_fails = armed = True
        return created(connection)

    return work


def _stored_names(path: str) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [name for (name,) in connection.execute("SELECT name FROM hero ORDER BY id")]


def test_a_group_whose_commit_lands_then_raises_is_not_run_again(tmp_path: Path) -> None:
    path = str(tmp_path / "heroes.db")
    plan = _CommitPlan()
    database = _flaky_database(path, plan)

    async def scenario() -> list[Any]:
        return await _in_one_group(
            database, [_arming(plan, "One"), _created("Two"), _created("Three")]
        )

    outcomes = _run(database, scenario())
    # Committed once, and each request is answered with what happened: its hero.
    assert _stored_names(path) == ["One", "Two", "Three"]
    assert [hero["name"] for _, hero in outcomes] == ["One", "Two", "Three"]
    assert len({hero["id"] for _, hero in outcomes}) == 3


def test_a_lone_write_whose_commit_lands_then_raises_is_acknowledged(tmp_path: Path) -> None:
    path = str(tmp_path / "heroes.db")
    plan = _CommitPlan()
    database = _flaky_database(path, plan)
    _, hero = _run(database, database.write(_arming(plan, "Alone")))
    assert _stored_names(path) == ["Alone"]
    assert hero["name"] == "Alone"


def test_a_commit_whose_outcome_cant_be_learnt_is_unknown_not_retried(tmp_path: Path) -> None:
    path = str(tmp_path / "heroes.db")
    plan = _CommitPlan()
    plan.then_unreachable = True
    database = _flaky_database(path, plan, db_pool_timeout=0.3)

    async def scenario() -> list[Any]:
        return await _in_one_group(database, [_arming(plan, "One"), _created("Two")])

    try:
        outcomes = _run(database, scenario())
    finally:
        plan.unreachable = False
    assert [type(outcome) for outcome in outcomes] == [OutcomeUnknown, OutcomeUnknown]
    # It had landed: telling the callers it failed would have been the lie; running it again,
    # the duplicate.
    assert _stored_names(path) == ["One", "Two"]


def test_a_write_left_in_line_past_its_deadline_is_refused_unsent(database_url: str) -> None:
    database = Database(
        create_engine(database_url), Settings(DATABASE_URL=database_url, DB_POOL_TIMEOUT=0.2)
    )

    async def scenario() -> tuple[Any, int, list[str]]:
        async with held_writer(database):
            # The writer stays held: the write's deadline passes while it is still in line.
            late = database.write(_created("Late"))
            outcome = (await asyncio.gather(late, return_exceptions=True))[0]
            queued = database.writes_queued
        names = await database.read(
            lambda c: [h["name"] for h in queries.list_heroes(c, 0, 100, None, queries.Filters())]
        )
        return outcome, queued, names

    outcome, queued, names = _run(database, scenario())
    assert isinstance(outcome, Overloaded)
    assert queued == 0  # it left the line
    assert "Late" not in names


def test_a_group_whose_marker_row_had_gone_commits_once_and_the_next_has_a_new_row(
    database_url: str,
) -> None:
    """A stamp that finds the writer's row gone (pruned while the writer sat idle for a week)
    stops nothing: the group commits, once, on a new row."""
    database = _database(database_url)
    engine = create_engine(database_url)

    async def scenario() -> list[str]:
        await database.write(_created("First"))  # the writer's row, made and stamped
        with engine.begin() as connection:  # what housekeeping does to a row idle for a week
            connection.execute(delete(markers.marker_table))
        for name in ("Second", "Third"):
            await database.write(_created(name))
        page = await database.read(
            lambda c: queries.list_heroes(c, 0, 100, None, queries.Filters())
        )
        return [hero["name"] for hero in page]

    assert _run(database, scenario()) == ["First", "Second", "Third"]
    with engine.connect() as connection:
        rows = connection.execute(select(markers.marker_table.c.seq)).all()
    engine.dispose()
    assert rows == [(2,)]  # a new row, stamped by the second and third writes' groups


def _postgres_database(url: str, **settings: Any) -> Database:
    upgrade_to_head(create_engine(url))
    return Database(create_engine(url), Settings(DATABASE_URL=url, **settings))


def test_on_postgresql_writes_in_line_take_no_connection_slot(postgres_url: str) -> None:
    """A write waiting for its group holds no connection (the group has one, on the loop), so
    it takes none of the slots the reads are admitted to: with one slot and writes in line, a
    read still gets in at once."""
    database = _postgres_database(postgres_url, db_pool_size=1, db_pool_timeout=0.5)

    async def scenario() -> tuple[set[str], set[str]]:
        async with held_writer(database) as ready:
            writes = [asyncio.ensure_future(database.write(_created(f"W{n}"))) for n in range(3)]
            await until(lambda: database.writes_queued == 3)
            page = await database.read(
                lambda c: queries.list_heroes(c, 0, 100, None, queries.Filters())
            )
            await ready(3)
            done = await asyncio.gather(*writes)
            return {hero["name"] for hero in page}, {hero["name"] for _, hero in done}

    read, written = _run(database, scenario())
    assert written == {"W0", "W1", "W2"}
    assert not read & written  # read while the writes were still in line


def test_on_postgresql_writes_beyond_the_line_are_shed_at_once(postgres_url: str) -> None:
    """Writes in line for the next group are bounded by HEROES_MAX_QUEUED_REQUESTS: past it, a
    write is refused at once (Overloaded: a 503 with Retry-After), unsent."""
    database = _postgres_database(postgres_url, max_queued_requests=2)

    async def scenario() -> list[Any]:
        async with held_writer(database) as ready:
            writes = [asyncio.ensure_future(database.write(_created(f"W{n}"))) for n in range(4)]
            await until(lambda: sum(write.done() for write in writes) == 2)
            await ready(2)
            return await asyncio.gather(*writes, return_exceptions=True)

    outcomes = _run(database, scenario())
    assert [type(outcome) for outcome in outcomes[2:]] == [Overloaded, Overloaded]
    assert [hero["name"] for _, hero in outcomes[:2]] == ["W0", "W1"]


def test_on_postgresql_writes_that_fail_together_leave_the_group_together(
    postgres_url: str,
) -> None:
    """Side by side, every write of a group runs in each attempt: all those that failed of their
    own leave it at once, and the rest run again once, not once per failure (a group can be
    hundreds of writes long: a retry per failure would be quadratic)."""
    database = _postgres_database(postgres_url)
    runs = 0

    def good(connection: DriverConnection) -> tuple[int, queries.HeroRow]:
        nonlocal runs
        runs += 1
        return _created("Good")(connection)

    def broken(connection: DriverConnection) -> None:
        queries.create_hero(connection, {"name": "Half", "age": None, "secret_name": "S"})
        raise RuntimeError("a bug after a statement ran")

    async def scenario() -> list[Any]:
        return await _in_one_group(database, [broken, broken, good, broken])

    outcomes = _run(database, scenario())
    assert [type(outcome) for outcome in outcomes] == [
        RuntimeError,
        RuntimeError,
        tuple,
        RuntimeError,
    ]
    assert runs == 2  # with the failures, and once more without them
