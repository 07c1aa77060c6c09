"""Drills on the running topology (scripts/_topology.py): a replica killed under writers, and
PgBouncer restarted under load. The tests run them reduced; `scripts/stress topology` full.

The writers and the reader are the generated client (heroes_client), as a user runs it: it
retries what failed with backoff, and sends every create with an Idempotency-Key, so that a
create whose answer was lost can be sent again and stored once. Under it, a counting transport
records every attempt's answer (what nginx and the replicas said), which the client absorbed.

Each drill returns what happened, counted; the caller decides what passes.
"""

import functools
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Protocol

import _support
import httpx
from _topology import Topology
from heroes_client import AuthenticatedClient, Client
from heroes_client.api.heroes import create_hero, read_heroes
from heroes_client.models import HeroCreate, HeroPublic
from heroes_client.types import Response

SECRET = "Under Load"
# The client's defaults (2 retries, 0.5 s then up to 1 s, Retry-After honoured up to 8 s), but
# for the retry count: a budget longer than the drill's outage, as the client's README advises
# for a deployment that restarts parts under load.
DRILL_RETRIES = 5


@dataclass
class Report:
    acknowledged: list[str] = field(default_factory=list)  # names of the creates answered 200
    failed: Counter[str] = field(default_factory=Counter)  # what the callers saw fail
    attempts: Counter[str] = field(default_factory=Counter)  # each try: "POST 502", "GET 200"
    # Each service error absorbed, by its detail: "POST 503 Database unavailable, …"
    details: Counter[str] = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)  # acknowledged, and not stored afterwards
    duplicated: list[str] = field(default_factory=list)  # stored more than once
    slowest: float = 0.0  # seconds, the slowest call (its retries included)
    succeeded: int = 0  # calls answered 200
    latencies: list[float] = field(default_factory=list)  # seconds, each call, retries included
    # Each POST attempt answered 200: when it was sent, and when answered (time.monotonic()).
    writes: list[tuple[float, float]] = field(default_factory=list)

    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[int(len(ordered) * 0.99)] if ordered else 0.0

    def writes_back(self, began: float, done: float) -> float:
        """Seconds from `began` (an outage's start) until the first write sent after `done`
        (the outage's cause complete: say, the primary dead) was answered 200."""
        return min(answered for sent, answered in self.writes if sent > done) - began

    def summary(self) -> str:
        tries = sum(self.attempts.values())
        absorbed = {k: v for k, v in sorted(self.attempts.items()) if not k.endswith(" 200")}
        return (
            f"calls {sum(self.failed.values()) + self.succeeded:,} ({tries:,} attempts), "
            f"acknowledged creates {len(self.acknowledged):,}, client-visible failures "
            f"{dict(self.failed) or 0}, retried answers {absorbed or 0}, lost {len(self.lost)}, "
            f"duplicated {len(self.duplicated)}, slowest call {self.slowest:.2f} s"
            + (
                f"; the service's errors {dict(sorted(self.details.items()))}"
                if self.details
                else ""
            )
        )


class _Counting(httpx.BaseTransport):
    """Every attempt's outcome, before the client's retries see it."""

    def __init__(self, report: Report, lock: threading.Lock) -> None:
        self._inner = httpx.HTTPTransport()
        self._report, self._lock = report, lock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.monotonic()
        try:
            response = self._inner.handle_request(request)
        except httpx.TransportError as error:
            self._count(f"{request.method} {type(error).__name__}")
            raise
        self._count(f"{request.method} {response.status_code}")
        if request.method == "POST" and response.status_code == 200:
            with self._lock:
                self._report.writes.append((sent, time.monotonic()))
        elif response.status_code in (409, 503):  # the service's own, with a detail to count
            detail = _detail(response)
            with self._lock:
                self._report.details[f"{request.method} {response.status_code} {detail}"] += 1
        return response

    def _count(self, outcome: str) -> None:
        with self._lock:
            self._report.attempts[outcome] += 1

    def close(self) -> None:
        self._inner.close()


def _detail(response: httpx.Response) -> str:
    """The error's detail (read here: the body is small, and httpx keeps it for the caller)."""
    try:
        detail = response.read() and response.json().get("detail")
    except (httpx.HTTPError, ValueError, AttributeError):
        return "(no JSON detail)"
    return str(detail) if detail else "(no detail)"


