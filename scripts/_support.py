"""The toolkit that the scripts (bench, stress, compat, topology, drills) and the tests share:
the venv, free ports, child processes (servers, proxies) and waiting for them, API keys made the
operator's way, wrk's output, throwaway databases. One of each, here."""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def use_project_venv(script: str) -> None:
    """Re-run `script` with the project's pinned interpreter, so that it can import `api`."""
    if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != VENV_PYTHON.parent.parent.resolve():
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), script, *sys.argv[1:]])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def heroes_api(port: int, *args: str) -> list[str]:
    """The command that runs `heroes-api` on 127.0.0.1:`port` with this interpreter."""
    return [sys.executable, "-m", "api", "--port", str(port), *args]


class Child(subprocess.Popen[bytes]):
    """A child process that writes to a log file (`log`)."""

    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def tracebacks(self) -> int:
        return self.log_text().count("Traceback")


def start_process(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
    group: bool = True,
    **as_user: Any,
) -> Child:
    """`command` in a child process, its output appended to `log` (a temporary file if None;
    never a pipe: one nobody reads fills up and stalls the child). In a process group of its
    own (`group`, the default), so that stop_process and kill_process reach all it started
    (a server's workers) at once. `as_user`: Popen's user, group and extra_groups, for a
    server that refuses to run as root."""
    if log is None:
        handle, name = tempfile.mkstemp(prefix="heroes-process-", suffix=".log")
        os.close(handle)
        log = Path(name)
    with log.open("ab") as sink:
        process = Child(
            command,
            env=env,
            cwd=cwd,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=group,
            **as_user,
        )
    process.log = log
    return process


# How long a server that is still running may take to answer: a slow machine's start is waited
# for (no deadline it could miss); this only ends a start that hangs.
HUNG_START_SECONDS = 600.0


def wait_until_serving(
    url: str,
    timeout: float | None = None,
    process: subprocess.Popen[bytes] | None = None,
    status: int | None = None,
) -> None:
    """Wait until `url` answers (with `status`, if given). With `process`: for as long as it
    runs (failing at once if it exits), however slow the machine; without, `timeout` (60 s)."""
    import httpx

    if timeout is None:
        timeout = HUNG_START_SECONDS if process is not None else 60.0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            said = process.log_text() if isinstance(process, Child) else ""
            raise RuntimeError(f"the server exited (code {process.returncode}):\n{said}")
        try:
            answer = httpx.get(url, timeout=1)
            if status is None or answer.status_code == status:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered at {url} within {timeout} s")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM (to its group, if it has one of its own), then SIGKILL if it won't stop: a
    deadlocked server (the tutorial app under load, for one) may not stop politely."""
    if process.poll() is not None:
        return
    _signal(process, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_process(process)


def kill_process(process: subprocess.Popen[bytes]) -> None:
    """kill -9: no graceful anything."""
    _signal(process, signal.SIGKILL)
    process.wait()


def _signal(process: subprocess.Popen[bytes], number: signal.Signals) -> None:
    try:
        if os.getpgid(process.pid) == process.pid:  # a group of its own: all its workers
            os.killpg(process.pid, number)
        else:
            process.send_signal(number)
    except ProcessLookupError:
        pass


class Started:
    """`with` for something with start() and stop(): stopped even when its start fails half way
    (whatever did start is stopped)."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def make_key(env: dict[str, str], name: str = "key", cwd: Path = ROOT) -> str:
    """A new API key, made the operator's way (`heroes-api keys create`, which migrates a new
    database first) in the database that `env`'s DATABASE_URL names."""
    made = subprocess.run(
        [sys.executable, "-m", "api", "keys", "create", f"{name}-{time.time_ns()}"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip().splitlines()[-1]


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int  # connect, read, write and timeout errors together

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(out: str) -> WrkResult:
    """wrk's report (run with --latency) as numbers."""
    latency = {p: float(v) * _UNIT[u] for p, v, u in _LATENCY.findall(out)}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{out}")
    return WrkResult(
        rps=float(rps.group(1)),
        p50_ms=latency.get("50", 0.0),
        p99_ms=latency.get("99", 0.0),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


class Databases:
    """Throwaway databases: SQLite files in `folder`, or PostgreSQL databases on `postgres`."""

    def __init__(self, folder: Path, postgres: str | None) -> None:
        self.folder, self.postgres = folder, postgres
        self.created: list[str] = []

    def url(self, name: str) -> str:
        if not self.postgres:
            return f"sqlite:///{self.folder / name}.db"
        from sqlalchemy import create_engine, make_url, text

        database = f"heroes_{name}_{os.getpid()}"
        admin = create_engine(self.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        self.created.append(database)
        return make_url(self.postgres).set(database=database).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.postgres or not self.created:
            return
        from sqlalchemy import create_engine, text

        admin = create_engine(self.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for database in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
