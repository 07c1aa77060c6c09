"""Every configuration mistake is one line, exit status 2, told before the app is imported; and
--help, fast and complete. No server starts and no database is made here."""

from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, heroes_api

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
    # A name with an empty label fails before any DNS server is asked: nothing leaves this machine.
    (
        "host-unresolvable",
        ["--host", "no..such.host"],
        {},
        ["--host no..such.host: not an address to listen on"],
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
