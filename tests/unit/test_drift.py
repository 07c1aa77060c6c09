"""openapi.json is the contract: it validates, and scripts/regenerate --check catches any drift."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from tests.conftest import ROOT

REGENERATE = ROOT / "scripts" / "regenerate"
# The drift tests each generate a client: keep them on one xdist worker, one after another.
pytestmark = pytest.mark.xdist_group("drift")


def run_check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "regenerate"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the parts of the repository that regenerate reads and writes."""
    for name in ("api", "client", "scripts"):
        shutil.copytree(
            ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", ".pdm-build")
        )
    for name in ("openapi.json", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_committed_openapi_json_is_a_valid_openapi_document() -> None:
    validate(json.loads((ROOT / "openapi.json").read_text()))


def test_check_passes_on_the_committed_tree(tree: Path) -> None:
    result = run_check(tree)
    assert result.returncode == 0, result.stderr


def test_check_reports_a_changed_route(tree: Path) -> None:
    parameters = tree / "api" / "heroes" / "params.py"  # the routes' query and header parameters
    source = parameters.read_text()
    planted = source.replace('"Page size."', '"Page size, at most 100."')
    assert planted != source
    parameters.write_text(planted)
    result = run_check(tree)
    assert result.returncode == 1
    assert "openapi.json: differs from the code" in result.stderr
    added = [line for line in result.stderr.splitlines() if line.startswith("+")]
    assert any("Page size, at most 100." in line for line in added)


def test_check_reports_a_hand_edited_openapi_json(tree: Path) -> None:
    schema = tree / "openapi.json"
    schema.write_text(schema.read_text().replace('"title": "Heroes API"', '"title": "Heroes"'))
    result = run_check(tree)
    assert result.returncode == 1
    assert "openapi.json: differs from the code" in result.stderr
    assert '"title": "Heroes"' in result.stderr


def test_check_reports_hand_edits_to_the_client(tree: Path) -> None:
    # Both kinds in one run (each generates the client: ~8 s of CI); each is reported by name.
    module = tree / "client" / "heroes_client" / "api" / "heroes" / "read_hero.py"
    module.write_text(module.read_text() + "\n# a hand edit\n")
    (tree / "client" / "heroes_client" / "extra.py").write_text("X = 1\n")
    result = run_check(tree)
    assert result.returncode == 1
    assert "client/heroes_client/api/heroes/read_hero.py: differs" in result.stderr
    assert "client/heroes_client/extra.py: not written by the generator" in result.stderr


def test_regenerate_is_a_no_op_on_an_up_to_date_tree(tree: Path) -> None:
    before = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    subprocess.run([sys.executable, str(tree / "scripts" / "regenerate")], check=True, timeout=300)
    after = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    assert after == before
