"""The hero routes' parameters, path and body aside: their bounds and descriptions, in one place
for the routes (routes.py) and for the no-database reference app that the benchmark measures
them against (scripts/benchmark/nodb_app.py). The list's filters are the fields' (fields.py)."""

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar, cast

from fastapi import Header, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import StringConstraints, TypeAdapter, ValidationError

from api.bounds import (
    CONDITION_MAX_LENGTH,
    ID_MAX,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    IDEMPOTENCY_KEY_PATTERN,
    PAGE_MAX,
    PREFER_MAX_LENGTH,
    VISIBLE_ASCII,
)
from api.heroes.fields import FILTERED, filter_parameters
from api.heroes.queries import FILTER_PARAMETERS, Filters

Offset = Annotated[int, Query(ge=0, le=ID_MAX, description="Rows to skip.")]
Limit = Annotated[int, Query(ge=1, le=PAGE_MAX, description="Page size.")]
AfterId = Annotated[
    int | None,
    Query(
        ge=0,
        le=ID_MAX,
        description="Cursor: only heroes with a larger id. Pass the last id of the previous "
        "page to page through a large table at constant cost (`offset` re-reads every "
        "skipped row).",
    ),
]


def _filter_parameters() -> list[inspect.Parameter]:
    """One query parameter per filter of each field, with the field's bounds."""
    found = []
    for field in FILTERED:
        kind = field.kind
        for name in filter_parameters(field):
            if field.filter == "exact":
                about = f"Only heroes with exactly this {field.name}."
            elif name.startswith("min_"):
                about = f"Only heroes whose {field.name} is at least this."
            else:
                about = f"Only heroes whose {field.name} is at most this."
            query = Query(**kind.query(), description=about)
            annotation = Annotated[kind.python | None, query]  # type: ignore[name-defined]
            found.append(
                inspect.Parameter(
                    name,
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    default=None,
                    annotation=annotation,
                )
            )
    return found


_FILTERS = _filter_parameters()
_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Awaitable[Any]])


def takes_filters(endpoint: _Endpoint) -> _Endpoint:
    """The endpoint's `filters: Filters` parameter, offered as one query parameter per filter
    (`?name=`, `?min_age=`, …) and handed over as one Filters: a field's filter is declared
    once, in fields.py. (Flattened in the signature FastAPI reads, not a sub-dependency, which
    FastAPI would resolve on every request.)"""
    signature = inspect.signature(endpoint)
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        parameters.extend(_FILTERS if parameter.name == "filters" else [parameter])

    @functools.wraps(endpoint)
    async def with_filters(*args: Any, **kwargs: Any) -> Any:
        filters = Filters({name: kwargs.pop(name, None) for name in FILTER_PARAMETERS})
        return await endpoint(*args, filters=filters, **kwargs)

    with_filters.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return cast(_Endpoint, with_filters)


IfMatch = Annotated[
    str | None,
    Header(
        max_length=CONDITION_MAX_LENGTH,
        pattern=VISIBLE_ASCII,
        description="Change the hero only if its ETag is one of these (strong comparison) or `*`; "
        "otherwise 412 and nothing changes.",
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(
        max_length=CONDITION_MAX_LENGTH,
        pattern=VISIBLE_ASCII,
        description="304 (no body) if the hero's ETag is one of these (weak comparison) or `*`.",
    ),
]
Prefer = Annotated[
    str | None,
    Header(
        max_length=PREFER_MAX_LENGTH,
        pattern=VISIBLE_ASCII,
        description="`count=exact`: also count every hero matching the filters, in Content-Range.",
    ),
]
# Idempotency-Key (api/idempotency.py) is read by the routes themselves, not declared as a FastAPI
# header parameter: FastAPI introspects a declared header's annotation on every request, present
# or not (docs/decisions/0010-fastapi-request-path.md). The same validation and 422, and the same
# parameter in the schema, without that.
IDEMPOTENCY_KEY_HEADER = "idempotency-key"
_IDEMPOTENCY_KEY_DESCRIPTION = (
    "Makes the write safe to retry: a repeat with the same key (a UUID is recommended) gets the "
    "first request's stored answer, marked `Idempotent-Replayed: true`, and changes nothing "
    "again. Scoped to the caller (its API key); kept for HEROES_IDEMPOTENCY_TTL (24 hours by "
    "default). The same key with a different request is a 422; while the first is still "
    "running, a 409."
)
_IDEMPOTENCY_KEY = TypeAdapter(
    Annotated[
        str,
        StringConstraints(
            min_length=1, max_length=IDEMPOTENCY_KEY_MAX_LENGTH, pattern=IDEMPOTENCY_KEY_PATTERN
        ),
    ]
)
# What FastAPI writes for `Annotated[str | None, Header(...)]` with those bounds.
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": IDEMPOTENCY_KEY_HEADER,
    "in": "header",
    "required": False,
    "description": _IDEMPOTENCY_KEY_DESCRIPTION,
    "schema": {
        "anyOf": [
            {
                "type": "string",
                "minLength": 1,
                "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
                "pattern": IDEMPOTENCY_KEY_PATTERN,
            },
            {"type": "null"},
        ],
        "title": "Idempotency-Key",
        "description": _IDEMPOTENCY_KEY_DESCRIPTION,
    },
}


def idempotency_key(request: Request) -> str | None:
    """The request's Idempotency-Key, or None; a malformed one is the 422 FastAPI would give."""
    value = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if value is None:
        return None
    try:
        key: str = _IDEMPOTENCY_KEY.validate_python(value)
    except ValidationError as error:
        located = [{**each, "loc": ("header", IDEMPOTENCY_KEY_HEADER)} for each in error.errors()]
        raise RequestValidationError(located) from None
    return key
