"""The hero table and the shapes a hero takes on the wire, made from its fields (fields.py):
a create (every writable field; required unless optional), an update (any of them; null only
for an optional one), and the public answer (the public fields, each always present, and the id).
"""

import types
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from api.bounds import PAGE_MAX, IgnoredId
from api.heroes.fields import FIELDS, FILTERED, PUBLIC, HeroField
from api.models import ID_TYPE


def _class(name: str, base: type, namespace: dict[str, Any], **keywords: Any) -> Any:
    namespace = {"__module__": __name__, "__qualname__": name, **namespace}
    return types.new_class(name, (base,), keywords, lambda body: body.update(namespace))


def _wire(field: HeroField) -> Any:
    return field.kind.wire() | None if field.optional else field.kind.wire()


def _not_nullable(schema: dict[str, Any]) -> None:
    # The field may be left out, but null is not a value it can take: drop the misleading default.
    schema.pop("default", None)


_IGNORED_ID = PydanticField(
    default=None,
    description="Ignored: the database assigns ids. Accepted so that tutorial callers keep working.",
)


def _table() -> Any:
    return _class(
        "Hero",
        SQLModel,
        {
            "__annotations__": {
                "id": int | None,
                **{field.name: _wire(field) for field in FIELDS},
                "version": int,
            },
            "__table_args__": (
                # Filtered pages are read in id order: with the id in the index, `name = ? AND
                # id > ? ORDER BY id` is one range scan, wherever in the table the page is.
                *(Index(f"ix_hero_{field.name}_id", field.name, "id") for field in FILTERED),
                # SQLite would otherwise hand a deleted hero's id to the next one created, and a
                # caller holding the old id would read a different hero. (PostgreSQL never reuses.)
                {"sqlite_autoincrement": True},
            ),
            "id": Field(default=None, primary_key=True, sa_type=ID_TYPE),
            **{
                field.name: Field(default=None, sa_type=field.kind.column())
                if field.optional
                else Field(sa_type=field.kind.column())
                for field in FIELDS
            },
            # Changes with every write: the hero's ETag, for conditional requests (rules.py).
            "version": Field(default=1, sa_column_kwargs={"server_default": text("1")}),
        },
        table=True,
    )


def _create() -> Any:
    return _class(
        "HeroCreate",
        SQLModel,
        {
            "model_config": ConfigDict(
                extra="forbid",
                json_schema_extra={
                    "examples": [
                        {"name": "Deadpond", "secret_name": "Dive Wilson"},
                        {"name": "Rusty-Man", "secret_name": "Tommy Sharp", "age": 48},
                    ]
                },
            ),
            "__annotations__": {
                **{field.name: _wire(field) for field in FIELDS},
                "id": IgnoredId | None,
            },
            **{field.name: None for field in FIELDS if field.optional},
            "id": _IGNORED_ID,
        },
    )


_OPTIONAL = [field.name for field in FIELDS if field.optional]


def _update() -> Any:
    return _class(
        "HeroUpdate",
        SQLModel,
        {
            "__doc__": "Only the fields present in the body change; "
            + ", ".join(f"`{name}: null` clears the {name}" for name in _OPTIONAL)
            + ".",
            "model_config": ConfigDict(
                extra="forbid",
                json_schema_extra={"examples": [{"name": "Deadpuddle"}, {"age": None}, {}]},
            ),
            "__annotations__": {
                **{field.name: _wire(field) for field in FIELDS},
                "id": IgnoredId | None,
            },
            **{
                field.name: None
                if field.optional
                else PydanticField(default=None, json_schema_extra=_not_nullable)
                for field in FIELDS
            },
            "id": _IGNORED_ID,
        },
    )


# Plain Pydantic, not SQLModel: it validates every response, and a page of 100 validates faster
# without SQLModel's table-model machinery. Every public field is required, null when unknown:
# every answer carries it, so the generated client types it `int | None`, not `... | Unset`.
def _public() -> Any:
    return _class(
        "HeroPublic",
        BaseModel,
        {
            "__annotations__": {
                **{field.name: _wire(field) for field in PUBLIC},
                "id": int,  # 1..2^63-1, as the path parameter says (IgnoredId says why not here)
            }
        },
    )


if TYPE_CHECKING:
    # To the type checker each is the class it is made from: its fields are made at import,
    # from fields.py, and only FastAPI and Pydantic (which see them) read them.
    Hero: TypeAlias = SQLModel
    HeroCreate: TypeAlias = SQLModel
    HeroUpdate: TypeAlias = SQLModel
    HeroPublic: TypeAlias = BaseModel
else:
    Hero = _table()
    HeroCreate = _create()
    HeroUpdate = _update()
    HeroPublic = _public()

# A page is at most `limit` (≤ PAGE_MAX) heroes; the schema says so, for readers and clients.
HeroPage = Annotated[list[HeroPublic], PydanticField(max_length=PAGE_MAX)]


class Deleted(SQLModel):
    ok: bool = True
