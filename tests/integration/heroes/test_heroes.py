"""The tutorial's wire contract, route by route: create, read, delete, health. Paging, PATCH
and missing ids, for every input, are test_paging.py, test_patch.py and test_not_found.py."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import all_heroes

DEADPOND = {"name": "Deadpond", "secret_name": "Dive Wilson"}


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/heroes/", json={**DEADPOND, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_returns_public_hero_without_secret_name(client: TestClient) -> None:
    response = client.post("/heroes/", json={**DEADPOND, "age": 30})
    assert response.status_code == 200
    assert response.json() == {"id": 1, "name": "Deadpond", "age": 30}


def test_create_ignores_client_sent_id(client: TestClient, engine: Engine) -> None:
    first = create(client)
    second = create(client, id=first["id"])
    assert second["id"] == first["id"] + 1
    assert [row[0] for row in all_heroes(engine)] == [first["id"], second["id"]]


def test_create_stores_secret_name(client: TestClient, engine: Engine) -> None:
    hero = create(client, age=None)
    assert all_heroes(engine) == [(hero["id"], "Deadpond", None, "Dive Wilson")]


def test_read_hero(client: TestClient) -> None:
    hero = create(client, age=48)
    response = client.get(f"/heroes/{hero['id']}")
    assert response.status_code == 200
    assert response.json() == {"id": hero["id"], "name": "Deadpond", "age": 48}


def test_delete_hero(client: TestClient, engine: Engine) -> None:
    hero = create(client)
    response = client.delete(f"/heroes/{hero['id']}")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert all_heroes(engine) == []
    assert client.get(f"/heroes/{hero['id']}").status_code == 404


def test_health_reports_database_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
