"""Deleting what has expired, a small batch at a time, off the request path: idempotency records
past HEROES_IDEMPOTENCY_TTL, and the commit markers of writers long gone (api/db/markers.py).

Every worker of every replica runs it, at a jittered interval, so that a fleet doesn't sweep in
step; a batch deleted twice is simply a batch that finds nothing. Each batch is one short write
through the group commit, like a request's: it never holds the database for long.
"""

import asyncio
import logging
import random
import time

from api import idempotency
from api.bounds import PRUNE_BATCH, PRUNE_EVERY_SECONDS
from api.db import Database
from api.db.markers import IDLE_WRITER_SECONDS, PRUNE_MARKERS
from api.statements import DriverConnection

logger = logging.getLogger("api")


async def sweep(db: Database, ttl_seconds: int) -> int:
    """Delete every expired record, a batch at a time, and idle writers' markers; the count."""
    deleted = 0
    while True:
        batch = await db.write(
            lambda connection: idempotency.prune(connection, ttl_seconds, PRUNE_BATCH)
        )
        deleted += batch
        if batch < PRUNE_BATCH:
            break

    def idle_markers(connection: DriverConnection) -> int:
        return connection.rowcount(
            PRUNE_MARKERS, {"before": int(time.time()) - IDLE_WRITER_SECONDS}
        )

    await db.write(idle_markers)
    return deleted


async def sweep_forever(db: Database, ttl_seconds: int) -> None:
    while True:
        await asyncio.sleep(PRUNE_EVERY_SECONDS * random.uniform(0.5, 1.5))
        try:
            await sweep(db, ttl_seconds)
        except Exception as error:  # the database is away: the next sweep will do
            logger.warning(
                "housekeeping: sweep failed (%s); trying again later", type(error).__name__
            )
