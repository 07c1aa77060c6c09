"""SIGTERM: a request already in flight completes, new connections are refused, and the process
exits with status 0 (what systemd and Kubernetes read as a clean stop), with one worker or two.

The request is held in flight by the database itself: another connection holds SQLite's write
lock, so the service's INSERT waits on it until the test lets go.
"""

import signal
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import start_server

HERO = {"name": "Slowpoke", "secret_name": "Late Arrival"}


def connections_in_use(base: str) -> float:
    text = httpx.get(f"{base}/metrics").text
    for family in text_string_to_metric_families(text):
        if family.name == "heroes_db_connections_in_use":
            return sum(sample.value for sample in family.samples)
    raise AssertionError("no heroes_db_connections_in_use in /metrics")


def _accepts(base: str) -> bool:
    """Whether a new request is still served (refused or cut off: the server is stopping)."""
    try:
        httpx.get(f"{base}/health", timeout=2)
    except httpx.TransportError:
        return False
    return True


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(
    tmp_path: Path, workers: int
) -> None:
    database = tmp_path / "heroes.db"
    process, base = start_server(
        f"sqlite:///{database}", "--workers", str(workers), log=tmp_path / "server.log"
    )
    lock = sqlite3.connect(database, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")  # the write lock: the POST below waits for it
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(httpx.post, f"{base}/heroes/", json=HERO, timeout=30)
            deadline = time.monotonic() + 10
            while connections_in_use(base) < 1:  # the POST holds a connection, waiting
                assert time.monotonic() < deadline, "the POST never reached the database"
                time.sleep(0.05)

            process.send_signal(signal.SIGTERM)
            # Stopping shows as the listener closing: new connections are refused from then on.
            deadline = time.monotonic() + 10
            while _accepts(base):
                assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            assert process.poll() is None, "it stopped with a request in flight"
            assert not slow.done()

            lock.execute("COMMIT")
            response = slow.result(timeout=20)
        assert response.status_code == 200, response.text
        assert response.json()["name"] == HERO["name"]
        assert process.wait(timeout=20) == 0
    finally:
        lock.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    stored = sqlite3.connect(database).execute("SELECT name FROM hero").fetchall()
    assert stored == [(HERO["name"],)]
