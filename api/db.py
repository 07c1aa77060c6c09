"""The database: one engine per app, and the one way requests reach it.

Every request does its database work in a single call, `read` or `write`:

- A read runs on a connection of its own: for SQLite, one connection kept open on the event loop
  (no pool, no thread); for PostgreSQL, a pooled connection in a worker thread.
- A write joins the next group commit: one writer thread runs every write queued meanwhile in one
  transaction, commits once, then answers each request with its own outcome. Nothing is
  acknowledged before its commit. If any write of a group fails, the group is rolled back and
  each write is run again alone, so that a failing write fails only its own request.
- A restart of the database is invisible: a read that meets a connection the server dropped runs
  again on another (it changed nothing); a group of writes takes a connection that has just
  answered a ping (a write can't run twice: its commit may have happened).

No connection is held while waiting for a thread and no thread waits for a connection
(admission is capped at the pool size), so the service can't deadlock the way the tutorial app
does under load; past that cap, requests wait their turn on the event loop, at most
`max_queued_requests` of them for at most `db_pool_timeout` seconds; beyond that they get a 503
at once.
"""

import asyncio
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.pool import PoolProxiedConnection, StaticPool

from api.config import Settings
from api.driver import DriverConnection, Statements

T = TypeVar("T")


class Overloaded(Exception):
    """Every connection stayed busy for longer than the queue timeout."""


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
        return _sqlite_engine(url, settings, **pool_args)
    return create_engine(
        url,
        # No pool_pre_ping (a round trip per checkout: 18 % of a GET one): Database replaces a
        # connection the server dropped itself (see its docstring). The connect timeout turns
        # an unreachable server into a prompt 503, not a hung request.
        connect_args={
            "connect_timeout": max(1, round(settings.db_pool_timeout)),
            # None: never prepare (psycopg's default prepares a statement on its 5th run).
            **({} if settings.db_prepared_statements else {"prepare_threshold": None}),
        },
        **pool_args,
    )


def _sqlite_engine(url: URL, settings: Settings, **pool_args: Any) -> Engine:
    engine = create_engine(
        url,
        connect_args={
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        },
        **pool_args,
    )
    event.listen(engine, "connect", _sqlite_pragmas(settings.sqlite_busy_timeout_ms))
    return engine


Work = Callable[[DriverConnection], T]
# A write's outcome, made in the writer thread: its result, or the exception it raised.
Outcome = tuple[bool, Any]


