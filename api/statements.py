"""Core statements, compiled once per dialect, run straight on the driver's connection.

The queries stay SQLAlchemy Core (one definition, either dialect), but a request doesn't pay for
SQLAlchemy's execution machinery, which costs several times the statement itself on SQLite
(docs/decisions/0004-core-statements.md). Our columns are integers and strings, which both
drivers return as they are, so rows come back as the driver's own tuples.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import Compiled

Row = tuple[Any, ...]
# Far above the service's statements (tests/integration/database/test_statements.py), far below a leak.
STATEMENTS_MAX = 256


@dataclass(frozen=True)
class _Prepared:
    compiled: Compiled
    sql: str
    names: tuple[str, ...] | None  # the parameters' order, for a positional driver (sqlite3)
    fixed: dict[str, Any]  # values the statement carries itself (the 1 of `version + 1`)
    expanding: bool  # an `IN` list, rendered per call for the number of values

    def arguments(self, values: Mapping[str, Any]) -> tuple[str, Sequence[Any] | Mapping[str, Any]]:
        merged = {**self.fixed, **values} if self.fixed else values
        if self.expanding:
            state = self.compiled.construct_expanded_state(merged)  # type: ignore[attr-defined]
            if self.names is None:
                return state.statement, state.parameters
            return state.statement, state.positional_parameters
        if self.names is None:
            return self.sql, merged
        return self.sql, tuple([merged[name] for name in self.names])


def _prepare(statement: ClauseElement, dialect: Dialect) -> _Prepared:
    compiled: Any = statement.compile(dialect=dialect)
    fixed = {
        name: bind.effective_value
        for bind, name in compiled.bind_names.items()
        if not bind.required
    }
    return _Prepared(
        compiled=compiled,
        sql=compiled.string,
        names=tuple(compiled.positiontup) if compiled.positional else None,
        fixed=fixed,
        expanding=bool(compiled.post_compile_params),
    )


class TooManyStatements(RuntimeError):
    """More distinct statements than the service has: one is being built per call."""


class Statements:
    """Each statement compiled for one dialect, the first time it runs. Statements are built once
    (module constants, or cached per shape as in api/heroes/queries.py): they are looked up by identity.

    Bounded by construction: the service has a fixed set of statement shapes (fewer than 100;
    tests/integration/database/test_statements.py counts them). A statement built per call would grow this
    cache without end, so past STATEMENTS_MAX it is refused, loudly, instead."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._prepared: dict[int, tuple[ClauseElement, _Prepared]] = {}

    def __len__(self) -> int:
        return len(self._prepared)

    def get(self, statement: ClauseElement) -> _Prepared:
        found = self._prepared.get(id(statement))
        if found is None:
            if len(self._prepared) >= STATEMENTS_MAX:
                raise TooManyStatements(
                    f"more than {STATEMENTS_MAX} distinct statements: build each once "
                    "(a module constant, or functools.cache per shape), not per call"
                )
            # The statement is kept with its compiled form, so that its id can't be reused.
            found = self._prepared[id(statement)] = (statement, _prepare(statement, self.dialect))
        return found[1]


class DriverConnection:
    """A driver (DBAPI) connection that runs Core statements: what crud's functions are given."""

    def __init__(self, dbapi_connection: Any, statements: Statements) -> None:
        self.dbapi_connection = dbapi_connection
        self._statements = statements
        self.dialect_name: str = statements.dialect.name

    def rows(self, statement: ClauseElement, values: Mapping[str, Any]) -> list[Row]:
        """Every row the statement returns (read whole: no cursor stays open on the file)."""
        cursor = self._execute(statement, values)
        try:
            return cursor.fetchall()  # type: ignore[no-any-return]
        finally:
            cursor.close()

    def rowcount(self, statement: ClauseElement, values: Mapping[str, Any]) -> int:
        cursor = self._execute(statement, values)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _execute(self, statement: ClauseElement, values: Mapping[str, Any]) -> Any:
        sql, arguments = self._statements.get(statement).arguments(values)
        cursor = self.dbapi_connection.cursor()
        cursor.execute(sql, arguments)
        return cursor