def make_key(topology: Topology, name: str = "drill") -> str:
    """A key made the operator's way, once every replica knows it (they re-read every 2 s)."""
    key = _support.make_key(topology.replica_env(), name)
    deadline = time.monotonic() + 10
    for port in topology.replica_ports:
        url = f"http://127.0.0.1:{port}/heroes/"
        while httpx.get(url, headers={"Authorization": f"Bearer {key}"}).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("a replica never learnt the new key")
            time.sleep(0.1)
    return key


class Served(Protocol):
    """Where a drill's load goes: the topology's nginx, or one server."""

    @property
    def url(self) -> str: ...


def _load(
    topology: Served,
    key: str,
    writers: int,
    seconds: float,
    event: Callable[[float], None],
    retries: int = DRILL_RETRIES,
    max_delay: float = 8.0,
) -> Report:
    """`writers` creating heroes and one reader paging through nginx, for `seconds`, with the
    generated client (`retries` and `max_delay` its retry budget); `event` runs a third of the
    way in, and the load goes on a third after it returns."""
    report = Report()
    lock = threading.Lock()
    stop = threading.Event()
    # This drill's heroes, apart from an earlier drill's on the same database.
    prefix = f"drill-{uuid.uuid4().hex[:8]}-"
    names = count()

    def call(method: str, operation: Callable[[], Response[Any]]) -> None:
        started = time.monotonic()
        try:
            answer = operation()
        except httpx.HTTPError as error:
            with lock:
                report.failed[f"{method} {type(error).__name__}"] += 1
            return
        finally:
            took = time.monotonic() - started
            with lock:
                report.slowest = max(report.slowest, took)
                report.latencies.append(took)
        with lock:
            if answer.status_code != 200:
                report.failed[f"{method} {answer.status_code}"] += 1
                return
            report.succeeded += 1
            if method == "POST":
                assert isinstance(answer.parsed, HeroPublic)
                report.acknowledged.append(answer.parsed.name)

    def writer() -> None:
        with AuthenticatedClient(
            base_url=topology.url,
            token=key,
            max_retries=retries,
            retry_max_delay=max_delay,
            timeout=httpx.Timeout(30),
            httpx_args={"transport": _Counting(report, lock)},
        ) as client:
            while not stop.is_set():
                body = HeroCreate(name=f"{prefix}{next(names)}", secret_name=SECRET)
                call("POST", functools.partial(create_hero.sync_detailed, client=client, body=body))

    def reader() -> None:
        with Client(
            base_url=topology.url,
            max_retries=retries,
            retry_max_delay=max_delay,
            timeout=httpx.Timeout(30),
            httpx_args={"transport": _Counting(report, lock)},
        ) as client:
            while not stop.is_set():
                call("GET", functools.partial(read_heroes.sync_detailed, client=client, limit=5))

    with ThreadPoolExecutor(writers + 1) as pool:
        running = [pool.submit(writer) for _ in range(writers)] + [pool.submit(reader)]
        time.sleep(seconds / 3)
        event(seconds / 3)
        time.sleep(max(0.0, seconds / 3 - 0.5))
        stop.set()
        for future in running:
            future.result()

    # Every acknowledged create must be stored, once; and no create stored twice.
    stored = _stored_names(topology, prefix)
    report.lost = [name for name in report.acknowledged if stored[name] == 0]
    report.duplicated = sorted(name for name, n in stored.items() if n > 1)
    return report


def _stored_names(topology: Served, prefix: str) -> Counter[str]:
    """Every name of this drill's heroes, as many times as it is stored (read back through
    nginx)."""
    stored: Counter[str] = Counter()
    with Client(base_url=topology.url, timeout=httpx.Timeout(30)) as client:
        heroes: list[HeroPublic] = list(read_heroes.sync_all(client=client, limit=100))
    stored.update(hero.name for hero in heroes if hero.name.startswith(prefix))
    return stored


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


# What the service and nginx may answer an attempt during each drill, and why (checked by the
# tests and scripts/stress topology); the client retries each of them:
# - a replica killed: a POST in flight on it gets nginx's 502; nginx must not resend it to the
#   other replica, as the killed one may have written it (the client does resend it, with its
#   Idempotency-Key: stored once either way). GETs (idempotent) nginx resends itself. A POST whose
#   answer the replica had begun to send when it died reaches the caller cut off
#   (RemoteProtocolError).
KILL_EXPLAINED = {"POST 200", "GET 200", "POST 502", "POST RemoteProtocolError"}
# - PgBouncer restarted: requests that needed the database then get the documented 503
#   (Retry-After: 1), at once, and the replicas reconnect by themselves.
PGBOUNCER_EXPLAINED = {"POST 200", "GET 200", "POST 503", "GET 503"}
