"""HTTP for direct callers: ETags and conditional requests, HEAD, filters, next-page links, the
opt-in count, and ids that are never handed out twice."""

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import all_heroes

HERO = {"name": "Deadpond", "secret_name": "Dive Wilson"}
STALE = {"detail": "The hero has changed since that version (If-Match): read it again, then retry"}


def _create(client: TestClient, **fields: object) -> httpx.Response:
    response: httpx.Response = client.post("/heroes/", json={**HERO, **fields})
    assert response.status_code == 200, response.text
    return response


# --- ETags and conditional requests -----------------------------------------------------------


def test_every_response_with_one_hero_carries_its_etag_and_writes_change_it(
    client: TestClient,
) -> None:
    created = _create(client)
    hero_id = created.json()["id"]
    first = created.headers["etag"]
    assert first == f'"{hero_id}.1"'
    assert client.get(f"/heroes/{hero_id}").headers["etag"] == first
    patched = client.patch(f"/heroes/{hero_id}", json={"age": 3})
    assert patched.headers["etag"] == f'"{hero_id}.2"'
    assert client.get(f"/heroes/{hero_id}").headers["etag"] == patched.headers["etag"]
    assert "etag" not in client.get("/heroes/").headers  # a page is many heroes


def test_if_none_match_with_the_current_etag_is_a_304_without_a_body(client: TestClient) -> None:
    created = _create(client)
    hero_id, tag = created.json()["id"], created.headers["etag"]
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        response = client.get(f"/heroes/{hero_id}", headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == tag
    for header in ('"0.1"', f'"{hero_id}.9"', "garbage"):
        response = client.get(f"/heroes/{hero_id}", headers={"If-None-Match": header})
        assert response.status_code == 200, header
        assert response.json()["id"] == hero_id


@pytest.mark.parametrize(
    ("condition", "applies"),
    [
        ("{tag}", True),
        ('"nope", {tag}', True),
        ("*", True),
        ("W/{tag}", False),  # If-Match compares strongly: a weak tag never matches
        ('"{id}.99"', False),
        ('"12345.1"', False),  # another hero's tag
        ("not-a-tag", False),
        ("", False),
    ],
)
def test_if_match_follows_the_rfc(
    client: TestClient, engine: Engine, condition: str, applies: bool
) -> None:
    created = _create(client)
    hero_id, tag = created.json()["id"], created.headers["etag"]
    header = {"If-Match": condition.format(tag=tag, id=hero_id)}
    before = all_heroes(engine)
    patched = client.patch(f"/heroes/{hero_id}", json={"age": 7}, headers=header)
    if applies:
        assert patched.status_code == 200
        assert patched.json()["age"] == 7
        return
    assert patched.status_code == 412
    assert patched.json() == STALE
    deleted = client.delete(f"/heroes/{hero_id}", headers=header)
    assert deleted.status_code == 412
    empty = client.patch(f"/heroes/{hero_id}", json={}, headers=header)
    assert empty.status_code == 412
    assert all_heroes(engine) == before


def test_if_match_on_a_missing_hero_is_a_404(client: TestClient) -> None:
    assert (
        client.patch("/heroes/999", json={"age": 1}, headers={"If-Match": "*"}).status_code == 404
    )
    assert client.delete("/heroes/999", headers={"If-Match": '"999.1"'}).status_code == 404


def test_two_callers_with_the_same_etag_exactly_one_wins(client: TestClient) -> None:
    created = _create(client, age=1)
    hero_id, tag = created.json()["id"], created.headers["etag"]

    def write(age: int) -> int:
        response = client.patch(f"/heroes/{hero_id}", json={"age": age}, headers={"If-Match": tag})
        return int(response.status_code)

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(write, [10, 20]))
    assert statuses == [200, 412]
    assert client.get(f"/heroes/{hero_id}").json()["age"] in (10, 20)


def test_without_if_match_writes_are_as_before(client: TestClient) -> None:
    hero_id = _create(client).json()["id"]
    assert client.patch(f"/heroes/{hero_id}", json={"age": 2}).status_code == 200
    assert client.patch(f"/heroes/{hero_id}", json={"age": 3}).status_code == 200
    assert client.delete(f"/heroes/{hero_id}").status_code == 200


