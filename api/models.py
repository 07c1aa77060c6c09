"""The hero table and the shapes it takes on the wire, side by side."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from api.limits import (
    CALLER_MAX_LENGTH,
    ERROR_DETAIL_MAX_LENGTH,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    KEY_NAME_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PAGE_MAX,
    SECRET_NAME_MAX_LENGTH,
    Age,
    IgnoredId,
    Name,
    RequestId,
    SecretName,
)

# SQLite only auto-assigns ids to a column declared exactly INTEGER PRIMARY KEY.
_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")


def _not_nullable(schema: dict[str, Any]) -> None:
    # The field may be left out, but null is not a value it can take: drop the misleading default.
    schema.pop("default", None)


class HeroBase(SQLModel):
    name: Name = Field(sa_type=String(NAME_MAX_LENGTH))
    age: Age | None = Field(default=None)


class Hero(HeroBase, table=True):
    __table_args__ = (
        # Filtered pages are read in id order: with the id in the index, `name = ? AND id > ?
        # ORDER BY id` is one range scan, wherever in the table the page is.
        Index("ix_hero_name_id", "name", "id"),
        Index("ix_hero_age_id", "age", "id"),
        # SQLite would otherwise hand a deleted hero's id to the next one created, and a caller
        # holding the old id would read a different hero. (PostgreSQL never reuses ids.)
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID_TYPE)
    secret_name: SecretName = Field(sa_type=String(SECRET_NAME_MAX_LENGTH))
    # Changes with every write: the hero's ETag, for conditional requests (api/conditional.py).
    version: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})


class ApiKey(SQLModel, table=True):
    """An API key, by its SHA-256 only: the key itself is shown once, when it is made."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID_TYPE)
    name: str = Field(unique=True, sa_type=String(KEY_NAME_MAX_LENGTH))
    key_hash: str = Field(unique=True, sa_type=String(64))
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class CommitMarker(SQLModel, table=True):
    """One row per writer (a worker's group commit): the sequence number of the last group it
    committed, stamped in the group's own transaction. After a commit whose answer was lost, the
    row says whether the group landed (api/db/markers.py)."""

    __tablename__ = "commit_marker"

    writer: str = Field(primary_key=True, sa_type=String(32))
    seq: int = Field(sa_type=BigInteger)
    updated_at: int = Field(sa_type=BigInteger)  # Unix seconds: idle writers' rows are pruned


class IdempotencyRecord(SQLModel, table=True):
    """A keyed write's outcome, stored in the write's own transaction (api/idempotency.py)."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("caller", "key", name="uq_idempotency_record_caller_key"),)

    # In the order records were made: the oldest are pruned first, by this key, with no index on
    # the time (an index on created_at cost ~10 % of a keyed POST on SQLite, measured).
    id: int | None = Field(default=None, primary_key=True, sa_type=_ID_TYPE)
    caller: str = Field(sa_type=String(CALLER_MAX_LENGTH))
    key: str = Field(sa_type=String(IDEMPOTENCY_KEY_MAX_LENGTH))
    method: str = Field(sa_type=String(8))
    path: str = Field(sa_type=String(64))  # as the route rebuilds it: /heroes/ or /heroes/{id}
    fingerprint: str = Field(sa_type=String(64))  # SHA-256 of the body as parsed
    status: int = Field(sa_type=Integer)
    body: str = Field(sa_type=Text)  # the answer's JSON
    etag: str | None = Field(default=None, sa_type=String(64))
    created_at: int = Field(sa_type=BigInteger)  # Unix seconds: expiry


class HeroPublic(BaseModel):
    # Plain Pydantic, not SQLModel: it validates every response, and a page of 100 validates
    # ~5x faster without SQLModel's table-model machinery.
    name: Name
    # Required, and null when unknown: every response carries `age`, so the schema says so and
    # the generated client types it `int | None`, not `int | None | Unset`.
    age: Age | None
    id: int  # 1..2^63-1, as the path parameter says (see IgnoredId for why not here)


# A page is at most `limit` (≤ PAGE_MAX) heroes; the schema says so, for readers and clients.
HeroPage = Annotated[list[HeroPublic], PydanticField(max_length=PAGE_MAX)]

_IGNORED_ID = Field(
    default=None,
    description="Ignored: the database assigns ids. Accepted so that tutorial callers keep working.",
)


class HeroCreate(HeroBase):
    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Deadpond", "secret_name": "Dive Wilson"},
                {"name": "Rusty-Man", "secret_name": "Tommy Sharp", "age": 48},
            ]
        },
    )

    secret_name: SecretName
    id: IgnoredId | None = _IGNORED_ID


class HeroUpdate(SQLModel):
    """Only the fields present in the body change; `age: null` clears the age."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Deadpuddle"}, {"age": None}, {}]},
    )

    name: Name = Field(default=None, schema_extra={"json_schema_extra": _not_nullable})
    age: Age | None = None
    secret_name: SecretName = Field(default=None, schema_extra={"json_schema_extra": _not_nullable})
    id: IgnoredId | None = _IGNORED_ID


class Deleted(SQLModel):
    ok: bool = True


class ErrorMessage(SQLModel):
    detail: str = Field(max_length=ERROR_DETAIL_MAX_LENGTH)


class ServerError(SQLModel):
    """A failure of the service itself: quote the request id when reporting it."""

    detail: str = Field(max_length=ERROR_DETAIL_MAX_LENGTH)
    request_id: RequestId
