"""The framework's ceiling for our routes: FastAPI with the same four routes, the same request
and response models and the same validation as the service, and no database. It returns a
constant hero, or a slice of a constant list of 100, and echoes the body it parsed.

What the service could reach if reaching the database cost nothing (issue 14's reference).
"""

from typing import Annotated, Any

from fastapi import FastAPI, Query

from api.deps import HeroId
from api.limits import ID_MAX, PAGE_MAX
from api.models import Deleted, HeroCreate, HeroPage, HeroPublic, HeroUpdate

app = FastAPI()

HEROES = [{"id": n, "name": f"hero {n}", "age": n % 100} for n in range(1, PAGE_MAX + 1)]


@app.post("/heroes/", response_model=HeroPublic)
async def create_hero(hero: HeroCreate) -> Any:
    return {**hero.model_dump(exclude={"id", "secret_name"}), "id": 1}


@app.get("/heroes/", response_model=HeroPage)
async def read_heroes(
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_MAX,
) -> Any:
    return HEROES[offset : offset + limit]


@app.get("/heroes/{hero_id}", response_model=HeroPublic)
async def read_hero(hero_id: HeroId) -> Any:
    return HEROES[0]


@app.patch("/heroes/{hero_id}", response_model=HeroPublic)
async def update_hero(hero_id: HeroId, hero: HeroUpdate) -> Any:
    return {**HEROES[0], **hero.model_dump(exclude_unset=True, exclude={"id", "secret_name"})}


@app.delete("/heroes/{hero_id}", response_model=Deleted)
async def delete_hero(hero_id: HeroId) -> Deleted:
    return Deleted()
