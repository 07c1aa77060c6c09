"""A consumer of the generated client, as a user would write it: every operation, sync and async.

Runs in a virtual environment holding only `heroes-client` (see test_client_install.py), must pass
`mypy --strict`, and is the example the README shows. `scripts/release` keeps a copy of it beside
each released contract: `scripts/compat` replays that copy, with that version's client, against
the code as it stands.

    python consumer.py http://127.0.0.1:8000
"""

import asyncio
import sys

from heroes_client import Client
from heroes_client.api.heroes import create_hero, delete_hero, read_hero, read_heroes, update_hero
from heroes_client.models import (
    Deleted,
    ErrorMessage,
    HeroCreate,
    HeroPublic,
    HeroUpdate,
    HTTPValidationError,
)


def run_sync(client: Client) -> int:
    created = create_hero.sync(
        client=client, body=HeroCreate(name="Deadpond", secret_name="Dive Wilson")
    )
    assert isinstance(created, HeroPublic)

    # Only `age` is sent: name and secret_name stay as they are.
    updated = update_hero.sync(created.id, client=client, body=HeroUpdate(age=30))
    assert isinstance(updated, HeroPublic)
    assert (updated.name, updated.age) == ("Deadpond", 30)

    # An explicit None is sent as null, and clears the age.
    cleared = update_hero.sync(created.id, client=client, body=HeroUpdate(age=None))
    assert isinstance(cleared, HeroPublic)
    assert cleared.age is None

    page = read_heroes.sync(client=client, offset=0, limit=10)
    assert isinstance(page, list)
    assert created.id in [hero.id for hero in page]

    # A page size no version will ever accept: this scenario is replayed against later versions
    # (scripts/compat), which may widen the page cap but not make a negative size valid.
    refused = read_heroes.sync_detailed(client=client, limit=-1)
    assert refused.status_code == 422
    assert isinstance(refused.parsed, HTTPValidationError)

    return created.id


async def run_async(client: Client, hero_id: int) -> None:
    hero = await read_hero.asyncio(hero_id, client=client)
    assert isinstance(hero, HeroPublic)

    deleted = await delete_hero.asyncio(hero_id, client=client)
    assert isinstance(deleted, Deleted)
    assert deleted.ok

    missing = await read_hero.asyncio_detailed(hero_id, client=client)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, ErrorMessage)
    assert missing.parsed.detail == "Hero not found"


def main(base_url: str) -> None:
    with Client(base_url=base_url) as client:
        hero_id = run_sync(client)
    with Client(base_url=base_url) as client:
        asyncio.run(run_async(client, hero_id))
    print("consumer: every operation behaved as documented")


if __name__ == "__main__":
    main(sys.argv[1])
