"""Who may call a route, checked before FastAPI looks at the request.

A route of the heroes (and the metrics) is a `CheckedRoute`: before FastAPI reads its body or
its parameters, the caller is checked: who it is (api/auth.py), how often it calls
(api/ratelimit.py) and, for a body, its media type. A refused caller learns nothing about their
body or parameters, and the refusal costs no parsing.

GET routes are reads; the others are writes, with a JSON body for POST and PATCH. A write is
documented as needing the key (its operation's `security` in OpenAPI).

A route class rather than a dependency: FastAPI solves a dependency with a pass over every
parameter source, and a do-nothing dependency alone cost ~10 µs of a GET one (~64 → ~74 µs
in-process, on FastAPI 0.165); this check costs only itself.
"""

from collections.abc import Awaitable, Callable, Coroutine
from email.message import Message
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from api.auth import KEY_NEEDED, bearer, reader, writer
from api.ratelimit import RateLimiter

Check = Callable[[Request], Awaitable[None]]


def require_json(request: Request) -> None:
    """A body in any other media type is refused outright, rather than reported as a bad object."""
    message = Message()
    message["content-type"] = request.headers.get("content-type", "")
    subtype = message.get_content_subtype()
    if message.get_content_maintype() != "application" or not (
        subtype == "json" or subtype.endswith("+json")
    ):
        raise HTTPException(status_code=415, detail="Content-Type must be application/json")


async def check_read(request: Request) -> None:
    limiter: RateLimiter = request.app.state.limiter
    await limiter.read(await reader(request))


async def check_write(request: Request) -> None:
    limiter: RateLimiter = request.app.state.limiter
    caller = writer(request, await bearer(request))
    await limiter.write(caller)
    # Who wrote, for the scope of an Idempotency-Key (api/idempotency.py).
    request.state.caller = caller


async def check_json_write(request: Request) -> None:
    await check_write(request)
    require_json(request)


def check_for(methods: set[str]) -> Check:
    """The check of a route answering `methods`."""
    if methods <= {"GET", "HEAD"}:
        return check_read
    if methods & {"POST", "PUT", "PATCH"}:
        return check_json_write
    return check_write


class CheckedRoute(APIRoute):
    """An APIRoute whose caller is checked first (see the module's docstring)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        if check_for(self.methods or set()) is not check_read:
            self.openapi_extra = {**KEY_NEEDED, **(self.openapi_extra or {})}

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        check = check_for(self.methods or set())

        async def checked(request: Request) -> Response:
            await check(request)
            return await handler(request)

        return checked
