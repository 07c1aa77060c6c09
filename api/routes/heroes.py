"""The /heroes routes: the tutorial's wire contract."""

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, select

from api.deps import HeroDep, JsonBody, SessionDep
from api.errors import BODY_ERRORS, NOT_FOUND
from api.limits import ID_MAX, PAGE_MAX
from api.models import Deleted, Hero, HeroCreate, HeroPublic, HeroUpdate

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


@router.post(
    "/",
    response_model=HeroPublic,
    responses={200: {"links": _CREATED_LINKS}, **BODY_ERRORS},
    dependencies=[JsonBody],
)
def create_hero(hero: HeroCreate, session: SessionDep) -> Hero:
    """Create a hero. Any `id` in the body is ignored; the database assigns it."""
    db_hero = Hero.model_validate(hero.model_dump(exclude={"id"}))
    session.add(db_hero)
    session.commit()
    session.refresh(db_hero)
    return db_hero


@router.get("/", response_model=list[HeroPublic])
def read_heroes(
    session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=ID_MAX, description="Rows to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX, description="Page size.")] = PAGE_MAX,
) -> list[Hero]:
    """List heroes in id order, a page at a time."""
    statement = select(Hero).order_by(col(Hero.id)).offset(offset).limit(limit)
    return list(session.exec(statement).all())


@router.get("/{hero_id}", response_model=HeroPublic, responses=NOT_FOUND)
def read_hero(hero: HeroDep) -> Hero:
    """Read one hero."""
    return hero


@router.patch(
    "/{hero_id}",
    response_model=HeroPublic,
    responses={**NOT_FOUND, **BODY_ERRORS},
    dependencies=[JsonBody],
)
def update_hero(hero: HeroDep, update: HeroUpdate, session: SessionDep) -> Hero:
    """Change only the fields present in the body; `age: null` clears the age."""
    hero.sqlmodel_update(update.model_dump(exclude_unset=True, exclude={"id"}))
    session.add(hero)
    session.commit()
    session.refresh(hero)
    return hero


@router.delete("/{hero_id}", response_model=Deleted, responses=NOT_FOUND)
def delete_hero(hero: HeroDep, session: SessionDep) -> Deleted:
    """Delete a hero."""
    session.delete(hero)
    session.commit()
    return Deleted()
