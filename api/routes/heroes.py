"""The /heroes routes: the tutorial's wire contract."""

from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, HTTPException, Query

from api import crud
from api.auth import PUBLIC
from api.deps import DatabaseDep, HeroId, JsonBody, Reader, Writer
from api.errors import BODY_ERRORS, NOT_FOUND, READ_RESPONSES, WRITE_RESPONSES
from api.limits import ID_MAX, PAGE_MAX
from api.models import Deleted, HeroCreate, HeroPage, HeroPublic, HeroUpdate

router = APIRouter(prefix="/heroes", tags=["heroes"])

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


# The routes are `async def` and hand their database work to Database.run: one thread hop per
# request instead of one per dependency, and response validation stays off the thread pool.


@router.post(
    "/",
    response_model=HeroPublic,
    responses=_merge(WRITE_RESPONSES, {200: {"links": _CREATED_LINKS}}, BODY_ERRORS),
    dependencies=[Writer, JsonBody],
)
async def create_hero(hero: HeroCreate, db: DatabaseDep) -> Any:
    """Create a hero. Any `id` in the body is ignored; the database assigns it."""
    values = hero.model_dump(exclude={"id"})
    return await db.write(lambda connection: crud.create_hero(connection, values))


@router.get(
    "/",
    response_model=HeroPage,
    responses=READ_RESPONSES,
    dependencies=[Reader],
    openapi_extra=PUBLIC,
)
async def read_heroes(
    db: DatabaseDep,
    offset: Annotated[int, Query(ge=0, le=ID_MAX, description="Rows to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX, description="Page size.")] = PAGE_MAX,
    after_id: Annotated[
        int | None,
        Query(
            ge=0,
            le=ID_MAX,
            description="Cursor: only heroes with a larger id. Pass the last id of the previous "
            "page to page through a large table at constant cost (`offset` re-reads every "
            "skipped row).",
        ),
    ] = None,
) -> Any:
    """List heroes in id order, a page at a time."""
    return await db.read(lambda connection: crud.list_heroes(connection, offset, limit, after_id))


@router.get(
    "/{hero_id}",
    response_model=HeroPublic,
    responses=_merge(READ_RESPONSES, NOT_FOUND),
    dependencies=[Reader],
    openapi_extra=PUBLIC,
)
async def read_hero(hero_id: HeroId, db: DatabaseDep) -> Any:
    """Read one hero."""
    return await db.read(lambda connection: crud.get_hero(connection, hero_id)) or _not_found()


@router.patch(
    "/{hero_id}",
    response_model=HeroPublic,
    responses=_merge(WRITE_RESPONSES, NOT_FOUND, BODY_ERRORS),
    dependencies=[Writer, JsonBody],
)
async def update_hero(hero_id: HeroId, hero: HeroUpdate, db: DatabaseDep) -> Any:
    """Change only the fields present in the body; `age: null` clears the age."""
    values = hero.model_dump(exclude_unset=True, exclude={"id"})
    if not values:
        # Nothing to change: a read, without taking the write lock or a write transaction.
        return await read_hero(hero_id, db)
    updated = await db.write(lambda connection: crud.update_hero(connection, hero_id, values))
    return updated or _not_found()


@router.delete(
    "/{hero_id}",
    response_model=Deleted,
    responses=_merge(WRITE_RESPONSES, NOT_FOUND),
    dependencies=[Writer],
)
async def delete_hero(hero_id: HeroId, db: DatabaseDep) -> Deleted:
    """Delete a hero."""
    if not await db.write(lambda connection: crud.delete_hero(connection, hero_id)):
        _not_found()
    return Deleted()
