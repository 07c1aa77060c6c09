"""Rate limits per caller: reads and writes counted apart, 429 with the headers, nothing done.

The exact counts below use windows of a day: a sliding window lets one more call through when its
window turns mid-burst (pinned in the last test), and a day turns once a day, not once a minute.
"""

import asyncio
import time
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.config import Settings
from api.main import create_app
from api.ratelimit import RateLimiter
from tests.conftest import LOOPBACK, all_heroes, bearer, make_key

HERO = {"name": "Deadpond", "secret_name": "Dive Wilson"}


def _client(database_url: str, reads: str | None = None, writes: str | None = None) -> TestClient:
    settings = Settings(DATABASE_URL=database_url, rate_limit_reads=reads, rate_limit_writes=writes)
    return TestClient(create_app(settings), client=LOOPBACK)


def test_writes_over_the_limit_get_429_and_change_nothing(
    database_url: str, engine: Engine
) -> None:
    with _client(database_url, writes="3/day") as client:
        accepted = [client.post("/heroes/", json=HERO) for _ in range(3)]
        assert [r.status_code for r in accepted] == [200, 200, 200]
        before = all_heroes(engine)

        refused = client.post("/heroes/", json=HERO)
        assert refused.status_code == 429
        assert refused.json() == {"detail": "Rate limit exceeded, retry later"}
        until_midnight = 86_400 - time.time() % 86_400  # when today's window ends (UTC)
        assert abs(int(refused.headers["retry-after"]) - until_midnight) <= 2
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
    with _client(database_url, reads="2/day") as client:
        assert [client.get("/heroes/").status_code for _ in range(3)] == [200, 200, 429]
        assert client.get("/heroes/1").status_code == 429
        assert client.get("/health").status_code == 200  # health checks are never limited
        assert client.post("/heroes/", json=HERO).status_code == 200


def test_each_key_has_its_own_budget(database_url: str) -> None:
    first, second = make_key(database_url), make_key(database_url)
    with _client(database_url, writes="2/day") as client:
        statuses = [
            client.post("/heroes/", json=HERO, headers=bearer(first)).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        assert client.post("/heroes/", json=HERO, headers=bearer(second)).status_code == 200


def test_anonymous_callers_are_counted_by_address(database_url: str) -> None:
    app = create_app(Settings(DATABASE_URL=database_url, rate_limit_reads="1/day"))
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


def test_a_turning_window_lets_one_more_through_and_no_more() -> None:
    # The sliding window weighs the last window's count by how much of it still overlaps: just
    # after the minute turns, its 3 weigh 2.99, rounded down to 2. One more, never a double burst.
    limiter = RateLimiter(Settings(rate_limit_writes="3/minute"))
    turn = (time.time() // 60 + 1) * 60

    def write_at(moment: float) -> int:
        with mock.patch("time.time", return_value=moment):
            try:
                asyncio.run(limiter.write("caller"))
            except StarletteHTTPException as refusal:
                return refusal.status_code
        return 200

    before = [write_at(turn - 0.3 + n * 0.1) for n in range(3)]
    after = [write_at(turn + 0.1 + n * 0.1) for n in range(4)]
    assert before == [200, 200, 200]
    assert after == [200, 429, 429, 429]
