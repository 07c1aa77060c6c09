"""The tutorial's wire contract, route by route."""

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


def test_read_heroes_pages_in_id_order(client: TestClient) -> None:
    ids = [create(client, name=f"hero {i}")["id"] for i in range(5)]
    assert [h["id"] for h in client.get("/heroes/").json()] == ids
    page = client.get("/heroes/", params={"offset": 1, "limit": 2}).json()
    assert page == [
        {"id": ids[1], "name": "hero 1", "age": None},
        {"id": ids[2], "name": "hero 2", "age": None},
    ]


def test_read_heroes_limit_defaults_to_100(client: TestClient) -> None:
    for i in range(105):
        create(client, name=f"hero {i}")
    assert len(client.get("/heroes/").json()) == 100


def test_read_hero(client: TestClient) -> None:
    hero = create(client, age=48)
    response = client.get(f"/heroes/{hero['id']}")
    assert response.status_code == 200
    assert response.json() == {"id": hero["id"], "name": "Deadpond", "age": 48}


def test_patch_changes_only_sent_fields(client: TestClient, engine: Engine) -> None:
    hero = create(client, age=48)
    response = client.patch(f"/heroes/{hero['id']}", json={"name": "Deadpuddle"})
    assert response.status_code == 200
    assert response.json() == {"id": hero["id"], "name": "Deadpuddle", "age": 48}
    assert all_heroes(engine) == [(hero["id"], "Deadpuddle", 48, "Dive Wilson")]


def test_patch_age_null_clears_age(client: TestClient) -> None:
    hero = create(client, age=48)
    response = client.patch(f"/heroes/{hero['id']}", json={"age": None})
    assert response.json() == {"id": hero["id"], "name": "Deadpond", "age": None}


def test_patch_secret_name_is_stored_not_returned(client: TestClient, engine: Engine) -> None:
    hero = create(client)
    response = client.patch(f"/heroes/{hero['id']}", json={"secret_name": "Wade"})
    assert response.json() == {"id": hero["id"], "name": "Deadpond", "age": None}
    assert all_heroes(engine)[0][3] == "Wade"


def test_delete_hero(client: TestClient, engine: Engine) -> None:
    hero = create(client)
    response = client.delete(f"/heroes/{hero['id']}")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert all_heroes(engine) == []
    assert client.get(f"/heroes/{hero['id']}").status_code == 404


def test_missing_hero_is_404_on_every_route(client: TestClient, engine: Engine) -> None:
    create(client)
    before = all_heroes(engine)
    for method in ("GET", "PATCH", "DELETE"):
        kwargs: dict[str, Any] = {"json": {"name": "x"}} if method == "PATCH" else {}
        response = client.request(method, "/heroes/999", **kwargs)
        assert response.status_code == 404, method
        assert response.json() == {"detail": "Hero not found"}
    assert all_heroes(engine) == before


def test_health_reports_database_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_after_id_cursor_pages_from_the_given_id(client: TestClient) -> None:
    ids = [create(client, name=f"hero {i}")["id"] for i in range(5)]
    page = client.get("/heroes/", params={"after_id": ids[1], "limit": 2}).json()
    assert [hero["id"] for hero in page] == ids[2:4]
    assert client.get("/heroes/", params={"after_id": ids[-1]}).json() == []
    # Without the cursor, existing calls return what they always did.
    assert [hero["id"] for hero in client.get("/heroes/").json()] == ids


def test_after_id_must_be_a_non_negative_64_bit_integer(client: TestClient) -> None:
    for bad in (-1, 2**63, "x"):
        assert client.get("/heroes/", params={"after_id": bad}).status_code == 422
