"""Rate limits per caller: reads and writes counted apart, 429 with the headers, nothing done."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.config import Settings
from api.main import create_app
from tests.conftest import LOOPBACK, all_heroes, bearer, make_key

HERO = {"name": "Deadpond", "secret_name": "Dive Wilson"}


def _client(database_url: str, reads: str | None = None, writes: str | None = None) -> TestClient:
    settings = Settings(DATABASE_URL=database_url, rate_limit_reads=reads, rate_limit_writes=writes)
    return TestClient(create_app(settings), client=LOOPBACK)


def test_writes_over_the_limit_get_429_and_change_nothing(
    database_url: str, engine: Engine
) -> None:
    with _client(database_url, writes="3/minute") as client:
        accepted = [client.post("/heroes/", json=HERO) for _ in range(3)]
        assert [r.status_code for r in accepted] == [200, 200, 200]
        before = all_heroes(engine)

        refused = client.post("/heroes/", json=HERO)
        assert refused.status_code == 429
        assert refused.json() == {"detail": "Rate limit exceeded, retry later"}
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["ratelimit-limit"] == "3"
        assert refused.headers["ratelimit-remaining"] == "0"
        assert refused.headers["ratelimit-reset"] == refused.headers["retry-after"]
        hero_id = accepted[0].json()["id"]
        assert client.patch(f"/heroes/{hero_id}", json={"age": 1}).status_code == 429
        assert client.delete(f"/heroes/{hero_id}").status_code == 429
        assert all_heroes(engine) == before

        # Reads have a budget of their own (here: none).
        assert client.get("/heroes/").status_code == 200


def test_reads_over_the_limit_get_429(database_url: str) -> None:
    with _client(database_url, reads="2/minute") as client:
        assert [client.get("/heroes/").status_code for _ in range(3)] == [200, 200, 429]
        assert client.get("/heroes/1").status_code == 429
        assert client.get("/health").status_code == 200  # health checks are never limited
        assert client.post("/heroes/", json=HERO).status_code == 200


def test_each_key_has_its_own_budget(database_url: str) -> None:
    first, second = make_key(database_url), make_key(database_url)
    with _client(database_url, writes="2/minute") as client:
        statuses = [
            client.post("/heroes/", json=HERO, headers=bearer(first)).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        assert client.post("/heroes/", json=HERO, headers=bearer(second)).status_code == 200


def test_anonymous_callers_are_counted_by_address(database_url: str) -> None:
    app = create_app(Settings(DATABASE_URL=database_url, rate_limit_reads="1/minute"))
    with (
        TestClient(app, client=("127.0.0.1", 1)) as one,
        TestClient(app, client=("127.0.0.2", 1)) as two,
    ):
        assert one.get("/heroes/").status_code == 200
        assert one.get("/heroes/").status_code == 429
        assert two.get("/heroes/").status_code == 200


def test_successes_carry_no_rate_limit_headers(database_url: str) -> None:
    # Only the 429 carries them (on successes they cost a second look-up per request).
    with _client(database_url, reads="5/minute") as client:
        response = client.get("/heroes/")
        assert response.status_code == 200
        assert not any(name.startswith("ratelimit-") for name in response.headers)


def test_a_rate_limit_setting_must_parse() -> None:
    with pytest.raises(ValueError, match="is not a rate limit"):
        Settings(rate_limit_reads="lots")
