"""The house's shape: docs/layout.md names every module of the service and every script (a
newcomer finds where a request goes by reading it); imports run down the layers, never in a
cycle (import-linter, pyproject.toml); every test is in a tier."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_every_module_and_script_is_in_the_layout() -> None:
    layout = (ROOT / "docs" / "layout.md").read_text()
    files = [
        *(p for p in (ROOT / "api").rglob("*.py") if "migrations" not in p.parts),
        *(p for p in (ROOT / "scripts").iterdir() if p.is_file() and p.suffix in ("", ".py")),
    ]
    missing = [
        str(path.relative_to(ROOT))
        for path in files
        if path.name != "__init__.py" and f"`{path.relative_to(ROOT)}`" not in layout
    ]
    assert not missing, f"not in docs/layout.md: {missing}"


LINT_IMPORTS = ROOT / ".venv" / "bin" / "lint-imports"


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    # lint-imports reads [tool.importlinter] from pyproject.toml and imports from the folder
    # it runs in.
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120
    )


def test_imports_run_down_the_layers_and_never_in_a_cycle() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        ("api/bounds.py", "import api.main", "never back up"),
        ("api/db/engine.py", "import api.db.database", "No cycle"),
    ],
    ids=["back-up", "cycle"],
)
def test_an_import_back_up_or_in_a_cycle_is_found(
    tmp_path: Path, module: str, planted: str, contract: str
) -> None:
    shutil.copytree(ROOT / "api", tmp_path / "api", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    path = tmp_path / module
    path.write_text(f"{planted}  # noqa\n{path.read_text()}")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    # (An import back up usually closes a cycle too: both contracts may say so.)
    assert [line for line in broken if contract in line], result.stdout


def test_every_test_is_in_a_tier() -> None:
    """tests/ holds the three tiers, what they share, and the fixtures: nothing else."""
    tiers = {"unit", "integration", "system", "support"}
    found = {
        path.name
        for path in (ROOT / "tests").iterdir()
        if path.name not in ("__init__.py", "conftest.py", "__pycache__")
    }
    assert found == tiers
