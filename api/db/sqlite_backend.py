"""SQLite: reads on the event loop, on a connection kept for them; writes in the writer thread.

In WAL mode a reader never waits for the writer, and a read is cheaper than the hand-off to a
thread. A long read (a deep page, a count) goes to one thread: on the loop it would stop the
worker; more threads would take the worker's CPU from the loop
(docs/decisions/0006-sqlite-reads-on-the-loop.md). The loop's connection is outside the pool
(and its gauge): the pool's are the writes'.
"""

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.pool import StaticPool

from api.config import Settings
from api.db.connections import Connections, KeptConnection, Work
from api.db.engine import sqlite_engine

T = TypeVar("T")


class SqliteBackend:
    # Waiting for its group, a write holds the writer thread's turn: it stays admitted (the
    # writes' tail under load is shorter, docs/decisions/0002-group-commit.md).
    writes_admitted = True

    def __init__(self, connections: Connections, settings: Settings) -> None:
        self.writes = connections
        self._connections = connections
        self._threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db")
        self._loop_engine = sqlite_engine(connections.engine.url, settings, poolclass=StaticPool)
        self._loop_reader = KeptConnection(Connections(self._loop_engine, slots=0))

    async def read(self, work: Work[T], long: bool) -> T:
        if not long:
            # One turn of the loop before the read: back to back without it, reads starve
            # some connections under load (docs/decisions/0006-sqlite-reads-on-the-loop.md).
            await asyncio.sleep(0)
            return self._loop_reader.read(work)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._threads, functools.partial(self._connections.read, work)
        )

    def watch(self, taken: Callable[[], None], given_back: Callable[[], None]) -> None:
        """The engine's pool is all there is: the doorway watches it."""

    async def open(self) -> None:
        """Nothing to start: connections open on first use."""

    async def close(self) -> None:
        self._threads.shutdown(wait=True)
        self._loop_engine.dispose()
