"""Any id that does not exist is a 404 on GET, PATCH and DELETE, and changes nothing."""

from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine

from api.bounds import ID_MAX
from tests.conftest import all_heroes
from tests.integration.heroes.rows import seed

NOT_FOUND = {"detail": "Hero not found"}


@given(
    existing=st.integers(0, 20),
    missing=st.integers(min_value=1, max_value=ID_MAX),
    method=st.sampled_from(["GET", "PATCH", "DELETE"]),
)
@example(existing=1, missing=999, method="GET")
@example(existing=1, missing=999, method="PATCH")
@example(existing=1, missing=999, method="DELETE")
def test_missing_id_is_404_and_changes_nothing(
    client: TestClient, engine: Engine, existing: int, missing: int, method: str
) -> None:
    ids = seed(engine, existing)
    if missing in ids:
        missing = max(ids) + 1
    before = all_heroes(engine)
    body = {"json": {"name": "Changed", "age": None}} if method == "PATCH" else {}
    response = client.request(method, f"/heroes/{missing}", **body)  # type: ignore[arg-type]
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert all_heroes(engine) == before
