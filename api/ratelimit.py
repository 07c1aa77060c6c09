"""Rate limits per caller (a key's holder, or a client address), with the `limits` library.

Counters live in this process unless HEROES_REDIS_URL is set: then in Redis, shared by every
worker and replica. The sliding-window-counter strategy weighs the previous window's count by
how much of it still overlaps the current one: no double burst at a window's edge (as fixed
windows allow), and two counters per caller, where a moving window keeps (and, for the headers,
scans) one timestamp per request, a cost that grows with the limit.

If Redis goes away the service keeps serving, unlimited (fail open): a rate limit protects
capacity, and refusing everyone because the counter store is down would spend it all at once.
That is logged once per outage, and the store is tried again every few seconds.
"""

import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy.engine import make_url

from api.config import Settings
from api.errors import rate_limited

logger = logging.getLogger("api")

# How long a failed counter store is left alone before it is tried again.
RETRY_STORE_AFTER_SECONDS = 5.0
# A counter store that doesn't answer this fast is treated as down: a rate limit must never be
# what makes a request slow.
STORE_TIMEOUT_SECONDS = 0.25


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.reads = _items(settings.rate_limit_reads)
        self.writes = _items(settings.rate_limit_writes)
        self.where = "this process"
        storage: Storage = MemoryStorage()
        if settings.redis_url and (self.reads or self.writes):
            storage = RedisStorage(
                f"async+{settings.redis_url}",
                implementation="redispy",
                socket_timeout=STORE_TIMEOUT_SECONDS,
                socket_connect_timeout=STORE_TIMEOUT_SECONDS,
            )
            url = make_url(settings.redis_url).render_as_string(hide_password=True)
            self.where = f"Redis at {url}"
        self.strategy = SlidingWindowCounterRateLimiter(storage)
        self._down_until = 0.0

    def describe(self) -> str:
        if not (self.reads or self.writes):
            return "rate limits: off"
        shown = [
            f"{kind} {'; '.join(map(str, items)) or 'unlimited'}"
            for kind, items in (("reads", self.reads), ("writes", self.writes))
        ]
        return f"rate limits: {', '.join(shown)} per caller, counted in {self.where}"

    async def read(self, caller: str) -> None:
        if self.reads:
            await self._check(self.reads, "read", caller)

    async def write(self, caller: str) -> None:
        if self.writes:
            await self._check(self.writes, "write", caller)

    async def _check(self, items: list[RateLimitItem], kind: str, caller: str) -> None:
        if time.monotonic() < self._down_until:
            return
        try:
            over = None
            for item in items:
                if not await self.strategy.hit(item, kind, caller):
                    over = item
                    break
            stats = await self.strategy.get_window_stats(over, kind, caller) if over else None
        except Exception as error:  # the counter store, whatever its client raised
            self._store_failed(error)
            return
        if self._down_until:
            logger.warning("rate limits: counter store back (%s)", self.where)
            self._down_until = 0.0
        if over is not None and stats is not None:
            # The headers come with the refusal, where a caller needs them to know when to come
            # back; on successes they would cost a second look-up per request
            # (docs/decisions/0007-rate-limit-window.md).
            raise rate_limited(over.amount, _seconds_until(stats.reset_time))

    def _store_failed(self, error: Exception) -> None:
        if not self._down_until:
            logger.warning(
                "rate limits: counter store unreachable (%s: %s); serving without limits "
                "until it answers again",
                self.where,
                type(error).__name__,
            )
        self._down_until = time.monotonic() + RETRY_STORE_AFTER_SECONDS


def _items(text: str | None) -> list[RateLimitItem]:
    return parse_many(text) if text else []


def _seconds_until(reset_time: float) -> int:
    return max(1, math.ceil(reset_time - time.time()))
