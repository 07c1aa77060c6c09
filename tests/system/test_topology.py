"""The service deployed as the README says, on loopback ports (scripts/topology): nginx balancing
two replicas, PgBouncer in transaction mode in front of PostgreSQL, Redis. Reduced drills; the
full ones are `scripts/stress topology`.

Needs nginx, pgbouncer and redis-server (Debian's packages) and PostgreSQL; without them these
tests skip with one line (.ci/run installs and sets what they need).
"""

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _drills import (
    KILL_EXPLAINED,
    PGBOUNCER_EXPLAINED,
    kill_a_replica,
    make_key,
    restart_pgbouncer,
)
from _topology import DEPLOY, Topology, fill
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_ENV, ROOT, bearer, missing, require_tool
from tests.support.contract import CONFIG_PATH, SCHEMA_PATH, contract_env

pytestmark = pytest.mark.xdist_group("topology")
HERO = {"name": "Deployed", "secret_name": "Behind Nginx"}


# One topology for the module (each took ~20 s to set up): the drills put back what they break
# (the killed replica, PgBouncer), and each test says what state it needs.
@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    for tool in ("nginx", "pgbouncer", "redis-server"):
        require_tool(tool, "The topology drills")
    admin = os.environ.get(POSTGRES_ENV)
    if not admin:
        missing(f"topology drills skipped: {POSTGRES_ENV} is not set")
    with Topology(admin) as running:
        yield running


def test_the_replicas_see_the_client_behind_nginx(topology: Topology) -> None:
    # Protected mode (no key at all): a write from this machine straight to a replica is local,
    # the same write through nginx is relayed (X-Forwarded-For), so it is refused.
    engine = create_engine(topology.database_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM api_key"))  # the keys other tests made
    engine.dispose()
    direct = f"http://127.0.0.1:{topology.replica_ports[0]}"
    for port in topology.replica_ports:  # each replica re-reads the keys within 2 s
        until_protected(f"http://127.0.0.1:{port}")
    assert httpx.post(f"{direct}/heroes/", json=HERO).status_code == 200
    assert httpx.post(f"{topology.url}/heroes/", json=HERO).status_code == 403
    key = make_key(topology)
    through = httpx.post(f"{topology.url}/heroes/", json=HERO, headers=bearer(key))
    assert through.status_code == 200
    # nginx passes the caller's request id through.
    traced = httpx.get(f"{topology.url}/heroes/1", headers={"X-Request-ID": "drill-7"})
    assert traced.headers["x-request-id"] == "drill-7"


def until_protected(base: str) -> None:
    """Wait until the replica at `base` knows that no key exists (a local write goes through)."""
    deadline = time.monotonic() + 10
    while httpx.post(f"{base}/heroes/", json=HERO).status_code != 200:
        assert time.monotonic() < deadline, f"{base} still wants a key 10 s after the last went"
        time.sleep(0.05)


def test_the_contract_holds_through_nginx_and_pgbouncer(topology: Topology) -> None:
    key = make_key(topology)
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG_PATH)),
        *("run", str(SCHEMA_PATH), "--url", topology.url),
        *("--checks", "all", "--phases", "examples,coverage,fuzzing,stateful"),
        *("--max-examples", "10", "--include-path-regex", "^/heroes", "--workers", "1"),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, env=contract_env(key)
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout
    assert "prepared statement" not in topology.log("replica-1") + topology.log("replica-2")


def test_a_replica_killed_under_writers_is_only_latency_to_the_client(topology: Topology) -> None:
    report = kill_a_replica(topology, make_key(topology), writers=16, seconds=6)
    print(f"kill -9 drill: {report.summary()}")
    assert len(report.acknowledged) > 100
    # The generated client retried what nginx failed (the POSTs in flight on the killed
    # replica), with their keys: no caller saw a failure, nothing was lost or stored twice.
    assert report.failed == Counter()
    assert report.lost == []
    assert report.duplicated == []
    assert set(report.attempts) <= KILL_EXPLAINED, report.attempts


def test_pgbouncer_restarted_under_load_is_503s_at_worst_then_recovery(
    topology: Topology,
) -> None:
    key = make_key(topology)
    report = restart_pgbouncer(topology, key, writers=16, seconds=6)
    print(f"PgBouncer restart drill: {report.summary()}")
    assert report.failed == Counter()
    assert report.lost == []
    assert report.duplicated == []
    assert report.slowest < 10  # none hung
    assert set(report.attempts) <= PGBOUNCER_EXPLAINED, report.attempts
    # The replicas recovered by themselves: no restart.
    with httpx.Client(base_url=topology.url, headers=bearer(key), timeout=10) as client:
        assert client.post("/heroes/", json=HERO).status_code == 200
        assert client.get("/heroes/", params={"limit": 1}).status_code == 200


def test_fill_refuses_a_template_value_left_out(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not filled in"):
        fill(DEPLOY / "nginx.conf", {"PORT": 1, "RUN_DIR": tmp_path})


def test_the_deploying_page_shows_the_files_the_topology_runs() -> None:
    readme = (ROOT / "docs" / "deploying.md").read_text()
    for name in ("nginx.conf", "pgbouncer.ini"):
        assert (DEPLOY / name).read_text() in readme, f"docs/deploying.md: {name}"
