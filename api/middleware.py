"""Middleware: HEAD for every GET route; and, answered in JSON like every other error, the
request-body size limit and CORS (whose refused preflights Starlette answers in text/plain).

Starlette's RequestBodyLimitMiddleware answers 413 in text/plain (and replaces the app's own
JSON error with it), so the contract's "errors are JSON" needs this small one instead.
"""

import json

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE = "Request body too large"


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            # Refused before a byte of the body is read.
            await _send_too_large(send)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                # An HTTPException passes through FastAPI's body parsing to the JSON handler.
                raise HTTPException(status_code=413, detail=TOO_LARGE)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_too_large(send: Send) -> None:
    body = json.dumps({"detail": TOO_LARGE}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    # The body was not read, so the connection cannot be reused for another request.
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with its refusals of a preflight answered in JSON like every other
    error (it answers them in text/plain)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code >= 400:
            refusal = bytes(response.body).decode()
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            headers.pop("content-type", None)
            return JSONResponse(
                {"detail": refusal}, status_code=response.status_code, headers=headers
            )
        return response


class HeadMiddleware:
    """HEAD on every GET route (RFC 9110, 9.3.2): the GET's status and headers, without its
    body. FastAPI routes answer only the methods they name; Starlette's own routes add HEAD."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        # A copy: uvicorn holds the original, and answers a HEAD by what its scope says.
        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, headers_only)
        finally:
            if "route" in as_get:  # for the request's log line and metrics
                scope["route"] = as_get["route"]
