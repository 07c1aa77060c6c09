"""Installing on a host as docs/deploying.md says: the wheel installs on its own and migrates a
database; deploy/heroes-api.service passes `systemd-analyze verify` and its ExecStart line serves
until SIGTERM, exiting 0; SQLite's online backup, taken under writes, restores and serves."""

import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from _support import free_port, start_process, stop_process, wait_until_serving

from tests.conftest import ROOT, require_tool, start_server, stop_server

UNIT = ROOT / "deploy" / "heroes-api.service"


def _unit(key: str) -> str:
    found = re.search(rf"^{key}=(.*)$", UNIT.read_text(), re.M)
    assert found is not None, f"deploy/heroes-api.service: no {key}="
    return found.group(1)


@pytest.mark.xdist_group("wheel")
def test_the_wheel_installs_alone_and_migrates(tmp_path: Path) -> None:
    """`python3 -m build --wheel`, the page's first step; the wheel's files alone (its
    dependencies from this venv) run `heroes-api migrate`: the migrations are in it."""
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), "."],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = dist.glob("heroes_api-*-py3-none-any.whl")
    target = tmp_path / "installed"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    database = tmp_path / "heroes.db"
    env = {**os.environ, "PYTHONPATH": str(target), "DATABASE_URL": f"sqlite:///{database}"}
    ran = subprocess.run(
        [sys.executable, "-c", "import api, sys; sys.argv[0] = 'heroes-api'; "
         "assert api.__file__.startswith(sys.argv[1]); from api.cli import main; "
         "sys.argv[1:] = ['migrate']; main()", str(target)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "to 0005 (head)" in ran.stdout


def test_the_systemd_unit_verifies_and_its_command_serves_until_sigterm(tmp_path: Path) -> None:
    require_tool("systemd-analyze", "The systemd unit's check")
    heroes_api = ROOT / ".venv" / "bin" / "heroes-api"
    unit = tmp_path / "heroes-api.service"
    unit.write_text(UNIT.read_text().replace("/opt/heroes-api/bin/heroes-api", str(heroes_api)))
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stderr
    # Its command line as systemd would run it: another port, a database of the test's.
    command = shlex.split(
        _unit("ExecStart").replace("/opt/heroes-api/bin/heroes-api", str(heroes_api))
    )
    port = free_port()
    command[command.index("--port") + 1] = str(port)
    command[command.index("--host") + 1] = "127.0.0.1"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'heroes.db'}"}
    server = start_process(command, env=env, log=tmp_path / "server.log")
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/health", process=server, status=200)
        os.kill(server.pid, signal.SIGTERM)  # KillMode=mixed: the main process only
        graceful = float(command[command.index("--graceful-timeout") + 1])
        assert graceful + 2 < float(_unit("TimeoutStopSec"))
        stopped = server.wait(timeout=float(_unit("TimeoutStopSec")))
        assert stopped == 0, server.log_text()[-3000:]
    finally:
        stop_process(server)


def test_an_online_backup_under_writes_restores_and_serves(tmp_path: Path) -> None:
    """The page's backup line (sqlite3's .backup) while writers write, then the copy served."""
    require_tool("sqlite3", "The SQLite backup test")
    database = tmp_path / "heroes.db"
    process, base = start_server(f"sqlite:///{database}", log=tmp_path / "server.log")
    backup = tmp_path / "backup.db"
    stop = threading.Event()

    def write() -> None:
        with httpx.Client(base_url=base) as client:
            n = 0
            while not stop.is_set():
                client.post("/heroes/", json={"name": f"w{n}", "secret_name": "s"})
                n += 1

    writer = threading.Thread(target=write)
    try:
        writer.start()
        subprocess.run(["sqlite3", str(database), f".backup {backup}"], check=True, timeout=60)
    finally:
        stop.set()
        writer.join()
        stop_server(process)
    assert sqlite3.connect(backup).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    kept = sqlite3.connect(backup).execute("SELECT count(*) FROM hero").fetchone()[0]
    restored = tmp_path / "restored" / "heroes.db"
    restored.parent.mkdir()
    shutil.copyfile(backup, restored)
    process, base = start_server(f"sqlite:///{restored}", log=tmp_path / "restored.log")
    try:
        page = httpx.get(
            f"{base}/heroes/", params={"limit": 100}, headers={"Prefer": "count=exact"}
        )
        assert page.status_code == 200
        assert page.headers["content-range"].endswith(f"/{kept}")
    finally:
        stop_server(process)
