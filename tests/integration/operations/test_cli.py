"""`heroes-api` as an operator meets it: errors in one line, a busy port refused at once,
migrate saying what it did, help that documents, and the URL printed once."""

import os
import socket
import time
from pathlib import Path

import _support
import httpx
import pytest
from _support import free_port
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_ENV, missing, start_server, stop_server
from tests.support.cli import assert_one_line_error, heroes_api


@pytest.mark.parametrize(("first", "second"), [(2, 2), (1, 2), (2, 1), (1, 1)])
def test_a_second_instance_on_a_busy_port_fails_at_once(
    tmp_path: Path, first: int, second: int
) -> None:
    process, base = start_server(
        f"sqlite:///{tmp_path / 'first.db'}", "--workers", str(first), log=tmp_path / "first.log"
    )
    try:
        port = base.rsplit(":", 1)[1]
        started = time.monotonic()
        result = heroes_api(
            "--port",
            port,
            "--workers",
            str(second),
            env={"DATABASE_URL": f"sqlite:///{tmp_path / 'second.db'}"},
        )
        assert time.monotonic() - started < 15
        assert_one_line_error(result, f"127.0.0.1:{port} is already in use")
        # It changed nothing: not even its own database was made, and the first still serves.
        assert not (tmp_path / "second.db").exists()
        assert httpx.get(f"{base}/health").status_code == 200
    finally:
        stop_server(process)


def test_a_metrics_folder_holding_anything_else_is_refused_and_left_alone(
    tmp_path: Path,
) -> None:
    """The folder where several workers' metrics meet is emptied of earlier runs' metrics at
    start: one that holds anything else (a database beside) is refused, and nothing in it is
    touched."""
    folder = tmp_path / "shared"
    folder.mkdir()
    for name in ("heroes.db", "other.db", "counter_123.db"):
        (folder / name).write_text(name)
    env = {
        "DATABASE_URL": f"sqlite:///{folder / 'heroes.db'}",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
    }
    result = heroes_api("--workers", "2", env=env)
    assert_one_line_error(
        result, "PROMETHEUS_MULTIPROC_DIR", "heroes.db, other.db", "nothing in it", status=2
    )
    assert {p.name: p.read_text() for p in folder.iterdir()} == {
        n: n for n in ("heroes.db", "other.db", "counter_123.db")
    }


def test_a_metrics_folder_of_their_own_loses_only_earlier_metrics(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_99999.db").write_text("an earlier run's")
    process, base = start_server(
        f"sqlite:///{tmp_path / 'heroes.db'}",
        "--workers",
        "2",
        env={"PROMETHEUS_MULTIPROC_DIR": str(folder)},
        log=tmp_path / "server.log",
    )
    try:
        assert httpx.get(f"{base}/metrics").status_code == 200
        assert not (folder / "counter_99999.db").exists()
    finally:
        stop_server(process)


def test_a_relative_sqlite_path_is_resolved_once_and_printed_whole(tmp_path: Path) -> None:
    result = heroes_api("migrate", env={"DATABASE_URL": "sqlite:///heroes.db"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"migrate: sqlite:///{tmp_path / 'heroes.db'} from revision" in result.stdout
    assert (tmp_path / "heroes.db").exists()


def test_postgres_scheme_from_a_host_is_postgresql_through_psycopg(postgres_url: str) -> None:
    # What Heroku, Render or Supabase hand out: postgres://user@host/db.
    url = make_url(postgres_url).set(drivername="postgres").render_as_string(hide_password=False)
    result = heroes_api("migrate", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "migrate: postgresql+psycopg://" in result.stdout


def test_an_unreachable_database_is_one_line_with_the_password_hidden() -> None:
    url = f"postgresql+psycopg://heroes:s3cr3t-pw@127.0.0.1:{free_port()}/heroes"
    line = assert_one_line_error(
        heroes_api(env={"DATABASE_URL": url}), "cannot use the database", "Connection refused"
    )
    assert "s3cr3t-pw" not in line
    assert "heroes:***@127.0.0.1" in line


def test_a_database_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-directory' / 'heroes.db'}"
    assert_one_line_error(heroes_api(env={"DATABASE_URL": url}), "unable to open database file")


def test_a_postgresql_database_that_does_not_exist_is_one_line() -> None:
    admin = os.environ.get(POSTGRES_ENV)
    if not admin:
        missing(f"PostgreSQL half skipped: {POSTGRES_ENV} is not set")
    url = admin.rsplit("/", 1)[0] + "/no_such_database_here"
    assert_one_line_error(
        heroes_api("migrate", env={"DATABASE_URL": url}),
        'database "no_such_database_here" does not exist',
    )


def test_migrate_says_from_which_revision_to_which(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'heroes.db'}"}
    first = heroes_api("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "from revision none (empty) to 0005 (head)" in first.stdout
    again = heroes_api("migrate", env=env)
    assert again.returncode == 0, again.stderr
    assert "is up to date, at revision 0005 (head)" in again.stdout


@pytest.mark.parametrize("workers", [1, 2])
def test_start_up_prints_the_url_and_the_docs_url_once(tmp_path: Path, workers: int) -> None:
    log = tmp_path / "server.log"
    process, base = start_server(
        f"sqlite:///{tmp_path / 'h.db'}", "--workers", str(workers), log=log
    )
    try:
        assert httpx.get(f"{base}/docs").status_code == 200
    finally:
        stop_server(process)
    text = log.read_text()
    lines = [line for line in text.splitlines() if base in line]
    assert len(lines) == 1, text
    assert f"on {base} (docs: {base}/docs)" in lines[0]


def test_keys_says_which_database_it_uses(tmp_path: Path) -> None:
    """An operator in another folder must not write keys to another database unawares: every
    command names the database it opens, on stdout."""
    path = tmp_path / "heroes.db"
    env = {"DATABASE_URL": f"sqlite:///{path}"}
    assert heroes_api("migrate", env=env).returncode == 0
    for migrate in ("true", "false"):  # migrating first names it too; not migrating says it
        result = heroes_api("keys", "list", env={**env, "HEROES_MIGRATE_ON_STARTUP": migrate})
        assert result.returncode == 0, result.stderr
        assert str(path) in result.stdout
        assert "protected mode" in result.stdout


@pytest.mark.parametrize("action", [["list"], ["revoke", "someone"]])
def test_keys_in_a_folder_without_the_database_makes_none(
    tmp_path: Path, action: list[str]
) -> None:
    """`heroes-api keys list` run from the wrong folder: told so, and no ./heroes.db made."""
    result = heroes_api("keys", *action, env={"DATABASE_URL": "sqlite:///heroes.db"}, cwd=tmp_path)
    assert_one_line_error(result, f"no database at {tmp_path / 'heroes.db'}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_the_port_is_held_once_the_url_is_printed(tmp_path: Path, workers: int) -> None:
    """ "Heroes API on URL" means the port is ours: another server trying it from then on is
    refused (it used to be printed seconds before the bind, while the app loaded, and a server
    starting meanwhile took the port and the requests meant for this one)."""
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'heroes.db'}"}
    process = _support.start_process(
        _support.heroes_api(port, "--workers", str(workers)), env=env, log=log
    )
    try:
        while f"Heroes API on http://127.0.0.1:{port}" not in process.log_text():
            assert process.poll() is None, process.log_text()
            time.sleep(0.01)
        with socket.socket() as other:
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            with pytest.raises(OSError, match="Address already in use"):
                other.bind(("127.0.0.1", port))
        _support.wait_until_serving(f"http://127.0.0.1:{port}/health", process=process, status=200)
    finally:
        _support.stop_process(process)
