"""The compiled-statement cache (api/statements.py) is bounded by construction: every statement the
service runs is built once, so running every shape of every query again adds nothing, the whole
set is small, and a statement built per call is refused rather than leaked."""

import itertools
import time

import pytest
from sqlalchemy import Engine, create_engine, literal, select

from api import idempotency, keys
from api.db import markers
from api.heroes import queries
from api.idempotency import Answer, Claim, Idempotency
from api.routes import health
from api.statements import STATEMENTS_MAX, DriverConnection, Statements, TooManyStatements

FILTERS = [
    queries.Filters(name=name, min_age=low, max_age=high)
    for name, low, high in itertools.product([None, "a"], [None, 1], [None, 9])
]
COLUMNS = ["name", "age", "secret_name"]
VALUES = {"name": "a", "age": 3, "secret_name": "s"}


def _every_statement(connection: DriverConnection) -> None:
    """Each query of the service, in each of its shapes."""
    hero = queries.create_hero(connection, dict(VALUES))
    queries.get_hero(connection, hero["id"])
    for filters, after in itertools.product(FILTERS, [None, 0]):
        queries.list_heroes(connection, 0, 10, after, filters)
        queries.count_heroes(connection, filters)
    for size, versions in itertools.product(range(1, 4), [None, frozenset({7})]):
        for columns in itertools.combinations(COLUMNS, size):
            queries.update_hero(connection, hero["id"], {c: VALUES[c] for c in columns}, versions)
    for versions in (frozenset({7}), None):
        queries.delete_hero(connection, hero["id"], versions)
    keys.active_keys(connection)
    health._read_only(connection)
    claim = Claim("key:k", f"k-{time.time_ns()}", "POST", "/heroes/", "f" * 64)
    keyed = Idempotency(60)
    for look_first in (False, True):
        keyed._keyed(claim, lambda _c: Answer(200, {}), look_first)(connection)
    idempotency.prune(connection, 60, 10)
    connection.rowcount(markers.PRUNE_MARKERS, {"before": 0})


@pytest.fixture
def db(database_url: str) -> Engine:
    return create_engine(database_url)


def test_every_statement_is_built_once(db: Engine) -> None:
    statements = Statements(db.dialect)
    raw = db.raw_connection()
    try:
        connection = DriverConnection(raw.dbapi_connection, statements)
        _every_statement(connection)
        after_one_pass = len(statements)
        _every_statement(connection)
        raw.rollback()
    finally:
        raw.close()
        db.dispose()
    assert len(statements) == after_one_pass  # the same statements, not new ones
    assert after_one_pass < STATEMENTS_MAX // 2


def test_a_statement_built_per_call_is_refused_not_leaked() -> None:
    statements = Statements(create_engine("sqlite://").dialect)
    built = [select(literal(n)) for n in range(STATEMENTS_MAX)]
    for statement in built:
        statements.get(statement)
    with pytest.raises(TooManyStatements, match="build each once"):
        statements.get(select(literal(-1)))
    assert len(statements) == STATEMENTS_MAX
