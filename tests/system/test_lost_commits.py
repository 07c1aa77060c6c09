"""PostgreSQL's answer to a COMMIT lost on the way back (the commit landed, then the connection
died, or went silent): the service finds out what happened instead of running the writes again.
Black-box: the service in its own process, behind a proxy that loses every fourth COMMIT's
answer, under concurrent writers that never retry."""

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import clear_heroes, start_server, stop_server
from tests.support.lossy import CommitAnswerLoser, armed

WRITES = 100
WRITERS = 16


async def _post_each_once(base_url: str) -> Counter[int]:
    statuses: Counter[int] = Counter()
    names = iter(range(WRITES))

    async def writer(client: httpx.AsyncClient) -> None:
        for number in names:
            response = await client.post(
                "/heroes/", json={"name": f"once-{number}", "secret_name": "s"}
            )
            statuses[response.status_code] += 1

    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await asyncio.gather(*(writer(client) for _ in range(WRITERS)))
    return statuses


@pytest.mark.parametrize("silent", [False, True], ids=["cut", "silent"])
def test_lost_commit_answers_store_no_write_twice(
    postgres_url: str, tmp_path: Path, silent: bool
) -> None:
    """Cut: the proxy closes both sides once the COMMIT is answered. Silent: it holds them open
    and says nothing (a machine lost after the commit), until the service gives the connection
    up (statement_timeout, 1 s here, and 2 s)."""
    engine = create_engine(postgres_url)
    clear_heroes(engine)
    url = make_url(postgres_url)
    with CommitAnswerLoser(url.port or 5432, every=4, silent=silent) as proxy:
        proxied = proxy.through(url)
        env = {"HEROES_DB_STATEMENT_TIMEOUT": "1"} if silent else None
        server, base_url = start_server(proxied, env=env, log=tmp_path / "server.log")
        try:
            with armed(proxy):
                statuses = asyncio.run(_post_each_once(base_url))
        finally:
            stop_server(server)
    with engine.connect() as connection:
        stored = Counter(name for (name,) in connection.execute(text("SELECT name FROM hero")))
    engine.dispose()
    assert {name: n for name, n in stored.items() if n > 1} == {}, "stored twice"
    # The database could always be reached to find out: every write is acknowledged, once.
    assert statuses == Counter({200: WRITES}), (
        statuses,
        (tmp_path / "server.log").read_text()[-3000:],
    )
    assert proxy.lost >= 3, f"the proxy lost {proxy.lost} of {proxy.seen} COMMIT answers"
    assert sorted(stored) == sorted(f"once-{n}" for n in range(WRITES))
