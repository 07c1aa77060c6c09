"""State that replicas share: a revoked key stops working on every replica within seconds, no
update is lost between replicas writing with If-Match, and rate limits kept in Redis hold across
replicas (and fail open when Redis goes away).

The Redis tests need a server: HEROES_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0), which
.ci/run sets; without it they skip with one line saying so.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from _support import free_port

from tests.conftest import bearer, make_key, missing, start_server, stop_server
from tests.support.tcp_proxy import TcpProxy

REDIS_ENV = "HEROES_TEST_REDIS_URL"
HERO = {"name": "Deadpond", "secret_name": "Dive Wilson"}
REFRESH = {"HEROES_KEY_REFRESH_SECONDS": "0.5"}


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        missing(f"Redis tests skipped: {REDIS_ENV} is not set (see README, Tests)")
    return url


@contextmanager
def _replicas(
    database_url: str, count: int, env: dict[str, str], logs: Path
) -> Iterator[list[str]]:
    # Started side by side (each takes seconds to import and migrate), as a deployment would.
    with ThreadPoolExecutor(count) as pool:
        starting = [
            pool.submit(start_server, database_url, env=env, log=logs / f"replica-{n}.log")
            for n in range(count)
        ]
    started = [future.result() for future in starting if future.exception() is None]
    failed = [error for future in starting if (error := future.exception()) is not None]
    if failed:
        for process, _ in started:
            stop_server(process)
        raise failed[0]
    try:
        yield [url for _, url in started]
    finally:
        for process, _ in started:
            stop_server(process)


def test_a_revoked_key_stops_working_on_every_replica(database_url: str, tmp_path: Path) -> None:
    key = make_key(database_url, "deploy")
    with _replicas(database_url, 2, REFRESH, tmp_path) as (first, second):
        assert httpx.post(f"{first}/heroes/", json=HERO, headers=bearer(key)).status_code == 200
        assert httpx.post(f"{second}/heroes/", json=HERO, headers=bearer(key)).status_code == 200

        env = {**os.environ, "DATABASE_URL": database_url}
        revoke = [sys.executable, "-m", "api", "keys", "revoke", "deploy"]
        subprocess.run(revoke, env=env, check=True, capture_output=True, timeout=60)
        revoked_at = time.monotonic()
        for url in (second, first):
            while httpx.post(f"{url}/heroes/", json=HERO, headers=bearer(key)).status_code != 401:
                assert time.monotonic() - revoked_at < 5, f"{url} still takes the revoked key"
                time.sleep(0.1)
    logs = "".join(p.read_text() for p in tmp_path.glob("replica-*.log"))
    assert "POST /heroes/" in logs  # the access log was captured...
    assert key not in logs  # ...and holds no key


def test_rate_limits_in_redis_hold_across_replicas(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    key = make_key(database_url)  # a new caller: no count left in Redis by another run
    # A day's window: a minute's could turn during the 30 writes and let an 11th through.
    env = {**REFRESH, "HEROES_REDIS_URL": redis_url, "HEROES_RATE_LIMIT_WRITES": "10/day"}
    with _replicas(database_url, 2, env, tmp_path) as replicas:
        statuses = [
            httpx.post(f"{replicas[n % 2]}/heroes/", json=HERO, headers=bearer(key)).status_code
            for n in range(30)
        ]
    assert statuses.count(200) == 10, statuses
    assert statuses.count(429) == 20


def test_rate_limits_fail_open_when_redis_goes_away(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    from sqlalchemy.engine import make_url

    target = make_url(redis_url.replace("redis://", "postgresql://", 1))
    proxy = TcpProxy((target.host or "127.0.0.1", target.port or 6379), free_port())
    proxy.start()
    proxied = f"redis://127.0.0.1:{proxy.port}/{target.database or 0}"
    key = make_key(database_url)
    env = {"HEROES_REDIS_URL": proxied, "HEROES_RATE_LIMIT_READS": "2/day"}
    log = tmp_path / "replica-0.log"
    try:
        with _replicas(database_url, 1, env, tmp_path) as (url,):

            def read() -> int:
                return httpx.get(f"{url}/heroes/", headers=bearer(key)).status_code

            assert [read(), read(), read()] == [200, 200, 429]
            proxy.stop()
            assert [read() for _ in range(5)] == [200] * 5  # served, unlimited
            assert log.read_text().count("counter store unreachable") == 1
    finally:
        proxy.stop()


def test_no_lost_updates_across_replicas_with_if_match(database_url: str, tmp_path: Path) -> None:
    """16 read-modify-write loops on two replicas, each incrementing one hero's age with
    If-Match and retrying on 412: the final age is the number of acknowledged increments."""
    key = make_key(database_url)
    increments_per_loop, loops = 5, 16
    with _replicas(database_url, 2, REFRESH, tmp_path) as replicas:
        created = httpx.post(f"{replicas[0]}/heroes/", json={**HERO, "age": 0}, headers=bearer(key))
        hero_id = created.json()["id"]

        def loop(n: int) -> tuple[int, int]:
            base, acknowledged, conflicts = replicas[n % 2], 0, 0
            deadline = time.monotonic() + 60
            with httpx.Client(base_url=base, headers=bearer(key), timeout=30) as client:
                while acknowledged < increments_per_loop:
                    assert time.monotonic() < deadline, "the loops did not finish in 60 s"
                    read = client.get(f"/heroes/{hero_id}")
                    condition = {"If-Match": read.headers["etag"]}
                    age = read.json()["age"] + 1
                    write = client.patch(f"/heroes/{hero_id}", json={"age": age}, headers=condition)
                    if write.status_code == 412:
                        conflicts += 1
                        continue
                    assert write.status_code == 200, write.text
                    acknowledged += 1
            return acknowledged, conflicts

        with ThreadPoolExecutor(loops) as pool:
            outcomes = list(pool.map(loop, range(loops)))
        final = httpx.get(f"{replicas[1]}/heroes/{hero_id}").json()["age"]
    acknowledged = sum(done for done, _ in outcomes)
    assert acknowledged == increments_per_loop * loops
    assert final == acknowledged
    assert sum(conflicts for _, conflicts in outcomes) > 0  # the loops did collide


def test_an_idempotency_key_is_honoured_across_replicas_and_restarts(
    database_url: str, tmp_path: Path
) -> None:
    key = make_key(database_url, "retrier")
    keyed = {**bearer(key), "Idempotency-Key": "across-replicas"}
    with _replicas(database_url, 2, {}, tmp_path) as (first, second):
        created = httpx.post(f"{first}/heroes/", json=HERO, headers=keyed)
        replayed = httpx.post(f"{second}/heroes/", json=HERO, headers=keyed)
        reused = httpx.post(f"{second}/heroes/", json={**HERO, "age": 1}, headers=keyed)
    assert created.status_code == replayed.status_code == 200
    assert replayed.json() == created.json()
    assert replayed.headers["etag"] == created.headers["etag"]
    assert replayed.headers["idempotent-replayed"] == "true"
    assert reused.status_code == 422
    # A replica started afresh knows it too: the record is in the database.
    (tmp_path / "restarted").mkdir()
    with _replicas(database_url, 1, {}, tmp_path / "restarted") as (restarted,):
        again = httpx.post(f"{restarted}/heroes/", json=HERO, headers=keyed)
        assert again.json() == created.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert len(httpx.get(f"{restarted}/heroes/").json()) == 1
