"""The contract's artefacts, shared by regenerate, release and compat: the version, the released
copies in releases/, and the generated client."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "openapi.json"
CLIENT = ROOT / "client"
RELEASES = ROOT / "releases"
CHANGELOG = ROOT / "CHANGELOG.md"
CONSUMER = ROOT / "tests" / "client" / "consumer.py"
CLIENT_CONFIG = ROOT / "scripts" / "client-config.yaml"
CLIENT_TEMPLATES = ROOT / "scripts" / "client-templates"


def schemathesis_env(**extra: str) -> dict[str, str]:
    """The environment of a Schemathesis CLI run on our contract: the contract suite's hooks
    (tests/support/contract_hooks.py: each generated write gets an Idempotency-Key of its own)."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.support.contract_hooks",
        "PYTHONPATH": path,
        **extra,
    }


class Version(NamedTuple):
    """A release number, MAJOR.MINOR.PATCH (Semantic Versioning; no pre-releases)."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> "Version":
        match = re.fullmatch(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)", text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a MAJOR.MINOR.PATCH version")
        return cls(*map(int, match.groups()))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def project_version(root: Path = ROOT) -> Version:
    """The one place the version is written: `version` in pyproject.toml."""
    return Version.parse(tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"])


def released_versions() -> list[Version]:
    if not RELEASES.is_dir():
        return []
    found = []
    for folder in RELEASES.iterdir():
        if (folder / "openapi.json").is_file():
            found.append(Version.parse(folder.name))
    return sorted(found)


def release_dir(version: Version) -> Path:
    return RELEASES / str(version)


def generate_client(
    schema_path: Path, output: Path, templates: Path | None = CLIENT_TEMPLATES
) -> None:
    """Run the pinned generator with the committed configuration (and `templates`: ours by
    default; None for the generator's own). The package version is the schema's info.version:
    no second number to keep in step."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    # The generator's own CLI, but for one addition: the templates see the x- extensions.
    generator = Path(__file__).with_name("_client_generator.py")
    subprocess.run(
        [sys.executable, str(generator), str(schema_path), str(CLIENT_CONFIG),
         str(templates or ""), str(output)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def build_client(source: Path, output: Path) -> list[Path]:
    """The client's wheel and sdist, built with the pinned backend (no download), then checked
    the way PyPI would check them."""
    before = set(output.glob("*")) if output.is_dir() else set()
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(output), str(source)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    built = sorted(set(output.glob("*")) - before)
    subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, built)], check=True
    )
    return built


UNRELEASED = "## [Unreleased]"


def unreleased_notes(changelog: str) -> str:
    """The text under "## [Unreleased]", up to the next version's heading."""
    if UNRELEASED not in changelog:
        raise ValueError(f"CHANGELOG.md has no '{UNRELEASED}' section")
    after = changelog.split(UNRELEASED, 1)[1]
    return re.split(r"^## \[", after, maxsplit=1, flags=re.MULTILINE)[0].strip()


def move_unreleased(changelog: str, version: Version, date: str) -> str:
    """Keep a Changelog: the Unreleased notes become the version's section; Unreleased starts empty."""
    notes = unreleased_notes(changelog)
    if not re.search(r"^- ", notes, flags=re.MULTILINE):
        raise ValueError("CHANGELOG.md's [Unreleased] section lists no change: nothing to release")
    if f"## [{version}]" in changelog:
        raise ValueError(f"CHANGELOG.md already has a section for {version}")
    head, rest = changelog.split(UNRELEASED, 1)
    tail = (rest.split(notes, 1)[1] if notes else rest).lstrip("\n")
    section = f"## [{version}] - {date}\n\n{notes}\n"
    return f"{head}{UNRELEASED}\n\n{section}" + (f"\n{tail}" if tail else "")


def set_project_version(pyproject: str, version: Version) -> str:
    """pyproject.toml with [project] version set; the one place the version is written."""
    updated, count = re.subn(
        r'^(version\s*=\s*)"[^"]*"', rf'\g<1>"{version}"', pyproject, count=1, flags=re.MULTILINE
    )
    if count != 1:
        raise ValueError("pyproject.toml has no version line")
    return updated
