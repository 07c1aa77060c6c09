"""The hero queries: each is one short statement, run by Database (api/db/) on the driver's
connection (api/statements.py). Core statements, built once per shape, not ORM objects per request
(docs/decisions/0004-core-statements.md); the columns and filters are the fields' (fields.py).
Rows come back as plain dicts that FastAPI validates against the response model.
"""

import enum
import functools
from collections.abc import Callable
from typing import Any, Literal

from sqlalchemy import (
    Delete,
    Select,
    Table,
    Update,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from api.heroes.fields import FIELDS, FILTERED, PUBLIC, filter_parameters
from api.heroes.schemas import Hero
from api.statements import DriverConnection

hero_table: Table = Hero.__table__  # type: ignore[attr-defined]
id_column = hero_table.c.id
version_column = hero_table.c.version
_PUBLIC = (id_column, *(hero_table.c[field.name] for field in PUBLIC), version_column)
_PUBLIC_NAMES = tuple(column.name for column in _PUBLIC)
# Every query parameter that filters a page, in the fields' order.
FILTER_PARAMETERS = tuple(name for field in FILTERED for name in filter_parameters(field))

_GET = select(*_PUBLIC).where(id_column == bindparam("hero_id"))
_EXISTS = select(id_column).where(id_column == bindparam("hero_id"))
# The columns a create sets, by name (the database assigns the id); a new hero is version 1.
_INSERT = (
    insert(hero_table)
    .values({**{field.name: bindparam(field.name) for field in FIELDS}, "version": 1})
    .returning(*_PUBLIC)
)

HeroRow = dict[str, Any]


class VersionCheck(enum.Enum):
    STALE = "stale"  # the hero exists, but not in a version If-Match accepts


Stale = Literal[VersionCheck.STALE]


class Filters(dict[str, Any]):
    """What a page is filtered by: query parameter (FILTER_PARAMETERS) → value; a parameter
    absent or None is "any"."""

    def present(self) -> frozenset[str]:
        return frozenset(name for name, value in self.items() if value is not None)

    def bound(self) -> dict[str, Any]:
        return {name: self.get(name) for name in FILTER_PARAMETERS}


def _row_to_dict(names: tuple[str, ...]) -> Callable[[Any], HeroRow]:
    """A function unpacking a row into a dict literal, written from the column names, as
    dataclasses and namedtuple write theirs: a page makes 100 of these, and dict(zip()) cost
    twice as much per row (docs/decisions/0005-one-declaration-per-field.md)."""
    if not all(name.isidentifier() for name in names):
        raise ValueError(f"not column names: {names}")
    unpack = ", ".join(f"_{index}" for index in range(len(names)))
    pairs = ", ".join(f"{name!r}: _{index}" for index, name in enumerate(names))
    code = f"def _hero(row):\n    ({unpack},) = row\n    return {{{pairs}}}\n"
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # the names are the table's own columns, checked above
    made: Callable[[Any], HeroRow] = namespace["_hero"]
    return made


_hero = _row_to_dict(_PUBLIC_NAMES)


def get_hero(connection: DriverConnection, hero_id: int) -> HeroRow | None:
    rows = connection.rows(_GET, {"hero_id": hero_id})
    return _hero(rows[0]) if rows else None


def list_heroes(
    connection: DriverConnection, offset: int, limit: int, after_id: int | None, filters: Filters
) -> list[HeroRow]:
    statement = _page_statement(after_id is not None, filters.present())
    values = {"offset": offset, "limit": limit, "after_id": after_id, **filters.bound()}
    return [_hero(row) for row in connection.rows(statement, values)]


def count_heroes(connection: DriverConnection, filters: Filters) -> int:
    count: int = connection.rows(_count_statement(filters.present()), filters.bound())[0][0]
    return count


def _filtered(statement: Select[Any], present: frozenset[str]) -> Select[Any]:
    for field in FILTERED:
        column = hero_table.c[field.name]
        if field.filter == "exact" and field.name in present:
            statement = statement.where(column == bindparam(field.name))
        low, high = f"min_{field.name}", f"max_{field.name}"
        if field.filter == "range" and low in present:
            statement = statement.where(column >= bindparam(low))
        if field.filter == "range" and high in present:
            statement = statement.where(column <= bindparam(high))
    return statement


# Each combination of filters a caller uses is one statement, built once.
@functools.cache
def _page_statement(after: bool, present: frozenset[str]) -> Select[Any]:
    statement = _filtered(select(*_PUBLIC), present)
    if after:
        statement = statement.where(id_column > bindparam("after_id"))
    return statement.order_by(id_column).limit(bindparam("limit")).offset(bindparam("offset"))


@functools.cache
def _count_statement(present: frozenset[str]) -> Select[Any]:
    return _filtered(select(func.count()).select_from(hero_table), present)


def create_hero(connection: DriverConnection, values: dict[str, Any]) -> HeroRow:
    (row,) = connection.rows(_INSERT, values)
    return _hero(row)


def update_hero(
    connection: DriverConnection,
    hero_id: int,
    values: dict[str, Any],
    versions: frozenset[int] | None = None,
) -> HeroRow | Stale | None:
    """The updated hero; None if there is none; STALE if `versions` (If-Match) excludes it."""
    statement = _update_statement(tuple(sorted(values)), versions is not None)
    rows = connection.rows(statement, {**values, **_target(hero_id, versions)})
    if rows:
        return _hero(rows[0])
    return _missing_or_stale(connection, hero_id, versions)


def delete_hero(
    connection: DriverConnection, hero_id: int, versions: frozenset[int] | None = None
) -> bool | Stale:
    statement = _delete_statement(versions is not None)
    if connection.rowcount(statement, _target(hero_id, versions)) > 0:
        return True
    return _missing_or_stale(connection, hero_id, versions) or False


def _target(hero_id: int, versions: frozenset[int] | None) -> dict[str, Any]:
    if versions is None:
        return {"hero_id": hero_id}
    # An empty list of versions matches nothing: the expanding IN renders it as always false.
    return {"hero_id": hero_id, "versions": sorted(versions)}


def _missing_or_stale(
    connection: DriverConnection, hero_id: int, versions: frozenset[int] | None
) -> Stale | None:
    if versions is None:
        return None
    exists = connection.rows(_EXISTS, {"hero_id": hero_id})
    return VersionCheck.STALE if exists else None


def _where(statement: Any, conditional: bool) -> Any:
    statement = statement.where(id_column == bindparam("hero_id"))
    if conditional:
        statement = statement.where(version_column.in_(bindparam("versions", expanding=True)))
    return statement


@functools.cache
def _update_statement(columns: tuple[str, ...], conditional: bool) -> Update:
    # Only the sent columns appear in the SET clause: that is PATCH's exclude_unset. With
    # If-Match the version is part of the WHERE clause, so a concurrent writer can't slip
    # between the check and the write. Every set of columns is built once.
    assignments: dict[Any, Any] = {column: bindparam(column) for column in columns}
    assignments[version_column] = version_column + 1
    statement: Update = _where(update(hero_table), conditional)
    return statement.values(assignments).returning(*_PUBLIC)


@functools.cache
def _delete_statement(conditional: bool) -> Delete:
    statement: Delete = _where(delete(hero_table), conditional)
    return statement
