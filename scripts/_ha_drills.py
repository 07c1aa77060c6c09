"""Drills on the highly available topology (scripts/_ha.py): the primary's machine dies under
writers, a planned switchover under load, the old primary rejoining, and restores from
pgBackRest (to the latest point, and to a moment in time). The tests run them reduced
(tests/system/test_ha.py); `scripts/stress ha` at full size.

The load is the topology drills' (scripts/_drills.py): writers and a reader using the generated
client, every create with an Idempotency-Key, every acknowledged create then looked for. Each
drill returns what happened, counted; the caller decides what passes.
"""

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _drills import Report, _load
from _ha import BIN_DIR, Cluster, HATopology, Node, _as_postgres
from _support import (
    Child,
    Databases,
    WrkResult,
    free_port,
    heroes_api,
    parse_wrk,
    start_process,
    stop_process,
    wait_until_serving,
)
from heroes_client import AuthenticatedClient
from heroes_client.api.heroes import create_hero
from heroes_client.models import HeroCreate, HeroPublic

# The client's retry budget in these drills: a retry at most every second, for a minute, which
# outlasts a failover (ttl 10 s + promotion + HAProxy's check) with room to spare.
HA_RETRIES = 60
HA_MAX_DELAY = 1.0

# What the service may answer an attempt while the primary fails over or switches over, and why;
# the client retries each of them:
# - 503 "Database unavailable" (Retry-After: 1): no primary to reach yet, or a write that reached
#   a node no longer primary (read-only); nothing was written.
# - 503 "Service overloaded": a write queued behind a group that waits for the database left
#   the line unsent after HEROES_DB_POOL_TIMEOUT; nothing was written.
# - 503 "Outcome unknown": a COMMIT cut off whose outcome couldn't be looked up in time; a retry
#   with the same Idempotency-Key is safe (the service recognises it).
# - 409 (Retry-After: 1): a retry that arrived while its first attempt was still being resolved.
FAILOVER_EXPLAINED = {"POST 200", "GET 200", "POST 503", "GET 503", "POST 409"}


@dataclass
class Failover:
    report: Report
    primary: str  # the node killed (or switched away from)
    new_primary: str
    writes_back: (
        float  # seconds from the kill (or switchover) until a write sent after it succeeded
    )


class _PrimaryLost:
    """The drills' event: the primary killed (its machine dies) or switched away from, timed;
    returns once another node is primary."""

    def __init__(self, ha: HATopology, switch: bool = False) -> None:
        self.ha, self.switch = ha, switch
        self.node = ""
        self.began = self.done = 0.0

    def __call__(self, _pause: float) -> None:
        cluster = self.ha.cluster
        primary = cluster.primary()
        assert primary is not None
        self.node, self.began = primary.name, time.monotonic()
        if self.switch:
            cluster.switchover()
        else:
            cluster.kill_node(primary)
        # A switchover's cause is complete at once: any write sent after it began counts.
        self.done = self.began if self.switch else time.monotonic()
        cluster.wait_until(lambda: cluster.primary() not in (None, primary), 60, "a new primary")

    def failover(self, report: Report) -> Failover:
        new = self.ha.cluster.primary()
        back = report.writes_back(self.began, self.done)
        return Failover(report, self.node, new.name if new else "none", back)


def kill_the_primary(ha: HATopology, key: str, writers: int, seconds: float) -> Failover:
    """The primary's machine dies (kill -9 of its Patroni, postmaster and backends) a third of the
    way in; the load goes on for `seconds` / 3 after the standby has taken over."""
    kill = _PrimaryLost(ha)
    report = _load(
        ha.front, key, writers, seconds, kill, retries=HA_RETRIES, max_delay=HA_MAX_DELAY
    )
    return kill.failover(report)


def switchover(ha: HATopology, key: str, writers: int, seconds: float) -> Failover:
    """patronictl switchover to the standby a third of the way in, under load."""
    switch = _PrimaryLost(ha, switch=True)
    report = _load(
        ha.front, key, writers, seconds, switch, retries=HA_RETRIES, max_delay=HA_MAX_DELAY
    )
    return switch.failover(report)


