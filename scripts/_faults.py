"""The fault drill: PostgreSQL behind a path that fails at random, on every connection, while
writers with Idempotency-Keys keep writing.

`RandomFaults` is a TCP proxy. Armed, each connection through it gets a random byte budget
(both directions counted, from its first byte): when the budget runs out, mid-message as often
as not, the connection is either cut (both sides closed) or goes silent (nothing more is
forwarded either way, and both sockets stay open until the client hangs up: a machine lost, a
network cut). Disarmed, new connections are sound.

`drill()` runs `heroes-api` through it and judges: no request held past the service's bound,
every keyed write acknowledged within its retries, none stored twice, no traceback and no
"exception was never retrieved" in the service's log, and normal answers within seconds once
the proxy is disarmed. tests/system/test_faults.py runs it reduced; `scripts/stress
faults` runs it full, ten times in a row.
"""

import asyncio
import os
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _proxy import Proxy, first_done
from _support import (
    Child,
    free_port,
    heroes_api,
    start_process,
    stop_process,
    wait_until_serving,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

# Most connections fail within their first few batches; some during start-up.
BUDGET_MAX_BYTES = 30_000


class RandomFaults(Proxy):
    """A proxy to 127.0.0.1:`target_port` whose connections fail at random once armed."""

    def __init__(self, target_port: int, seed: int) -> None:
        super().__init__(target_port)
        self._armed = False
        self._open: set[_Connection] = set()
        self.cuts = 0
        self.silences = 0
        self._random = random.Random(seed)

    @property
    def armed(self) -> bool:
        return self._armed

    @armed.setter
    def armed(self, armed: bool) -> None:
        """Armed: every connection, those open now included, fails after a budget of its
        own from here; disarmed: new connections are sound (failing ones stay as they are)."""
        self.loop.call_soon_threadsafe(self._arm, armed)

    def _arm(self, armed: bool) -> None:
        self._armed = armed
        if armed:
            for state in self._open:
                if state.budget < 0:
                    state.budget = self._random.randint(0, BUDGET_MAX_BYTES)

    async def _relay(
        self,
        client_in: asyncio.StreamReader,
        client_out: asyncio.StreamWriter,
        server_in: asyncio.StreamReader,
        server_out: asyncio.StreamWriter,
    ) -> None:
        budget = self._random.randint(0, BUDGET_MAX_BYTES) if self._armed else -1
        state = _Connection(budget, silent=self._random.random() < 0.5)
        self._open.add(state)
        try:
            await first_done(
                self._pipe(client_in, server_out, state), self._pipe(server_in, client_out, state)
            )
            if state.failed == "silence":  # held open, saying nothing, until the client goes
                while await client_in.read(65536):
                    pass
        finally:
            self._open.discard(state)

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, state: "_Connection"
    ) -> None:
        while data := await source.read(65536):
            if state.failed:
                return
            if state.budget >= 0 and len(data) >= state.budget:
                sink.write(data[: state.budget])  # the failure lands mid-message
                await sink.drain()
                state.failed = "silence" if state.silent else "cut"
                if state.silent:
                    self.silences += 1
                else:
                    self.cuts += 1
                return
            if state.budget >= 0:
                state.budget -= len(data)
            sink.write(data)
            await sink.drain()


@dataclass(eq=False)
class _Connection:
    budget: int  # bytes left before it fails (-1: it never does)
    silent: bool
    failed: str = ""


@dataclass
class FaultReport:
    seed: int
    writes: int
    cuts: int = 0
    silences: int = 0
    acknowledged: int = 0
    tries: int = 0
    slowest: float = 0.0
    held: list[float] = field(default_factory=list)  # requests that took longer than the bound
    unacknowledged: list[str] = field(default_factory=list)
    stored_twice: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)  # acknowledged, not stored
    log_problems: list[str] = field(default_factory=list)
    recovery: float = 0.0  # seconds from disarming to answers as usual
    statuses: Counter[str] = field(default_factory=Counter)

    def problems(self) -> list[str]:
        found = []
        if self.held:
            found.append(f"{len(self.held)} requests held past the bound: {sorted(self.held)[-5:]}")
        if self.unacknowledged:
            found.append(f"{len(self.unacknowledged)} writes never acknowledged")
        if self.stored_twice:
            found.append(f"stored twice: {self.stored_twice}")
        if self.lost:
            found.append(f"acknowledged but not stored: {self.lost[:5]}")
        found += self.log_problems
        if self.cuts + self.silences == 0:
            found.append("the proxy failed no connection: the drill tested nothing")
        return found

    def summary(self) -> str:
        return (
            f"seed {self.seed}: {self.cuts} cut, {self.silences} silent connections; "
            f"{self.acknowledged}/{self.writes} writes acknowledged in {self.tries} tries "
            f"({dict(self.statuses)}); slowest answer {self.slowest:.1f} s, "
            f"{len(self.held)} held past the bound; back to normal {self.recovery:.1f} s after"
        )


