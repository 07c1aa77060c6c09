"""Drills on the running topology (scripts/_topology.py): a replica killed under writers, and
PgBouncer restarted under load. The tests run them reduced; `scripts/stress topology` full.

Each returns what happened, counted; the caller decides what passes.
"""

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from _topology import Topology

HERO = {"name": "Drilled", "secret_name": "Under Load"}


@dataclass
class Report:
    acknowledged: list[int] = field(default_factory=list)  # ids of writes answered 200
    answers: Counter[str] = field(default_factory=Counter)  # "POST 200", "GET 503", "ReadTimeout"
    lost: list[int] = field(default_factory=list)  # acknowledged, and not there afterwards
    slowest: float = 0.0  # seconds, the slowest request

    def summary(self) -> str:
        requests = sum(self.answers.values())
        failed = {k: v for k, v in sorted(self.answers.items()) if not k.endswith(" 200")}
        return (
            f"requests {requests:,}, acknowledged writes {len(self.acknowledged):,}, "
            f"failed {failed or 0}, lost {len(self.lost)}, slowest {self.slowest:.2f} s"
        )


def make_key(topology: Topology, name: str = "drill") -> str:
    """A key made the operator's way, once every replica knows it (they re-read every 2 s)."""
    made = subprocess.run(
        [sys.executable, "-m", "api", "keys", "create", f"{name}-{time.time_ns()}"],
        env=topology.replica_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    key = made.stdout.strip().splitlines()[-1]
    deadline = time.monotonic() + 10
    for port in topology.replica_ports:
        url = f"http://127.0.0.1:{port}/heroes/"
        while httpx.get(url, headers={"Authorization": f"Bearer {key}"}).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("a replica never learnt the new key")
            time.sleep(0.1)
    return key


def _load(
    topology: Topology, key: str, writers: int, seconds: float, event: Callable[[float], None]
) -> Report:
    """`writers` POSTing and one reader GETting through nginx for `seconds`; `event` runs
    a third of the way in."""
    report = Report()
    lock = threading.Lock()
    stop = threading.Event()

    def call(client: httpx.Client, method: str, path: str) -> httpx.Response | None:
        started = time.monotonic()
        try:
            if method == "POST":
                response = client.post(path, json=HERO)
            else:
                response = client.get(path, params={"limit": 5})
        except httpx.TransportError as error:
            with lock:
                report.answers[f"{method} {type(error).__name__}"] += 1
            return None
        finally:
            with lock:
                report.slowest = max(report.slowest, time.monotonic() - started)
        with lock:
            report.answers[f"{method} {response.status_code}"] += 1
        return response

    def writer() -> None:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=topology.url, headers=headers, timeout=30) as client:
            while not stop.is_set():
                response = call(client, "POST", "/heroes/")
                if response is not None and response.status_code == 200:
                    with lock:
                        report.acknowledged.append(response.json()["id"])

    def reader() -> None:
        with httpx.Client(base_url=topology.url, timeout=30) as client:
            while not stop.is_set():
                call(client, "GET", "/heroes/")

    with ThreadPoolExecutor(writers + 1) as pool:
        running = [pool.submit(writer) for _ in range(writers)] + [pool.submit(reader)]
        time.sleep(seconds / 3)
        event(seconds / 3)
        time.sleep(max(0.0, seconds / 3 - 0.5))
        stop.set()
        for future in running:
            future.result()

    # Every acknowledged write must be there, read back through nginx.
    with httpx.Client(base_url=topology.url, timeout=30) as client:
        report.lost = [
            hero for hero in report.acknowledged if client.get(f"/heroes/{hero}").status_code != 200
        ]
    return report


def kill_a_replica(topology: Topology, key: str, writers: int, seconds: float) -> Report:
    """kill -9 replica 1 a third of the way in; start it again a third later."""

    def kill_then_restart(pause: float) -> None:
        topology.kill_replica(0)
        time.sleep(pause)
        topology.start_replica(0)

    return _load(topology, key, writers, seconds, kill_then_restart)


def restart_pgbouncer(topology: Topology, key: str, writers: int, seconds: float) -> Report:
    """Stop PgBouncer a third of the way in, and start it again at once."""
    return _load(topology, key, writers, seconds, lambda _pause: topology.restart_pgbouncer())


# What each drill may answer, and why (checked by the tests and scripts/stress topology):
# - a replica killed: a POST in flight on it gets nginx's 502; nginx must not resend it to the
#   other replica, as the killed one may have written it. GETs (idempotent) nginx resends.
# A POST whose answer the replica had begun to send when it died reaches the caller cut off
# (nginx had started relaying it, so it can only close the connection): RemoteProtocolError.
KILL_EXPLAINED = {"POST 200", "GET 200", "POST 502", "POST RemoteProtocolError"}
# - PgBouncer restarted: requests that needed the database then get the documented 503
#   (Retry-After: 1), at once, and the replicas reconnect by themselves.
PGBOUNCER_EXPLAINED = {"POST 200", "GET 200", "POST 503", "GET 503"}