def rejoin(cluster: Cluster, name: str, timeout: float = 120) -> float:
    """Start the node `name` again (after its machine died); seconds until it is the synchronous
    standby again, streaming with lag 0 (Patroni rewinds it: use_pg_rewind)."""
    node = next(node for node in cluster.nodes if node.name == name)
    started = time.monotonic()
    cluster.start_node(node)
    cluster.wait_until(cluster.synchronous, timeout, f"{name} back as the synchronous standby")
    return time.monotonic() - started


@dataclass
class Restored:
    expected: int  # acknowledged creates that must be there
    found: int  # of them, found in the restored database
    unexpected: int  # rows there that must not be (after the target, or stored twice)
    seconds: float  # the restore and its recovery


def restore_latest(ha: HATopology, key: str, writes: int) -> Restored:
    """`writes` acknowledged creates; the WAL archived (pgbackrest check); both nodes' machines
    and data directories destroyed; the latest backup restored with the archive replayed to its
    end, into a new server: every acknowledged create must be there, once."""
    names = _create(ha, key, "latest", writes)
    ha.cluster.archive_now()
    for node in ha.cluster.nodes:
        ha.cluster.kill_node(node)
        _destroy(node)
    ha.front.databases.created.clear()  # gone with the machines: nothing left to drop
    return _restored(ha, names, set(), target_time=None)


def restore_to_a_moment(ha: HATopology, key: str, writes: int) -> Restored:
    """`writes` creates, a moment recorded, `writes` more; restored to that moment: exactly the
    creates acknowledged before it are there."""
    before = _create(ha, key, "before", writes)
    moment = _now(ha)
    after = _create(ha, key, "after", writes)
    ha.cluster.archive_now()
    return _restored(ha, before, after, target_time=moment)


def _create(ha: HATopology, key: str, label: str, writes: int) -> set[str]:
    prefix = f"restore-{label}-{uuid.uuid4().hex[:8]}-"
    names = set()
    with AuthenticatedClient(base_url=ha.url, token=key, max_retries=HA_RETRIES) as client:
        for n in range(writes):
            answer = create_hero.sync(
                client=client, body=HeroCreate(name=f"{prefix}{n}", secret_name="s")
            )
            assert isinstance(answer, HeroPublic), answer
            names.add(answer.name)
    return names


def _now(ha: HATopology) -> str:
    """The primary's clock, as PostgreSQL writes it: what a restore's target time is read as."""
    import psycopg

    with psycopg.connect(_libpq(ha.cluster.admin_url)) as connection:
        row = connection.execute("SELECT now()::text").fetchone()
    assert row is not None
    return str(row[0])


def _restored(
    ha: HATopology, present: set[str], absent: set[str], target_time: str | None
) -> Restored:
    """Restore into a new data directory, start a plain PostgreSQL on it, let recovery finish
    (to the archive's end, or to `target_time`), and count the heroes named in `present` and
    `absent`."""
    import psycopg

    started = time.monotonic()
    data_dir = ha.run_dir / f"restored-{uuid.uuid4().hex[:6]}"
    ha.cluster.restore(data_dir, target_time)
    port = free_port()
    server = _postgres(data_dir, port, ha.run_dir)
    try:
        url = f"host=127.0.0.1 port={port} user=postgres dbname={ha.front.database_url.rsplit('/', 1)[1]}"
        _wait_promoted(url, server)
        took = time.monotonic() - started
        with psycopg.connect(url) as connection:
            rows = connection.execute("SELECT name FROM hero").fetchall()
    finally:
        stop_process(server)
    stored = [name for (name,) in rows]
    found = len(present & set(stored))
    unexpected = len(absent & set(stored)) + len(stored) - len(set(stored))
    return Restored(len(present), found, unexpected, took)


def _wait_promoted(url: str, server: Child, timeout: float = 120) -> None:
    """Until the restored server has finished its recovery and accepts writes."""
    import psycopg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the restored server exited:\n{server.log_text()}")
        try:
            with psycopg.connect(url, connect_timeout=2) as connection:
                row = connection.execute("SELECT pg_is_in_recovery()").fetchone()
                if row is not None and not row[0]:
                    return
        except psycopg.OperationalError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the restored server did not finish recovery in {timeout} s")


