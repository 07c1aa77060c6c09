"""client/ installs on its own into a fresh virtual environment, and a consumer type-checks."""

import subprocess
import sys
from pathlib import Path

import pytest

CONSUMER = Path(__file__).with_name("consumer.py")


def test_client_installs_without_the_service(client_venv: Path) -> None:
    probe = "import heroes_client, importlib.util; print(importlib.util.find_spec('api'))"
    result = subprocess.run(
        [client_venv, "-c", probe], capture_output=True, text=True, check=True, cwd="/"
    )
    assert result.stdout.strip() == "None"


def test_consumer_passes_mypy_strict(client_venv: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--strict", "--no-incremental"),
            *("--python-executable", str(client_venv), "--config-file", "/dev/null"),
            str(CONSUMER),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_consumer_runs_against_a_live_server(
    client_venv: Path, api_key: str, live_server: str
) -> None:
    result = subprocess.run(
        [client_venv, str(CONSUMER), live_server, api_key], capture_output=True, text=True, cwd="/"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every operation behaved as documented" in result.stdout
