"""Filtered pages use the indexes: on PostgreSQL with 10^6 heroes, EXPLAIN shows an index scan
(no sequential scan) for every filter, at the start of the table and at its end."""

import pytest
from sqlalchemy import Engine, text

from api.heroes.queries import Filters, _page_statement

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
ROWS = 1_000_000


@pytest.fixture
def million(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO hero (name, age, secret_name) SELECT 'hero ' || (g % 1000), g % 100, 's' "
                "FROM generate_series(1, :rows) AS g"
            ),
            {"rows": ROWS},
        )
        connection.execute(text("ANALYZE hero"))
    return engine


def _plan(engine: Engine, filters: Filters, after_id: int | None) -> str:
    statement = _page_statement(after_id is not None, filters.present())
    compiled = statement.compile(dialect=engine.dialect)
    values = {"offset": 0, "limit": 100, "after_id": after_id, **filters.bound()}
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", values).scalars().all()
    return "\n".join(rows)


CASES = [
    (Filters(name="hero 7"), "ix_hero_name_id"),
    (Filters(name="hero 7", min_age=5, max_age=60), "ix_hero_name_id"),
    (Filters(min_age=40, max_age=41), None),
    (Filters(max_age=0), None),
]


def test_filtered_pages_use_an_index_at_the_start_and_the_end(million: Engine) -> None:
    # One table of 10^6 heroes for every case: filling it is most of this test's time.
    for filters, index in CASES:
        for after_id in (None, ROWS - 5_000):
            plan = _plan(million, filters, after_id)
            assert "Seq Scan" not in plan, (filters, after_id, plan)
            assert "Index" in plan, (filters, after_id, plan)
            if index:
                assert index in plan, (filters, after_id, plan)
