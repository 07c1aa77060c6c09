"""The database: one engine per app, and the one way requests reach it.

Every request does its database work in a single call that checks a connection out, runs one
short transaction and gives it back: in a worker thread, or for SQLite reads on the event loop
(see Database). No connection is held while waiting for a thread and no thread waits for a
connection (admission is capped at the pool size), so the service can't deadlock the way the
tutorial app does under load; past that cap, requests wait
their turn on the event loop, at most `max_queued_requests` of them for at most `db_pool_timeout`
seconds; beyond that they get a 503 at once.
"""

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from api.config import Settings

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
    return create_engine(
        url,
        # pre_ping lets the service recover by itself after the database restarts; the connect
        # timeout turns an unreachable server into a prompt 503 rather than a hung request.
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": max(1, round(settings.db_pool_timeout)),
            # None: never prepare (psycopg's default prepares a statement on its 5th run).
            **({} if settings.db_prepared_statements else {"prepare_threshold": None}),
        },
        **pool_args,
    )


class Database:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.queue_timeout = settings.db_pool_timeout
        self.max_queued = settings.max_queued_requests
        self._queued = 0
        slots = settings.db_pool_size + settings.db_max_overflow
        # Plain asyncio rather than AnyIO's thread helpers: per request, their cancel scopes and
        # task lookups cost more than the query (measured with py-spy under wrk).
        self._admission = asyncio.Semaphore(slots)
        self._threads = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="db")
        # SQLite reads run on the event loop itself. In WAL mode a reader never waits for a writer,
        # and a read here is a 20-100 µs lookup in a local file: less than the hand-off to a
        # thread and back that it replaces. Measured with 2 workers: GET one 5,000-6,000 req/s
        # through threads, 7,000-7,400 inline. PostgreSQL reads cross a network: they stay in
        # threads, as do all writes (they can wait on SQLite's lock).
        self._inline_reads = engine.dialect.name == "sqlite"
        # SQLite has one writer at a time. Left to itself, a thread that finds the file locked
        # sleeps and polls (1, 2, 5, 10 ms...); queueing our own writers on a lock instead hands
        # the file over the moment it is free. Other processes still meet SQLite's busy timeout.
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        )

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work` on a connection, without a write transaction."""
        if self._inline_reads:
            await self._admit()
            try:
                # One turn of the loop before the read: run back to back without it, reads
                # starved some connections under 256 of them (page p99 6-7 s, measured; ~180 ms
                # with it).
                await asyncio.sleep(0)
                return self._read(work)
            finally:
                self._admission.release()
        return await self._run(self._read, work)

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one transaction in a worker thread; commit if it returns."""
        return await self._run(self._transaction, work)

    async def _run(
        self, call: Callable[[Callable[[Connection], T]], T], work: Callable[[Connection], T]
    ) -> T:
        await self._admit()
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._threads, functools.partial(call, work))
        finally:
            self._admission.release()

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
        self._threads.shutdown(wait=True)
        self.engine.dispose()

    def _read(self, work: Callable[[Connection], T]) -> T:
        with self.engine.connect() as connection:
            return work(connection)

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        with self._write_lock, self.engine.begin() as connection:
            return work(connection)
