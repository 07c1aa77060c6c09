"""The production topology on loopback ports, from Debian's packages: nginx balancing heroes-api
replicas, PgBouncer (transaction mode) in front of PostgreSQL, Redis for the shared rate limits.

nginx and PgBouncer run the files in deploy/ (docs/deploying.md shows the same files), with their
@NAME@ values filled in. Used by scripts/topology (to run it) and by the tests (to drill it).
"""

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _support import (
    ROOT,
    Child,
    Databases,
    Started,
    free_port,
    heroes_api,
    kill_process,
    start_process,
    stop_process,
    wait_until_serving,
)
from sqlalchemy import URL

DEPLOY = ROOT / "deploy"
TOOLS = ("nginx", "pgbouncer", "redis-server")


def fill(template: Path, values: dict[str, object]) -> str:
    text = template.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", str(value))
    settings = "\n".join(
        line.split("#")[0] for line in text.splitlines() if not line.startswith(";")
    )
    if re.search(r"@[A-Z0-9_]+@", settings):
        raise ValueError(f"{template.name}: a @NAME@ value was not filled in")
    return text


class Topology(Started):
    def __init__(self, admin_url: str, port: int | None = None, replicas: int = 2) -> None:
        from sqlalchemy import make_url

        missing = [tool for tool in TOOLS if not shutil.which(tool)]
        if missing:
            raise RuntimeError(
                f"not installed: {', '.join(missing)} (apt-get install {' '.join(missing)})"
            )
        self.admin = make_url(admin_url)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.run_dir = Path(tempfile.mkdtemp(prefix="heroes-topology-"))
        # nginx's workers and PgBouncer run as other users: they write here too.
        self.run_dir.chmod(0o777)
        self.pgbouncer_port, self.redis_port = free_port(), free_port()
        self.replica_ports = [free_port() for _ in range(replicas)]
        self.databases = Databases(self.run_dir, admin_url)
        self.processes: dict[str, Child] = {}
        self.database_url = ""

    # --- start and stop ---------------------------------------------------------------------

    def start(self) -> None:
        direct = self.databases.url("topology")
        database = direct.rsplit("/", 1)[1]
        self.start_pgbouncer()
        self.database_url = (
            f"postgresql+psycopg://{self.admin.username or 'postgres'}"
            f"{':' + self.admin.password if self.admin.password else ''}"
            f"@127.0.0.1:{self.pgbouncer_port}/{database}"
        )
        self._spawn(
            "redis",
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port)),
                *("--save", "", "--appendonly", "no", "--dir", str(self.run_dir)),
            ],
        )
        # Migrated once, through PgBouncer, before the replicas start.
        subprocess.run(
            [sys.executable, "-m", "api", "migrate"],
            env=self.replica_env(),
            check=True,
            capture_output=True,
        )
        for n in range(len(self.replica_ports)):
            self.start_replica(n)
        self.start_nginx()

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            self._stop(name)
        self.databases.drop_all()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    # --- the parts ----------------------------------------------------------------------------

    def replica_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "HEROES_DB_PREPARED_STATEMENTS": "false",  # PgBouncer in transaction mode
            "HEROES_DB_POOL_SIZE": "10",
            "HEROES_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "HEROES_FORWARDED_ALLOW_IPS": "127.0.0.1",  # nginx, on this machine
            "HEROES_MIGRATE_ON_STARTUP": "false",
        }

    def start_replica(self, n: int) -> None:
        port, name = self.replica_ports[n], f"replica-{n + 1}"
        self._spawn(
            name,
            heroes_api(port),
            env=self.replica_env(),
        )
        wait_until_serving(f"http://127.0.0.1:{port}/health", process=self.processes[name])

    def kill_replica(self, n: int) -> None:
        """kill -9: no graceful anything."""
        kill_process(self.processes.pop(f"replica-{n + 1}"))

    def start_pgbouncer(self) -> None:
        command = pgbouncer_command(self.run_dir, self.admin, self.pgbouncer_port)
        self._spawn("pgbouncer", command)
        wait_for_port(self.pgbouncer_port)

    def restart_pgbouncer(self) -> None:
        self._stop("pgbouncer")
        self.start_pgbouncer()

    def start_nginx(self) -> None:
        config = self.run_dir / "nginx.conf"
        values: dict[str, object] = {"PORT": self.port, "RUN_DIR": self.run_dir}
        for n, port in enumerate(self.replica_ports):
            values[f"REPLICA_{n + 1}_PORT"] = port
        config.write_text(fill(DEPLOY / "nginx.conf", values))
        self._spawn(
            "nginx", ["nginx", "-p", str(self.run_dir), "-c", str(config), "-g", "daemon off;"]
        )
        wait_until_serving(f"{self.url}/health")

    def log(self, name: str) -> str:
        return (self.run_dir / f"{name}.out").read_text(errors="replace")

    # --- processes ----------------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = self.run_dir / f"{name}.out"
        self.processes[name] = start_process(command, env=env, cwd=self.run_dir, log=log)

    def _stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is not None:
            stop_process(process)


def pgbouncer_command(
    run_dir: Path, admin: URL, port: int, pool_size: int = 20, mode: str = "transaction"
) -> list[str]:
    """Write deploy/pgbouncer.ini, filled in (in pool mode `mode`), and its user list into
    `run_dir` (which the postgres user must be able to write to); return the command that
    runs PgBouncer on them."""
    (run_dir / "userlist.txt").write_text(
        f'"{admin.username or "postgres"}" "{admin.password or ""}"\n'
    )
    config = run_dir / "pgbouncer.ini"
    config.write_text(
        fill(
            DEPLOY / "pgbouncer.ini",
            {
                "POSTGRES_HOST": admin.host or "127.0.0.1",
                "POSTGRES_PORT": admin.port or 5432,
                "PORT": port,
                "AUTH_TYPE": "plain" if admin.password else "trust",
                "POOL_SIZE": pool_size,
                "POOL_MODE": mode,
                "RUN_DIR": run_dir,
            },
        )
    )
    command = ["pgbouncer", str(config)]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        user = pwd.getpwnam("postgres")
        for path in (config, run_dir / "userlist.txt"):
            os.chown(path, user.pw_uid, user.pw_gid)
        command[1:1] = ["-u", "postgres"]
    return command


def wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")
