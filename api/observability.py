"""Around every request: its id, its log line, its metrics, and the JSON 500 for a failure that
nothing else handled.

The request id is the caller's `X-Request-ID` when it is sane (api/bounds.py), else a new one;
it is echoed in the response, written on the request's log line and on the traceback of any
failure, and returned in the body of a 500, so that a caller's report leads to the log.

The log line holds the method, the route template, the path (as sent, still percent-encoded:
a decoded newline cannot forge a line), the status and the duration. Never a body, a header
or the query string: they carry keys, secret names and filters.
"""

import json
import logging
import os
import re
import time
from typing import Any

from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.bounds import REQUEST_ID_PATTERN
from api.logs import RequestLines
from api.metrics import UNMATCHED, RequestMetrics

REQUEST_ID_HEADER = b"x-request-id"
INTERNAL_ERROR = "Internal server error: the service failed unexpectedly (reported to its log)"

_SANE_ID = re.compile(REQUEST_ID_PATTERN)
_PATH_LOGGED = 200  # a long path is cut in the log: its start says what was asked

error_log = logging.getLogger("api.errors")


class ObserveRequests:
    def __init__(
        self, app: ASGIApp, metrics: RequestMetrics | None, lines: RequestLines | None
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.lines = lines
        self._templates: dict[Any, str] | None = None

    def _template(self, scope: Scope) -> str:
        """The route template the request matched; UNMATCHED (one label) for any other path."""
        route = scope.get("route")  # FastAPI's routes say which they are
        if route is not None:
            return str(route.path)
        endpoint = scope.get("endpoint")  # Starlette's say what they run
        if endpoint is None:
            return UNMATCHED
        if self._templates is None:
            self._templates = _templates(scope["app"].routes)
        return self._templates.get(endpoint, UNMATCHED)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        method = scope["method"]
        request_id = _incoming_id(scope) or os.urandom(16).hex()  # a quarter of uuid4's cost
        scope.setdefault("state", {})["request_id"] = request_id  # request.state.request_id
        id_header = (REQUEST_ID_HEADER, request_id.encode())
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # The traceback goes to the log only; the caller gets the id to quote.
            error_log.exception(
                "unhandled error in %s %s, request id %s", method, _logged_path(scope), request_id
            )
            status = 500
            if not started:
                await _send_internal_error(send, id_header, request_id)
        finally:
            seconds = time.perf_counter() - start
            template = self._template(scope)
            if self.metrics is not None:
                self.metrics.record(template, method, status, seconds)
            if self.lines is not None and self.lines.enabled():
                client = scope.get("client")
                self.lines.write(
                    request_id,
                    client[0] if client else "-",
                    method,
                    _logged_path(scope),
                    template,
                    status,
                    seconds,
                )


def _logged_path(scope: Scope) -> str:
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    return raw_path[:_PATH_LOGGED].decode("latin-1")


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            return text if _SANE_ID.match(text) else None
    return None


def _templates(routes: list[Any]) -> dict[Any, str]:
    """Starlette's own routes and mounts (/openapi.json, the docs' files) by what they run."""
    templates: dict[Any, str] = {}
    for route in routes:
        if isinstance(route, Mount):
            templates[route.app] = f"{route.path}/{{path}}"
        elif isinstance(route, Route):
            templates[route.endpoint] = route.path
    return templates


async def _send_internal_error(send: Send, id_header: tuple[bytes, bytes], request_id: str) -> None:
    body = json.dumps({"detail": INTERNAL_ERROR, "request_id": request_id}).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        id_header,
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
