"""Where the service's log lines go, and in which format (HEROES_LOG_FORMAT: text or json).

uvicorn's own lines and the start-up lines go through `logging` (configured here, handed to
uvicorn as its log_config). The line per request (on stdout, like uvicorn's access log, which it
replaces) is written by `RequestLines`, past logging's handlers, which cost three times as much
(docs/decisions/0009-request-log.md). Its logger, `api.requests`, still
decides whether it is written (its level: `--log-level warning` silences it). In json every
line is one JSON object, request lines with their fields at the top level.
"""

import asyncio
import json
import logging
import logging.config
import sys
import time
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS

LogFormat = Literal["text", "json"]

REQUESTS = "api.requests"
_JSON = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
    "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
    "datefmt": "%Y-%m-%dT%H:%M:%S%z",
    # uvicorn attaches a copy of some messages with terminal colours (`color_message`): in a
    # JSON line it is only ANSI escapes for a log collector to choke on.
    "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
}


class OneBanner(logging.Filter):
    """api/serve.py says where the service listens, with the docs' URL, once for all workers;
    uvicorn's own "Uvicorn running on" line would say it again."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Uvicorn running on")


def log_config(log_format: LogFormat, level: str = "info") -> dict[str, Any]:
    """A logging.config.dictConfig dictionary, also handed to uvicorn as its log_config."""
    if log_format == "json":
        formatters: dict[str, Any] = {"default": _JSON}
    else:
        formatters = {
            "default": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s %(message)s",
            },
        }
    stream = {"class": "logging.StreamHandler"}
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "filters": {"one_banner": {"()": OneBanner}},
        "handlers": {
            "default": {
                **stream,
                "formatter": "default",
                "stream": "ext://sys.stderr",
                "filters": ["one_banner"],
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "propagate": False},
            "api": {"handlers": ["default"], "level": level, "propagate": False},
            # Only its level is used (RequestLines writes the lines).
            REQUESTS: {"handlers": [], "level": level, "propagate": False},
        },
    }


def configure(log_format: LogFormat, level: str = "info") -> None:
    logging.config.dictConfig(log_config(log_format, level))


class RequestLines:
    """The line per request, written once per turn of the event loop for all the requests that
    finished in it (under load, one write for many lines; when idle, at once)."""

    def __init__(self, log_format: LogFormat) -> None:
        self._json = log_format == "json"
        self._logger = logging.getLogger(REQUESTS)
        self._pending: list[str] = []

    def enabled(self) -> bool:
        return self._logger.isEnabledFor(logging.INFO)

    def write(
        self,
        request_id: str,
        client: str,
        method: str,
        path: str,
        route: str,
        status: int,
        seconds: float,
    ) -> None:
        if self._json:
            line = json.dumps(
                {
                    "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "level": "INFO",
                    "logger": REQUESTS,
                    "message": "request",
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "path": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "client": client,
                }
            )
        else:
            # Like uvicorn's access line, with what it leaves out after it.
            line = (
                f'INFO:     {client} - "{method} {path}" {status} {seconds * 1000:.1f}ms '
                f"route={route} id={request_id}"
            )
        self._pending.append(line + "\n")
        if len(self._pending) == 1:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: write now
                self.flush()

    def flush(self) -> None:
        lines, self._pending = self._pending, []
        if lines:
            sys.stdout.write("".join(lines))
            sys.stdout.flush()
