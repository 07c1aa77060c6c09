"""Each defect measured on the tutorial app, pinned so that it cannot come back.

Run against the tutorial app (scripts/benchmark/tutorial_app.py), most fail; the others pin what
it already got right (README, "Do the tests bite?"). The paging bounds it let through (limit=-1
returned every row) are examples of the properties in test_paging.py.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.bounds import NAME_MAX_LENGTH, SECRET_NAME_MAX_LENGTH
from tests.conftest import all_heroes

HERO = {"name": "Deadpond", "secret_name": "Dive Wilson", "age": 30}


@pytest.fixture
def hero_id(client: TestClient) -> int:
    hero_id: int = client.post("/heroes/", json=HERO).json()["id"]
    return hero_id


def assert_unchanged(engine: Engine, before: list[Any]) -> None:
    assert all_heroes(engine) == before


@pytest.mark.parametrize("age", [2**31, 2**64, -1, -(2**64), 10**30])
def test_age_beyond_bounds_is_rejected(client: TestClient, engine: Engine, age: int) -> None:
    response = client.post("/heroes/", json={**HERO, "age": age})
    assert response.status_code == 422
    assert all_heroes(engine) == []


@pytest.mark.parametrize("field", ["name", "secret_name"])
def test_patch_null_into_required_field_is_rejected(
    client: TestClient, engine: Engine, hero_id: int, field: str
) -> None:
    before = all_heroes(engine)
    response = client.patch(f"/heroes/{hero_id}", json={field: None, "age": 1})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert_unchanged(engine, before)


def test_integral_float_age_is_an_integer(client: TestClient) -> None:
    # JSON Schema counts 12.0 as an integer; the contract follows JSON Schema.
    response = client.post("/heroes/", json={**HERO, "age": 12.0})
    assert response.status_code == 200
    assert response.json()["age"] == 12


@pytest.mark.parametrize("literal", ["1e400", "-Infinity", "NaN", "12.5"])
def test_non_integral_number_age_is_rejected(
    client: TestClient, engine: Engine, literal: str
) -> None:
    body = f'{{"name": "x", "secret_name": "y", "age": {literal}}}'
    response = client.post("/heroes/", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert all_heroes(engine) == []


@pytest.mark.parametrize("age", [True, False, "12", 12.5, [12], {"v": 12}])
def test_age_must_be_a_json_integer(client: TestClient, engine: Engine, age: object) -> None:
    response = client.post("/heroes/", json={**HERO, "age": age})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "age"]
    assert all_heroes(engine) == []


def test_age_must_be_an_integer_on_patch(client: TestClient, engine: Engine, hero_id: int) -> None:
    before = all_heroes(engine)
    assert client.patch(f"/heroes/{hero_id}", json={"age": True}).status_code == 422
    assert client.patch(f"/heroes/{hero_id}", json={"age": "12"}).status_code == 422
    assert_unchanged(engine, before)


@pytest.mark.parametrize(
    ("field", "bound"), [("name", NAME_MAX_LENGTH), ("secret_name", SECRET_NAME_MAX_LENGTH)]
)
def test_strings_have_a_maximum_length(
    client: TestClient, engine: Engine, field: str, bound: int
) -> None:
    at_bound = client.post("/heroes/", json={**HERO, field: "x" * bound})
    assert at_bound.status_code == 200
    before = all_heroes(engine)
    over = client.post("/heroes/", json={**HERO, field: "x" * (bound + 1)})
    assert over.status_code == 422
    patched = client.patch(f"/heroes/{at_bound.json()['id']}", json={field: "y" * (bound + 1)})
    assert patched.status_code == 422
    assert_unchanged(engine, before)


@pytest.mark.parametrize("field", ["name", "secret_name"])
def test_strings_must_not_be_empty(
    client: TestClient, engine: Engine, hero_id: int, field: str
) -> None:
    before = all_heroes(engine)
    assert client.post("/heroes/", json={**HERO, field: ""}).status_code == 422
    assert client.patch(f"/heroes/{hero_id}", json={field: ""}).status_code == 422
    assert_unchanged(engine, before)


@pytest.mark.parametrize("field", ["name", "secret_name"])
def test_nul_character_is_rejected(
    client: TestClient, engine: Engine, hero_id: int, field: str
) -> None:
    # PostgreSQL cannot store NUL in text: without the bound it would be a 500 there.
    before = all_heroes(engine)
    assert client.post("/heroes/", json={**HERO, field: "a\x00b"}).status_code == 422
    assert client.patch(f"/heroes/{hero_id}", json={field: "a\x00b"}).status_code == 422
    assert_unchanged(engine, before)


def test_five_megabyte_name_is_refused_unread(client: TestClient, engine: Engine) -> None:
    response = client.post("/heroes/", json={**HERO, "name": "x" * 5_000_000})
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
    assert all_heroes(engine) == []


def test_streamed_body_over_the_bound_is_413(client: TestClient, engine: Engine) -> None:
    # No Content-Length: the bound is enforced while the chunks arrive.
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'", "secret_name": "y"}'

    headers = {"content-type": "application/json"}
    response = client.post("/heroes/", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
    assert all_heroes(engine) == []


def test_every_status_is_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    documented = {
        (path, method): set(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    body_routes = {"400", "415"}
    # 413, 500 and 503: any route can answer them.
    common = {"200", "401", "413", "422", "429", "500", "503"}
    writes = common | {"403", "409"}  # 409: an Idempotency-Key still in use
    assert documented == {
        ("/heroes/", "post"): writes | body_routes,
        ("/heroes/", "get"): common,
        ("/heroes/", "head"): common,
        ("/heroes/{hero_id}", "get"): common | {"304", "404"},
        ("/heroes/{hero_id}", "head"): common | {"304", "404"},
        ("/heroes/{hero_id}", "patch"): writes | {"404", "412"} | body_routes,
        ("/heroes/{hero_id}", "delete"): writes | {"404", "412"},
        ("/health", "get"): {"200", "413", "500", "503"},
        ("/health", "head"): {"200", "413", "500", "503"},
    }


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/heroes/", {"GET", "HEAD", "POST"}), ("/heroes/1", {"GET", "HEAD", "PATCH", "DELETE"})],
)
def test_405_allow_header_lists_every_method(
    client: TestClient, path: str, allowed: set[str]
) -> None:
    response = client.put(path, json=HERO)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


def test_malformed_json_is_422(client: TestClient, engine: Engine) -> None:
    response = client.post(
        "/heroes/", content=b'{"name": "x",', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert all_heroes(engine) == []


def test_invalid_utf8_is_400(client: TestClient, engine: Engine) -> None:
    body = b'{"name": "\xff\xfe", "secret_name": "x"}'
    response = client.post("/heroes/", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"detail": "There was an error parsing the body"}
    assert all_heroes(engine) == []


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_415(
    client: TestClient, engine: Engine, hero_id: int, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    before = all_heroes(engine)
    body = b'{"name": "x", "secret_name": "y"}'
    for method, path in [("POST", "/heroes/"), ("PATCH", f"/heroes/{hero_id}")]:
        response = client.request(method, path, content=body, headers=headers)
        assert response.status_code == 415, (method, response.text)
        assert response.json() == {"detail": "Content-Type must be application/json"}
    assert_unchanged(engine, before)


@pytest.mark.parametrize("sent_id", [False, "7", 7.5])
def test_ignored_id_must_still_be_an_integer(
    client: TestClient, engine: Engine, sent_id: object
) -> None:
    response = client.post("/heroes/", json={**HERO, "id": sent_id})
    assert response.status_code == 422
    assert all_heroes(engine) == []


def test_unknown_fields_are_rejected(client: TestClient, engine: Engine, hero_id: int) -> None:
    before = all_heroes(engine)
    assert client.post("/heroes/", json={**HERO, "power": "flight"}).status_code == 422
    assert client.patch(f"/heroes/{hero_id}", json={"power": "flight"}).status_code == 422
    assert_unchanged(engine, before)
