"""`heroes-api` as an operator meets it: errors in one line, a busy port refused at once,
migrate saying what it did, help that documents, and the URL printed once."""

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from _support import free_port
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_ENV, ROOT, missing, start_server, stop_server


class Ran(subprocess.CompletedProcess[str]):
    cpu_seconds: float  # the command's own CPU time (user and system): what load can't inflate


def heroes_api(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Ran:
    """`heroes-api ARGS`; a serve that names no port gets a free one, not 8000 (which a
    developer's own `scripts/serve` may hold)."""
    serves = not args or args[0] not in ("migrate", "keys", "--help")
    if serves and "--port" not in args:
        args = (*args, "--port", str(free_port()))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-m", "api", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ran = Ran(done.args, done.returncode, done.stdout, done.stderr)
    ran.cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return ran


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], *expected: str, status: int = 1
) -> str:
    assert result.returncode == status, result.stderr
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


# Every setting and option, each with a value that can't work: one line naming it, status 2,
# and nothing started (no database made, no port taken).
MISTAKES: list[tuple[str, list[str], dict[str, str], list[str]]] = [
    (
        "database-url",
        ["migrate"],
        {"DATABASE_URL": "heroes.db"},
        ["DATABASE_URL: not a database URL"],
    ),
    (
        "mysql",
        ["migrate"],
        {"DATABASE_URL": "mysql://heroes:s3cr3t-pw@127.0.0.1/heroes"},
        ["DATABASE_URL", "'mysql' is not supported", "postgresql+psycopg://"],
    ),
    (
        "migrate-on-startup",
        [],
        {"HEROES_MIGRATE_ON_STARTUP": "sometimes"},
        ["HEROES_MIGRATE_ON_STARTUP"],
    ),
    ("pool-size", [], {"HEROES_DB_POOL_SIZE": "abc"}, ["HEROES_DB_POOL_SIZE='abc'", "integer"]),
    ("pool-size-zero", [], {"HEROES_DB_POOL_SIZE": "0"}, ["HEROES_DB_POOL_SIZE='0'"]),
    ("max-overflow", [], {"HEROES_DB_MAX_OVERFLOW": "-1"}, ["HEROES_DB_MAX_OVERFLOW"]),
    ("pool-timeout", [], {"HEROES_DB_POOL_TIMEOUT": "0"}, ["HEROES_DB_POOL_TIMEOUT"]),
    ("max-queued", [], {"HEROES_MAX_QUEUED_REQUESTS": "-5"}, ["HEROES_MAX_QUEUED_REQUESTS"]),
    ("prepared", [], {"HEROES_DB_PREPARED_STATEMENTS": "maybe"}, ["HEROES_DB_PREPARED_STATEMENTS"]),
    ("idempotency-ttl", [], {"HEROES_IDEMPOTENCY_TTL": "a while"}, ["HEROES_IDEMPOTENCY_TTL"]),
    ("lock-timeout", [], {"HEROES_DB_LOCK_TIMEOUT": "-1"}, ["HEROES_DB_LOCK_TIMEOUT"]),
    (
        "statement-timeout",
        [],
        {"HEROES_DB_STATEMENT_TIMEOUT": "0"},
        ["HEROES_DB_STATEMENT_TIMEOUT"],
    ),
    (
        "busy-timeout",
        [],
        {"HEROES_SQLITE_BUSY_TIMEOUT_MS": "soon"},
        ["HEROES_SQLITE_BUSY_TIMEOUT_MS"],
    ),
    ("telemetry", [], {"HEROES_TELEMETRY": "2"}, ["HEROES_TELEMETRY"]),
    ("max-body", [], {"HEROES_MAX_BODY_BYTES": "0"}, ["HEROES_MAX_BODY_BYTES"]),
    ("metrics", [], {"HEROES_METRICS": "loud"}, ["HEROES_METRICS"]),
    ("access-log", [], {"HEROES_ACCESS_LOG": "loud"}, ["HEROES_ACCESS_LOG"]),
    ("log-format", [], {"HEROES_LOG_FORMAT": "xml"}, ["HEROES_LOG_FORMAT", "text", "json"]),
    ("public-reads", [], {"HEROES_PUBLIC_READS": "perhaps"}, ["HEROES_PUBLIC_READS"]),
    (
        "forwarded-ips",
        [],
        {"HEROES_FORWARDED_ALLOW_IPS": "not-an-ip"},
        ["HEROES_FORWARDED_ALLOW_IPS", "not an IP address or network"],
    ),
    ("key-refresh", [], {"HEROES_KEY_REFRESH_SECONDS": "600"}, ["HEROES_KEY_REFRESH_SECONDS"]),
    (
        "rate-limit-reads",
        [],
        {"HEROES_RATE_LIMIT_READS": "lots"},
        ["HEROES_RATE_LIMIT_READS", "100/second"],
    ),
    (
        "rate-limit-writes",
        [],
        {"HEROES_RATE_LIMIT_WRITES": "5 a day"},
        ["HEROES_RATE_LIMIT_WRITES"],
    ),
    (
        "redis",
        ["migrate"],
        {"HEROES_REDIS_URL": "notaurl"},
        ["HEROES_REDIS_URL", "not a Redis URL", "redis://host:6379/0"],
    ),
    (
        "cors-not-json",
        ["migrate"],
        {"HEROES_CORS_ORIGINS": "https://app.example"},
        ["HEROES_CORS_ORIGINS is not JSON", '["https://app.example"]'],
    ),
    (
        "cors-not-an-origin",
        ["migrate"],
        {"HEROES_CORS_ORIGINS": '["https://app.example/app"]'},
        ["HEROES_CORS_ORIGINS", "is not an origin", "without a path"],
    ),
    (
        "metrics-folder-missing",
        [],
        {"PROMETHEUS_MULTIPROC_DIR": "/no/such/folder"},
        ["PROMETHEUS_MULTIPROC_DIR", "does not exist"],
    ),
    (
        "metrics-folder-a-file",
        [],
        {"PROMETHEUS_MULTIPROC_DIR": "/etc/hostname"},
        ["PROMETHEUS_MULTIPROC_DIR", "is a file, not a folder"],
    ),
    ("port-too-big", ["--port", "99999"], {}, ["--port", "99999 is not a port: 1 to 65535"]),
    ("port-not-a-number", ["--port", "http"], {}, ["--port", "'http' is not a port number"]),
    (
        "host-unresolvable",
        ["--host", "no.such.host.invalid"],
        {},
        ["--host no.such.host.invalid: not an address to listen on"],
    ),
    ("no-workers", ["--workers", "0"], {}, ["--workers", "0: 1 to"]),
    ("too-many-workers", ["--workers", "100000"], {}, ["--workers", "100000: 1 to", "per CPU"]),
    ("graceful-timeout", ["--graceful-timeout", "-1"], {}, ["--graceful-timeout", "-1: 0 to 3600"]),
    ("log-level", ["--log-level", "chatty"], {}, ["--log-level", "invalid choice"]),
    ("command", ["serve-please"], {}, ["invalid choice: 'serve-please'"]),
]
# The command's own CPU time (not its wall time: load can't inflate it), with a margin: a
# mistake is told before the app, uvicorn or a driver is imported.
MISTAKE_CPU_SECONDS = 1.0


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [pytest.param(args, env, expected, id=name) for name, args, env, expected in MISTAKES],
)
def test_a_configuration_mistake_is_one_line_status_2_at_once(
    args: list[str], env: dict[str, str], expected: list[str], tmp_path: Path
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'heroes.db'}", **env}
    result = heroes_api(*args, env=env, cwd=tmp_path)
    line = assert_one_line_error(result, *expected, status=2)
    assert "s3cr3t-pw" not in line
    assert result.cpu_seconds < MISTAKE_CPU_SECONDS, result.cpu_seconds
    assert list(tmp_path.iterdir()) == []  # nothing made: not even the database


def test_every_setting_has_a_mistake_in_the_table() -> None:
    from api.config import Settings

    named = {variable for _, _, env, _ in MISTAKES for variable in env}
    for name, field in Settings.model_fields.items():
        variable = field.validation_alias or f"HEROES_{name.upper()}"
        assert variable in named, f"no mistake tried for {variable}"


def test_help_answers_in_a_fraction_of_a_second() -> None:
    result = heroes_api("--help")
    assert result.returncode == 0
    assert result.cpu_seconds < 0.5, result.cpu_seconds


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
