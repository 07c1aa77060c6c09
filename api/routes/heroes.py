"""The /heroes routes: the tutorial's wire contract."""

from typing import Any, NoReturn
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, Response

from api import crud
from api.access import CheckedRoute
from api.auth import PUBLIC
from api.conditional import etag, if_match_versions, none_match
from api.crud import Filters, Outcome
from api.deps import HeroId, database
from api.driver import DriverConnection
from api.errors import (
    BODY_ERRORS,
    COMMON_RESPONSES,
    ETAG_HEADER,
    NOT_FOUND,
    NOT_MODIFIED,
    PAGE_HEADERS,
    PRECONDITION_FAILED,
    READ_RESPONSES,
    WRITE_RESPONSES,
    precondition_failed,
)
from api.limits import (
    PAGE_MAX,
)
from api.models import Deleted, HeroCreate, HeroPage, HeroPublic, HeroUpdate
from api.openapi import operation_id
from api.params import (
    AfterId,
    IfMatch,
    IfNoneMatch,
    Limit,
    MaxAge,
    MinAge,
    NameFilter,
    Offset,
    Prefer,
)

router = APIRouter(
    prefix="/heroes",
    tags=["heroes"],
    responses=COMMON_RESPONSES,
    generate_unique_id_function=operation_id,
    # Each route checks its caller (key, rate limit, media type) before FastAPI reads the request.
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


def _merge(*parts: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """Documented responses, with the entries for one status merged (e.g. 200's headers and links)."""
    merged: dict[int | str, dict[str, Any]] = {}
    for part in parts:
        for status, entry in part.items():
            merged[status] = {**merged.get(status, {}), **entry}
    return merged


def _not_found() -> NoReturn:
    raise HTTPException(status_code=404, detail="Hero not found")


def _with_etag(response: Response, hero: crud.HeroRow) -> crud.HeroRow:
    response.headers["ETag"] = etag(hero)
    return hero


# The routes are `async def` and make one call into Database (read, or write: a group commit),
# and response validation stays off the thread pool.


@router.post(
    "/",
    response_model=HeroPublic,
    responses=_merge(
        WRITE_RESPONSES, {200: {"links": _CREATED_LINKS, "headers": ETAG_HEADER}}, BODY_ERRORS
    ),
)
async def create_hero(request: Request, hero: HeroCreate, response: Response) -> Any:
    """Create a hero. Any `id` in the body is ignored; the database assigns it."""
    values = hero.model_dump(exclude={"id"})
    created = await database(request).write(lambda connection: crud.create_hero(connection, values))
    return _with_etag(response, created)


@router.get(
    "/",
    response_model=HeroPage,
    responses=_merge(READ_RESPONSES, {200: {"headers": PAGE_HEADERS}}),
    openapi_extra=PUBLIC,
)
async def read_heroes(
    request: Request,
    response: Response,
    offset: Offset = 0,
    limit: Limit = PAGE_MAX,
    after_id: AfterId = None,
    name: NameFilter = None,
    min_age: MinAge = None,
    max_age: MaxAge = None,
    prefer: Prefer = None,
) -> Any:
    """List heroes in id order, a page at a time, optionally filtered by name and age.

    A full page carries `Link: <…>; rel="next"`, the next page's URL (`after_id`, filters kept).
    With `Prefer: count=exact`, `Content-Range` gives the number of matching heroes."""
    filters = Filters(name=name, min_age=min_age, max_age=max_age)
    counted = prefer is not None and "count=exact" in prefer.replace(" ", "").split(",")

    def page(connection: DriverConnection) -> tuple[list[crud.HeroRow], int | None]:
        rows = crud.list_heroes(connection, offset, limit, after_id, filters)
        return rows, crud.count_heroes(connection, filters) if counted else None

    rows, total = await database(request).read(page)
    if len(rows) == limit:
        kept = {"limit": limit, "name": name, "min_age": min_age, "max_age": max_age}
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
    openapi_extra=PUBLIC,
)
async def read_hero(
    request: Request, hero_id: HeroId, response: Response, if_none_match: IfNoneMatch = None
) -> Any:
    """Read one hero. With `If-None-Match` naming its current ETag: 304, no body."""
    found = await database(request).read(lambda connection: crud.get_hero(connection, hero_id))
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
        NOT_FOUND,
        BODY_ERRORS,
        PRECONDITION_FAILED,
        {200: {"headers": ETAG_HEADER}},
    ),
)
async def update_hero(
    request: Request,
    hero_id: HeroId,
    hero: HeroUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    """Change only the fields present in the body; `age: null` clears the age. With `If-Match`,
    only if the hero is still the version the caller read (else 412, nothing changes)."""
    values = hero.model_dump(exclude_unset=True, exclude={"id"})
    versions = if_match_versions(if_match, hero_id)
    db = database(request)
    if not values:
        # Nothing to change: a read, without taking the write lock or a write transaction.
        found = await db.read(lambda connection: crud.get_hero(connection, hero_id)) or _not_found()
        if versions is not None and found["version"] not in versions:
            precondition_failed()
        return _with_etag(response, found)
    updated = await db.write(
        lambda connection: crud.update_hero(connection, hero_id, values, versions)
    )
    if updated is Outcome.STALE:
        precondition_failed()
    return _with_etag(response, updated or _not_found())


@router.delete(
    "/{hero_id}",
    response_model=Deleted,
    responses=_merge(WRITE_RESPONSES, NOT_FOUND, PRECONDITION_FAILED),
)
async def delete_hero(request: Request, hero_id: HeroId, if_match: IfMatch = None) -> Deleted:
    """Delete a hero. With `If-Match`, only if it is still the version the caller read."""
    versions = if_match_versions(if_match, hero_id)
    deleted = await database(request).write(
        lambda connection: crud.delete_hero(connection, hero_id, versions)
    )
    if deleted is Outcome.STALE:
        precondition_failed()
    if not deleted:
        _not_found()
    return Deleted()
