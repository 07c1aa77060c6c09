"""The generated client retries, safely, by default: through a proxy that loses one answer in
three after the service has done the work, every create returns its hero and is stored once;
against a tight write limit, every create gets through; a write without a key is never retried
once it may have been sent."""

import asyncio
import email.utils
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from heroes_client import AuthenticatedClient, Client
from heroes_client.api.heroes import create_hero, read_hero
from heroes_client.models import HeroCreate, HeroPublic
from sqlalchemy import Engine, text

from tests.conftest import bearer, start_server, stop_server
from tests.support.lossy import HttpAnswerLoser, armed

CREATES = 15


@pytest.fixture
def lossy(live_server: str) -> Iterator[HttpAnswerLoser]:
    """The live server behind a proxy that loses every third answer."""
    port = int(live_server.rsplit(":", 1)[1])
    with HttpAnswerLoser(port, every=3) as proxy, armed(proxy):
        yield proxy


def _stored(engine: Engine) -> Counter[str]:
    with engine.connect() as connection:
        return Counter(name for (name,) in connection.execute(text("SELECT name FROM hero")))


def test_every_create_through_lost_answers_returns_its_hero_stored_once(
    api_key: str, lossy: HttpAnswerLoser, engine: Engine
) -> None:
    base_url = f"http://127.0.0.1:{lossy.port}"
    with AuthenticatedClient(base_url=base_url, token=api_key) as client:
        made = [
            create_hero.sync(client=client, body=HeroCreate(name=f"sync-{n}", secret_name="s"))
            for n in range(CREATES)
        ]

    async def create_all() -> list[HeroPublic | Any]:
        async with AuthenticatedClient(base_url=base_url, token=api_key) as client:
            return [
                await create_hero.asyncio(
                    client=client, body=HeroCreate(name=f"async-{n}", secret_name="s")
                )
                for n in range(CREATES)
            ]

    made += asyncio.run(create_all())
    assert lossy.lost >= 2 * CREATES // 3  # a third of the answers, lost after the work
    heroes = [hero for hero in made if isinstance(hero, HeroPublic)]
    names = [f"{kind}-{n}" for kind in ("sync", "async") for n in range(CREATES)]
    assert [hero.name for hero in heroes] == names
    assert _stored(engine) == Counter(names)  # each exactly once


def test_a_write_without_a_key_is_not_retried_once_sent(
    api_key: str, live_server: str, engine: Engine
) -> None:
    port = int(live_server.rsplit(":", 1)[1])
    with HttpAnswerLoser(port, every=1) as proxy, armed(proxy):
        base_url = f"http://127.0.0.1:{proxy.port}"
        keyless = AuthenticatedClient(base_url=base_url, token=api_key, idempotency_keys=False)
        with keyless as client, pytest.raises(httpx.RemoteProtocolError):
            create_hero.sync(client=client, body=HeroCreate(name="keyless", secret_name="s"))
    assert proxy.seen == 1  # sent once: its answer was lost, and it may have been done
    assert _stored(engine) == Counter({"keyless": 1})


def test_max_retries_0_turns_retries_off(api_key: str, lossy: HttpAnswerLoser) -> None:
    base_url = f"http://127.0.0.1:{lossy.port}"
    failures = 0
    with AuthenticatedClient(base_url=base_url, token=api_key, max_retries=0) as client:
        for n in range(6):
            try:
                create_hero.sync(client=client, body=HeroCreate(name=f"once-{n}", secret_name="s"))
            except httpx.RemoteProtocolError:
                failures += 1
    assert failures == 2  # every third answer lost, none retried


def test_a_callers_own_key_is_sent_and_replayed(api_key: str, live_server: str) -> None:
    with AuthenticatedClient(base_url=live_server, token=api_key) as client:
        body = HeroCreate(name="Mine", secret_name="s")
        first = create_hero.sync_detailed(client=client, body=body, idempotency_key="order-17")
        again = create_hero.sync_detailed(client=client, body=body, idempotency_key="order-17")
    assert first.status_code == again.status_code == 200
    assert again.parsed == first.parsed
    assert again.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_create_gets_through_a_write_limit_of_3_per_second(
    database_url: str, api_key: str, tmp_path: Path, engine: Engine
) -> None:
    env = {"HEROES_RATE_LIMIT_WRITES": "3/second"}
    server, base_url = start_server(database_url, env=env, log=tmp_path / "server.log")
    try:
        with AuthenticatedClient(base_url=base_url, token=api_key) as client:
            made = [
                create_hero.sync(client=client, body=HeroCreate(name=f"paced-{n}", secret_name="s"))
                for n in range(16)
            ]
            limited = httpx.post(
                f"{base_url}/heroes/",
                json={"name": "x", "secret_name": "s"},
                headers=bearer(api_key),
            )
    finally:
        stop_server(server)
    assert all(isinstance(hero, HeroPublic) for hero in made)
    assert len(_stored(engine)) == 16 + (limited.status_code == 200)


