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

This class only composes those parts; what differs between the databases is behind one
interface (api/db/backend.py), chosen here once.
"""

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, event

from api.config import Settings
from api.db.admission import Admission
from api.db.backend import Backend
from api.db.connections import Connections, Work
from api.db.group_commit import GroupCommit
from api.db.postgres_backend import PostgresBackend
from api.db.sqlite_backend import SqliteBackend

T = TypeVar("T")


class Database:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        slots = settings.db_pool_size + settings.db_max_overflow
        connections = Connections(engine, slots)
        self._admission = Admission(slots, settings.max_queued_requests, settings.db_pool_timeout)
        self._backend: Backend = (
            SqliteBackend(connections, settings)
            if connections.sqlite
            else PostgresBackend(connections, settings, slots)
        )
        self._writes = GroupCommit(
            self._backend.writes,
            resolve_seconds=settings.db_pool_timeout,
            queue_seconds=settings.db_pool_timeout,
            max_queued=None if self._backend.writes_admitted else settings.max_queued_requests,
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
            return await self._backend.read(work, long)
        finally:
            self._admission.leave()

    async def write(self, work: Work[T]) -> T:
        """Run `work` in the next group commit; return once it is committed."""
        if not self._backend.writes_admitted:
            return await self._writes.write(work)
        await self._admission.enter()
        try:
            return await self._writes.write(work)
        finally:
            self._admission.leave()

    def watch_connections(self, taken: Callable[[], None], given_back: Callable[[], None]) -> None:
        """Call these as connections are taken and given back (the engine's pool, and the
        backend's own)."""
        event.listen(self.engine, "checkout", lambda *_: taken())
        event.listen(self.engine, "checkin", lambda *_: given_back())
        self._backend.watch(taken, given_back)

    async def open(self) -> None:
        """Start connecting (PostgreSQL's pool fills in the background)."""
        await self._backend.open()

    async def close(self) -> None:
        self._writes.close()
        await self._backend.close()
        self.engine.dispose()
