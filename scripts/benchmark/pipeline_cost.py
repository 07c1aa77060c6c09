"""What a statement costs the service's process on PostgreSQL, in a batch of N sent in one
round trip: through psycopg's public API (a pipeline, one AsyncRawCursor per statement, what
api/db/postgres_pipeline.py does) against libpq's calls driven by hand (psycopg.pq: every
statement queued, one Sync, the answers read as the socket has them: the transport the service
had before). CPU microseconds per statement of this process, the two taking turns.

    .venv/bin/python scripts/benchmark/pipeline_cost.py [URL]   (default: the local server)

docs/decisions/0001-postgresql-transport.md cites it. Absolute figures drift with the machine;
the ratio, measured in the same run, is the result.
"""

import asyncio
import statistics
import sys
import time
from typing import Any

import psycopg
from psycopg import AsyncRawCursor, pq

SQL = b"SELECT $1::int, 'hero'::text, 42, 1"
ROUNDS = 1000
PAIRS = 5


async def public_api(connection: psycopg.AsyncConnection[Any], batch: int) -> None:
    cursors = []
    async with connection.pipeline() as pipeline:
        for n in range(batch):
            cursor = AsyncRawCursor(connection)
            await cursor.execute(SQL, (n,), prepare=False, binary=True)
            cursors.append(cursor)
        await pipeline.sync()
    for cursor in cursors:
        await cursor.fetchall()


async def by_hand(connection: psycopg.AsyncConnection[Any], batch: int) -> None:
    pgconn = connection.pgconn
    loop = asyncio.get_running_loop()
    dump = psycopg.adapt.Transformer(connection)
    load = psycopg.adapt.Transformer(connection)
    for n in range(batch):
        params = dump.dump_sequence((n,), [psycopg.adapt.PyFormat.AUTO])
        pgconn.send_query_params(
            SQL, params, param_formats=dump.formats, param_types=dump.types,
            result_format=pq.Format.BINARY,
        )  # fmt: skip
    pgconn.pipeline_sync()
    while pgconn.flush():  # noqa: ASYNC110 (a batch larger than the socket's buffer)
        await asyncio.sleep(0)
    done = loop.create_future()
    synced = False

    def readable() -> None:
        nonlocal synced
        pgconn.consume_input()
        while not pgconn.is_busy():
            result = pgconn.get_result()
            if result is None:
                continue
            if result.status == pq.ExecStatus.PIPELINE_SYNC:
                synced = True
                if not done.done():
                    done.set_result(None)
                return
            load.set_pgresult(result)
            load.load_rows(0, result.ntuples, tuple)

    loop.add_reader(pgconn.socket, readable)
    try:
        await done
    finally:
        loop.remove_reader(pgconn.socket)
    assert synced


async def measure(url: str) -> None:
    connection = await psycopg.AsyncConnection.connect(url, autocommit=True)
    raw = await psycopg.AsyncConnection.connect(url, autocommit=True)
    raw.pgconn.nonblocking = 1
    raw.pgconn.enter_pipeline_mode()
    print("| statements per batch | public API µs | by hand µs | public ÷ by hand |")
    print("|---|---|---|---|")
    for batch in (1, 4, 16):
        ratios, costs = [], {"public": [], "hand": []}
        for _ in range(PAIRS):
            for name, run, conn in (("public", public_api, connection), ("hand", by_hand, raw)):
                start = time.process_time()
                for _ in range(ROUNDS):
                    await run(conn, batch)
                costs[name].append((time.process_time() - start) / ROUNDS / batch * 1e6)
            ratios.append(costs["public"][-1] / costs["hand"][-1])
        public, hand = statistics.median(costs["public"]), statistics.median(costs["hand"])
        print(f"| {batch} | {public:.0f} | {hand:.0f} | {statistics.median(ratios):.1f}x |")
    await connection.close()
    await raw.close()


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "host=127.0.0.1 user=postgres dbname=postgres"
    asyncio.run(measure(target.replace("postgresql+psycopg://", "postgresql://")))
