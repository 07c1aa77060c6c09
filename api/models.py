"""The service's own tables (API keys, commit markers, idempotency records) and its error
shapes. The hero's table and shapes are in api/heroes/schemas.py."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.bounds import (
    CALLER_MAX_LENGTH,
    ERROR_DETAIL_MAX_LENGTH,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    KEY_NAME_MAX_LENGTH,
    RequestId,
)

# SQLite only auto-assigns ids to a column declared exactly INTEGER PRIMARY KEY.
ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class ApiKey(SQLModel, table=True):
    """An API key, by its SHA-256 only: the key itself is shown once, when it is made."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True, sa_type=ID_TYPE)
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
    # the time (docs/decisions/0013-idempotency-records-by-id.md).
    id: int | None = Field(default=None, primary_key=True, sa_type=ID_TYPE)
    caller: str = Field(sa_type=String(CALLER_MAX_LENGTH))
    key: str = Field(sa_type=String(IDEMPOTENCY_KEY_MAX_LENGTH))
    method: str = Field(sa_type=String(8))
    path: str = Field(sa_type=String(64))  # as the route rebuilds it: /heroes/ or /heroes/{id}
    fingerprint: str = Field(sa_type=String(64))  # SHA-256 of the body as parsed
    status: int = Field(sa_type=Integer)
    body: str = Field(sa_type=Text)  # the answer's JSON
    etag: str | None = Field(default=None, sa_type=String(64))
    created_at: int = Field(sa_type=BigInteger)  # Unix seconds: expiry


class ErrorMessage(SQLModel):
    detail: str = Field(max_length=ERROR_DETAIL_MAX_LENGTH)


class ServerError(SQLModel):
    """A failure of the service itself: quote the request id when reporting it."""

    detail: str = Field(max_length=ERROR_DETAIL_MAX_LENGTH)
    request_id: RequestId
