"""Schemathesis against the committed openapi.json: all checks, all phases, zero failures.

In-process over ASGI through the pytest integration (examples, coverage, fuzzing, then the
stateful create → read → update → delete chains), and over a real socket through the `st` CLI.
"""

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from sqlalchemy import Engine

from tests.conftest import ROOT, clear_heroes
from tests.support.contract import (
    CONFIG_PATH,
    SCHEMA_PATH,
    contract_env,
    load_contract,
    max_examples,
)


@pytest.fixture
def contract(app: FastAPI, api_key: str) -> Iterator[Any]:
    # Every run has a key, so that writes are checked as the contract describes them (and
    # Schemathesis' ignored_auth check sees them refused without it).
    with TestClient(app):  # runs the lifespan: engine, migrations, keys
        yield load_contract(app, api_key)


schema = schemathesis.pytest.from_fixture("contract")


@schema.parametrize()
def test_contract_in_process(case: Any) -> None:
    case.call_and_validate()


def test_contract_stateful_in_process(contract: Any, engine: Engine) -> None:
    class Workflow(contract.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each run starts from an empty table, so that what Hypothesis replays is what it saw.
            clear_heroes(engine)

    run_state_machine_as_test(
        Workflow,
        settings=settings(
            max_examples=max_examples(),
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            stateful_step_count=10,
        ),
    )


def test_contract_over_socket(api_key: str, live_server: str, database_url: str) -> None:
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    junit = ROOT / "reports" / f"schemathesis-socket-{backend}.xml"
    # The key reaches the CLI through the environment: schemathesis.toml names the variable.
    env = contract_env(api_key)
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG_PATH)),
        *("run", str(SCHEMA_PATH), "--url", live_server),
        *("--checks", "all", "--phases", "examples,coverage,fuzzing,stateful"),
        *("--max-examples", str(max_examples()), "--include-path-regex", "^/heroes"),
        *("--workers", "1", "--report", "junit", "--report-junit-path", str(junit)),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, env=env
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout
