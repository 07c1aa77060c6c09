"""SIGTERM: a request already in flight completes, new connections are refused, and the process
exits with status 0 (what systemd and Kubernetes read as a clean stop), with one worker or two.

The request is held in flight by the database itself: another connection holds SQLite's write
lock, so the service's INSERT waits on it until the test lets go.
"""

import contextlib
import os
import signal
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from _support import free_port, heroes_api, start_process
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


def _group(leader: int) -> set[int]:
    """The processes of `leader`'s process group still alive (zombies, already dead, aside)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, group = fields[0], int(fields[2])
        if group == leader and state != "Z":
            found.add(int(entry.name))
    return found


def _until_gone(leader: int, within: float) -> float:
    """Seconds until no process of the group is left; fails past `within`."""
    start = time.monotonic()
    while _group(leader):
        assert time.monotonic() - start < within, f"still running: {_group(leader)}"
        time.sleep(0.05)
    return time.monotonic() - start


def test_workers_die_with_their_parent_even_when_it_is_killed(tmp_path: Path) -> None:
    """SIGKILL of `heroes-api --workers 2` (nothing of it can run): its workers stop too, and
    nothing answers on its port any more."""
    process, base = start_server(
        f"sqlite:///{tmp_path / 'heroes.db'}", "--workers", "2", log=tmp_path / "server.log"
    )
    try:
        assert len(_group(process.pid)) >= 3  # the parent and its two workers
        os.kill(process.pid, signal.SIGKILL)  # the parent alone, not its group
        process.wait()
        _until_gone(process.pid, within=60)  # the event is the point, not its time
        assert not _accepts(base)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


GRACEFUL = 1.0
_HEALTH_CHECK_PERIOD = 0.5  # uvicorn's supervisor loop


@pytest.mark.parametrize("ready", [True, False], ids=["serving", "starting"])
def test_sigterm_stops_every_worker_within_the_graceful_timeout(
    tmp_path: Path, ready: bool
) -> None:
    """Eight workers, SIGTERM: every process of the server is gone within the graceful timeout
    and 2 s (the bound the supervisor keeps: a worker still running then is killed), also when
    the signal comes while the workers are still starting (importing the app: uvicorn's own
    supervisor heard it only once the worker it was waiting on had started)."""
    workers = 8
    args = ("--workers", str(workers), "--graceful-timeout", str(GRACEFUL))
    url = f"sqlite:///{tmp_path / 'heroes.db'}"
    if ready:
        process, _ = start_server(url, *args, log=tmp_path / "server.log")
    else:
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url}
        process = start_process(heroes_api(port, *args), env=env, log=tmp_path / "server.log")
        # Signalled once its workers exist, before they can serve: the parent, multiprocessing's
        # resource tracker and the workers.
        deadline = time.monotonic() + 60
        while len(_group(process.pid)) < 2 + workers:
            assert process.poll() is None, process.log_text()
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.01)
        # Not at once: a moment later, when the supervisor's health check (every 0.5 s) is
        # waiting on a worker still importing the app. That wait used to outlast the stop (the
        # worker, stopped, never answered; the supervisor's own end of the pipe kept it open).
        time.sleep(_HEALTH_CHECK_PERIOD * 2)
    try:
        process.send_signal(signal.SIGTERM)
        took = _until_gone(process.pid, within=GRACEFUL + 2)
        print(f"stopped in {took:.2f} s")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
