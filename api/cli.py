"""The `heroes-api` command: serve (the default), migrate, or manage API keys.

A mistake in the configuration or an unreachable database ends it with one line on stderr
(the password of a URL hidden) and a non-zero status; tracebacks are for bugs.
"""

import argparse
import logging
import os
import re
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:  # imported when used: `--help` and a mistake answer before they load
    from pydantic import ValidationError
    from sqlalchemy import Engine
    from sqlalchemy.exc import SQLAlchemyError

    from api.config import Settings

log = logging.getLogger("uvicorn.error")
# A worker is one event loop, using one CPU at most: beyond this many per CPU, more only add
# memory, start-up time and contention.
WORKERS_PER_CPU = 4
MAX_WORKERS = WORKERS_PER_CPU * (os.cpu_count() or 1)
# A configuration mistake (and a usage error): 2. The database or the port: 1.
CONFIGURATION_MISTAKE = 2

EPILOG = """\
commands:
  serve                    run the service (the default)
  migrate                  bring the database's schema up to date, and say from which revision
  keys create NAME         make an API key (printed once, as the last line) for writes
  keys list                list the keys: name, created, active or revoked
  keys revoke NAME         revoke a key; every replica refuses it within seconds

environment (the settings; README.md lists them all):
  DATABASE_URL             sqlite:///heroes.db (default), or postgresql+psycopg://user:pw@host/db
  HEROES_MIGRATE_ON_STARTUP  true: serve and keys migrate the database first
  HEROES_LOG_FORMAT        text (default) or json
  HEROES_ACCESS_LOG        true: one log line per request
  HEROES_METRICS           true: Prometheus metrics at /metrics
  HEROES_PUBLIC_READS      true: GETs need no key (writes always do, once a key exists)
  HEROES_RATE_LIMIT_READS, HEROES_RATE_LIMIT_WRITES, HEROES_REDIS_URL   rate limits
  HEROES_FORWARDED_ALLOW_IPS  127.0.0.1: proxies whose X-Forwarded-For is believed

exit status: 0 after a clean stop (SIGTERM or SIGINT: requests in flight are finished first);
1 for a database or port error (one line on stderr); 2 for a usage or configuration mistake
(one line on stderr, before anything starts); 3 when the service failed to start.
"""


class CliError(Exception):
    """A mistake of environment (the database, the port): one line, no traceback, status 1."""

    status = 1


class ConfigurationMistake(CliError):
    """A setting or an option that can't work: one line, status 2, before anything starts."""

    status = CONFIGURATION_MISTAKE


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "keys":
        if args.action is None or (args.action != "list") != (args.name is not None):
            parser.error("usage: heroes-api keys create NAME | keys list | keys revoke NAME")
    elif args.action or args.name:
        parser.error(f"unexpected arguments after {args.command!r}")
    try:
        if args.command == "serve":
            _check_host(args.host)
        settings = _settings()
        from api.logs import configure

        configure(settings.log_format, args.log_level)
        if args.command == "keys":
            _keys(settings, args.action, args.name)
        elif args.command == "migrate":
            _migrate(settings)
        else:
            sys.exit(_serve(settings, args))
    except CliError as error:
        print(f"heroes-api: {error}", file=sys.stderr)
        sys.exit(error.status)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: 1 to 65535")
    return port


def _workers(text: str) -> int:
    try:
        workers = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers") from None
    if not 1 <= workers <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(
            f"{workers}: 1 to {MAX_WORKERS} ({WORKERS_PER_CPU} per CPU: a worker uses one CPU "
            "at most, and more only add memory and start-up time)"
        )
    return workers


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"{text}: 0 to 3600 seconds")
    return seconds


def _check_host(host: str) -> None:
    """The address to listen on must name this machine's interfaces: one that doesn't resolve
    is a mistake, said as such (not as a port in use)."""
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigurationMistake(
            f"--host {host}: not an address to listen on ({reason})"
        ) from None


class _Parser(argparse.ArgumentParser):
    def format_help(self) -> str:
        # The version only when asked for: importlib.metadata alone costs a tenth of a second
        # that every mistake would pay.
        from importlib.metadata import version

        self.description = f"Run the Heroes API {version('heroes-api')}, or manage its database."
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        """A usage mistake in one line (argparse prints the whole usage first), status 2."""
        self.exit(CONFIGURATION_MISTAKE, f"heroes-api: {message} (heroes-api --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="heroes-api",
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=["serve", "migrate", "keys"],
        default="serve",
        help="what to do (below)",
    )
    parser.add_argument(
        "action", nargs="?", choices=["create", "list", "revoke"], help="keys: what to do"
    )
    parser.add_argument("name", nargs="?", help="keys create/revoke: the key's name")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=_port, default=8000, help="port to listen on")
    parser.add_argument(
        "--workers", type=_workers, default=1, help=f"worker processes (1 to {MAX_WORKERS})"
    )
    parser.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="least severe log lines shown (request lines are info)",
    )
    parser.add_argument(
        "--no-access-log", action="store_true", help="no line per request (HEROES_ACCESS_LOG)"
    )
    parser.add_argument(
        "--graceful-timeout",
        type=_seconds,
        default=20.0,
        metavar="SECONDS",
        help="on SIGTERM, how long requests in flight may take to finish",
    )
    return parser


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    def _get_help_string(self, action: argparse.Action) -> str | None:
        # "(default: None)" and "(default: False)" say nothing.
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


