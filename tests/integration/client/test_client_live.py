"""The generated client against a live server: every operation, sync and async, errors typed."""

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
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
from heroes_client.types import Response
from sqlalchemy import Engine, create_engine

from tests.conftest import (
    BACKENDS,
    all_heroes,
    clear_heroes,
    make_key,
    scratch_postgres_database,
    start_server,
    stop_server,
)

# One server per database for the whole module (a server per test cost ~5 s each), emptied
# before each test; its tests run on one worker, so nothing else touches its databases.
pytestmark = pytest.mark.xdist_group("client-live")


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, str]]:
    """(database URL, server URL, API key): the key made before the server starts, so that it
    knows it from its first request."""
    folder = tmp_path_factory.mktemp("client-live")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{folder / 'heroes.db'}"
        else:
            url = stack.enter_context(scratch_postgres_database())
        key = make_key(url)
        process, base = start_server(url, log=folder / "server.log")
        stack.callback(stop_server, process)
        yield url, base, key


@pytest.fixture
def database_url(served: tuple[str, str, str]) -> str:
    """The module's database, with no heroes (its key stays)."""
    engine = create_engine(served[0])
    clear_heroes(engine)
    engine.dispose()
    return served[0]


@pytest.fixture
def live_server(served: tuple[str, str, str], database_url: str) -> str:
    return served[1]


@pytest.fixture
def api_key(served: tuple[str, str, str]) -> str:
    return served[2]


@pytest.fixture
def api(api_key: str, live_server: str) -> Iterator[AuthenticatedClient]:
    # Writes need the key (the contract says so, and the generated client's types enforce it).
    with AuthenticatedClient(
        base_url=live_server, token=api_key, raise_on_unexpected_status=True
    ) as client:
        yield client


def make(api: AuthenticatedClient, name: str = "Deadpond", age: int | None = None) -> HeroPublic:
    hero = create_hero.sync(
        client=api, body=HeroCreate(name=name, secret_name="Dive Wilson", age=age)
    )
    assert isinstance(hero, HeroPublic)
    return hero


def test_create_and_read_sync(api: AuthenticatedClient) -> None:
    hero = make(api, age=30)
    assert (hero.name, hero.age) == ("Deadpond", 30)
    assert read_hero.sync(hero.id, client=api) == hero
    assert read_heroes.sync(client=api) == [hero]


def test_every_operation_async(api: AuthenticatedClient) -> None:
    async def scenario() -> None:
        created = await create_hero.asyncio(
            client=api, body=HeroCreate(name="Rusty-Man", secret_name="Tommy Sharp", age=48)
        )
        assert isinstance(created, HeroPublic)
        assert await read_hero.asyncio(created.id, client=api) == created
        assert await read_heroes.asyncio(client=api, limit=1) == [created]
        updated = await update_hero.asyncio(created.id, client=api, body=HeroUpdate(name="Rusty"))
        assert isinstance(updated, HeroPublic)
        assert (updated.name, updated.age) == ("Rusty", 48)
        deleted = await delete_hero.asyncio(created.id, client=api)
        assert deleted == Deleted(ok=True)
        missing = await read_hero.asyncio_detailed(created.id, client=api)
        assert missing.status_code == 404

    asyncio.run(scenario())


def test_partial_update_leaves_other_fields_alone(api: AuthenticatedClient, engine: Engine) -> None:
    hero = make(api, age=30)
    updated = update_hero.sync(hero.id, client=api, body=HeroUpdate(name="Deadpuddle"))
    assert isinstance(updated, HeroPublic)
    assert (updated.name, updated.age) == ("Deadpuddle", 30)
    assert all_heroes(engine) == [(hero.id, "Deadpuddle", 30, "Dive Wilson")]


def test_explicit_none_clears_age(api: AuthenticatedClient) -> None:
    hero = make(api, age=30)
    cleared = update_hero.sync(hero.id, client=api, body=HeroUpdate(age=None))
    assert isinstance(cleared, HeroPublic)
    assert cleared.age is None


