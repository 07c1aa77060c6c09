"""The hero routes' parameters, path and body aside: their bounds and descriptions, in one place
for the routes (api/routes/heroes.py) and for the no-database reference app that the benchmark
measures them against (scripts/benchmark/nodb_app.py)."""

from typing import Annotated

from fastapi import Header, Query

from api.limits import (
    AGE_MAX,
    CONDITION_MAX_LENGTH,
    ID_MAX,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    IDEMPOTENCY_KEY_PATTERN,
    NAME_MAX_LENGTH,
    NO_NUL,
    PAGE_MAX,
    PREFER_MAX_LENGTH,
    VISIBLE_ASCII,
)

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
NameFilter = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=NAME_MAX_LENGTH,
        pattern=NO_NUL,
        description="Only heroes with exactly this name.",
    ),
]
MinAge = Annotated[
    int | None, Query(ge=0, le=AGE_MAX, description="Only heroes at least this old.")
]
MaxAge = Annotated[int | None, Query(ge=0, le=AGE_MAX, description="Only heroes at most this old.")]

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
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX_LENGTH,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Makes the write safe to retry: a repeat with the same key (a UUID is "
        "recommended) gets the first request's stored answer, marked `Idempotent-Replayed: "
        "true`, and changes nothing again. Scoped to the caller (its API key); kept for "
        "HEROES_IDEMPOTENCY_TTL (24 hours by default). The same key with a different request "
        "is a 422; while the first is still running, a 409.",
    ),
]