def _postgres(data_dir: Path, port: int, run_dir: Path) -> Child:
    command = [
        str(BIN_DIR / "postgres"), "-D", str(data_dir), "-p", str(port),
        "-c", f"unix_socket_directories={run_dir}", "-c", "listen_addresses=127.0.0.1",
        # Patroni's postgresql.conf names these files by the old node's path.
        "-c", f"hba_file={data_dir / 'pg_hba.conf'}", "-c", f"ident_file={data_dir / 'pg_ident.conf'}",
        # A lone server: it archives nothing (the cluster's archive is not its to write), and
        # waits for no synchronous standby.
        "-c", "archive_mode=off", "-c", "synchronous_standby_names=",
    ]  # fmt: skip
    return start_process(command, log=run_dir / f"{data_dir.name}.out", **_as_postgres())


def _destroy(node: Node) -> None:
    shutil.rmtree(node.data_dir)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def failover_problems(ha: HATopology, failover: Failover, writes_back_limit: float) -> list[str]:
    """What makes a failover or switchover drill fail: any caller-visible failure, any lost or
    duplicated write, an answer outside FAILOVER_EXPLAINED, a call over 30 s, writes back late,
    a traceback in a replica's log (the first one is shown)."""
    report = failover.report
    problems = []
    for replica in range(len(ha.front.replica_ports)):
        log = ha.front.log(f"replica-{replica + 1}")
        if "Traceback" in log:
            start = log.index("Traceback")
            problems.append(
                f"replica-{replica + 1} logged a traceback:\n{log[start : start + 6000]}"
            )
    if report.failed:
        problems.append(f"client-visible failures {dict(report.failed)}")
    if report.lost or report.duplicated:
        problems.append(f"lost {len(report.lost)}, duplicated {len(report.duplicated)}")
    unexplained = set(report.attempts) - FAILOVER_EXPLAINED
    if unexplained:
        problems.append(f"unexplained answers {sorted(unexplained)}")
    if report.slowest >= 30:
        problems.append(f"a call took {report.slowest:.1f} s")
    if failover.new_primary in ("none", failover.primary):
        problems.append(f"no new primary ({failover.new_primary})")
    if failover.writes_back > writes_back_limit:
        problems.append(f"writes back after {failover.writes_back:.1f} s (> {writes_back_limit:g})")
    return problems


# --- what synchronous replication costs ----------------------------------------------------

COST_LUA = {
    "POST": 'wrk.method = "POST"\nwrk.path = "/heroes/"\nwrk.headers["Content-Type"] = "application/json"\n'
    'wrk.body = \'{"name": "Cost", "secret_name": "s"}\'',
    "PATCH": 'wrk.headers["Content-Type"] = "application/json"\n'
    'request = function() return wrk.format("PATCH", "/heroes/" .. math.random(1, 1000), nil, '
    "'{\"age\": ' .. math.random(1, 99) .. '}') end",
}
COST_CONNECTIONS = 32


@dataclass
class Cost:
    wrk: WrkResult
    replay_lag_ms: float  # the standby's replay lag, the most seen in the run (0: no standby)
    replay_lag_p50_ms: float


def sync_cost(ha: HATopology, seconds: int) -> dict[str, dict[str, Cost]]:
    """POST and PATCH throughput and latency (wrk, 32 connections, `seconds` each) of one
    heroes-api worker on the cluster (through HAProxy), in one run, with: a synchronous standby
    (as deployed), an asynchronous one, and no standby at all (its Patroni stopped: a single
    node). The cluster is put back as deployed afterwards."""
    databases = Databases(ha.run_dir, ha.cluster.admin_url)
    url = databases.url("sync_cost")
    server = start_process(
        heroes_api(port := free_port()),
        env={**os.environ, "DATABASE_URL": url},
        log=ha.run_dir / "sync-cost.out",
    )
    base = f"http://127.0.0.1:{port}"
    results: dict[str, dict[str, Cost]] = {}
    try:
        wait_until_serving(f"{base}/health", process=server)
        with httpx.Client(base_url=base) as client:  # no key exists: loopback writes are allowed
            for n in range(1000):
                client.post(
                    "/heroes/", json={"name": f"h{n}", "secret_name": "s"}
                ).raise_for_status()
        for mode in ("synchronous standby", "asynchronous standby", "single node"):
            _set_replication(ha.cluster, mode)
            results[mode] = {route: _measured(ha, base, route, seconds) for route in COST_LUA}
    finally:
        stop_process(server)
        _set_replication(ha.cluster, "synchronous standby")
        databases.drop_all()
    return results