def test_unset_fields_are_not_sent() -> None:
    assert HeroUpdate(name="x").to_dict() == {"name": "x"}
    assert HeroUpdate(age=None).to_dict() == {"age": None}
    assert HeroUpdate().to_dict() == {}


@pytest.mark.parametrize("operation", ["read", "update", "delete"])
def test_404_is_a_typed_error(api: AuthenticatedClient, operation: str) -> None:
    response: Response[Any]
    match operation:
        case "read":
            response = read_hero.sync_detailed(999, client=api)
        case "update":
            response = update_hero.sync_detailed(999, client=api, body=HeroUpdate(age=1))
        case _:
            response = delete_hero.sync_detailed(999, client=api)
    assert response.status_code == 404
    assert response.parsed == ErrorMessage(detail="Hero not found")


def test_422_is_a_typed_error(api: AuthenticatedClient) -> None:
    response = read_heroes.sync_detailed(client=api, limit=101)
    assert response.status_code == 422
    assert isinstance(response.parsed, HTTPValidationError)
    errors = response.parsed.detail
    assert isinstance(errors, list)
    assert [error.loc for error in errors] == [["query", "limit"]]


def test_422_on_create_async(api: AuthenticatedClient) -> None:
    async def scenario() -> None:
        response = await create_hero.asyncio_detailed(
            client=api, body=HeroCreate(name="x" * 101, secret_name="y")
        )
        assert response.status_code == 422
        assert isinstance(response.parsed, HTTPValidationError)

    asyncio.run(scenario())


@pytest.mark.parametrize("served", ["sqlite"], indirect=True)
def test_authenticated_client_writes_a_plain_one_reads_and_a_wrong_key_is_a_typed_401(
    api_key: str, live_server: str
) -> None:
    with AuthenticatedClient(base_url=live_server, token=api_key) as authenticated:
        hero = create_hero.sync(
            client=authenticated, body=HeroCreate(name="Deadpond", secret_name="Dive Wilson")
        )
        assert isinstance(hero, HeroPublic)
        updated = update_hero.sync(hero.id, client=authenticated, body=HeroUpdate(age=3))
        assert isinstance(updated, HeroPublic)
    with Client(base_url=live_server) as anonymous:
        assert read_hero.sync(hero.id, client=anonymous) == updated  # reads stay public
    with AuthenticatedClient(base_url=live_server, token="heroes_wrong") as wrong:
        refused = delete_hero.sync_detailed(hero.id, client=wrong)
        assert refused.status_code == 401
        assert isinstance(refused.parsed, ErrorMessage)
        assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_every_matching_hero_page_by_page(api: AuthenticatedClient) -> None:
    made = [make(api, name="abc"[n % 3], age=n) for n in range(11)]
    expected = [
        hero for hero in made if hero.name == "b" and isinstance(hero.age, int) and hero.age >= 2
    ]
    assert list(read_heroes.sync_all(client=api, name="b", min_age=2, limit=2)) == expected
    assert list(read_heroes.sync_all(client=api, limit=3)) == made

    async def collect() -> list[HeroPublic]:
        return [hero async for hero in read_heroes.asyncio_all(client=api, max_age=4, limit=2)]

    assert asyncio.run(collect()) == made[:5]


def test_conditional_update_through_the_client(api: AuthenticatedClient) -> None:
    hero = make(api, age=1)
    read = read_hero.sync_detailed(hero.id, client=api)
    tag = read.headers["etag"]
    assert read_hero.sync_detailed(hero.id, client=api, if_none_match=tag).status_code == 304
    first = update_hero.sync_detailed(hero.id, client=api, body=HeroUpdate(age=2), if_match=tag)
    assert first.status_code == 200
    stale = update_hero.sync_detailed(hero.id, client=api, body=HeroUpdate(age=3), if_match=tag)
    assert stale.status_code == 412
    assert isinstance(stale.parsed, ErrorMessage)
    gone = delete_hero.sync_detailed(hero.id, client=api, if_match=first.headers["etag"])
    assert gone.status_code == 200
