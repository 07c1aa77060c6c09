"""The `heroes-api` command: serve (the default), migrate, or manage API keys.

A mistake in the configuration or an unreachable database ends it with one line on stderr
(the password of a URL hidden) and a non-zero status; tracebacks are for bugs.
"""

import argparse
import logging
import re
import sys
from importlib.metadata import version

from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from api.config import Settings, get_settings
from api.db import create_db_engine
from api.keys import KeyNameError, create_key, list_keys, revoke_key
from api.logs import configure
from api.migrate import upgrade_to_head

log = logging.getLogger("uvicorn.error")

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
1 for a configuration, database or port error (one line on stderr); 2 for a usage error;
3 when the service failed to start.
"""


class CliError(Exception):
    """A mistake of configuration or environment: reported in one line, without a traceback."""


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "keys":
        if args.action is None or (args.action != "list") != (args.name is not None):
            parser.error("usage: heroes-api keys create NAME | keys list | keys revoke NAME")
    elif args.action or args.name:
        parser.error(f"unexpected arguments after {args.command!r}")
    try:
        if args.workers < 1:
            raise CliError(f"--workers {args.workers}: a worker process at least (1 or more)")
        settings = _settings()
        configure(settings.log_format, args.log_level)
        if args.command == "keys":
            _keys(settings, args.action, args.name)
        elif args.command == "migrate":
            _migrate(settings)
        else:
            sys.exit(_serve(settings, args))
    except CliError as error:
        sys.exit(f"heroes-api: {error}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="heroes-api",
        description=f"Run the Heroes API {version('heroes-api')}, or manage its database.",
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
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1 or more)")
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
        type=float,
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


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as error:
        raise CliError(_settings_problem(error)) from None
    except SettingsError as error:
        # A list or dict setting whose value isn't JSON: pydantic-settings names only the field.
        found = re.search(r'field "(\w+)"', str(error))
        variable = _variable(found.group(1)) if found else "a setting"
        raise CliError(
            f'invalid setting: {variable} is not JSON: write it as ["https://app.example"]'
        ) from None


def _variable(field: str) -> str:
    name = field.upper()
    return name if name == "DATABASE_URL" else f"HEROES_{name}"


def _settings_problem(error: ValidationError) -> str:
    problems = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        # A URL may hold a password: never echoed.
        shown = "" if field.lower().endswith("url") else f"={problem['input']!r}"
        message = problem["msg"].removeprefix("Value error, ")
        problems.append(f"{_variable(field)}{shown}: {message}")
    return "invalid setting: " + "; ".join(problems)


def _shown_url(settings: Settings) -> str:
    try:
        return make_url(settings.database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(DATABASE_URL, not shown)"


def _database_problem(settings: Settings, error: SQLAlchemyError) -> CliError:
    # The driver's first line says what went wrong; the rest is SQL and pointers to docs.
    cause = getattr(error, "orig", None) or error
    reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return CliError(f"cannot use the database {_shown_url(settings)}: {reason}")


def _engine(settings: Settings) -> Engine:
    try:
        return create_db_engine(settings)
    except (SQLAlchemyError, ImportError) as error:
        # ImportError: a dialect whose driver isn't installed (postgresql:// means psycopg2).
        raise CliError(f"DATABASE_URL {_shown_url(settings)}: {error}") from None


def _migrate(settings: Settings) -> None:
    engine = _engine(settings)
    try:
        before, after = upgrade_to_head(engine)
    except SQLAlchemyError as error:
        raise _database_problem(settings, error) from None
    finally:
        engine.dispose()
    where = _shown_url(settings)
    if before == after:
        log.info("migrate: %s is up to date, at revision %s (head)", where, after)
    else:
        log.info(
            "migrate: %s from revision %s to %s (head)", where, before or "none (empty)", after
        )


def _keys(settings: Settings, action: str, name: str | None) -> None:
    """`heroes-api keys create NAME | list | revoke NAME`, on the database of DATABASE_URL."""
    if settings.migrate_on_startup:
        _migrate(settings)  # which names the database
    else:
        log.info("keys: the database at %s", _shown_url(settings))
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


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    # Here, not at the top: uvicorn and the app take ~1.3 s to import, which `keys` and
    # `migrate` don't need (an operator's `heroes-api keys list` answers in a second).
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
        _migrate(settings)
        settings = settings.model_copy(update={"migrate_on_startup": False})
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
