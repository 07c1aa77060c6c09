"""The page cap: what `offset` and `limit` may be, and what a page holds."""

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from api.bounds import ID_MAX, PAGE_MAX
from tests.conftest import all_heroes
from tests.properties.helpers import seed

valid_limits = st.integers(min_value=1, max_value=PAGE_MAX)
invalid_limits = st.integers().filter(lambda n: not 1 <= n <= PAGE_MAX)


@given(count=st.integers(0, 250), offset=st.integers(0, 300), limit=valid_limits)
def test_page_holds_at_most_limit_rows_in_id_order(
    client: TestClient, engine: Engine, count: int, offset: int, limit: int
) -> None:
    ids = seed(engine, count)
    response = client.get("/heroes/", params={"offset": offset, "limit": limit})
    assert response.status_code == 200
    page = [hero["id"] for hero in response.json()]
    # Exactly `limit` rows whenever that many remain past the offset.
    assert page == ids[offset : offset + limit]


@given(limit=invalid_limits)
def test_limit_outside_1_to_100_is_422(client: TestClient, engine: Engine, limit: int) -> None:
    seed(engine, 3)
    before = all_heroes(engine)
    response = client.get("/heroes/", params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]
    assert all_heroes(engine) == before


@given(offset=st.integers(max_value=-1) | st.integers(min_value=ID_MAX + 1))
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
