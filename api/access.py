"""Who may call a route: its access policy, declared once, next to the route (`@policy(...)`).

A policy is both halves of one promise: the check that runs before FastAPI reads the request's
body or parameters (who the caller is, api/auth.py; how often it calls, api/ratelimit.py; for a
JSON body, its media type), and the `security` the route's OpenAPI operation says. A refused
caller learns nothing about their body or parameters, and the refusal costs no parsing.

- OPEN: anyone, unchecked (the health check and the docs pages).
- READ: public unless HEROES_PUBLIC_READS=false (then a key, and the served schema says so); a
  key that is sent is checked; rate-limited as a read.
- WRITE, JSON_WRITE: a key (or protected mode's loopback caller); rate-limited as a write;
  JSON_WRITE also refuses a body that is not JSON.

Every route of the app is a `CheckedRoute`, and a route without a policy stops the app at
start-up (`require_policies`): none can be left unchecked by accident.

A route class rather than a dependency: FastAPI solves a dependency with a pass over every
parameter source on every request; this check costs only itself
(docs/decisions/0010-fastapi-request-path.md).
"""

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from email.message import Message
from typing import Any, TypeVar

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.routing import APIRoute

from api.auth import SCHEME, bearer, reader, writer
from api.worker_state import worker_state

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
    found = worker_state(request)
    await found.limiter.read(await reader(request, found.keys, found.settings.public_reads))


async def check_write(request: Request) -> None:
    found = worker_state(request)
    caller = await writer(request, await bearer(request), found.keys)
    await found.limiter.write(caller)
    # Who wrote, for the scope of an Idempotency-Key (api/idempotency.py).
    request.state.caller = caller


async def check_json_write(request: Request) -> None:
    await check_write(request)
    require_json(request)


@dataclass(frozen=True)
class Policy:
    """Who may call a route (see the module)."""

    name: str
    check: Check | None
    needs_key: bool
    read: bool = False  # needs a key too when reads do (HEROES_PUBLIC_READS=false)

    @property
    def security(self) -> list[dict[str, list[str]]]:
        """The operation's OpenAPI `security`, reads being public."""
        return [{SCHEME: []}] if self.needs_key else []


OPEN = Policy("open", check=None, needs_key=False)
READ = Policy("read", check=check_read, needs_key=False, read=True)
WRITE = Policy("write", check=check_write, needs_key=True)
JSON_WRITE = Policy("write with a JSON body", check=check_json_write, needs_key=True)
KEY_NEEDED: list[dict[str, list[str]]] = [
    {SCHEME: []}
]  # a read's security with HEROES_PUBLIC_READS=false

_POLICY = "__access_policy__"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def policy(chosen: Policy) -> Callable[[Endpoint], Endpoint]:
    """Declare who may call the decorated endpoint (below the route's decorator)."""

    def declare(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _POLICY, chosen)
        return endpoint

    return declare


class MissingPolicy(Exception):
    """A route was declared without saying who may call it."""


class CheckedRoute(APIRoute):
    """An APIRoute whose caller is checked by its policy first (see the module's docstring)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        chosen = getattr(endpoint, _POLICY, None)
        if not isinstance(chosen, Policy):
            raise MissingPolicy(
                f"{path} ({endpoint.__name__}) declares no access policy: decorate it with "
                "@policy(OPEN | READ | WRITE | JSON_WRITE) from api/access.py"
            )
        self.policy = chosen  # before APIRoute's __init__, which builds the handler
        super().__init__(path, endpoint, **kwargs)
        self.openapi_extra = {"security": chosen.security, **(self.openapi_extra or {})}

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        check = self.policy.check
        if check is None:
            return handler

        async def checked(request: Request) -> Response:
            await check(request)
            return await handler(request)

        return checked


def require_policies(app: FastAPI) -> None:
    """Every route of the app is a CheckedRoute (and so has a policy): else it doesn't start."""
    for route in app.routes:
        if isinstance(route, APIRoute) and not isinstance(route, CheckedRoute):
            raise MissingPolicy(
                f"{route.path} ({route.name}) is not a CheckedRoute: give its router "
                "route_class=CheckedRoute and its endpoint a @policy(...)"
            )
