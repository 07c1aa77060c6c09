"""`heroes-api` as an operator meets it: errors in one line, a busy port refused at once,
migrate saying what it did, help that documents, and the URL printed once."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from _support import free_port
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_ENV, ROOT, missing, start_server, stop_server


def heroes_api(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`heroes-api ARGS`; a serve that names no port gets a free one, not 8000 (which a
    developer's own `scripts/serve` may hold)."""
    serves = not args or args[0] not in ("migrate", "keys", "--help")
    if serves and "--port" not in args:
        args = (*args, "--port", str(free_port()))
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("heroes-api: ")
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in lines[0]
    return lines[0]


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


def test_a_setting_that_is_not_valid_is_one_line() -> None:
    result = heroes_api(env={"HEROES_DB_POOL_SIZE": "abc"})
    assert_one_line_error(result, "HEROES_DB_POOL_SIZE='abc'", "integer")


def test_a_url_that_is_not_a_url_is_one_line() -> None:
    result = heroes_api("migrate", env={"DATABASE_URL": "heroes.db"})
    assert_one_line_error(result, "DATABASE_URL: not a database URL")


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        pytest.param(
            ["migrate"],
            {"HEROES_CORS_ORIGINS": "https://app.example"},
            ["HEROES_CORS_ORIGINS is not JSON", '["https://app.example"]'],
            id="cors-not-json",
        ),
        pytest.param(
            ["migrate"],
            {"HEROES_CORS_ORIGINS": '["https://app.example/app"]'},
            ["HEROES_CORS_ORIGINS", "is not an origin", "without a path"],
            id="cors-not-an-origin",
        ),
        pytest.param(
            ["migrate"],
            {"DATABASE_URL": "mysql://heroes:s3cr3t-pw@127.0.0.1/heroes"},
            ["DATABASE_URL", "'mysql' is not supported", "postgresql+psycopg://"],
            id="mysql",
        ),
        pytest.param(
            ["migrate"],
            {"HEROES_REDIS_URL": "notaurl"},
            ["HEROES_REDIS_URL", "not a Redis URL", "redis://host:6379/0"],
            id="redis-not-a-url",
        ),
        pytest.param(["--workers", "0"], {}, ["--workers 0", "1 or more"], id="no-workers"),
    ],
)
def test_a_configuration_mistake_is_one_line_naming_it(
    args: list[str], env: dict[str, str], expected: list[str]
) -> None:
    result = heroes_api(*args, env=env)
    line = assert_one_line_error(result, *expected)
    assert "s3cr3t-pw" not in line


def test_a_relative_sqlite_path_is_resolved_once_and_printed_whole(tmp_path: Path) -> None:
    result = heroes_api("migrate", env={"DATABASE_URL": "sqlite:///heroes.db"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"migrate: sqlite:///{tmp_path / 'heroes.db'} from revision" in result.stderr
    assert (tmp_path / "heroes.db").exists()


def test_postgres_scheme_from_a_host_is_postgresql_through_psycopg(postgres_url: str) -> None:
    # What Heroku, Render or Supabase hand out: postgres://user@host/db.
    url = make_url(postgres_url).set(drivername="postgres").render_as_string(hide_password=False)
    result = heroes_api("migrate", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "migrate: postgresql+psycopg://" in result.stderr


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
    assert "from revision none (empty) to 0005 (head)" in first.stderr
    again = heroes_api("migrate", env=env)
    assert again.returncode == 0, again.stderr
    assert "is up to date, at revision 0005 (head)" in again.stderr


def test_help_shows_defaults_commands_and_environment() -> None:
    result = heroes_api("--help")
    assert result.returncode == 0
    for text in (
        "(default: 8000)",
        "(default: 127.0.0.1)",
        "(default: 1)",
        "migrate ",
        "keys create NAME",
        "DATABASE_URL",
        "HEROES_LOG_FORMAT",
        "exit status",
    ):
        assert text in result.stdout, text


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
    """An operator in another folder must not write keys to another database unawares."""
    path = tmp_path / "heroes.db"
    env = {"DATABASE_URL": f"sqlite:///{path}"}
    for migrate in ("true", "false"):  # migrating first names it too; not migrating says it
        result = heroes_api("keys", "list", env={**env, "HEROES_MIGRATE_ON_STARTUP": migrate})
        assert result.returncode == 0, result.stderr
        assert str(path) in result.stderr
        assert "protected mode" in result.stdout
