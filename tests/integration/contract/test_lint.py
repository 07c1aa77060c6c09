"""The linters API teams run find nothing in openapi.json: Spectral (spectral:oas and the OWASP
API security ruleset) and Redocly (its `recommended` ruleset), both pinned in lint/package-lock.json.
The one exception, in both rulesets, is the trailing slash of `/heroes/`, the tutorial's path.

Node and npm are not on every developer's machine: without them this skips with one line saying
so; .ci/run sets HEROES_TEST_STRICT=1, which turns that skip into a failure.
"""

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, require_tool

LINT = Path(__file__).with_name("lint")
RULESET = LINT / ".spectral.yaml"
REDOCLY_CONFIG = LINT / "redocly.yaml"
# npm must not run install scripts (one dependency's would send analytics), and neither tool may
# phone home (Redocly sends telemetry and looks for updates unless told not to).
QUIET = {
    **os.environ,
    "SCARF_ANALYTICS": "false",
    "DO_NOT_TRACK": "1",
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
}

pytestmark = pytest.mark.xdist_group("lint")


@pytest.fixture(scope="module")
def bin_dir() -> Path:
    """The pinned linters, installed from package-lock.json on first use."""
    require_tool("npm", "The OpenAPI lint (Node.js and npm)")
    stamp = LINT / "node_modules" / ".installed-lock"
    lock = hashlib.sha256((LINT / "package-lock.json").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != lock:
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=LINT,
            env=QUIET,
            check=True,
            timeout=300,
        )
        stamp.write_text(lock)
    return LINT / "node_modules" / ".bin"


def _run(command: list[str | Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, env=QUIET, timeout=120, check=False, cwd=LINT
    )


def _spectral(bin_dir: Path, document: Path) -> subprocess.CompletedProcess[str]:
    return _run(
        [bin_dir / "spectral", "lint", document, "--ruleset", RULESET, "--fail-severity=hint"]
    )


def _redocly(bin_dir: Path, document: Path) -> subprocess.CompletedProcess[str]:
    return _run([bin_dir / "redocly", "lint", "--config", REDOCLY_CONFIG, document])


def test_openapi_json_passes_spectral_and_owasp(bin_dir: Path) -> None:
    result = _spectral(bin_dir, ROOT / "openapi.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No results" in result.stdout


def test_openapi_json_passes_redocly_recommended(bin_dir: Path) -> None:
    result = _redocly(bin_dir, ROOT / "openapi.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Your API description is valid" in result.stdout + result.stderr


def _planted(tmp_path: Path, plant: Callable[[dict[str, Any]], None]) -> Path:
    schema = json.loads((ROOT / "openapi.json").read_text())
    plant(schema)
    planted = tmp_path / "openapi.json"
    planted.write_text(json.dumps(schema))
    return planted


def test_spectral_bites(bin_dir: Path, tmp_path: Path) -> None:
    def unbounded(schema: dict[str, Any]) -> None:
        del schema["components"]["schemas"]["HeroCreate"]["properties"]["name"]["maxLength"]

    result = _spectral(bin_dir, _planted(tmp_path, unbounded))
    assert result.returncode != 0
    assert "owasp:api4:2023-string-limit" in result.stdout


def test_redocly_bites(bin_dir: Path, tmp_path: Path) -> None:
    def unsecured(schema: dict[str, Any]) -> None:
        del schema["paths"]["/health"]["get"]["security"]

    result = _redocly(bin_dir, _planted(tmp_path, unsecured))
    assert result.returncode != 0
    assert "security-defined" in result.stdout + result.stderr


@pytest.mark.parametrize("ruleset", [RULESET, REDOCLY_CONFIG], ids=["spectral", "redocly"])
def test_each_ruleset_gives_a_reason_for_every_rule_it_turns_off(ruleset: Path) -> None:
    lines = ruleset.read_text().splitlines()
    for number, line in enumerate(lines):
        if line.strip().endswith(": off") and not line.startswith("      "):
            assert lines[number - 1].strip().startswith("#"), f"no reason above: {line.strip()}"


def test_the_trailing_slash_is_the_only_rule_both_turn_off_for_the_same_reason() -> None:
    off = [
        line.strip() for line in REDOCLY_CONFIG.read_text().splitlines() if line.endswith(": off")
    ]
    assert off == ["no-path-trailing-slash: off"]
