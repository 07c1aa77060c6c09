"""The /heroes routes: the tutorial's wire contract."""

from collections.abc import Callable
from typing import Any, NoReturn
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, Response

from api.access import JSON_WRITE, READ, WRITE, CheckedRoute, policy
from api.bounds import LOOP_READ_MAX_OFFSET, PAGE_MAX
from api.deps import HeroId, database
from api.errors import (
    BODY_ERRORS,
    COMMON_RESPONSES,
    ETAG_HEADER,
    HERO_NOT_FOUND,
    NOT_FOUND,
    NOT_MODIFIED,
    PAGE_HEADERS,
    PRECONDITION_FAILED,
    READ_RESPONSES,
    REPLAYED,
    STALE,
    WRITE_RESPONSES,
)
from api.heroes import queries
from api.heroes.params import (
    IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENCY_KEY_PARAMETER,
    AfterId,
    IfMatch,
    IfNoneMatch,
    Limit,
    Offset,
    Prefer,
    idempotency_key,
    takes_filters,
)
from api.heroes.queries import Filters, VersionCheck
from api.heroes.rules import etag, if_match_versions, none_match
from api.heroes.schemas import Deleted, HeroCreate, HeroPage, HeroPublic, HeroUpdate
from api.idempotency import Answer, Claim, fingerprint
from api.openapi import client_method, operation_id
from api.statements import DriverConnection
from api.worker_state import worker_state

router = APIRouter(
    prefix="/heroes",
    tags=["heroes"],
    responses=COMMON_RESPONSES,
    generate_unique_id_function=operation_id,
    # Each route checks its caller by its @policy (api/access.py) before FastAPI reads the request.
    route_class=CheckedRoute,
)

# OpenAPI links from a created hero to what can be done with it: they let Schemathesis (and
# readers) chain create → read → update → delete.
_CREATED_LINKS = {
    name: {"operationId": operation, "parameters": {"hero_id": "$response.body#/id"}}
    for name, operation in [
        ("ReadHero", "read_hero"),
        ("UpdateHero", "update_hero"),
        ("DeleteHero", "delete_hero"),
    ]
}


# The writes take an Idempotency-Key (read by _write, see params.py).
_KEYED: dict[str, Any] = {"parameters": [IDEMPOTENCY_KEY_PARAMETER]}


