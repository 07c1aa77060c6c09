"""How failures become responses: always JSON, never a traceback, and documented."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.db import OutcomeUnknown, Overloaded, Unrepresentable
from api.models import ErrorMessage, ServerError

logger = logging.getLogger("api")

DATABASE_UNAVAILABLE = "Database unavailable, try again shortly"
OVERLOADED = "Service overloaded, try again shortly"
OUTCOME_UNKNOWN = (
    "Outcome unknown: the database did not confirm whether this write was committed. Retrying "
    "with the same Idempotency-Key is safe: it is answered from the stored outcome if it was."
)


def _error(
    status_code: int, description: str, headers: dict[str, Any] | None = None
) -> dict[int | str, dict[str, Any]]:
    entry: dict[str, Any] = {"model": ErrorMessage, "description": description}
    if headers:
        entry["headers"] = headers
    return {status_code: entry}


_SECONDS = {"type": "integer", "minimum": 1, "maximum": 86_400}
_RETRY_AFTER = {"description": "Seconds to wait before retrying.", "schema": _SECONDS}

# Statuses every route can answer with, besides its own.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_error(413, "Request body too large (see the `HEROES_MAX_BODY_BYTES` setting)"),
    **_error(
        503,
        "The database is unavailable or the service is overloaded; retry later. For a write "
        "whose commit the database did not confirm, the body says the outcome is unknown: "
        "retry it with the same Idempotency-Key",
        {"Retry-After": _RETRY_AFTER},
    ),
    # Never by design (bad input is a 4xx): if it happens, the body's request id finds the
    # traceback in the log (api/observability.py).
    500: {
        "model": ServerError,
        "description": "The service failed unexpectedly; its log has the request id",
    },
}
HERO_NOT_FOUND = "Hero not found"
NOT_FOUND = _error(404, HERO_NOT_FOUND)

PROTECTED_MODE = (
    "Writes are accepted only from this machine until an API key exists. On the server, run "
    "`heroes-api keys create NAME`, then send `Authorization: Bearer <key>`."
)
_COUNT = {"type": "integer", "minimum": 0, "maximum": 1_000_000_000}
# draft-ietf-httpapi-ratelimit-headers, on a 429.
RATE_LIMIT_HEADERS: dict[str, Any] = {
    "RateLimit-Limit": {"description": "Requests allowed per window.", "schema": _COUNT},
    "RateLimit-Remaining": {"description": "Requests left in the window: 0.", "schema": _COUNT},
    "RateLimit-Reset": {
        "description": "Seconds until the window has room again.",
        "schema": _SECONDS,
    },
}
_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": 'The scheme to use: `Bearer`, with `error="invalid_token"` for a bad key.',
        "schema": {"type": "string", "enum": ["Bearer", 'Bearer error="invalid_token"']},
    }
}
UNAUTHORIZED = _error(
    401,
    "Missing, malformed, unknown or revoked API key; nothing was changed",
    _WWW_AUTHENTICATE,
)
KEY_REJECTED = _error(
    401,
    "An Authorization header was sent, and its key is malformed, unknown or revoked (or reads "
    "need a key: HEROES_PUBLIC_READS=false)",
    _WWW_AUTHENTICATE,
)
FORBIDDEN = _error(
    403,
    "Protected mode: no API key exists yet, and the client is not on the server's own machine; "
    "the body says how to create a key",
)
RATE_LIMITED = _error(
    429,
    "Too many requests from this caller; nothing was done",
    {"Retry-After": _RETRY_AFTER, **RATE_LIMIT_HEADERS},
)


ETAG_HEADER: dict[str, Any] = {
    "ETag": {
        "description": 'The hero\'s version, `"<id>.<version>"`: send it back in If-Match to '
        "change the hero only if nobody else has, or in If-None-Match to skip an unchanged read.",
        "schema": {"type": "string", "maxLength": 50, "pattern": '^"[0-9]+\\.[0-9]+"$'},
    }
}
PAGE_HEADERS: dict[str, Any] = {
    "Link": {
        "description": 'On a full page: `<URL>; rel="next"`, the next page (RFC 8288).',
        "schema": {"type": "string", "maxLength": 2048, "pattern": '^<[^>]*>; rel="next"$'},
    },
    "Content-Range": {
        "description": "With `Prefer: count=exact`: `first-last/total` (`*/total` after a cursor).",
        "schema": {"type": "string", "maxLength": 64, "pattern": "^([0-9]+-[0-9]+|\\*)/[0-9]+$"},
    },
    "Preference-Applied": {
        "description": "`count=exact` when the count was made.",
        "schema": {"type": "string", "enum": ["count=exact"]},
    },
}
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {
        "description": "Not modified: the ETag in If-None-Match is current (no body)",
        "headers": ETAG_HEADER,
        "content": {},
    }
}
PRECONDITION_FAILED = _error(
    412, "If-Match named no current version of the hero; nothing was changed"
)
STALE = "The hero has changed since that version (If-Match): read it again, then retry"


# Idempotency-Key (api/idempotency.py).
IDEMPOTENCY_KEY_IN_USE = (
    "A request with this Idempotency-Key is still being processed; retry after it has finished"
)
KEY_REUSED = [
    {
        "loc": ["header", "idempotency-key"],
        "msg": "This Idempotency-Key was used with another request (body, method or path): "
        "use a new key for a new request",
        "type": "idempotency_key_reused",
    }
]
REPLAYED: dict[str, Any] = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same Idempotency-Key (nothing was done again).",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
IN_PROGRESS = _error(409, IDEMPOTENCY_KEY_IN_USE, {"Retry-After": _RETRY_AFTER})


def idempotency_key_in_use() -> StarletteHTTPException:
    return StarletteHTTPException(409, IDEMPOTENCY_KEY_IN_USE, headers={"Retry-After": "1"})


# Documented on every /heroes operation: who may call, and how often.
READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    **KEY_REJECTED,
    **RATE_LIMITED,
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **UNAUTHORIZED,
    **FORBIDDEN,
    **RATE_LIMITED,
    **IN_PROGRESS,
}


def unauthorized(detail: str, error: str | None = None) -> StarletteHTTPException:
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return StarletteHTTPException(401, detail, headers={"WWW-Authenticate": challenge})


def keys_unavailable() -> StarletteHTTPException:
    # The keys live in the database: without them nobody can be let in or turned away.
    return StarletteHTTPException(503, DATABASE_UNAVAILABLE, headers={"Retry-After": "1"})


def forbidden_protected_mode() -> StarletteHTTPException:
    return StarletteHTTPException(403, PROTECTED_MODE)


def rate_limited(limit: int, retry_after: int) -> StarletteHTTPException:
    headers = {
        "Retry-After": str(retry_after),
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(retry_after),
    }
    return StarletteHTTPException(429, "Rate limit exceeded, retry later", headers=headers)


BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **_error(400, "The body could not be read (for example, invalid UTF-8)"),
    **_error(415, "The body is not application/json"),
}


def _allowed_methods(request: Request) -> set[str]:
    # Starlette stops at the first route whose path matches, so a path served by several
    # routes would advertise only that one's methods in `Allow`: ask every route instead.
    path = request.scope["path"]
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, APIRoute) and route.path_regex.match(path):
            methods |= route.methods or set()
    if "GET" in methods:
        methods.add("HEAD")  # api/middleware.py answers it
    return methods


async def http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def validation_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # The offending input is not echoed back: it may be large, or a secret.
    errors = [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


def describe(error: BaseException) -> str:
    """A database failure for the log: the driver's error kind, its SQLSTATE and the server's
    message (never the statement or its parameters: SQLAlchemy's own text carries both)."""
    driver = getattr(error, "orig", None) or error
    kind = type(driver).__name__
    sqlstate = getattr(driver, "sqlstate", None)
    if driver is error and isinstance(error, SQLAlchemyError):
        return kind  # SQLAlchemy's own (a pool timeout): its text is the statement's
    diag = getattr(driver, "diag", None)
    message = (diag.message_primary if diag is not None and sqlstate else None) or str(driver)
    first_line = message.strip().splitlines()[0] if message.strip() else ""
    said = f"{kind}: {first_line}" if first_line else kind
    return f"{sqlstate} {said}" if sqlstate else said


async def database_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("database unavailable: %s", describe(exc))
    return JSONResponse(
        {"detail": DATABASE_UNAVAILABLE}, status_code=503, headers={"Retry-After": "1"}
    )


UNREPRESENTABLE = "The database cannot store this text: a character is outside its encoding"


async def unrepresentable_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Unrepresentable)
    where = "query" if request.method in ("GET", "HEAD") else "body"
    error = {
        "loc": [where, exc.field] if exc.field else [where],
        "msg": f"{UNREPRESENTABLE} ({exc.encoding or 'the database encoding'})",
        "type": "unrepresentable_text",
    }
    return JSONResponse({"detail": [error]}, status_code=422)


async def outcome_unknown_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("write outcome unknown: the database did not answer after a failed commit")
    return JSONResponse({"detail": OUTCOME_UNKNOWN}, status_code=503, headers={"Retry-After": "1"})


async def overloaded_handler(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": OVERLOADED}, status_code=503, headers={"Retry-After": "1"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_exception_handler)
    for exc_type in (OperationalError, PoolTimeoutError):
        app.add_exception_handler(exc_type, database_unavailable_handler)
    app.add_exception_handler(Overloaded, overloaded_handler)
    app.add_exception_handler(Unrepresentable, unrepresentable_handler)
    app.add_exception_handler(OutcomeUnknown, outcome_unknown_handler)
