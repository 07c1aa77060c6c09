"""The client as users get it: published to a package index, installed by version, used.

A real index (pypiserver) on 127.0.0.1 receives the built wheel and sdist through `twine upload`;
a fresh virtual environment then installs `heroes-client==<version>` from that index alone and
runs the consumer scenario against a live server.
"""

import os
import subprocess
import sys
import time
import tomllib
import venv
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _support import free_port

from tests.conftest import ROOT

CONSUMER = ROOT / "tests" / "integration" / "client" / "consumer.py"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _run(*command: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result: subprocess.CompletedProcess[str] = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
    return result


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"the package index did not answer at {url}")


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A pypiserver on a free port, with uploads open, serving a folder of its own."""
    packages = tmp_path_factory.mktemp("index")
    port = free_port()
    server = subprocess.Popen(
        [
            *(
                sys.executable,
                "-m",
                "pypiserver",
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ),
            *("--authenticate", ".", "--passwords", ".", "--disable-fallback"),
            str(packages),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/health")
        yield url, packages
    finally:
        server.terminate()
        server.wait(timeout=10)


def _index_only_env() -> dict[str, str]:
    # This machine's pip configuration adds other indexes and wheel folders: the install must
    # see nothing but the index under test.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_client_installs_from_an_index_by_version_and_works(
    index: tuple[str, Path], tmp_path: Path, api_key: str, live_server: str
) -> None:
    url, packages = index
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT / "client")
    built = sorted(dist.iterdir())
    assert [p.name for p in built] == [
        f"heroes_client-{VERSION}-py3-none-any.whl",
        f"heroes_client-{VERSION}.tar.gz",
    ]
    _run(sys.executable, "-m", "twine", "check", "--strict", *built)
    _run(
        *(sys.executable, "-m", "twine", "upload", "--non-interactive"),
        *("--repository-url", f"{url}/", "-u", "ci", "-p", "ci", *built),
    )
    # What the client depends on (httpx, attrs, …) goes on the index too, so that the install
    # below resolves everything from it and nothing else.
    needs = tmp_path / "needs"
    _run(sys.executable, "-m", "pip", "download", "--quiet", "--dest", needs, built[0])
    for wheel in needs.iterdir():
        if not wheel.name.startswith("heroes_client"):  # the client arrives by upload only
            wheel.rename(packages / wheel.name)

    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    _run(
        *(python, "-m", "pip", "install", "--quiet", "--no-cache-dir"),
        *("--index-url", f"{url}/simple/", f"heroes-client=={VERSION}"),
        env=_index_only_env(),
    )
    installed = _run(
        python, "-c", "import importlib.metadata as m; print(m.version('heroes-client'))", cwd="/"
    )
    assert installed.stdout.strip() == VERSION

    result = subprocess.run(
        [python, CONSUMER, live_server, api_key],
        capture_output=True,
        text=True,
        cwd="/",
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every operation behaved as documented" in result.stdout
