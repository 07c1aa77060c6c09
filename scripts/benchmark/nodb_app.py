"""The framework's ceiling for our routes: FastAPI with the same four routes, the same request
and response models and the same validation as the service (its path, query and header
parameters too, from api/heroes/params.py), and no database. It returns a constant hero, or a slice of
a constant list of 100, and echoes the body it parsed.

What the service could reach if reaching the database cost nothing (the reference). No
access check, metrics or request log: those are the service's features, and what they cost is
part of what is measured against this.
"""

from typing import Any

from fastapi import FastAPI

from api.bounds import PAGE_MAX
from api.deps import HeroId
from api.heroes.fields import FIELDS, PUBLIC, HeroField, Text
from api.heroes.params import (
    AfterId,
    IfMatch,
    IfNoneMatch,
    Limit,
    Offset,
    Prefer,
    takes_filters,
)
from api.heroes.queries import Filters
from api.heroes.schemas import Deleted, HeroCreate, HeroPage, HeroPublic, HeroUpdate

app = FastAPI()


def _sample(field: HeroField, n: int) -> Any:
    if isinstance(field.kind, Text):
        return f"{field.name} {n}"
    return field.kind.minimum + n % 100


HEROES = [
    {"id": n, **{field.name: _sample(field, n) for field in PUBLIC}} for n in range(1, PAGE_MAX + 1)
]
_UNSEEN = {"id", *(field.name for field in FIELDS if not field.public)}


@app.post("/heroes/", response_model=HeroPublic)
async def create_hero(hero: HeroCreate) -> Any:
    return {**hero.model_dump(exclude=_UNSEEN), "id": 1}


@app.get("/heroes/", response_model=HeroPage)
@takes_filters
async def read_heroes(
    offset: Offset = 0,
    limit: Limit = PAGE_MAX,
    after_id: AfterId = None,
    filters: Filters = Filters(),  # noqa: B008  (the fields' filters: takes_filters)
    prefer: Prefer = None,
) -> Any:
    return HEROES[offset : offset + limit]


@app.get("/heroes/{hero_id}", response_model=HeroPublic)
async def read_hero(hero_id: HeroId, if_none_match: IfNoneMatch = None) -> Any:
    return HEROES[0]


@app.patch("/heroes/{hero_id}", response_model=HeroPublic)
async def update_hero(hero_id: HeroId, hero: HeroUpdate, if_match: IfMatch = None) -> Any:
    return {**HEROES[0], **hero.model_dump(exclude_unset=True, exclude=_UNSEEN)}


@app.delete("/heroes/{hero_id}", response_model=Deleted)
async def delete_hero(hero_id: HeroId, if_match: IfMatch = None) -> Deleted:
    return Deleted()
