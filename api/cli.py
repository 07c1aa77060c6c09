"""The `heroes-api` command: serve (the default), migrate, or manage API keys."""

import argparse
import os
import sys
from typing import Any

import uvicorn

from api.config import get_settings
from api.db import create_db_engine
from api.keys import KeyNameError, create_key, list_keys, revoke_key
from api.migrate import upgrade_to_head
from api.workers import serve_workers


def migrate() -> None:
    engine = create_db_engine(get_settings())
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()


def keys(action: str, name: str | None) -> None:
    """`heroes-api keys create NAME | list | revoke NAME`, on the database of DATABASE_URL."""
    settings = get_settings()
    engine = create_db_engine(settings)
    try:
        if settings.migrate_on_startup:
            upgrade_to_head(engine)
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
        sys.exit(f"heroes-api keys {action}: {error}")
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="heroes-api", description="Run the Heroes API.")
    parser.add_argument("command", nargs="?", choices=["serve", "migrate", "keys"], default="serve")
    parser.add_argument(
        "action", nargs="?", choices=["create", "list", "revoke"], help="keys: what to do"
    )
    parser.add_argument("name", nargs="?", help="keys create/revoke: the key's name")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    parser.add_argument("--no-access-log", action="store_true", help="don't log each request")
    args = parser.parse_args(argv)

    if args.command == "keys":
        if args.action is None or (args.action != "list") != (args.name is not None):
            parser.error("usage: heroes-api keys create NAME | keys list | keys revoke NAME")
        keys(args.action, args.name)
        return
    if args.action or args.name:
        parser.error(f"unexpected arguments after {args.command!r}")
    if args.command == "migrate":
        migrate()
        return
    settings = get_settings()
    if settings.forwarded_allow_ips.strip() == "*":
        print(
            "heroes-api: HEROES_FORWARDED_ALLOW_IPS=*: any peer's X-Forwarded-For is believed, "
            "so any client can claim any address (use it only behind a proxy that sets it)",
            file=sys.stderr,
        )
    if settings.migrate_on_startup:
        # Migrate once here, so that workers starting together don't race to do it.
        migrate()
        os.environ["HEROES_MIGRATE_ON_STARTUP"] = "false"
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "access_log": not args.no_access_log,
        "server_header": False,
        # The client address that protected mode and rate limits see comes from X-Forwarded-For
        # only when the peer is one of these proxies.
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }
    if args.workers > 1 and not args.reload:
        serve_workers(uvicorn.Config("api.main:app", workers=args.workers, **options))
        return
    uvicorn.run("api.main:app", reload=args.reload, **options)