def _set_replication(cluster: Cluster, mode: str) -> None:
    primary = cluster.primary()
    assert primary is not None
    standby = next(node for node in cluster.nodes if node is not primary)
    if mode == "single node":
        cluster.stop_node(standby)
        cluster.wait_until(lambda: len(cluster.members()) == 1, 60, "the standby gone")
        return
    if standby.process is None:
        cluster.start_node(standby)
    sync = mode == "synchronous standby"
    httpx.patch(f"{primary.patroni_url}/config", json={"synchronous_mode": sync}).raise_for_status()
    role = "sync_standby" if sync else "replica"

    def settled() -> bool:
        members = {m["name"]: m for m in cluster.members()}
        theirs = members.get(standby.name, {})
        return theirs.get("role") == role and theirs.get("lag") == 0

    cluster.wait_until(settled, 120, f"{standby.name} a {role}")


def _measured(ha: HATopology, base: str, route: str, seconds: int) -> Cost:
    """wrk on `route`, the standby's replay lag sampled on the primary every 100 ms meanwhile:
    how stale a read sent to the standby would be."""
    import threading

    import psycopg

    lags: list[float] = []
    done = threading.Event()

    def sample() -> None:
        with psycopg.connect(_libpq(ha.cluster.admin_url), autocommit=True) as connection:
            while not done.wait(0.1):
                row = connection.execute(
                    "SELECT coalesce(max(extract(epoch FROM replay_lag)), 0) FROM pg_stat_replication"
                ).fetchone()
                lags.append(float(row[0]) * 1000 if row else 0.0)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = _wrk(base, route, seconds)
    finally:
        done.set()
        sampler.join()
    ordered = sorted(lags) or [0.0]
    return Cost(result, ordered[-1], ordered[len(ordered) // 2])


def _wrk(base: str, route: str, seconds: int) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(COST_LUA[route])
        script.flush()
        out = subprocess.run(
            ["wrk", "-t1", f"-c{COST_CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", script.name, base],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    return parse_wrk(out)


# --- the router: HAProxy, or libpq's multi-host URL -------------------------------------------


@dataclass
class Routed:
    name: str
    url: str  # the server's, for the load
    database_url: str
    server: Child | None = None


def routers(ha: HATopology, key: str, writers: int, seconds: float) -> dict[str, Failover]:
    """One heroes-api server reaching the nodes through HAProxy, one through libpq's multi-host
    URL (target_session_attrs=read-write), neither through PgBouncer (which takes one address),
    both under the same load while the primary is killed once: how soon writes come back on each.
    The database is the topology's (its key works on both)."""
    import threading

    database = ha.front.database_url.rsplit("/", 1)[1]
    hosts = "&".join(f"host=127.0.0.1:{node.pg_port}" for node in ha.cluster.nodes)
    routes = [
        Routed(
            "HAProxy",
            "",
            f"postgresql+psycopg://postgres@127.0.0.1:{ha.cluster.haproxy_port}/{database}",
        ),
        Routed(
            "libpq multi-host",
            "",
            f"postgresql+psycopg://postgres@/{database}?{hosts}&target_session_attrs=read-write",
        ),
    ]
    for route in routes:
        port = free_port()
        route.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": route.database_url,
            "HEROES_MIGRATE_ON_STARTUP": "false",
        }
        route.server = start_process(
            heroes_api(port), env=env, log=ha.run_dir / f"router-{port}.out"
        )
    kill = _PrimaryLost(ha)
    reports: dict[str, Report] = {}
    try:
        for route in routes:
            assert route.server is not None
            wait_until_serving(f"{route.url}/health", process=route.server)

        def load(route: Routed, event: Any) -> None:
            reports[route.name] = _load(
                route, key, writers, seconds, event, retries=HA_RETRIES, max_delay=HA_MAX_DELAY
            )

        # The same load on both; the second one's "event" is to wait out the failover too.
        failed_over = threading.Event()

        def kill_then_tell(pause: float) -> None:
            try:
                kill(pause)
            finally:
                failed_over.set()

        threads = [
            threading.Thread(target=load, args=(routes[0], kill_then_tell)),
            threading.Thread(target=load, args=(routes[1], lambda _pause: failed_over.wait(90))),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for route in routes:
            if route.server is not None:
                stop_process(route.server)
    return {name: kill.failover(report) for name, report in reports.items()}
