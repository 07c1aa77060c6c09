"""High availability (scripts/topology --ha): Patroni, etcd, a synchronous standby, HAProxy,
pgBackRest, and the usual topology in front. Reduced drills, in the order a bad day brings
them; the full ones are `scripts/stress ha`.

Needs patroni, etcd-server, haproxy and pgbackrest (Debian's packages), with PostgreSQL 15,
nginx, pgbouncer and redis-server; without them these tests skip with one line (.ci/run
installs them).
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _drills import make_key
from _ha import BIN_DIR, TOOLS, HATopology
from _ha_drills import (
    failover_problems,
    kill_the_primary,
    rejoin,
    restore_latest,
    restore_to_a_moment,
    switchover,
)
from _support import heroes_api
from _topology import DEPLOY

from tests.conftest import ROOT, bearer, missing, require_tool

pytestmark = pytest.mark.xdist_group("ha")
NEEDED = (*TOOLS, "nginx", "pgbouncer", "redis-server")
# CI's reduced drills: 16 writers, the load going on 2 s before and 2 s after the event.
WRITERS, SECONDS = 16, 6


def _require_tools() -> None:
    for tool in NEEDED:
        require_tool(tool, "The HA drills")
    if not (BIN_DIR / "postgres").exists():
        missing(f"HA drills skipped: PostgreSQL 15 is not installed ({BIN_DIR})")


def test_topology_ha_writes_its_state_and_stops_everything(tmp_path: Path) -> None:
    """scripts/topology --ha --state FILE, as a drill script would run it: the JSON names
    every part, each part answers, and Ctrl-C (SIGTERM) stops them all. First in the module:
    it runs before the drills' cluster is up, not beside it."""
    _require_tools()
    state_file = tmp_path / "state.json"
    log = (tmp_path / "topology.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "topology"), "--ha", "--port", "0", "--state", str(state_file)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_for_file(state_file, process, tmp_path / "topology.log")
        state = json.loads(state_file.read_text())
        assert {"url", "database_url", "nodes", "haproxy_port", "pgbouncer_port"} <= set(state)
        key = subprocess.run(
            [*heroes_api(0)[:3], "keys", "create", "state-test"],
            env={**os.environ, "DATABASE_URL": state["database_url"]},
            capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        written = httpx.post(
            f"{state['url']}/heroes/",
            json={"name": "Stated", "secret_name": "s"},
            headers=bearer(key),
            timeout=30,
        )
        assert written.status_code == 200, written.text
        roles = set()
        for node in state["nodes"]:
            assert set(node) == {"name", "patroni_url", "pg_port", "patroni_pid", "postmaster_pid"}
            roles.add(httpx.get(f"{node['patroni_url']}/patroni").json()["role"])
            for pid in (node["patroni_pid"], node["postmaster_pid"]):
                assert Path(f"/proc/{pid}").exists()
        assert roles == {"master", "replica"}  # Patroni 3.0's names for primary and standby
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    for node in state["nodes"]:
        for pid in (node["patroni_pid"], node["postmaster_pid"]):
            assert not Path(f"/proc/{pid}").exists(), f"{node['name']}: {pid} still running"


def _wait_for_file(path: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the topology has written `path` (it does once everything is up)."""
    deadline = time.monotonic() + 120
    while not path.exists():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


# One cluster for the drills, which run in order: each starts from what the one before left
# (the killed primary rejoins before the switchover; the restore to the latest point, which
# destroys both nodes, comes last).
@pytest.fixture(scope="module")
def ha() -> Iterator[HATopology]:
    _require_tools()
    with HATopology() as running:
        yield running


@pytest.fixture(scope="module")
def key(ha: HATopology) -> str:
    return make_key(ha.front)


def test_the_primary_killed_under_writers_is_only_latency_to_the_client(
    ha: HATopology, key: str
) -> None:
    killed = kill_the_primary(ha, key, WRITERS, SECONDS)
    print(
        f"primary killed: writes back after {killed.writes_back:.1f} s; {killed.report.summary()}"
    )
    assert len(killed.report.acknowledged) > 100
    # Nothing lost, nothing stored twice, no failure the generated client let through, every
    # answer explained, writes back within 15 s.
    problems = failover_problems(ha, killed, writes_back_limit=15)
    assert problems == [], "\n".join(problems)
    # The old primary comes back as the synchronous standby, rewound, with lag 0.
    rejoined = rejoin(ha.cluster, killed.primary)
    print(f"{killed.primary} back as the synchronous standby in {rejoined:.1f} s")


def test_a_switchover_under_load_is_only_latency_to_the_client(ha: HATopology, key: str) -> None:
    moved = switchover(ha, key, WRITERS, SECONDS)
    print(f"switchover: p99 {moved.report.p99() * 1000:.0f} ms; {moved.report.summary()}")
    assert len(moved.report.acknowledged) > 100
    problems = failover_problems(ha, moved, writes_back_limit=15)
    assert problems == [], "\n".join(problems)
    # The old primary follows the new one, as its synchronous standby.
    ha.cluster.wait_until(ha.cluster.synchronous, 60, "the old primary a synchronous standby")


def test_a_point_in_time_restore_has_exactly_the_writes_before_that_moment(
    ha: HATopology, key: str
) -> None:
    restored = restore_to_a_moment(ha, key, writes=20)
    assert (restored.found, restored.unexpected) == (restored.expected, 0), restored


def test_both_nodes_destroyed_the_latest_restore_has_every_acknowledged_write(
    ha: HATopology, key: str
) -> None:
    restored = restore_latest(ha, key, writes=20)
    assert (restored.found, restored.unexpected) == (restored.expected, 0), restored


def test_the_ha_page_shows_the_files_the_ha_topology_runs() -> None:
    page = (ROOT / "docs" / "high-availability.md").read_text()
    for name in ("patroni.yml", "haproxy.cfg", "etcd.yml", "pgbackrest.conf"):
        assert (DEPLOY / name).read_text() in page, f"docs/high-availability.md: deploy/{name}"
