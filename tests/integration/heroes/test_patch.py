"""PATCH changes exactly the fields that were sent (exclude_unset), whatever the subset."""

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine

from tests.conftest import all_heroes, clear_heroes
from tests.integration.heroes.strategies import ages, heroes, names, secret_names

FIELDS = {"name": names, "age": ages, "secret_name": secret_names}
updates = st.fixed_dictionaries({}, optional=FIELDS)
DEADPOND = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": 48}


def stored(engine: Engine, hero_id: int) -> dict[str, Any]:
    (row,) = [row for row in all_heroes(engine) if row[0] == hero_id]
    return {"name": row[1], "age": row[2], "secret_name": row[3]}


@given(original=heroes, update=updates)
@example(original=DEADPOND, update={"name": "Deadpuddle"})
@example(original=DEADPOND, update={"secret_name": "Wade"})  # stored, never returned
def test_patch_changes_exactly_the_sent_fields(
    client: TestClient, engine: Engine, original: dict[str, Any], update: dict[str, Any]
) -> None:
    clear_heroes(engine)
    hero_id = client.post("/heroes/", json=original).json()["id"]
    response = client.patch(f"/heroes/{hero_id}", json=update)
    assert response.status_code == 200
    expected = {**original, **update}
    # secret_name is never returned, so it is checked in the database.
    assert stored(engine, hero_id) == expected
    assert response.json() == {"id": hero_id, "name": expected["name"], "age": expected["age"]}


@given(original=heroes.filter(lambda hero: hero["age"] is not None))
@example(original=DEADPOND)
def test_patch_age_null_clears_only_the_age(
    client: TestClient, engine: Engine, original: dict[str, Any]
) -> None:
    clear_heroes(engine)
    hero_id = client.post("/heroes/", json=original).json()["id"]
    response = client.patch(f"/heroes/{hero_id}", json={"age": None})
    assert response.status_code == 200
    assert response.json() == {"id": hero_id, "name": original["name"], "age": None}
    assert stored(engine, hero_id) == {**original, "age": None}


@given(original=heroes)
def test_patch_with_empty_body_changes_nothing(
    client: TestClient, engine: Engine, original: dict[str, Any]
) -> None:
    clear_heroes(engine)
    hero_id = client.post("/heroes/", json=original).json()["id"]
    before = all_heroes(engine)
    response = client.patch(f"/heroes/{hero_id}", json={})
    assert response.status_code == 200
    assert all_heroes(engine) == before
