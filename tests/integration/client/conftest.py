"""The client's tests: a virtual environment holding heroes-client alone, shared by the modules
that run a consumer in it (one per xdist worker that needs it)."""

import subprocess
import venv
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="session")
def client_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment holding heroes-client and what it needs, and nothing else."""
    path = tmp_path_factory.mktemp("client-venv")
    venv.create(path, with_pip=True)
    python = path / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", ROOT / "client"],
        check=True,
        timeout=300,
    )
    return python
