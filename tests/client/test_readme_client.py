"""The README's client snippets run as pasted, in order, in one session, against a live server
with a key in HEROES_API_KEY (as the README says to set up); only the server's address differs."""

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

README_URL = "http://127.0.0.1:8000"


def _client_snippets() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The generated client", 1)[1].split("\n## ", 1)[0]
    return "\n".join(re.findall(r"```python\n(.*?)```", section, re.S))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_readme_client_snippets_run_as_pasted(api_key: str, live_server: str) -> None:
    snippets = _client_snippets()
    assert snippets.count(README_URL) == 1, "the snippets name the server once, as BASE_URL"
    script = snippets.replace(README_URL, live_server)
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "HEROES_API_KEY": api_key},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Deadpond" in result.stdout  # the async read printed the hero
