"""The `heroes-api` command: serve (the default) or migrate."""

import argparse
import os
from typing import Any

import uvicorn

from api.config import get_settings
from api.db import create_db_engine
from api.migrate import upgrade_to_head
from api.workers import serve_workers


def migrate() -> None:
    engine = create_db_engine(get_settings())
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="heroes-api", description="Run the Heroes API.")
    parser.add_argument("command", nargs="?", choices=["serve", "migrate"], default="serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    parser.add_argument("--no-access-log", action="store_true", help="don't log each request")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        migrate()
        return
    if get_settings().migrate_on_startup:
        # Migrate once here, so that workers starting together don't race to do it.
        migrate()
        os.environ["HEROES_MIGRATE_ON_STARTUP"] = "false"
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "access_log": not args.no_access_log,
        "server_header": False,
    }
    if args.workers > 1 and not args.reload:
        serve_workers(uvicorn.Config("api.main:app", workers=args.workers, **options))
        return
    uvicorn.run("api.main:app", reload=args.reload, **options)
