"""Admission: at most one request per connection slot at a time, and a bounded line for the rest.

No connection is held while waiting for a thread and no thread waits for a connection (admission
is capped at the pool size), so the service can't deadlock the way the tutorial app does under
load. Past that cap, requests wait their turn on the event loop, at most `max_queued` of them for
at most `timeout` seconds; beyond either bound they get a 503 at once, rather than piling up.
"""

import asyncio


class Overloaded(Exception):
    """Every connection stayed busy for longer than the queue timeout, or the line was full."""


class Admission:
    def __init__(self, slots: int, max_queued: int, timeout: float) -> None:
        self.max_queued = max_queued
        self.timeout = timeout
        self._queued = 0
        # Plain asyncio rather than AnyIO's helpers: per request, their cancel scopes and task
        # lookups cost more than the query (docs/decisions/0010-fastapi-request-path.md).
        self._slots = asyncio.Semaphore(slots)

    async def enter(self) -> None:
        """Take a slot, waiting in the bounded line if none is free; or raise Overloaded."""
        if not self._slots.locked():
            await self._slots.acquire()
            return
        if self._queued >= self.max_queued:
            raise Overloaded
        self._queued += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.timeout)
        except TimeoutError:
            raise Overloaded from None
        finally:
            self._queued -= 1

    def leave(self) -> None:
        self._slots.release()
