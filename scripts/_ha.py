"""The highly available PostgreSQL cluster on loopback ports, from Debian's packages: etcd, two
PostgreSQL 15 nodes under Patroni (a primary and a synchronous standby), HAProxy routing to the
primary, and pgBackRest archiving the WAL and taking backups.

It runs the files in deploy/ (etcd.yml, patroni.yml, haproxy.cfg, pgbackrest.conf), with their
@NAME@ values filled in. scripts/topology --ha puts the usual topology (PgBouncer, replicas,
nginx, Redis) in front of it: PgBouncer connects to HAProxy. Used by scripts/topology, the HA
drills (scripts/_ha_drills.py) and their tests.
"""

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _support import Child, Started, free_port, kill_process, start_process, stop_process
from _topology import DEPLOY, fill, wait_for_port

TOOLS = ("etcd", "patroni", "patronictl", "haproxy", "pgbackrest")
BIN_DIR = Path("/usr/lib/postgresql/15/bin")
STANZA = "heroes"


def missing_tools() -> list[str]:
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    if not (BIN_DIR / "postgres").exists():
        missing.append("postgresql-15")
    return missing


def _as_postgres() -> dict[str, Any]:
    """PostgreSQL refuses to run as root, and its files must be the postgres user's: run as it
    when we are root (as on CI's machines); as ourselves otherwise."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam("postgres")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


@dataclass
class Node:
    name: str
    pg_port: int
    rest_port: int
    data_dir: Path
    config: Path
    process: Child | None = None

    @property
    def patroni_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            return None

    def state(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "patroni_url": self.patroni_url,
            "pg_port": self.pg_port,
            "patroni_pid": self.process.pid if self.process else None,
            "postmaster_pid": self.postmaster_pid,
        }


class Cluster:
    def __init__(self, run_dir: Path, nodes: int = 2) -> None:
        missing = missing_tools()
        if missing:
            raise RuntimeError(
                f"not installed: {', '.join(missing)} (apt-get install {' '.join(missing)})"
            )
        self.run_dir = run_dir
        self.etcd_port, self.etcd_peer_port = free_port(), free_port()
        self.haproxy_port = free_port()
        self.nodes = [
            Node(
                name=f"pg{n}",
                pg_port=free_port(),
                rest_port=free_port(),
                data_dir=run_dir / f"pg{n}",
                config=run_dir / f"pg{n}.yml",
            )
            for n in range(1, nodes + 1)
        ]
        self.processes: dict[str, Child] = {}

    @property
    def admin_url(self) -> str:
        """The primary, through HAProxy: what PgBouncer and the topology's set-up connect to."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.haproxy_port}/postgres"

    # --- start and stop ---------------------------------------------------------------------

    def start(self) -> None:
        self._write_configs()
        self._spawn("etcd", ["etcd", "--config-file", str(self.run_dir / "etcd.yml")])
        wait_for_port(self.etcd_port)
        # The first node bootstraps (initdb) and leads; the second clones it, then streams.
        for node in self.nodes:
            self.start_node(node)
            self.wait_until(
                lambda n=node: self._member(n.name).get("state") in ("running", "streaming"),
                60,
                f"{node.name} running",
            )
        self.wait_until(self.synchronous, 30, "a synchronous standby")
        self._spawn("haproxy", ["haproxy", "-db", "-f", str(self.run_dir / "haproxy.cfg")])
        wait_for_port(self.haproxy_port)
        self.pgbackrest("stanza-create")
        self.backup()

    def stop(self) -> None:
        for node in self.nodes:
            self.stop_node(node)
        for name in reversed(list(self.processes)):
            stop_process(self.processes.pop(name))

    def _write_configs(self) -> None:
        values: dict[str, object] = {
            "RUN_DIR": self.run_dir,
            "PORT": self.etcd_port,
            "PEER_PORT": self.etcd_peer_port,
        }
        (self.run_dir / "etcd.yml").write_text(fill(DEPLOY / "etcd.yml", values))
        values = {"RUN_DIR": self.run_dir, "PORT": self.haproxy_port}
        for n, node in enumerate(self.nodes, start=1):
            values |= {
                f"NODE_{n}_NAME": node.name,
                f"NODE_{n}_PG_PORT": node.pg_port,
                f"NODE_{n}_REST_PORT": node.rest_port,
                f"NODE_{n}_DATA_DIR": node.data_dir,
            }
        (self.run_dir / "haproxy.cfg").write_text(fill(DEPLOY / "haproxy.cfg", values))
        backrest = self.run_dir / "pgbackrest.conf"
        backrest.write_text(fill(DEPLOY / "pgbackrest.conf", values))
        for node in self.nodes:
            node.config.write_text(
                fill(
                    DEPLOY / "patroni.yml",
                    {
                        "NAME": node.name,
                        "REST_PORT": node.rest_port,
                        "PG_PORT": node.pg_port,
                        "ETCD_PORT": self.etcd_port,
                        "DATA_DIR": node.data_dir,
                        "RUN_DIR": self.run_dir,
                    },
                )
            )
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in [backrest, *(node.config for node in self.nodes)]:
                os.chown(path, user.pw_uid, user.pw_gid)
            (self.run_dir / "backups").mkdir(exist_ok=True)
            os.chown(self.run_dir / "backups", user.pw_uid, user.pw_gid)

    # --- nodes --------------------------------------------------------------------------------

    def start_node(self, node: Node) -> None:
        log = self.run_dir / f"{node.name}.out"
        node.process = start_process(
            ["patroni", str(node.config)], cwd=self.run_dir, log=log, **_as_postgres()
        )

    def stop_node(self, node: Node) -> None:
        """Patroni stopped politely: it shuts its PostgreSQL down first."""
        if node.process is not None:
            stop_process(node.process, timeout=30)
            node.process = None

    def kill_node(self, node: Node) -> None:
        """The node's machine dies: kill -9 its Patroni, its postmaster and every backend."""
        postmaster = node.postmaster_pid
        if node.process is not None:
            kill_process(node.process)
            node.process = None
        if postmaster is not None:
            for pid in [postmaster, *_children(postmaster)]:
                with contextlib.suppress(ProcessLookupError):  # gone with the postmaster
                    os.kill(pid, signal.SIGKILL)

    # --- what Patroni says --------------------------------------------------------------------

    def members(self) -> list[dict[str, Any]]:
        """Patroni's view of the cluster (GET /cluster), from the first node that answers."""
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                answer = httpx.get(f"{node.patroni_url}/cluster", timeout=2)
                members: list[dict[str, Any]] = answer.json()["members"]
                return members
            except (httpx.HTTPError, ValueError, KeyError):
                continue
        return []

    def _member(self, name: str) -> dict[str, Any]:
        return next((m for m in self.members() if m["name"] == name), {})

    def primary(self) -> Node | None:
        leaders = [
            m["name"]
            for m in self.members()
            if m.get("role") == "leader" and m.get("state") == "running"
        ]
        return next((node for node in self.nodes if node.name in leaders), None)

    def standby(self) -> Node:
        primary = self.primary()
        return next(node for node in self.nodes if node is not primary)

    def synchronous(self) -> bool:
        """A leader running, and a synchronous standby streaming with no lag."""
        roles = {m.get("role"): m for m in self.members()}
        sync = roles.get("sync_standby", {})
        # Patroni 3.0 says "running" of a standby that streams (later versions, "streaming").
        streaming = sync.get("state") in ("running", "streaming")
        return "leader" in roles and streaming and sync.get("lag") == 0

    def wait_until(self, condition: Any, timeout: float, what: str) -> float:
        """Poll `condition` every 100 ms; the seconds it took. Raises if it never holds."""
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"not within {timeout} s: {what}; cluster {self.members()}")
            time.sleep(0.1)
        return time.monotonic() - started

    def switchover(self) -> None:
        primary, standby = self.primary(), self.standby()
        assert primary is not None, "no primary to switch over from"
        subprocess.run(
            [
                *("patronictl", "-c", str(primary.config), "switchover", "--force"),
                *("--leader", primary.name, "--candidate", standby.name),
            ],
            check=True, capture_output=True, **_as_postgres(),
        )  # fmt: skip

    # --- backups ------------------------------------------------------------------------------

    def pgbackrest(self, *args: str) -> str:
        done = subprocess.run(
            ["pgbackrest", f"--config={self.run_dir / 'pgbackrest.conf'}", f"--stanza={STANZA}", *args],
            capture_output=True, text=True, **_as_postgres(),
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"pgbackrest {' '.join(args)}: {done.stdout}{done.stderr}")
        return done.stdout

    def backup(self, kind: str = "full") -> None:
        self.pgbackrest(f"--type={kind}", "backup")

    def archive_now(self) -> None:
        """Switch to a new WAL segment and wait until the last one is in the archive (what
        `pgbackrest check` does): everything committed so far can then be restored."""
        self.pgbackrest("check")

    def restore(self, data_dir: Path, target_time: str | None = None) -> None:
        """Restore the latest backup into `data_dir` (a new, empty folder), replaying the archive
        to its end, or to `target_time` (PostgreSQL's timestamptz text)."""
        data_dir.mkdir(mode=0o700)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(data_dir, user.pw_uid, user.pw_gid)
        target = (
            ["--type=time", f"--target={target_time}", "--target-action=promote"]
            if target_time
            else []
        )
        self.pgbackrest(f"--pg1-path={data_dir}", *target, "restore")

    def state(self) -> dict[str, Any]:
        return {
            "haproxy_port": self.haproxy_port,
            "etcd_port": self.etcd_port,
            "nodes": [node.state() for node in self.nodes],
        }

    def _spawn(self, name: str, command: list[str]) -> None:
        self.processes[name] = start_process(
            command, cwd=self.run_dir, log=self.run_dir / f"{name}.out"
        )


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (PostgreSQL's backends, under its postmaster)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Written whole, then renamed: a reader never sees half of it."""
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(json.dumps(state, indent=2) + "\n")
    partial.replace(path)


class HATopology(Started):
    """The topology of scripts/_topology.py (nginx → replicas → PgBouncer, Redis) in front of
    the cluster: PgBouncer connects to HAProxy, which reaches whichever node is primary."""

    def __init__(self, port: int | None = None, replicas: int = 2) -> None:
        from _topology import Topology

        self.run_dir = Path(tempfile.mkdtemp(prefix="heroes-ha-"))
        self.run_dir.chmod(0o777)  # PostgreSQL, Patroni and pgBackRest run as postgres
        self.cluster = Cluster(self.run_dir)
        self.front = Topology(self.cluster.admin_url, port, replicas)

    @property
    def url(self) -> str:
        return self.front.url

    def start(self) -> None:
        self.cluster.start()
        self.front.start()

    def stop(self) -> None:
        try:
            self.front.stop()  # drops its database through HAProxy: before the cluster stops
        finally:
            self.cluster.stop()
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def state(self) -> dict[str, Any]:
        """What drills and scripts need to find every part (scripts/topology --state FILE)."""
        return {
            "url": self.front.url,
            "database_url": self.front.database_url,
            **self.cluster.state(),
            "pgbouncer_port": self.front.pgbouncer_port,
            "redis_port": self.front.redis_port,
            "replica_ports": self.front.replica_ports,
            "nginx_port": self.front.port,
            "run_dirs": [str(self.run_dir), str(self.front.run_dir)],
        }