# The policy itself, against a scripted server (httpx's MockTransport) and a recording sleep.


def _scripted(
    answers: list[httpx.Response | Exception],
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler), seen


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between retries, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr("httpx_retries.retry.time.sleep", waited.append)
    return waited


def _client(transport: httpx.MockTransport, **options: Any) -> Client:
    return Client(base_url="http://heroes.test", httpx_args={"transport": transport}, **options)


HERO_JSON = {"id": 1, "name": "A", "age": None}


def test_retry_after_in_seconds_and_as_a_date_is_honoured(sleeps: list[float]) -> None:
    in_two_seconds = email.utils.formatdate(time.time() + 2, usegmt=True)
    transport, seen = _scripted(
        [
            httpx.Response(503, json={"detail": "x"}, headers={"Retry-After": "1"}),
            httpx.Response(429, json={"detail": "x"}, headers={"Retry-After": in_two_seconds}),
            httpx.Response(200, json=HERO_JSON),
        ]
    )
    with _client(transport) as client:
        assert isinstance(read_hero.sync(1, client=client), HeroPublic)
    assert len(seen) == 3
    assert sleeps[0] == 1
    assert 0 < sleeps[1] <= 2


def test_backoff_is_exponential_with_full_jitter_and_capped(sleeps: list[float]) -> None:
    transport, seen = _scripted([httpx.Response(502, text="bad gateway")] * 5)
    with _client(transport, max_retries=4, retry_initial_delay=0.5, retry_max_delay=1.5) as client:
        assert read_hero.sync_detailed(1, client=client).status_code == 502
    assert len(seen) == 5
    caps = [0.5, 1.0, 1.5, 1.5]  # 0.5 * 2 ** n, at most 1.5
    assert all(0 <= wait <= cap for wait, cap in zip(sleeps, caps, strict=True)), sleeps


def test_defaults_are_two_retries_within_half_a_second_then_a_second(sleeps: list[float]) -> None:
    transport, seen = _scripted([httpx.ReadTimeout("slow")] * 3)
    with _client(transport) as client, pytest.raises(httpx.ReadTimeout):
        read_hero.sync(1, client=client)
    assert len(seen) == 3
    assert 0 <= sleeps[0] <= 0.5
    assert 0 <= sleeps[1] <= 1.0


def test_a_long_retry_after_is_capped(sleeps: list[float]) -> None:
    transport, _seen = _scripted(
        [
            httpx.Response(503, json={"detail": "x"}, headers={"Retry-After": "3600"}),
            httpx.Response(200, json=HERO_JSON),
        ]
    )
    with _client(transport) as client:
        read_hero.sync(1, client=client)
    assert sleeps == [8.0]


@pytest.mark.parametrize(
    ("method", "call"),
    [
        ("POST", lambda c: c.post("/heroes/", json={})),
        ("PATCH", lambda c: c.patch("/heroes/1", json={})),
        ("DELETE", lambda c: c.delete("/heroes/1")),
    ],
)
def test_every_write_carries_one_key_across_its_retries(
    sleeps: list[float], method: str, call: Callable[[httpx.Client], httpx.Response]
) -> None:
    transport, seen = _scripted([httpx.RemoteProtocolError("lost"), httpx.Response(200, json={})])
    with _client(transport) as client:
        assert call(client.get_httpx_client()).status_code == 200
    keys = [request.headers["idempotency-key"] for request in seen]
    assert [request.method for request in seen] == [method, method]
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert len(keys[0]) == 36  # a UUID4


def test_reads_carry_no_key(sleeps: list[float]) -> None:
    transport, seen = _scripted([httpx.Response(200, json=HERO_JSON)])
    with _client(transport) as client:
        read_hero.sync(1, client=client)
    assert "idempotency-key" not in seen[0].headers


def test_a_keyless_write_is_retried_only_when_unsent_or_refused(sleeps: list[float]) -> None:
    transport, seen = _scripted(
        [
            httpx.ConnectError("refused"),  # never reached the server: safe
            httpx.Response(429, json={"detail": "x"}, headers={"Retry-After": "1"}),  # not done
            httpx.Response(503, json={"detail": "x"}),  # may have been done: not retried
        ]
    )
    with _client(transport, idempotency_keys=False, max_retries=5) as client:
        response = client.get_httpx_client().post("/heroes/", json={})
    assert response.status_code == 503
    assert len(seen) == 3
    assert "idempotency-key" not in seen[0].headers


def test_async_requests_retry_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr("httpx_retries.retry.asyncio.sleep", record)
    transport, seen = _scripted(
        [httpx.Response(503, json={"detail": "x"}), httpx.Response(200, json=HERO_JSON)]
    )

    async def scenario() -> Any:
        async with _client(transport) as client:
            return await read_hero.asyncio(1, client=client)

    assert isinstance(asyncio.run(scenario()), HeroPublic)
    assert len(seen) == 2
    assert 0 <= waited[0] <= 0.5
