"""The resource-style client (`Heroes`, `AsyncHeroes`) as a user meets it: sdk_consumer.py, the
README's walk through it, passes mypy --strict in a venv holding only the client, and runs
against a live server with a 3-a-second write limit on both databases."""

import subprocess
import sys
from pathlib import Path

import pytest
from _support import free_port

from tests.conftest import start_server, stop_server

CONSUMER = Path(__file__).with_name("sdk_consumer.py")


def test_the_sdk_consumer_passes_mypy_strict(client_venv: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--strict", "--no-incremental"),
            *("--python-executable", str(client_venv), "--config-file", "/dev/null"),
            str(CONSUMER),
        ],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_the_sdk_consumer_runs_against_a_live_server(
    client_venv: Path, database_url: str, api_key: str, tmp_path: Path
) -> None:
    env = {"HEROES_RATE_LIMIT_WRITES": "3/second"}
    server, base_url = start_server(database_url, env=env, log=tmp_path / "server.log")
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    try:
        result = subprocess.run(
            [client_venv, str(CONSUMER), base_url, api_key, down],
            capture_output=True, text=True, cwd="/", timeout=300,
        )  # fmt: skip
    finally:
        stop_server(server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every step behaved as the README says" in result.stdout
    assert "stale: 412" in result.stdout
    assert "gone: 404" in result.stdout
    assert "limited: retry after" in result.stdout
    assert "down: Connection error" in result.stdout