def _replayable(entry: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """A documented answer that a keyed write stores, and so may replay."""
    return {
        status: {**doc, "headers": {**doc.get("headers", {}), **REPLAYED}}
        for status, doc in entry.items()
    }


def _merge(*parts: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """Documented responses, with the entries for one status merged (e.g. 200's headers and links)."""
    merged: dict[int | str, dict[str, Any]] = {}
    for part in parts:
        for status, entry in part.items():
            merged[status] = {**merged.get(status, {}), **entry}
    return merged


def _not_found() -> NoReturn:
    raise HTTPException(status_code=404, detail=HERO_NOT_FOUND)


def _hero_answer(hero: queries.HeroRow | queries.Stale | None) -> Answer:
    """What a write that ends on one hero answers: the hero, 404, or 412."""
    if hero is None:
        return Answer(404, {"detail": HERO_NOT_FOUND})
    if hero is VersionCheck.STALE:
        return Answer(412, {"detail": STALE})
    public = {key: value for key, value in hero.items() if key != "version"}
    return Answer(200, public, etag(hero))


async def _write(
    request: Request,
    path: str,
    values: dict[str, Any] | None,
    work: Callable[[DriverConnection], Answer],
) -> Answer:
    """Run a write's work in the next group commit; with an Idempotency-Key, at most once.
    `values` are what the write sets, for the key's fingerprint."""
    key = idempotency_key(request)
    if key is None:
        return await database(request).write(work)
    claim = Claim(request.state.caller, key, request.method, path, fingerprint(values))
    found = worker_state(request)
    return await found.idempotency.write(found.db, claim, work)


def _respond(answer: Answer, response: Response) -> Any:
    headers = answer.headers()
    if answer.status != 200:
        raise HTTPException(answer.status, answer.body["detail"], headers=headers or None)
    response.headers.update(headers)
    return answer.body


# The routes are `async def` and make one call into Database (read, or write: a group commit),
# and response validation stays off the thread pool.


@router.post(
    "/",
    response_model=HeroPublic,
    responses=_merge(
        WRITE_RESPONSES,
        {200: {"links": _CREATED_LINKS, "headers": {**ETAG_HEADER, **REPLAYED}}},
        BODY_ERRORS,
    ),
    openapi_extra={**_KEYED, **client_method("create")},
)
@policy(JSON_WRITE)
async def create_hero(request: Request, hero: HeroCreate, response: Response) -> Any:
    """Create a hero. Any `id` in the body is ignored; the database assigns it."""
    values = hero.model_dump(exclude={"id"})

    def create(connection: DriverConnection) -> Answer:
        return _hero_answer(queries.create_hero(connection, values))

    answer = await _write(request, "/heroes/", values, create)
    return _respond(answer, response)


@router.get(
    "/",
    response_model=HeroPage,
    responses=_merge(READ_RESPONSES, {200: {"headers": PAGE_HEADERS}}),
    openapi_extra=client_method(
        "list", pagination={"cursor": "after_id", "link": "next", "total": "Content-Range"}
    ),
)
@policy(READ)
@takes_filters
async def read_heroes(
    request: Request,
    response: Response,
    offset: Offset = 0,
    limit: Limit = PAGE_MAX,
    after_id: AfterId = None,
    filters: Filters = Filters(),  # noqa: B008  (the fields' filters: takes_filters)
    prefer: Prefer = None,
) -> Any:
    """List heroes in id order, a page at a time, optionally filtered (the query parameters).

    A full page carries `Link: <…>; rel="next"`, the next page's URL (`after_id`, filters kept).
    With `Prefer: count=exact`, `Content-Range` gives the number of matching heroes."""
    counted = prefer is not None and "count=exact" in prefer.replace(" ", "").split(",")

    def page(connection: DriverConnection) -> tuple[list[queries.HeroRow], int | None]:
        rows = queries.list_heroes(connection, offset, limit, after_id, filters)
        return rows, queries.count_heroes(connection, filters) if counted else None

    long = counted or offset > LOOP_READ_MAX_OFFSET
    rows, total = await database(request).read(page, long=long)
    if len(rows) == limit:
        kept = {"limit": limit, **filters.bound()}
        query = urlencode(
            {"after_id": rows[-1]["id"], **{k: v for k, v in kept.items() if v is not None}}
        )
        response.headers["Link"] = f'<{request.url.path}?{query}>; rel="next"'
    if total is not None:
        # As PostgREST does: the rows' positions among all matches (unknown past a cursor).
        shown = f"{offset}-{offset + len(rows) - 1}" if rows and after_id is None else "*"
        response.headers["Content-Range"] = f"{shown}/{total}"
        response.headers["Preference-Applied"] = "count=exact"
    return rows


@router.get(
    "/{hero_id}",
    response_model=HeroPublic,
    responses=_merge(READ_RESPONSES, NOT_FOUND, NOT_MODIFIED, {200: {"headers": ETAG_HEADER}}),
    openapi_extra=client_method("retrieve"),
)
@policy(READ)
async def read_hero(
    request: Request, hero_id: HeroId, response: Response, if_none_match: IfNoneMatch = None
) -> Any:
    """Read one hero. With `If-None-Match` naming its current ETag: 304, no body."""
    found = await database(request).read(lambda connection: queries.get_hero(connection, hero_id))
    hero = found or _not_found()
    tag = etag(hero)
    if none_match(if_none_match, tag):
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    return hero


@router.patch(
    "/{hero_id}",
    response_model=HeroPublic,
    responses=_merge(
        WRITE_RESPONSES,
        _replayable(NOT_FOUND),
        BODY_ERRORS,
        _replayable(PRECONDITION_FAILED),
        {200: {"headers": {**ETAG_HEADER, **REPLAYED}}},
    ),
    openapi_extra={**_KEYED, **client_method("update")},
)
@policy(JSON_WRITE)
async def update_hero(
    request: Request,
    hero_id: HeroId,
    hero: HeroUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    """Change only the fields present in the body; `null` clears an optional one. With `If-Match`,
    only if the hero is still the version the caller read (else 412, nothing changes)."""
    values = hero.model_dump(exclude_unset=True, exclude={"id"})
    versions = if_match_versions(if_match, hero_id)

    def update(connection: DriverConnection) -> Answer:
        if values:
            return _hero_answer(queries.update_hero(connection, hero_id, values, versions))
        # Nothing to change: what a read of the hero (and its version) says.
        found = queries.get_hero(connection, hero_id)
        stale = found is not None and versions is not None and found["version"] not in versions
        return _hero_answer(VersionCheck.STALE if stale else found)

    if not values and IDEMPOTENCY_KEY_HEADER not in request.headers:
        # A read, without taking the write lock or a write transaction.
        answer = await database(request).read(update)
    else:
        answer = await _write(request, f"/heroes/{hero_id}", values, update)
    return _respond(answer, response)


@router.delete(
    "/{hero_id}",
    response_model=Deleted,
    responses=_merge(
        WRITE_RESPONSES,
        _replayable(NOT_FOUND),
        _replayable(PRECONDITION_FAILED),
        {200: {"headers": REPLAYED}},
    ),
    openapi_extra={**_KEYED, **client_method("delete")},
)
@policy(WRITE)
async def delete_hero(
    request: Request, hero_id: HeroId, response: Response, if_match: IfMatch = None
) -> Any:
    """Delete a hero. With `If-Match`, only if it is still the version the caller read."""
    versions = if_match_versions(if_match, hero_id)

    def delete(connection: DriverConnection) -> Answer:
        deleted = queries.delete_hero(connection, hero_id, versions)
        if deleted is VersionCheck.STALE:
            return Answer(412, {"detail": STALE})
        return Answer(200, {"ok": True}) if deleted else Answer(404, {"detail": HERO_NOT_FOUND})

    answer = await _write(request, f"/heroes/{hero_id}", None, delete)
    return _respond(answer, response)
