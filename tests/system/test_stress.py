"""Reduced runs of scripts/stress (the full ones are in the README): concurrent writers on two
workers, a kill -9 mid-write, and 256 connections on one worker. Each fails on any 5xx, dropped
request (but in the crash, where dropping is the point), lost write or server traceback."""

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import POSTGRES_ENV, ROOT, missing

STRESS = ROOT / "scripts" / "stress"
# They load both cores: run them one at a time, on one xdist worker.
pytestmark = pytest.mark.xdist_group("stress")


def stress(*args: str, database: str) -> str:
    command = [sys.executable, str(STRESS), *args]
    if database == "postgresql":
        command += ["--postgres", os.environ[POSTGRES_ENV]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert result.stdout.strip().endswith("PASS")
    return result.stdout


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_concurrent_writers_on_two_workers_lose_nothing(database_url: str) -> None:
    database = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    out = stress(
        "writers", "--seconds", "4", "--writers", "32", "--workers", "2", database=database
    )
    assert "5xx 0, dropped 0, lost writes 0" in out


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_kill_9_mid_write_loses_no_acknowledged_hero(database_url: str) -> None:
    database = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    out = stress("crash", "--seconds", "6", "--writers", "16", "--workers", "2", database=database)
    assert "lost writes 0" in out
    if database == "sqlite":
        assert "integrity_check ok" in out


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_256_connections_get_no_5xx(database_url: str) -> None:
    if not shutil.which("wrk"):
        missing("wrk is not installed (Debian: apt-get install wrk); .ci/run installs it")
    out = stress("overload", "--seconds", "3", "--connections", "256", database="sqlite")
    assert out.count("non-2xx 0, socket errors 0") == 4, out
