"""Paging: what `offset`, `limit` and `after_id` may be, and what a page holds."""

from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine

from api.bounds import ID_MAX, PAGE_MAX
from tests.conftest import all_heroes
from tests.integration.heroes.rows import seed

valid_limits = st.integers(min_value=1, max_value=PAGE_MAX)
invalid_limits = st.integers().filter(lambda n: not 1 <= n <= PAGE_MAX)


@given(count=st.integers(0, 250), offset=st.integers(0, 300), limit=valid_limits)
@example(count=5, offset=1, limit=2)
def test_page_holds_at_most_limit_rows_in_id_order(
    client: TestClient, engine: Engine, count: int, offset: int, limit: int
) -> None:
    ids = seed(engine, count)
    response = client.get("/heroes/", params={"offset": offset, "limit": limit})
    assert response.status_code == 200
    heroes = [{"id": hero_id, "name": f"hero {n}", "age": n} for n, hero_id in enumerate(ids)]
    # Exactly `limit` rows whenever that many remain past the offset, as the public hero.
    assert response.json() == heroes[offset : offset + limit]


@given(limit=invalid_limits)
# The tutorial returned every row for limit=-1: the cap was bypassed.
@example(limit=-1)
@example(limit=0)
@example(limit=101)
@example(limit=2**64)
def test_limit_outside_1_to_100_is_422(client: TestClient, engine: Engine, limit: int) -> None:
    seed(engine, 3)
    before = all_heroes(engine)
    response = client.get("/heroes/", params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]
    assert all_heroes(engine) == before


@given(offset=st.integers(max_value=-1) | st.integers(min_value=ID_MAX + 1))
@example(offset=-1)
@example(offset=2**63)
@example(offset=2**64)
@example(offset=-(2**64))
def test_negative_or_huge_offset_is_422(client: TestClient, engine: Engine, offset: int) -> None:
    seed(engine, 3)
    response = client.get("/heroes/", params={"offset": offset})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "offset"]


@given(count=st.integers(0, 250), limit=valid_limits)
def test_paging_through_visits_every_hero_once(
    client: TestClient, engine: Engine, count: int, limit: int
) -> None:
    ids = seed(engine, count)
    seen: list[int] = []
    offset = 0
    while True:
        page = client.get("/heroes/", params={"offset": offset, "limit": limit}).json()
        if not page:
            break
        assert len(page) <= limit
        seen += [hero["id"] for hero in page]
        offset += limit
    assert seen == ids


def test_largest_offset_is_an_empty_page(client: TestClient, engine: Engine) -> None:
    seed(engine, 1)
    response = client.get("/heroes/", params={"offset": ID_MAX})
    assert response.status_code == 200
    assert response.json() == []


def test_limit_defaults_to_100(client: TestClient, engine: Engine) -> None:
    ids = seed(engine, 105)
    assert [hero["id"] for hero in client.get("/heroes/").json()] == ids[:100]


def test_after_id_cursor_pages_from_the_given_id(client: TestClient, engine: Engine) -> None:
    ids = seed(engine, 5)
    page = client.get("/heroes/", params={"after_id": ids[1], "limit": 2}).json()
    assert [hero["id"] for hero in page] == ids[2:4]
    assert client.get("/heroes/", params={"after_id": ids[-1]}).json() == []
    # Without the cursor, existing calls return what they always did.
    assert [hero["id"] for hero in client.get("/heroes/").json()] == ids


def test_after_id_must_be_a_non_negative_64_bit_integer(client: TestClient) -> None:
    for bad in (-1, 2**63, "x"):
        assert client.get("/heroes/", params={"after_id": bad}).status_code == 422
