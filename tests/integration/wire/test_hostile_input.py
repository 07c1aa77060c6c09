"""A corpus of hostile requests against every route: each gets a documented 4xx with a JSON
error, nothing in the database changes, and no response or log line leaks internals or secrets."""

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import ROOT, all_heroes

SECRET = "Dive Wilson, the secret"
JSON = {"content-type": "application/json"}
TEXT = {"content-type": "text/plain"}
LEAKS = ("Traceback", "sqlalchemy", "psycopg", "sqlite3", "SELECT ", "INSERT ", "UPDATE ", SECRET)

# (name, method, path, body bytes or None, headers)
CORPUS: list[tuple[str, str, str, bytes | None, dict[str, str]]] = [
    ("deeply nested JSON", "POST", "/heroes/", b"[" * 30_000 + b"]" * 30_000, JSON),
    ("nested object", "PATCH", "/heroes/1", b'{"name": ' * 5000 + b"1" + b"}" * 5000, JSON),
    ("invalid UTF-8", "POST", "/heroes/", b'{"name": "\xc3\x28", "secret_name": "x"}', JSON),
    ("lone surrogate", "POST", "/heroes/", b'{"name": "\\ud800", "secret_name": "x"}', JSON),
    ("NUL in name", "POST", "/heroes/", b'{"name": "a\\u0000", "secret_name": "x"}', JSON),
    ("NUL in secret", "PATCH", "/heroes/1", b'{"secret_name": "a\\u0000"}', JSON),
    (
        "huge integer age",
        "POST",
        "/heroes/",
        b'{"name": "a", "secret_name": "b", "age": 1' + b"0" * 5000 + b"}",
        JSON,
    ),
    ("age beyond int32", "PATCH", "/heroes/1", b'{"age": 2147483648}', JSON),
    ("age as float", "POST", "/heroes/", b'{"name": "a", "secret_name": "b", "age": 1.5}', JSON),
    (
        "age as exponent",
        "POST",
        "/heroes/",
        b'{"name": "a", "secret_name": "b", "age": 1e400}',
        JSON,
    ),
    ("age as NaN", "PATCH", "/heroes/1", b'{"age": NaN}', JSON),
    ("age as boolean", "PATCH", "/heroes/1", b'{"age": true}', JSON),
    ("age as string", "POST", "/heroes/", b'{"name": "a", "secret_name": "b", "age": "12"}', JSON),
    ("name as number", "POST", "/heroes/", b'{"name": 12, "secret_name": "b"}', JSON),
    ("name as null", "PATCH", "/heroes/1", b'{"name": null}', JSON),
    ("unknown field", "POST", "/heroes/", b'{"name": "a", "secret_name": "b", "power": 1}', JSON),
    ("unknown field patch", "PATCH", "/heroes/1", b'{"is_admin": true}', JSON),
    ("body is a list", "POST", "/heroes/", b'[{"name": "a", "secret_name": "b"}]', JSON),
    ("body is a string", "PATCH", "/heroes/1", b'"name"', JSON),
    ("truncated JSON", "POST", "/heroes/", b'{"name": "a", "secret_na', JSON),
    ("empty body", "POST", "/heroes/", b"", JSON),
    ("wrong content type", "POST", "/heroes/", b'{"name": "a", "secret_name": "b"}', TEXT),
    ("missing content type", "PATCH", "/heroes/1", b'{"name": "a"}', {}),
    (
        "form content type",
        "POST",
        "/heroes/",
        b"name=a&secret_name=b",
        {"content-type": "application/x-www-form-urlencoded"},
    ),
    (
        "oversized body",
        "POST",
        "/heroes/",
        json.dumps({"name": "a" * 70_000, "secret_name": "b"}).encode(),
        JSON,
    ),
    ("id beyond 64 bits", "GET", "/heroes/18446744073709551616", None, {}),
    ("id just past int64", "PATCH", "/heroes/9223372036854775808", b'{"age": 1}', JSON),
    ("negative id", "DELETE", "/heroes/-1", None, {}),
    ("zero id", "GET", "/heroes/0", None, {}),
    ("id not a number", "DELETE", "/heroes/abc", None, {}),
    ("id as float", "GET", "/heroes/1.5", None, {}),
    ("limit beyond 64 bits", "GET", "/heroes/?limit=99999999999999999999999", None, {}),
    ("negative offset", "GET", "/heroes/?offset=-5", None, {}),
    ("offset as text", "GET", "/heroes/?offset=ten", None, {}),
    ("limit zero", "GET", "/heroes/?limit=0", None, {}),
    ("after_id negative", "GET", "/heroes/?after_id=-1", None, {}),
    ("unsupported method", "PUT", "/heroes/1", b'{"name": "a"}', JSON),
]


@pytest.fixture
def documented(client: TestClient) -> dict[tuple[str, str], set[int]]:
    paths = json.loads((ROOT / "openapi.json").read_text())["paths"]
    return {
        (path, method.upper()): {int(status) for status in operation["responses"]}
        for path, operations in paths.items()
        for method, operation in operations.items()
    }


def _template(path: str) -> str:
    return "/heroes/" if path.startswith("/heroes/?") or path == "/heroes/" else "/heroes/{hero_id}"


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [case[1:] for case in CORPUS],
    ids=[case[0] for case in CORPUS],
)
def test_hostile_request_is_a_documented_4xx_and_changes_nothing(
    client: TestClient,
    engine: Engine,
    documented: dict[tuple[str, str], set[int]],
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
) -> None:
    client.post("/heroes/", json={"name": "Deadpond", "secret_name": SECRET, "age": 30})
    before = all_heroes(engine)
    caplog.set_level(logging.DEBUG)

    response = client.request(method, path, content=body, headers=headers)

    assert 400 <= response.status_code < 500, response.text
    payload: Any = response.json()
    assert "detail" in payload
    if response.status_code == 405:
        assert response.headers["allow"]
    else:
        assert response.status_code in documented[(_template(path), method)]
    for leak in LEAKS:
        assert leak not in response.text
        assert leak not in caplog.text
    assert all_heroes(engine) == before
