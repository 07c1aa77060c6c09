"""Versions and releases: one version number everywhere, released contracts kept as they were."""

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from types import ModuleType

import pytest

from tests.conftest import ROOT, missing

RELEASES = ROOT / "releases"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
RELEASED = sorted((p.name for p in RELEASES.iterdir()), key=lambda v: tuple(map(int, v.split("."))))


def _load_contract_helpers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_contract", ROOT / "scripts" / "_contract.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


contract = _load_contract_helpers()


def test_the_version_is_written_once_and_everything_follows_it() -> None:
    schema = json.loads((ROOT / "openapi.json").read_text())
    client = tomllib.loads((ROOT / "client" / "pyproject.toml").read_text())
    assert schema["info"]["version"] == VERSION
    assert client["project"]["version"] == VERSION
    assert "package_version_override" not in (ROOT / "scripts" / "client-config.yaml").read_text()


def test_1_0_0_is_released() -> None:
    assert "1.0.0" in RELEASED


@pytest.mark.parametrize("version", RELEASED)
def test_a_release_holds_its_contract_and_its_consumer(version: str) -> None:
    folder = RELEASES / version
    assert sorted(p.name for p in folder.iterdir()) == ["consumer.py", "openapi.json"]
    assert json.loads((folder / "openapi.json").read_text())["info"]["version"] == version


@pytest.mark.parametrize("version", RELEASED)
def test_a_released_contract_is_never_edited(version: str) -> None:
    if not (ROOT / ".git").exists():
        missing("needs the git history (a clone of the repository)")
    for name in ("openapi.json", "consumer.py"):
        path = f"releases/{version}/{name}"
        commits = subprocess.run(
            ["git", "log", "--format=%H", "--", path],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert len(commits) == 1, f"{path} was changed after its release: {commits}"
        edited = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--", path], cwd=ROOT, check=False
        )
        assert edited.returncode == 0, f"{path} has uncommitted edits"


def test_the_changelog_has_a_section_per_release_newest_first() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", changelog, re.M)
    assert headings[0] == ("Unreleased", "")
    versions = [version for version, date in headings[1:] if date]
    assert len(versions) == len(headings) - 1, "every released section carries its date"
    assert versions == list(reversed(RELEASED))


def test_release_moves_the_unreleased_notes_under_the_version() -> None:
    before = "# Changelog\n\n## [Unreleased]\n\n### Added\n- a filter\n\n## [1.0.0] - 2026-11-27\n\n- first\n"
    after = contract.move_unreleased(before, contract.Version.parse("1.1.0"), "2026-12-01")
    assert after == (
        "# Changelog\n\n## [Unreleased]\n\n## [1.1.0] - 2026-12-01\n\n### Added\n- a filter\n\n"
        "## [1.0.0] - 2026-11-27\n\n- first\n"
    )


def test_release_refuses_an_empty_unreleased_section() -> None:
    empty = "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2026-11-27\n\n- first\n"
    with pytest.raises(ValueError, match="lists no change"):
        contract.move_unreleased(empty, contract.Version.parse("1.1.0"), "2026-12-01")


def test_set_project_version_changes_only_the_project_version() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    updated = contract.set_project_version(text, contract.Version.parse("7.8.9"))
    assert tomllib.loads(updated)["project"]["version"] == "7.8.9"
    assert updated.replace('"7.8.9"', f'"{VERSION}"', 1) == text


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("1.0", "is not a MAJOR.MINOR.PATCH version"),
        ("1.0.0", "is not newer than the last release"),
        ("0.9.9", "is not newer than the last release"),
    ],
)
def test_release_refuses_a_bad_version_and_changes_nothing(argument: str, message: str) -> None:
    watched = ["pyproject.toml", "CHANGELOG.md", "openapi.json"]
    before = {name: (ROOT / name).read_text() for name in watched}
    result = subprocess.run(
        [sys.executable, ROOT / "scripts" / "release", argument],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert {name: (ROOT / name).read_text() for name in watched} == before
    assert sorted(p.name for p in RELEASES.iterdir()) == sorted(RELEASED)
