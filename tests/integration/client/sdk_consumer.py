"""The client as its README shows it: resources that return models, errors that are exceptions.

Runs in a virtual environment holding only `heroes-client` (test_client_sdk.py), against a server
whose writes are limited to 3 a second, and passes `mypy --strict`. Each step is one the README
names: create, retrieve, list with filters and a count, a conditional update (and a stale one),
one create sent twice with one key, delete, a 404, a 422, a 429, and a server that is down.

    python sdk_consumer.py http://127.0.0.1:8000 heroes_… http://127.0.0.1:9    # up, key, down
"""

import asyncio
import sys

from heroes_client import AsyncHeroes, Heroes
from heroes_client.errors import (
    APIConnectionError,
    NotFoundError,
    PreconditionFailedError,
    RateLimitError,
    UnprocessableEntityError,
)
from heroes_client.models import HeroCreate, HeroUpdate


def run(base_url: str, api_key: str, down_url: str) -> None:
    client = Heroes(base_url, api_key=api_key)

    hero = client.heroes.create(body=HeroCreate(name="Deadpond", secret_name="Dive Wilson"))
    print("created", hero.id, hero.name)
    read = client.heroes.retrieve(hero.id)
    assert read == hero
    assert read.etag is not None

    for name, age in [("Spider-Boy", 16), ("Rusty-Man", 48), ("Tarantula", 32)]:
        client.heroes.create(body=HeroCreate(name=name, secret_name="-", age=age))
    adults = client.heroes.list(min_age=18, limit=1, prefer="count=exact")  # one per page
    names = [found.name for found in adults]
    print("adults", adults.total, names)
    assert adults.total == len(names) == 2

    changed = client.heroes.update(hero.id, body=HeroUpdate(age=30), if_match=read)
    try:
        client.heroes.update(hero.id, body=HeroUpdate(age=31), if_match=read)  # a stale copy
        raise AssertionError("a stale If-Match was accepted")
    except PreconditionFailedError as error:
        print("stale:", error.status_code, error.body.detail)
    assert client.heroes.retrieve(hero.id, if_none_match=changed) is changed  # 304: unchanged

    body = HeroCreate(name="Black Lion", secret_name="Trevor Challa")
    first = client.heroes.create(body=body, idempotency_key="order-17")
    again = client.heroes.create(body=body, idempotency_key="order-17")
    assert again == first  # the stored answer: one hero
    client.heroes.delete(first.id)
    try:
        client.heroes.retrieve(first.id)
        raise AssertionError("a deleted hero was found")
    except NotFoundError as error:
        print("gone:", error.status_code, error.body.detail, error.request_id)

    try:
        list(client.heroes.list(limit=1000))  # more than a page may hold
        raise AssertionError("a page of 1000 was served")
    except UnprocessableEntityError as error:
        print("invalid:", [(problem.loc, problem.msg) for problem in error.body.detail])

    wait: float | None = None
    try:
        for n in range(10):  # 3 writes a second: one of these is refused, not retried
            client.heroes.create(body=HeroCreate(name=f"Hasty {n}", secret_name="-"), max_retries=0)
        raise AssertionError("10 writes at once were never limited")
    except RateLimitError as error:
        wait = error.retry_after
    assert wait is not None
    assert wait > 0
    print("limited: retry after", wait, "s")

    try:
        Heroes(down_url, max_retries=0).health()
        raise AssertionError("a server that is down answered")
    except APIConnectionError as error:
        print("down:", error)
    client.close()


async def run_async(base_url: str, api_key: str) -> None:
    async with AsyncHeroes(base_url, api_key=api_key) as client:
        made = await client.heroes.create(body=HeroCreate(name="Async Lad", secret_name="-"))
        pager = client.heroes.list(name="Async Lad", prefer="count=exact")
        assert [found.id async for found in pager] == [made.id]
        assert await pager.total() == 1
        assert (await client.health()).status == "ok"


if __name__ == "__main__":
    run(*sys.argv[1:4])
    asyncio.run(run_async(*sys.argv[1:3]))
    print("every step behaved as the README says")
