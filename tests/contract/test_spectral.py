"""Spectral (spectral:oas and the OWASP API security ruleset) finds nothing in openapi.json.

Node and npm are not on every developer's machine: without them this skips with one line saying
so; .ci/run sets HEROES_TEST_STRICT=1, which turns that skip into a failure.
"""

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_tool

SPECTRAL = Path(__file__).with_name("spectral")
RULESET = SPECTRAL / ".spectral.yaml"
# npm must not run install scripts (one dependency's would send analytics) or phone home.
QUIET_NPM = {**os.environ, "SCARF_ANALYTICS": "false", "DO_NOT_TRACK": "1"}

pytestmark = pytest.mark.xdist_group("spectral")


@pytest.fixture(scope="module")
def spectral() -> Path:
    """The pinned Spectral CLI, installed from package-lock.json on first use."""
    require_tool("npm", "Spectral lint (Node.js and npm)")
    binary = SPECTRAL / "node_modules" / ".bin" / "spectral"
    stamp = SPECTRAL / "node_modules" / ".installed-lock"
    lock = hashlib.sha256((SPECTRAL / "package-lock.json").read_bytes()).hexdigest()
    if not binary.exists() or not stamp.exists() or stamp.read_text() != lock:
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=SPECTRAL,
            env=QUIET_NPM,
            check=True,
            timeout=300,
        )
        stamp.write_text(lock)
    return binary


def _lint(spectral: Path, document: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [spectral, "lint", str(document), "--ruleset", str(RULESET), "--fail-severity=hint"],
        capture_output=True,
        text=True,
        env=QUIET_NPM,
        timeout=120,
        check=False,
    )


def test_openapi_json_passes_spectral_and_owasp(spectral: Path) -> None:
    result = _lint(spectral, ROOT / "openapi.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No results" in result.stdout


def test_the_lint_bites(spectral: Path, tmp_path: Path) -> None:
    schema = json.loads((ROOT / "openapi.json").read_text())
    del schema["components"]["schemas"]["HeroCreate"]["properties"]["name"]["maxLength"]
    planted = tmp_path / "openapi.json"
    planted.write_text(json.dumps(schema))
    result = _lint(spectral, planted)
    assert result.returncode != 0
    assert "owasp:api4:2023-string-limit" in result.stdout


def test_the_ruleset_gives_a_reason_for_every_rule_it_turns_off() -> None:
    lines = RULESET.read_text().splitlines()
    for number, line in enumerate(lines):
        if line.strip().endswith(": off") and not line.startswith("      "):
            assert lines[number - 1].strip().startswith("#"), f"no reason above: {line.strip()}"
