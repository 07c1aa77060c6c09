"""The framework's ceiling: a FastAPI route returning a constant, no database."""

from fastapi import FastAPI

app = FastAPI()

HERO = {"name": "Deadpond", "age": None, "id": 1}


@app.get("/heroes/{hero_id}")
async def read_hero(hero_id: int) -> dict[str, object]:
    return HERO