def _settings() -> "Settings":
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from api.config import get_settings

    try:
        return get_settings()
    except ValidationError as error:
        raise ConfigurationMistake(_settings_problem(error)) from None
    except SettingsError as error:
        # A list or dict setting whose value isn't JSON: pydantic-settings names only the field.
        found = re.search(r'field "(\w+)"', str(error))
        variable = _variable(found.group(1)) if found else "a setting"
        raise ConfigurationMistake(
            f'invalid setting: {variable} is not JSON: write it as ["https://app.example"]'
        ) from None


def _variable(field: str) -> str:
    name = field.upper()
    return name if name in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR") else f"HEROES_{name}"


def _settings_problem(error: "ValidationError") -> str:
    problems = []
    for problem in error.errors():
        message = problem["msg"].removeprefix("Value error, ")
        if not problem["loc"]:  # the settings as a whole: the message names the variable
            problems.append(message)
            continue
        field = str(problem["loc"][0])
        # A URL may hold a password: never echoed.
        shown = "" if field.lower().endswith("url") else f"={problem['input']!r}"
        problems.append(f"{_variable(field)}{shown}: {message}")
    return "invalid setting: " + "; ".join(problems)


def _shown_url(settings: "Settings") -> str:
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(settings.database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(DATABASE_URL, not shown)"


def _database_problem(settings: "Settings", error: "SQLAlchemyError") -> CliError:
    # The driver's first line says what went wrong; the rest is SQL and pointers to docs.
    cause = getattr(error, "orig", None) or error
    reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return CliError(f"cannot use the database {_shown_url(settings)}: {reason}")


def _engine(settings: "Settings") -> "Engine":
    from sqlalchemy.exc import SQLAlchemyError

    from api.db import create_db_engine

    try:
        return create_db_engine(settings)
    except (SQLAlchemyError, ImportError) as error:
        # ImportError: a dialect whose driver isn't installed (postgresql:// means psycopg2).
        raise ConfigurationMistake(f"DATABASE_URL {_shown_url(settings)}: {error}") from None


def _sqlite_file(settings: "Settings") -> Path | None:
    """The SQLite database's file, if DATABASE_URL names one."""
    from sqlalchemy import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _say(line: str) -> None:
    """What a command tells its operator: on stdout, where a script reads it."""
    print(line, flush=True)


def _migrate(settings: "Settings", say: Callable[[str], None] = _say) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from api.migrate import upgrade_to_head

    engine = _engine(settings)
    try:
        before, after = upgrade_to_head(engine)
    except SQLAlchemyError as error:
        raise _database_problem(settings, error) from None
    finally:
        engine.dispose()
    where = _shown_url(settings)
    if before == after:
        say(f"migrate: {where} is up to date, at revision {after} (head)")
    else:
        say(f"migrate: {where} from revision {before or 'none (empty)'} to {after} (head)")


def _keys(settings: "Settings", action: str, name: str | None) -> None:
    """`heroes-api keys create NAME | list | revoke NAME`, on the database of DATABASE_URL."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.keys import KeyNameError, create_key, list_keys, revoke_key

    sqlite_file = _sqlite_file(settings)
    if action != "create" and sqlite_file is not None and not sqlite_file.exists():
        # Not made here by a typo'd folder: only a new key makes a database.
        raise CliError(
            f"keys {action}: no database at {sqlite_file} (DATABASE_URL): run it where the "
            "service's database is, or set DATABASE_URL"
        )
    if settings.migrate_on_startup:
        _migrate(settings)  # which names the database
    else:
        _say(f"keys: the database at {_shown_url(settings)}")
    engine = _engine(settings)
    try:
        if action == "list":
            rows = list_keys(engine)
            for row in rows:
                revoked = row["revoked_at"]
                state = f"revoked {revoked:%Y-%m-%d %H:%M:%S}" if revoked else "active"
                print(f"{row['name']}\tcreated {row['created_at']:%Y-%m-%d %H:%M:%S}\t{state}")
            if not rows:
                print("no API keys: the service is in protected mode (writes from loopback only)")
        elif action == "create":
            assert name is not None
            key = create_key(engine, name)
            print(f"created API key {name!r}. It is shown once, here; store it now:")
            print(key)
        else:
            assert name is not None
            revoke_key(engine, name)
            print(f"revoked API key {name!r}: every replica refuses it within a few seconds")
    except KeyNameError as error:
        raise CliError(f"keys {action}: {error}") from None
    except SQLAlchemyError as error:
        raise _database_problem(settings, error) from None
    finally:
        engine.dispose()


def _serve(settings: "Settings", args: argparse.Namespace) -> int:
    # Here, not at the top: uvicorn and the app are most of the command's import time, which
    # `keys` and `migrate` don't need (a mistake is reported within a second).
    from api.serve import PortInUse, ServeOptions, check_port_free, serve

    if settings.forwarded_allow_ips.strip() == "*":
        log.warning(
            "HEROES_FORWARDED_ALLOW_IPS=*: any peer's X-Forwarded-For is believed, so any client "
            "can claim any address (use it only behind a proxy that sets it)"
        )
    try:
        check_port_free(args.host, args.port)  # before migrating: a busy port fails at once
    except PortInUse as error:
        raise CliError(str(error)) from None
    if args.no_access_log:
        settings = settings.model_copy(update={"access_log": False})
    if settings.migrate_on_startup:
        # Migrate once here, so that workers starting together don't race to do it.
        # Its line goes to the service's log, in its format (one JSON object with json).
        _migrate(settings, say=log.info)  # which names the database
        settings = settings.model_copy(update={"migrate_on_startup": False})
    else:
        log.info("serve: the database at %s", _shown_url(settings))
    options = ServeOptions(
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        log_level=args.log_level,
        graceful_timeout=args.graceful_timeout,
    )
    try:
        return serve(settings, options)
    except PortInUse as error:
        raise CliError(str(error)) from None
