"""PostgreSQL: reads and writes alike on the pool's connections, on the event loop.

A read's statement is awaited as the loop awaits a socket (api/db/postgres_reads.py); a group
of writes runs there too (api/db/postgres_writes.py). The engine is left to the migrations at
start-up and to the CLI.
"""

from collections.abc import Callable
from typing import TypeVar

from api.bounds import (
    GROUP_LOCK_TIMEOUT_SECONDS,
    SILENT_SERVER_GRACE_SECONDS,
    WRITES_WAITING_ALONE_MAX,
)
from api.config import Settings
from api.db import postgres_conninfo
from api.db.connections import Connections, Work
from api.db.postgres_pool import Pool
from api.db.postgres_reads import PostgresReads
from api.db.postgres_writes import LoopTransactions

T = TypeVar("T")


class PostgresBackend:
    # A write waiting for its group holds no connection (the group has one, on the loop): it
    # takes none of the slots, and the group's own line is the bound (HEROES_MAX_QUEUED_REQUESTS
    # and the queue deadline). Admitted to slots, groups were at most the pool's size.
    writes_admitted = False

    def __init__(self, connections: Connections, settings: Settings, slots: int) -> None:
        # The reads' slots, one for the group commit's writer (a write in line holds none of
        # the reads'), and the writes waiting alone for a lock.
        self._pool = Pool(
            postgres_conninfo.conninfo(connections.engine.url, settings),
            slots + 1 + WRITES_WAITING_ALONE_MAX,
            settings.db_pool_timeout,
        )
        session = postgres_conninfo.session_values(settings)
        self._reads = PostgresReads(
            self._pool,
            connections.error,
            silence=settings.db_statement_timeout + SILENT_SERVER_GRACE_SECONDS,
            session=session,
        )
        # A group waits for a row lock at most this long (then the write leaves it).
        group_lock_ms = round(min(settings.db_lock_timeout, GROUP_LOCK_TIMEOUT_SECONDS) * 1000)
        self.writes = LoopTransactions(
            self._reads,
            self._pool.size,
            connections.error,
            session=(session[0], str(group_lock_ms)),
            alone=session,
            lookup_silence=settings.db_pool_timeout + SILENT_SERVER_GRACE_SECONDS,
        )

    async def read(self, work: Work[T], long: bool) -> T:
        # A long read too: the loop only waits for it.
        return await self._reads.read(work)

    def watch(self, taken: Callable[[], None], given_back: Callable[[], None]) -> None:
        self._pool.watchers.append((taken, given_back))

    async def open(self) -> None:
        """Start connecting: the pool fills in the background."""
        await self._pool.open()

    async def close(self) -> None:
        await self._pool.close()
