"""Every field of a hero, declared once. The table, the wire shapes (schemas.py), the
statements and filters (queries.py), the list's query parameters and the Link header's kept
parameters (params.py, routes.py) are all read from FIELDS; docs/changing-the-api.md shows how a
field is added (one declaration, one migration).

Besides these a hero has an `id` (the database's) and a `version` (its ETag, rules.py).
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import Strict, StringConstraints
from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.types import TypeEngine

from api.bounds import AGE_MAX, LENIENCY, NAME_MAX_LENGTH, NO_NUL, SECRET_NAME_MAX_LENGTH

INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class Text:
    """A string of 1 to `max_length` characters, without NUL (PostgreSQL can't store it; refused
    on every database to keep the two alike): an empty one is a caller's mistake, not data."""

    max_length: int
    python: type = str

    def wire(self) -> Any:
        return Annotated[
            str, StringConstraints(min_length=1, max_length=self.max_length, pattern=NO_NUL)
        ]

    def query(self) -> dict[str, Any]:
        return {"min_length": 1, "max_length": self.max_length, "pattern": NO_NUL}

    def column(self) -> TypeEngine[Any]:
        return String(self.max_length)


@dataclass(frozen=True)
class Whole:
    """An integer from `minimum` to `maximum`, strictly an integer in a body (12.0 counts)."""

    minimum: int
    maximum: int
    python: type = int

    def wire(self) -> Any:
        return Annotated[int, Strict(), Ge(self.minimum), Le(self.maximum), LENIENCY]

    def query(self) -> dict[str, Any]:
        return {"ge": self.minimum, "le": self.maximum}

    def column(self) -> TypeEngine[Any]:
        return Integer() if self.maximum <= INT32_MAX else BigInteger()


@dataclass(frozen=True)
class HeroField:
    """One field: its kind and bounds; `optional`: may be absent or null (unknown), else
    required on create and never null; `public`: in every answer (else written and stored,
    never returned); `filter`: how the list filters on it: "exact" (`?name=`), "range"
    (`?min_age=&max_age=`, inclusive), or not at all. A filtered field has an index on
    (field, id), so a filtered page costs the same wherever it is."""

    name: str
    kind: Text | Whole
    optional: bool = False
    public: bool = True
    filter: Literal["exact", "range"] | None = None

    def __post_init__(self) -> None:
        # It names a column, a property and a parameter, and code is written from it.
        if not self.name.isidentifier() or not self.name.islower():
            raise ValueError(f"a field's name is a lower-case identifier, not {self.name!r}")


FIELDS: tuple[HeroField, ...] = (
    HeroField("name", Text(NAME_MAX_LENGTH), filter="exact"),
    HeroField("age", Whole(0, AGE_MAX), optional=True, filter="range"),
    HeroField("secret_name", Text(SECRET_NAME_MAX_LENGTH), public=False),
)
PUBLIC = tuple(field for field in FIELDS if field.public)
FILTERED = tuple(field for field in FIELDS if field.filter is not None)


def filter_parameters(field: HeroField) -> tuple[str, ...]:
    """The list's query parameters for a field: its name, or its range's two ends."""
    if field.filter == "exact":
        return (field.name,)
    if field.filter == "range":
        return (f"min_{field.name}", f"max_{field.name}")
    return ()
