"""This worker's PostgreSQL connections: psycopg_pool's AsyncConnectionPool (its size, their
lifetime and idle time, reconnection with backoff), in autocommit, never preparing (a pooler in
transaction mode may hand the next statement to another server connection).

- A connection whose session ended, or that a batch gave up on (cancelled, silent), is closed
  before it goes back: the pool replaces it, and never hands it out again.
- A reconnection attempt gives up after HEROES_DB_POOL_TIMEOUT, so that the next request that
  waits starts a new one at once: after an outage, the service answers again within about a
  second of the database, not after the backoff's last, longest delay.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

Connection = psycopg.AsyncConnection[Any]
# Recycled after this long, and closed after this long idle (beyond the first): a server
# restarted behind a pooler, or a failover, leaves no connection older than this.
MAX_LIFETIME_SECONDS = 30 * 60.0
MAX_IDLE_SECONDS = 5 * 60.0


def _not_a_problem(record: logging.LogRecord) -> bool:
    """psycopg_pool's warning that it replaces a closed connection: what the service asks for
    when a session ended (a restart of the database, say), and is seen in its own answers."""
    return not record.getMessage().startswith("discarding closed connection")


logging.getLogger("psycopg.pool").addFilter(_not_a_problem)


class Pool:
    def __init__(self, conninfo: str, size: int, timeout: float) -> None:
        self.conninfo = conninfo
        self.timeout = timeout
        self.size = size
        self._pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            conninfo,
            kwargs={"autocommit": True, "prepare_threshold": None},
            min_size=1,
            max_size=size,
            open=False,
            timeout=timeout,
            max_lifetime=MAX_LIFETIME_SECONDS,
            max_idle=MAX_IDLE_SECONDS,
            reconnect_timeout=timeout,
            name="heroes-api",
        )
        self._opened = False
        self._drained_at = -1.0
        self._draining: set[asyncio.Task[None]] = set()
        # Called as connections are taken and given back (the metrics' gauge).
        self.watchers: list[tuple[Callable[[], None], Callable[[], None]]] = []

    async def open(self) -> None:
        """Start connecting, in the background (also done by the first `take`)."""
        if not self._opened:
            self._opened = True
            await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    async def take(self) -> Connection:
        """A connection; psycopg_pool.PoolTimeout (an OperationalError) if none comes within
        HEROES_DB_POOL_TIMEOUT (the server can't be reached, or every one is busy)."""
        if not self._opened:
            await self.open()
        connection = await self._pool.getconn()
        for taken, _ in self.watchers:
            taken()
        return connection

    async def give_back(self, connection: Connection, ended: bool) -> None:
        """Back to the pool; `ended`: closed first (its session is over, or can't be trusted)."""
        for _, given_back in self.watchers:
            given_back()
        if ended and not connection.closed:
            await connection.close()
        await self._pool.putconn(connection)

    def suspect(self) -> None:
        """A connection went silent: the way to the server may be broken for every connection,
        and an idle one would only show it when next used (a 503, after the silence bound).
        Its idle connections are replaced (at most once a second): new ones are cheap."""
        loop = asyncio.get_running_loop()
        if loop.time() - self._drained_at < 1.0:
            return
        self._drained_at = loop.time()
        task = loop.create_task(self._pool.drain())
        self._draining.add(task)
        task.add_done_callback(self._draining.discard)

    async def fresh(self) -> Connection:
        """A new connection outside the pool (to look up a lost commit: a pooled one may be as
        dead as the one the commit was lost on). The caller closes it."""
        return await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, prepare_threshold=None
        )
