"""Every command and code block in README.md and docs/ that can run, runs, as pasted.

The README's walkthrough and its client snippets run here against a live server, and every
answer the walkthrough shows is checked; each other runnable block is run by the test named for it in RUN_BY, or says in CANNOT_RUN why a
test machine can't run it (a host or a package index that isn't there). A block in neither fails
the last test: a newcomer can trust what the pages show."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

README_URL = "http://127.0.0.1:8000"
RUNNABLE = ("bash", "python")
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARK = "@@walkthrough-step-{}@@"

# (page, the start of the block's first line) → the test that runs it, as `file::name`.
RUN_BY = {
    ("README.md", "BASE=http://127.0.0.1:8000"): (
        "tests/system/test_documented_commands.py::test_the_walkthrough_runs_as_pasted"
    ),
    ("README.md", "HEROES_TEST_AGAINST=tutorial"): (
        "tests/system/test_documented_commands.py::test_the_defect_tests_bite_on_the_tutorial"
    ),
    ("README.md", "scripts/serve"): (
        "tests/system/test_documented_commands.py::test_scripts_serve_serves_the_docs"
    ),
    ("README.md", "from heroes_client import"): (
        "tests/system/test_documented_commands.py::test_the_client_snippets_run_as_pasted"
    ),
    ("README.md", "read = client.heroes.retrieve"): (
        "tests/system/test_documented_commands.py::test_the_client_snippets_run_as_pasted"
    ),
    ("README.md", "import asyncio"): (
        "tests/system/test_documented_commands.py::test_the_client_snippets_run_as_pasted"
    ),
    ("README.md", "patient = Heroes("): (
        "tests/system/test_documented_commands.py::test_the_client_snippets_run_as_pasted"
    ),
    ("docs/high-availability.md", "scripts/topology --ha --state ha.json"): (
        "tests/system/test_ha.py::test_topology_ha_writes_its_state_and_stops_everything"
    ),
    ("docs/high-availability.md", "scripts/stress ha"): (
        "tests/system/test_ha.py::test_the_primary_killed_under_writers_is_only_latency_to_the_client"
    ),
    ("docs/changing-the-api.md", "$EDITOR api/heroes/fields.py"): (
        "tests/integration/contract/test_field_plant.py::test_a_new_field_is_one_declaration_and_one_migration"
    ),
    ("docs/changing-the-api.md", "$EDITOR api/bounds.py"): (
        "tests/integration/contract/test_compat.py::test_breaking_change_turns_the_gate_red"
    ),
    ("docs/deploying.md", "scripts/topology"): (
        "tests/system/test_topology.py::test_the_replicas_see_the_client_behind_nginx"
    ),
    ("docs/deploying.md", "scripts/stress writers   [--postgres URL]"): (
        "tests/system/test_stress.py::test_concurrent_writers_on_two_workers_lose_nothing"
    ),
    ("docs/deploying.md", "python3 -m build --wheel"): (
        "tests/system/test_host_install.py::test_the_wheel_installs_alone_and_migrates"
    ),
    ("docs/deploying.md", "sqlite3 /var/lib/heroes-api/heroes.db"): (
        "tests/system/test_host_install.py::test_an_online_backup_under_writes_restores_and_serves"
    ),
    ("docs/performance.md", "scripts/bench"): (
        "tests/system/test_bench.py::test_the_quick_bench_runs_every_route_and_ours_answers_2xx"
    ),
}
# (page, the start of the block's first line) → why no test runs it as shown.
CANNOT_RUN = {
    ("README.md", "twine upload"): "needs a package index; test_client_published.py makes one "
    "on 127.0.0.1 and does the same round trip",
    (
        "docs/high-availability.md",
        "pgbackrest --config=deploy/pgbackrest.conf",
    ): "names a real node's folder and "
    "the file with its @NAME@ values filled in; Cluster.restore (scripts/_ha.py) runs the same two "
    "restores on the drills' cluster (test_ha.py: the point-in-time and the latest restore)",
    ("docs/deploying.md", "DATABASE_URL=postgresql+psycopg://heroes:secret@pgbouncer"): "names "
    "hosts of a real deployment; scripts/topology runs its replicas with these settings",
    ("docs/deploying.md", "export DATABASE_URL=postgresql+psycopg://heroes:secret@db.internal"): (
        "names a host of a real deployment; test_cli.py migrates and serves on PostgreSQL"
    ),
}


def blocks(page: Path) -> list[tuple[str, str]]:
    """The page's fenced code blocks in a language that runs: (language, text), in order."""
    found = re.findall(r"^( *)```(\w*)\n(.*?)^\1```$", page.read_text(), re.S | re.M)
    return [
        (language, re.sub(rf"^{indent}", "", text, flags=re.M))
        for indent, language, text in found
        if language in RUNNABLE
    ]


def listed(page: str, text: str) -> tuple[str, str] | None:
    """The entry of RUN_BY or CANNOT_RUN for this block, if it has one."""
    first = text.splitlines()[0]
    for key in (*RUN_BY, *CANNOT_RUN):
        if key[0] == page and first.startswith(key[1]):
            return key
    return None


def steps(block: str) -> list[tuple[str, list[str]]]:
    """A shell block as (commands, the output lines shown after them); `# …` lines are prose."""
    result: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("# "):
            if not line.startswith("# …"):
                result[-1][1].append(line[2:])
        elif not result or result[-1][1]:
            result.append((line, []))
        else:
            result[-1] = (f"{result[-1][0]}\n{line}", [])
    return result