class Database:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.queue_timeout = settings.db_pool_timeout
        self.max_queued = settings.max_queued_requests
        self._queued = 0
        slots = self._slots = settings.db_pool_size + settings.db_max_overflow
        self._statements = Statements(engine.dialect)
        self._sqlite = engine.dialect.name == "sqlite"
        # Plain asyncio rather than AnyIO's thread helpers: per request, their cancel scopes and
        # task lookups cost more than the query (measured with py-spy under wrk).
        self._admission = asyncio.Semaphore(slots)
        self._threads = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="db")
        # SQLite reads run on the event loop itself, on a connection kept for them. In WAL mode a
        # reader never waits for a writer, and a read here is a 20-100 µs lookup in a local file:
        # less than the hand-off to a thread and back (GET one with 2 workers: 5,000-6,000 req/s
        # through threads, 7,000-7,400 inline), and less than a pool checkout. PostgreSQL reads
        # cross a network: they stay in threads, on pooled connections. The loop's connection is
        # outside the pool: the pool's are the requests' (and its gauge counts those in use).
        self._reader_engine: Engine | None = None
        self._loop_reader: PoolProxiedConnection | None = None
        self._loop_driver: DriverConnection | None = None
        if self._sqlite:
            self._reader_engine = _sqlite_engine(engine.url, settings, poolclass=StaticPool)
            self._loop_reader = self._reader_engine.raw_connection()
            self._loop_driver = DriverConnection(
                self._loop_reader.dbapi_connection, self._statements
            )
        self._dbapi_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        # One writer: a group of writes is one transaction (and, for SQLite, the file's one
        # write lock) instead of one each.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")
        self._pending: list[tuple[Work[Any], asyncio.Future[Any]]] = []
        self._committing = False

    async def read(self, work: Work[T]) -> T:
        """Run `work` on a connection, without a write transaction."""
        if self._loop_driver is not None:
            await self._admit()
            try:
                # One turn of the loop before the read: run back to back without it, reads
                # starved some connections under 256 of them (page p99 6-7 s, measured; ~180 ms
                # with it).
                await asyncio.sleep(0)
                try:
                    return work(self._loop_driver)
                except self._dbapi_error as error:
                    raise self._translated(error, self._loop_reader) from error
            finally:
                self._admission.release()
        await self._admit()
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._threads, functools.partial(self._read, work))
        finally:
            self._admission.release()

    async def write(self, work: Work[T]) -> T:
        """Run `work` in the next group commit; return once it is committed."""
        await self._admit()
        try:
            future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
            self._pending.append((work, future))
            if not self._committing:
                self._commit_pending()
            return await future
        finally:
            self._admission.release()

    def _commit_pending(self) -> None:
        # Every write that arrived while the last group was committing goes in this one: no
        # timer, so a lone write waits for nothing.
        group, self._pending = self._pending, []
        self._committing = True
        done = asyncio.get_running_loop().run_in_executor(
            self._writer, self._commit, [work for work, _ in group]
        )
        done.add_done_callback(functools.partial(self._answer, group))

    def _answer(
        self,
        group: list[tuple[Work[Any], asyncio.Future[Any]]],
        done: asyncio.Future[list[Outcome]],
    ) -> None:
        self._committing = False
        try:
            outcomes = done.result()
        except BaseException as error:  # the writer itself failed: nothing was committed
            outcomes = [(False, error)] * len(group)
        for (_work, future), (ok, value) in zip(group, outcomes, strict=True):
            if not future.done():  # a request whose caller went away needs no answer
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        if self._pending:
            self._commit_pending()

    async def _admit(self) -> None:
        if self._admission.locked():
            # Every connection is busy: wait in a bounded line, for a bounded time. Past either
            # bound the request is shed with a 503 at once, rather than piling up.
            if self._queued >= self.max_queued:
                raise Overloaded
            self._queued += 1
            try:
                await asyncio.wait_for(self._admission.acquire(), self.queue_timeout)
            except TimeoutError:
                raise Overloaded from None
            finally:
                self._queued -= 1
        else:
            await self._admission.acquire()

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._threads.shutdown(wait=True)
        if self._reader_engine is not None:
            self._reader_engine.dispose()
        self.engine.dispose()

    def _read(self, work: Work[T]) -> T:
        # Optimistic: a connection the server dropped (it restarted) fails at its first
        # statement, and a read changes nothing, so it runs again on the next connection; after
        # a restart the pool may hold nothing but dead ones.
        for attempt in range(self._slots + 1):
            with self._checked_out() as connection:
                try:
                    return work(DriverConnection(connection.dbapi_connection, self._statements))
                except self._dbapi_error as error:
                    self._raise_unless_dropped(error, connection, attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _commit(self, group: list[Work[Any]]) -> list[Outcome]:
        """In the writer thread: the whole group in one transaction; if that fails, each alone
        (on a connection of its own: the group's may be the thing that failed)."""
        if len(group) > 1:
            try:
                with self._checked_out(live=True) as connection:
                    return [(True, result) for result in self._transaction(connection, group)]
            except Exception:  # rolled back: each write is run again, alone
                pass
        outcomes: list[Outcome] = []
        for work in group:
            try:
                with self._checked_out(live=True) as connection:
                    outcomes.append((True, self._transaction(connection, [work])[0]))
            except Exception as error:
                outcomes.append((False, error))
        return outcomes

    def _transaction(self, connection: PoolProxiedConnection, group: list[Work[Any]]) -> list[Any]:
        dbapi_connection: Any = connection.dbapi_connection
        driver = DriverConnection(dbapi_connection, self._statements)
        try:
            try:
                if self._sqlite:
                    # Take the write lock first: a deferred transaction that reads before it
                    # writes can meet another process' lock with no chance to wait for it.
                    dbapi_connection.execute("BEGIN IMMEDIATE")
                results = [work(driver) for work in group]
                dbapi_connection.commit()
            except BaseException:
                if connection.is_valid:
                    dbapi_connection.rollback()
                raise
        except self._dbapi_error as error:
            raise self._translated(error, connection) from error
        return results

    @contextmanager
    def _checked_out(self, live: bool = False) -> Iterator[PoolProxiedConnection]:
        connection = self._live_connection() if live and not self._sqlite else self._connect()
        try:
            yield connection
        finally:
            connection.close()

    def _connect(self) -> PoolProxiedConnection:
        try:
            return self.engine.raw_connection()
        except self._dbapi_error as error:  # the pool hands the driver's connect error on as is
            raise self._translated(error, None) from error

    def _live_connection(self) -> PoolProxiedConnection:
        """A connection that has just answered a ping (SQLAlchemy's pool_pre_ping, for writes
        only): a write whose connection fails can't simply run again, its commit may have
        happened. One ping per group of writes."""
        for attempt in range(self._slots + 1):
            connection = self._connect()
            try:
                dbapi_connection: Any = connection.dbapi_connection
                self.engine.dialect.do_ping(dbapi_connection)
                return connection
            except self._dbapi_error as error:
                try:
                    self._raise_unless_dropped(error, connection, attempt)
                finally:
                    connection.close()  # after: a dropped one is invalidated first
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _raise_unless_dropped(
        self, error: Exception, connection: PoolProxiedConnection, attempt: int
    ) -> None:
        """Return if `error` says the server dropped `connection` and another may be tried (at
        most one per pool slot: after a restart every pooled one may be dead); else raise it."""
        translated = self._translated(error, connection)
        if not translated.connection_invalidated or attempt == self._slots:
            raise translated from error

    def _translated(self, error: Any, connection: PoolProxiedConnection | None) -> StatementError:
        """The driver's error as SQLAlchemy's (what the error handlers know); a connection the
        server dropped is invalidated, so that the pool doesn't hand it out again."""
        dialect = self.engine.dialect
        lost = connection is not None and dialect.is_disconnect(
            error, connection.dbapi_connection, None
        )
        if connection is not None and lost:
            connection.invalidate(error)
        translated: StatementError = DBAPIError.instance(
            None, None, error, self._dbapi_error, connection_invalidated=lost, dialect=dialect
        )
        return translated
