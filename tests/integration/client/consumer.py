"""A consumer of the generated client, as a user would write it: every operation, sync and async.

Runs in a virtual environment holding only `heroes-client` (see test_client_install.py), must pass
`mypy --strict`, and is the example the README shows. `scripts/release` keeps a copy of it beside
each released contract: `scripts/compat` replays that copy, with that version's client, against
the code as it stands.

    python consumer.py http://127.0.0.1:8000 heroes_…    # the server's URL and an API key
"""

import asyncio
import sys

from heroes_client import AuthenticatedClient, Client
from heroes_client.api.heroes import create_hero, delete_hero, read_hero, read_heroes, update_hero
from heroes_client.models import (
    Deleted,
    ErrorMessage,
    HeroCreate,
    HeroPublic,
    HeroUpdate,
    HTTPValidationError,
)


def run_sync(client: AuthenticatedClient) -> int:
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

    # Every hero named Deadpond, page by page (the client follows the server's next links).
    assert created.id in [
        hero.id for hero in read_heroes.sync_all(client=client, name="Deadpond", limit=1)
    ]

    # No lost update: a write with the ETag read, then one with the same (now stale) ETag.
    tag = read_hero.sync_detailed(created.id, client=client).headers["etag"]
    fresh = update_hero.sync_detailed(
        created.id, client=client, body=HeroUpdate(age=31), if_match=tag
    )
    assert fresh.status_code == 200
    stale = update_hero.sync_detailed(
        created.id, client=client, body=HeroUpdate(age=32), if_match=tag
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, ErrorMessage)

    # A page size no version will ever accept: this scenario is replayed against later versions
    # (scripts/compat), which may widen the page cap but not make a negative size valid.
    refused = read_heroes.sync_detailed(client=client, limit=-1)
    assert refused.status_code == 422
    assert isinstance(refused.parsed, HTTPValidationError)

    return created.id


async def run_async(client: AuthenticatedClient, hero_id: int) -> None:
    hero = await read_hero.asyncio(hero_id, client=client)
    assert isinstance(hero, HeroPublic)

    deleted = await delete_hero.asyncio(hero_id, client=client)
    assert isinstance(deleted, Deleted)
    assert deleted.ok

    missing = await read_hero.asyncio_detailed(hero_id, client=client)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, ErrorMessage)
    assert missing.parsed.detail == "Hero not found"


def run_anonymous(base_url: str, hero_id: int) -> None:
    # Reads are public: a plain Client will do. A wrong key is a typed 401.
    with Client(base_url=base_url) as anonymous:
        assert read_heroes.sync(client=anonymous, limit=1) is not None
    with AuthenticatedClient(base_url=base_url, token="heroes_not-a-real-key") as wrong:
        refused = update_hero.sync_detailed(hero_id, client=wrong, body=HeroUpdate(age=1))
        assert refused.status_code == 401
        assert isinstance(refused.parsed, ErrorMessage)


def main(base_url: str, key: str) -> None:
    with AuthenticatedClient(base_url=base_url, token=key) as client:
        hero_id = run_sync(client)
    run_anonymous(base_url, hero_id)
    with AuthenticatedClient(base_url=base_url, token=key) as client:
        asyncio.run(run_async(client, hero_id))
    print("consumer: every operation behaved as documented")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
