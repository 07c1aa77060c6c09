"""One log line per request, with its id; never a body, a key or a secret name. And the JSON
500 for a failure nothing else handled, whose request id leads to the traceback in the log."""

import json
import logging
import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.bounds import REQUEST_ID_PATTERN
from api.config import Settings
from api.heroes import queries
from api.main import create_app
from api.observability import INTERNAL_ERROR
from tests.conftest import LOOPBACK, bearer, make_key, start_server, stop_server

SECRET = "Dive Wilson, whose name must never be logged"


def test_json_request_lines_carry_the_id_and_nothing_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'heroes.db'}"
    key = make_key(url)
    log = tmp_path / "server.log"
    process, base = start_server(url, env={"HEROES_LOG_FORMAT": "json"}, log=log)
    try:
        created = httpx.post(
            f"{base}/heroes/",
            json={"name": "Deadpond", "secret_name": SECRET},
            headers={**bearer(key), "X-Request-ID": "trace-0001"},
        )
        assert created.status_code == 200
        assert created.headers["x-request-id"] == "trace-0001"
        hero = created.json()["id"]
        patched = httpx.patch(
            f"{base}/heroes/{hero}?x=1", json={"secret_name": SECRET + "!"}, headers=bearer(key)
        )
        made_up = patched.headers["x-request-id"]
        assert patched.status_code == 200
        # Not sane (a space and a quote): replaced by one of ours, not written to the log.
        insane = httpx.get(f"{base}/heroes/{hero}", headers={"X-Request-ID": 'a "b'})
        replaced = insane.headers["x-request-id"]
        assert replaced != 'a "b'
        refused = httpx.delete(f"{base}/heroes/{hero}", headers=bearer("heroes_" + "k" * 43))
        assert refused.status_code == 401
    finally:
        stop_server(process)

    text = log.read_text()
    for secret in (SECRET, key, "heroes_" + "k" * 43, "Deadpond", "x=1", 'a "b'):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines()]  # every line is JSON
    # No terminal colours (uvicorn's color_message) for a log collector to choke on.
    assert "\x1b" not in text
    assert "\\u001b" not in text
    assert not [line for line in lines if "color_message" in line]
    by_id = {line["request_id"]: line for line in lines if line["logger"] == "api.requests"}
    assert by_id["trace-0001"]["method"] == "POST"
    assert by_id["trace-0001"]["route"] == "/heroes/"
    assert by_id["trace-0001"]["status"] == 200
    assert by_id["trace-0001"]["duration_ms"] > 0
    assert by_id[made_up]["method"] == "PATCH"
    assert by_id[made_up]["route"] == "/heroes/{hero_id}"
    assert by_id[made_up]["path"] == f"/heroes/{hero}"
    assert by_id[replaced]["status"] == 200
    assert [line["status"] for line in lines if line.get("method") == "DELETE"] == [401]


def test_text_request_lines_by_default(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    process, base = start_server(f"sqlite:///{tmp_path / 'heroes.db'}", log=log)
    try:
        httpx.get(f"{base}/heroes/7", headers={"X-Request-ID": "abc.123"})
    finally:
        stop_server(process)
    [line] = [line for line in log.read_text().splitlines() if "id=abc.123" in line]
    assert '"GET /heroes/7" 404' in line
    assert "route=/heroes/{hero_id}" in line


def test_no_line_per_request_when_turned_off(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    process, base = start_server(f"sqlite:///{tmp_path / 'heroes.db'}", "--no-access-log", log=log)
    try:
        httpx.get(f"{base}/heroes/7", headers={"X-Request-ID": "quiet-1"})
    finally:
        stop_server(process)
    assert "quiet-1" not in log.read_text()


def test_an_unexpected_failure_is_a_json_500_whose_id_is_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("a bug nobody foresaw, with secret internals")

    monkeypatch.setattr(queries, "get_hero", broken)
    settings = Settings(DATABASE_URL=f"sqlite:///{tmp_path / 'heroes.db'}")
    with (
        caplog.at_level(logging.ERROR, logger="api.errors"),
        TestClient(create_app(settings), client=LOOPBACK) as client,
    ):
        response = client.get("/heroes/1")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == {"detail": INTERNAL_ERROR, "request_id": response.headers["x-request-id"]}
    assert "secret internals" not in response.text
    assert re.match(REQUEST_ID_PATTERN, body["request_id"])
    [record] = caplog.records
    assert body["request_id"] in record.getMessage()
    assert record.exc_info is not None  # the traceback goes to the log


def test_head_over_a_socket_is_logged_under_its_route_without_errors(tmp_path: Path) -> None:
    # uvicorn checks a HEAD answer against the scope it holds: the HEAD middleware must not
    # rewrite that scope's method, or every HEAD ends in "content shorter than Content-Length".
    log = tmp_path / "server.log"
    process, base = start_server(f"sqlite:///{tmp_path / 'heroes.db'}", log=log)
    try:
        created = httpx.post(f"{base}/heroes/", json={"name": "Head", "secret_name": "Heady"})
        one = httpx.head(f"{base}/heroes/{created.json()['id']}", headers={"X-Request-ID": "h-1"})
        page = httpx.head(f"{base}/heroes/", headers={"X-Request-ID": "h-2"})
        assert (one.status_code, page.status_code) == (200, 200)
        assert int(one.headers["content-length"]) > 0
    finally:
        stop_server(process)
    text = log.read_text()
    assert "ERROR" not in text, text
    assert '"HEAD /heroes/1" 200' in text
    assert "route=/heroes/{hero_id} id=h-1" in text
    assert "route=/heroes/ id=h-2" in text