def request_bound(statement_timeout: float, pool_timeout: float) -> float:
    """The longest a request may take (README, "How long a request can take"): its wait in line
    (HEROES_DB_POOL_TIMEOUT), for a connection (as long), its statements (statement_timeout and
    the 2 s grace after which a silent server is given up), and, for a write whose COMMIT went
    unanswered, looking the commit up (until HEROES_DB_POOL_TIMEOUT has passed, the last look
    taking a connect and a bounded batch: 3 x HEROES_DB_POOL_TIMEOUT + 2 s)."""
    return 5 * pool_timeout + statement_timeout + 4


def drill(
    database_url: str,
    log: Path,
    writers: int = 16,
    writes: int = 200,
    seed: int | None = None,
    statement_timeout: float = 2.0,
    pool_timeout: float = 2.0,
    tries: int = 20,
) -> FaultReport:
    """`writes` keyed POSTs by `writers` writers through a RandomFaults proxy to the database at
    `database_url` (migrated, empty), then the proxy disarmed; the service's log to `log`."""
    seed = seed if seed is not None else random.randrange(2**32)
    report = FaultReport(seed=seed, writes=writes)
    bound = request_bound(statement_timeout, pool_timeout)
    target = make_url(database_url)
    with RandomFaults(target.port or 5432, seed) as proxy:
        env = {
            "DATABASE_URL": proxy.through(database_url),
            "HEROES_DB_STATEMENT_TIMEOUT": str(statement_timeout),
            "HEROES_DB_POOL_TIMEOUT": str(pool_timeout),
        }
        port = free_port()
        server = start_process(heroes_api(port), env={**os.environ, **env}, log=log, group=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(f"{base}/health", process=server, status=200, timeout=120)
            proxy.armed = True
            names = asyncio.run(_write_all(base, writers, writes, tries, bound, report))
            proxy.armed = False
            report.cuts, report.silences = proxy.cuts, proxy.silences
            report.recovery = asyncio.run(_recovery(base))
        finally:
            stop_process(server)
    _verify(database_url, names, report)
    _read_log(server, report)
    return report


async def _write_all(
    base: str, writers: int, writes: int, tries: int, bound: float, report: FaultReport
) -> dict[str, bool]:
    """Each write: a name and a key of its own, sent again with the same key until a 200 (or
    `tries` attempts). Returns each name: acknowledged or not."""
    names = iter(f"fault-{n}-{uuid.uuid4().hex[:8]}" for n in range(writes))
    acknowledged: dict[str, bool] = {}

    async def writer(client: httpx.AsyncClient) -> None:
        for name in names:
            key = uuid.uuid4().hex
            acknowledged[name] = False
            for _ in range(tries):
                report.tries += 1
                start = time.monotonic()
                try:
                    answer = await client.post(
                        "/heroes/",
                        json={"name": name, "secret_name": "s"},
                        headers={"Idempotency-Key": key},
                    )
                    status = str(answer.status_code)
                except httpx.TimeoutException:
                    status = "timeout"
                except httpx.TransportError:
                    status = "transport error"
                took = time.monotonic() - start
                report.slowest = max(report.slowest, took)
                if took > bound:
                    report.held.append(round(took, 1))
                report.statuses[status] += 1
                if status == "200":
                    acknowledged[name] = True
                    report.acknowledged += 1
                    break
                # 503 and 409 say Retry-After: 1; a caller honours it.
                await asyncio.sleep(1)

    async with httpx.AsyncClient(base_url=base, timeout=bound + 10) as client:
        await asyncio.gather(*(writer(client) for _ in range(writers)))
    report.unacknowledged = [name for name, done in acknowledged.items() if not done]
    return acknowledged


async def _recovery(base: str, settled: int = 20, give_up: float = 60.0) -> float:
    """Seconds until `settled` requests in a row (a write, a read) answer 200."""
    start = time.monotonic()
    in_a_row = 0
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while in_a_row < settled:
            if time.monotonic() - start > give_up:
                return float("inf")
            created = await client.post("/heroes/", json={"name": "after", "secret_name": "s"})
            read = await client.get("/heroes/", params={"limit": 1})
            ok = created.status_code == read.status_code == 200
            in_a_row = in_a_row + 1 if ok else 0
            if not ok:
                await asyncio.sleep(0.5)  # Retry-After asks for a pause
    return time.monotonic() - start


def _verify(database_url: str, names: dict[str, bool], report: FaultReport) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = Counter(
                name
                for (name,) in connection.execute(
                    text("SELECT name FROM hero WHERE name LIKE 'fault-%'")
                )
            )
    finally:
        engine.dispose()
    report.stored_twice = {name: n for name, n in stored.items() if n > 1}
    report.lost = [name for name, done in names.items() if done and not stored[name]]


def _read_log(server: Child, report: FaultReport) -> None:
    said = server.log_text()
    for what in ("Traceback", "exception was never retrieved"):
        if what in said:
            at = said.index(what)
            report.log_problems.append(
                f"the log has {what!r}: {said[max(0, at - 300) : at + 1500]}"
            )