def walkthrough() -> str:
    for language, text in blocks(ROOT / "README.md"):
        if language == "bash" and text.startswith("BASE="):
            return text
    raise AssertionError("README.md: the walkthrough's block is gone")


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """`command` in the repository's folder, with `env` added; it must succeed."""
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_walkthrough_runs_as_pasted(
    database_url: str, live_server: str, tmp_path: Path
) -> None:
    """In one shell, in the repository's folder, on a new database: the README's block, with
    only BASE changed; every line it shows comes back, in order. Then once more on the same
    database: every step goes through again (new ids, a new key), as the README says."""
    walk = steps(walkthrough())
    assert sum(len(shown) for _, shown in walk) >= 30, "the walkthrough shows its answers"
    assert walkthrough().count(README_URL) == 1, "the walkthrough names the server once, as BASE"
    script = "set -euo pipefail\n" + "".join(
        f"{commands}\nprintf '\\n{MARK.format(n)}\\n'\n" for n, (commands, _) in enumerate(walk)
    )
    script = script.replace(README_URL, live_server)
    result = run(["bash", "-c", script], DATABASE_URL=database_url)
    answers = re.split(r"@@walkthrough-step-\d+@@", result.stdout)
    for (commands, shown), answer in zip(walk, answers, strict=False):
        lines = iter(line.rstrip("\r") for line in answer.splitlines())
        for expected in shown:  # in order; the headers not shown are skipped
            assert expected in lines, f"{commands}\nshowed: {expected}\ngot:\n{answer}"
    again = run(["bash", "-c", script], DATABASE_URL=database_url)
    statuses = re.findall(r"^HTTP/1.1 (\d+)", again.stdout, re.M)
    first = re.findall(r"^HTTP/1.1 (\d+)", result.stdout, re.M)
    assert statuses == first, again.stdout  # the same answers, hero for hero


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_client_snippets_run_as_pasted(api_key: str, live_server: str, tmp_path: Path) -> None:
    """The README's Python blocks in order, in one session, with a key in HEROES_API_KEY (as the
    README says to set up); only the server's address differs."""
    snippets = "\n".join(
        text for language, text in blocks(ROOT / "README.md") if language == "python"
    )
    assert snippets.count(README_URL) == 1, "the snippets name the server once, as BASE_URL"
    script = snippets.replace(README_URL, live_server)
    result = run([sys.executable, "-c", script], HEROES_API_KEY=api_key)
    assert "Deadpond" in result.stdout  # the async read printed the hero
    assert "412" in result.stdout  # the stale copy was refused
    # Together, as one script, they pass mypy --strict.
    pasted = tmp_path / "readme_client.py"
    pasted.write_text(snippets)
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", "/dev/null",
         str(pasted)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_defect_tests_bite_on_the_tutorial() -> None:
    """The README's "Do the tests bite?" block, as a newcomer runs it (SQLite only: no
    PostgreSQL URL set): the counts it shows are what comes back."""
    (block,) = [t for lang, t in blocks(ROOT / "README.md") if t.startswith("HEROES_TEST_AGAINST")]
    command, (shown,) = steps(block)[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEROES_TEST")}
    result = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 1  # tests failed, as they must
    assert f"{shown}," in result.stdout.splitlines()[-1], result.stdout[-2000:]


def test_the_operating_page_shows_what_the_command_prints(tmp_path: Path) -> None:
    """docs/operating.md's console block: each `$ ` line run in a folder of its own (the page's
    /srv/heroes), and what it prints is what the page shows."""
    page = (ROOT / "docs" / "operating.md").read_text()
    block = re.search(r"```console\n(.*?)```", page, re.S)
    assert block is not None, "docs/operating.md: the console block is gone"
    folder = tmp_path / "srv" / "heroes"
    folder.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEROES_", "DATABASE_URL"))}
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env['PATH']}"
    lines = block.group(1).splitlines()
    commands = [(n, line[2:]) for n, line in enumerate(lines) if line.startswith("$ ")]
    assert len(commands) >= 4
    for n, command in commands:
        shown = lines[n + 1].replace("/srv/heroes", str(folder))
        said = subprocess.run(
            ["bash", "-c", command], cwd=folder, env=env, capture_output=True, text=True
        )
        assert (said.stdout + said.stderr).strip() == shown, (command, said.stderr)


def test_scripts_serve_serves_the_docs(tmp_path: Path) -> None:
    """`scripts/serve` as the README runs it (only the port and database differ): / leads to
    the docs, and SIGTERM stops it cleanly."""
    from _support import free_port, start_process, stop_process, wait_until_serving

    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'heroes.db'}"}
    server = start_process(
        [str(ROOT / "scripts" / "serve"), "--port", str(port)], env=env, log=tmp_path / "log"
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", process=server, status=307)
        assert f"{tmp_path / 'heroes.db'}" in server.log_text()  # the database, named whole
    finally:
        stop_process(server, timeout=10)
    assert server.returncode == 0, server.log_text()[-2000:]


def test_every_runnable_block_is_run_by_a_test_or_says_why_not() -> None:
    seen = set()
    for page in PAGES:
        name = str(page.relative_to(ROOT))
        for _, text in blocks(page):
            key = listed(name, text)
            assert key is not None, f"{name}: no test runs the block {text.splitlines()[0]!r}"
            seen.add(key)
    assert not (set(RUN_BY) | set(CANNOT_RUN)) - seen, "a block listed here is no longer there"
    for test in set(RUN_BY.values()):
        path, name = test.split("::")
        assert f"def {name}(" in (ROOT / path).read_text(), f"{test} does not exist"
