"""The database doorway: every request does its database work in one call, `read` or `write`.

- A read runs on a connection of its own, on the event loop: for SQLite, one connection kept
  open for reads (no pool, no thread; a long read goes to a thread); for PostgreSQL, one of
  the reads' connections, its statement awaited as the loop awaits a socket
  (api/db/postgres_reads.py).
- A write joins the next group commit (api/db/group_commit.py) and returns once committed: on
  SQLite in the writer thread, on PostgreSQL on the event loop, on the reads' connections
  (api/db/postgres_writes.py).
- Reads, and SQLite's writes, are admitted first (api/db/admission.py): at most one per
  connection slot, a bounded line for the rest, and a 503 beyond it. PostgreSQL's writes hold
  no connection while they wait for their group: their line is the group commit's, bounded
  the same way.

This class only composes those parts.
"""

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.pool import StaticPool

from api.config import Settings
from api.db import postgres_conninfo
from api.db.admission import Admission
from api.db.connections import Connections, KeptConnection, Transactions, Work
from api.db.engine import sqlite_engine
from api.db.group_commit import GroupCommit
from api.db.postgres_pool import Pool
from api.db.postgres_reads import PostgresReads
from api.db.postgres_writes import LoopTransactions
from api.limits import (
    GROUP_LOCK_TIMEOUT_SECONDS,
    SILENT_SERVER_GRACE_SECONDS,
    WRITES_WAITING_ALONE_MAX,
)

T = TypeVar("T")


class Database:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        slots = settings.db_pool_size + settings.db_max_overflow
        self._connections = Connections(engine, slots)
        self._admission = Admission(slots, settings.max_queued_requests, settings.db_pool_timeout)
        # SQLite reads run on the event loop itself, on a connection kept for them: in WAL mode a
        # reader never waits for a writer, and a read is cheaper than the hand-off to a thread.
        # The loop's connection is outside the pool (and its gauge): the pool's are the writes'.
        # A long SQLite read (a deep page, a count) goes to one thread: on the loop it would
        # stop the worker; more threads would take the worker's CPU from the loop
        # (docs/decisions/0006-sqlite-reads-on-the-loop.md).
        self._threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db")
        self._loop_engine: Engine | None = None
        self._loop_reader: KeptConnection | None = None
        self._postgres_reads: PostgresReads | None = None
        self._pool: Pool | None = None
        writes: Transactions = self._connections
        if self._connections.sqlite:
            self._loop_engine = sqlite_engine(engine.url, settings, poolclass=StaticPool)
            self._loop_reader = KeptConnection(Connections(self._loop_engine, slots=0))
        else:
            # Reads and writes alike on the pool's connections, on the loop; the engine is left
            # to the migrations at start-up and to the CLI.
            # The reads' slots, one for the group commit's writer (a write in line holds none
            # of the reads', see below), and the writes waiting alone for a lock.
            self._pool = Pool(
                postgres_conninfo.conninfo(engine.url, settings),
                slots + 1 + WRITES_WAITING_ALONE_MAX,
                settings.db_pool_timeout,
            )
            session = postgres_conninfo.session_values(settings)
            self._postgres_reads = PostgresReads(
                self._pool,
                self._connections.error,
                silence=settings.db_statement_timeout + SILENT_SERVER_GRACE_SECONDS,
                session=session,
            )
            # A group waits for a row lock at most this long (then the write leaves it).
            group_lock_ms = round(min(settings.db_lock_timeout, GROUP_LOCK_TIMEOUT_SECONDS) * 1000)
            writes = LoopTransactions(
                self._postgres_reads,
                self._pool.size,
                self._connections.error,
                session=(session[0], str(group_lock_ms)),
                alone=session,
                lookup_silence=settings.db_pool_timeout + SILENT_SERVER_GRACE_SECONDS,
            )
        # On PostgreSQL a write waiting for its group holds no connection (the group has one,
        # on the loop): it takes none of the slots, and the group's own line is the bound
        # (HEROES_MAX_QUEUED_REQUESTS, and the queue deadline): admitted to slots, groups were
        # at most the pool's size. On SQLite they stay admitted: the writes' tail under load
        # is shorter (docs/decisions/0002-group-commit.md).
        self._writes_admitted = self._connections.sqlite
        self._writes = GroupCommit(
            writes,
            resolve_seconds=settings.db_pool_timeout,
            queue_seconds=settings.db_pool_timeout,
            max_queued=None if self._writes_admitted else settings.max_queued_requests,
        )

    @property
    def writes_queued(self) -> int:
        """Writes waiting for the next group commit."""
        return self._writes.queued

    async def read(self, work: Work[T], long: bool = False) -> T:
        """Run `work` on a connection, without a write transaction. On SQLite a `long` read (a
        deep offset, a count: milliseconds, not microseconds) runs in a thread, not on the
        event loop; on PostgreSQL every read is awaited on the loop, which only waits for it."""
        await self._admission.enter()
        try:
            if self._postgres_reads is not None:  # a long one too: the loop only waits for it
                return await self._postgres_reads.read(work)
            if self._loop_reader is not None and not long:
                # One turn of the loop before the read: back to back without it, reads starve
                # some connections under load (docs/decisions/0006-sqlite-reads-on-the-loop.md).
                await asyncio.sleep(0)
                return self._loop_reader.read(work)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._threads, functools.partial(self._connections.read, work)
            )
        finally:
            self._admission.leave()

    async def write(self, work: Work[T]) -> T:
        """Run `work` in the next group commit; return once it is committed."""
        if not self._writes_admitted:
            return await self._writes.write(work)
        await self._admission.enter()
        try:
            return await self._writes.write(work)
        finally:
            self._admission.leave()

    def watch_connections(self, taken: Callable[[], None], given_back: Callable[[], None]) -> None:
        """Call these as connections are taken and given back (the engine's pool, and on
        PostgreSQL the loop's)."""
        event.listen(self.engine, "checkout", lambda *_: taken())
        event.listen(self.engine, "checkin", lambda *_: given_back())
        if self._pool is not None:
            self._pool.watchers.append((taken, given_back))

    async def open(self) -> None:
        """Start connecting (PostgreSQL's pool fills in the background)."""
        if self._pool is not None:
            await self._pool.open()

    async def close(self) -> None:
        self._writes.close()
        self._threads.shutdown(wait=True)
        if self._pool is not None:
            await self._pool.close()
        if self._loop_engine is not None:
            self._loop_engine.dispose()
        self.engine.dispose()