# --- HEAD ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/heroes/", "/heroes/{id}", "/health"])
def test_head_is_the_get_without_its_body(client: TestClient, path: str) -> None:
    hero_id = _create(client).json()["id"]
    url = path.format(id=hero_id)
    get, head = client.get(url), client.head(url)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers.get("etag") == get.headers.get("etag")
    assert client.head("/heroes/99999").status_code == 404


# --- filters, links, counts ------------------------------------------------------------------


@pytest.fixture
def crowd(client: TestClient) -> list[dict[str, Any]]:
    """Twelve heroes: names a/b/c in turn, ages 0, 10, ..., 110."""
    return [_create(client, name="abc"[n % 3], age=n * 10).json() for n in range(12)]


def test_filters_combine_with_each_other_and_with_paging(
    client: TestClient, crowd: list[dict[str, Any]]
) -> None:
    def ids(**params: int | str) -> list[object]:
        response = client.get("/heroes/", params=params)
        assert response.status_code == 200, response.text
        return [hero["id"] for hero in response.json()]

    every = [hero["id"] for hero in crowd]
    assert ids(name="a") == every[0::3]
    assert ids(min_age=50) == every[5:]
    assert ids(max_age=20) == every[:3]
    assert ids(min_age=20, max_age=50) == every[2:6]
    assert ids(name="b", min_age=40) == [every[4], every[7], every[10]]
    assert ids(name="b", min_age=40, limit=2) == [every[4], every[7]]
    assert ids(name="b", min_age=40, after_id=every[7]) == [every[10]]
    assert ids(name="b", offset=1) == every[4::3]
    assert ids(name="nobody") == []
    assert ids(min_age=60, max_age=10) == []
    assert client.get("/heroes/", params={"name": ""}).status_code == 422
    assert client.get("/heroes/", params={"min_age": -1}).status_code == 422


def test_a_full_page_links_to_the_next_one_with_its_filters(
    client: TestClient, crowd: list[dict[str, Any]]
) -> None:
    seen, url = [], "/heroes/?name=b&min_age=10&limit=2"
    pages = 0
    while url:
        response = client.get(url)
        seen += [hero["id"] for hero in response.json()]
        match = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers.get("link", ""))
        url = match.group(1) if match else ""
        pages += 1
        assert pages < 10
    assert seen == [hero["id"] for hero in crowd if hero["name"] == "b" and hero["age"] >= 10]
    assert pages == 3  # 2 + 2 + an empty last page (a full page can't know it was the last)
    short = client.get("/heroes/?name=b&limit=50")
    assert "link" not in short.headers


def test_link_keeps_every_filter(client: TestClient, crowd: list[dict[str, Any]]) -> None:
    response = client.get("/heroes/?name=a&min_age=0&max_age=100&limit=1&offset=1")
    link = response.headers["link"]
    last = response.json()[-1]["id"]
    assert link == f'</heroes/?after_id={last}&limit=1&name=a&min_age=0&max_age=100>; rel="next"'


def test_count_is_opt_in(client: TestClient, crowd: list[dict[str, Any]]) -> None:
    plain = client.get("/heroes/?name=a")
    assert "content-range" not in plain.headers
    counted = client.get("/heroes/?name=a&limit=2&offset=1", headers={"Prefer": "count=exact"})
    assert counted.headers["content-range"] == "1-2/4"
    assert counted.headers["preference-applied"] == "count=exact"
    after = client.get(
        "/heroes/", params={"after_id": crowd[5]["id"]}, headers={"Prefer": "count=exact"}
    )
    assert after.headers["content-range"] == "*/12"
    none = client.get("/heroes/?name=zzz", headers={"Prefer": "return=minimal, count=exact"})
    assert none.headers["content-range"] == "*/0"


# --- ids -------------------------------------------------------------------------------------


def test_a_deleted_heroes_id_is_never_given_to_another(client: TestClient) -> None:
    ids = [_create(client).json()["id"] for _ in range(3)]
    assert client.delete(f"/heroes/{ids[-1]}").status_code == 200
    assert _create(client).json()["id"] > ids[-1]
    assert client.get(f"/heroes/{ids[-1]}").status_code == 404


def test_the_root_leads_to_the_docs(client: TestClient) -> None:
    # The URL the start-up line prints, opened in a browser, shows something useful.
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == "/docs"
    assert client.get("/").text.count("swagger-ui") > 0
