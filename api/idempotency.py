"""Idempotency-Key (draft-ietf-httpapi-idempotency-key-header-06) on POST, PATCH and DELETE.

A caller that didn't hear back can't tell whether its write happened. With a key, it can simply
send the request again:

- The first request with a key runs. Its answer (status, body, ETag) is stored in the same
  transaction as the write, with the caller, the key, the method, the path and a fingerprint of
  the body: the write and its record commit together or not at all.
- The same caller repeating the key with the same request gets the stored answer, with
  `Idempotent-Replayed: true`, and nothing is written again, whatever became of the hero since.
- The same key with another request (body, method or path) is a 422; while the first request
  is still running in this worker, a 409. (In another worker or replica, the repeat's
  transaction meets the first one's record and waits for it: it then replays the stored answer.)
- Keys are scoped per caller (the API key's name; in protected mode, the client's address):
  one caller never receives another's stored answer.
- Only what the write itself decided is stored (200, 404, 412): a request refused before it ran
  (401, 403, 422, 429) or a failure (5xx) leaves the key free for the retry.
- Records expire after HEROES_IDEMPOTENCY_TTL; api/housekeeping.py deletes them in small
  batches, off the request path.

The key is taken first, inside the write's transaction: the record is inserted (to be filled
in with the answer once the write has run), so that two requests racing on one key in different
workers or replicas meet on the record's primary key. The second waits for the first's
transaction (SQLite: the write lock; PostgreSQL: the key's index entry), then finds the record
and replays it; it never runs the write.
"""

import functools
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Table, bindparam, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from api.db import Database, Work
from api.driver import DriverConnection
from api.errors import KEY_REUSED, idempotency_key_in_use
from api.models import IdempotencyRecord

REPLAYED_HEADER = "Idempotent-Replayed"
# What the write itself decided; anything else leaves the key free.
STORED_STATUSES = frozenset({200, 404, 412})

record_table: Table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
_c = record_table.c
_COLUMNS = ("caller", "key", "method", "path", "fingerprint", "status", "body", "etag")
_THIS = (_c.caller == bindparam("caller")) & (_c.key == bindparam("key"))
_FIND = select(_c.method, _c.path, _c.fingerprint, _c.status, _c.body, _c.etag, _c.created_at)
_FIND = _FIND.where(_THIS)
_RECLAIM = (
    update(record_table)
    .where(_THIS)
    .values({name: bindparam(name) for name in ("method", "path", "fingerprint", "created_at")})
)
_ANSWER = (
    update(record_table)
    .where(_THIS)
    .values({name: bindparam(name) for name in ("status", "body", "etag")})
)
_FORGET = delete(record_table).where(_THIS)
_OLDEST = (
    select(_c.caller, _c.key)
    .where(_c.created_at < bindparam("before"))
    .order_by(_c.created_at)
    .limit(bindparam("batch"))
)
PRUNE = delete(record_table).where(tuple_(_c.caller, _c.key).in_(_OLDEST.scalar_subquery()))


@functools.cache
def _claim(dialect: str) -> Insert:
    """The key, taken for this request: ON CONFLICT DO NOTHING inserts nothing if the key is
    on record, after waiting for a transaction still writing it (PostgreSQL; SQLite has one
    writer at a time). Dialect by dialect: each has its own ON CONFLICT construct."""
    dml = {"postgresql": postgresql, "sqlite": sqlite}[dialect]
    values: dict[str, Any] = {name: bindparam(name) for name in (*_COLUMNS, "created_at")}
    claim: Insert = dml.insert(record_table).values(values).on_conflict_do_nothing()
    return claim


@dataclass(frozen=True)
class Answer:
    """What a write answers: a status, a JSON body and, for a hero, its ETag."""

    status: int
    body: Any
    etag: str | None = None
    replayed: bool = False

    def headers(self) -> dict[str, str]:
        headers = {"ETag": self.etag} if self.etag else {}
        if self.replayed:
            headers[REPLAYED_HEADER] = "true"
        return headers


@dataclass(frozen=True)
class Claim:
    """A keyed request: whose key, and what it asked for."""

    caller: str
    key: str
    method: str
    path: str
    fingerprint: str


def fingerprint(body: Any) -> str:
    """SHA-256 of the body as parsed: whitespace and the order of keys don't count."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Idempotency:
    """Keyed writes, for one worker: the records are in the database, shared by every worker and
    replica; the requests running here are known here, for the 409."""

    def __init__(self, ttl_seconds: int) -> None:
        self.ttl_seconds = ttl_seconds
        self._running: set[tuple[str, str]] = set()

    async def write(
        self, db: Database, claim: Claim, work: Callable[[DriverConnection], Answer]
    ) -> Answer:
        """`work`'s answer, run once per key: the stored answer if the key was used before."""
        running = (claim.caller, claim.key)
        if running in self._running:
            raise idempotency_key_in_use()
        self._running.add(running)
        try:
            return await db.write(self._keyed(claim, work))
        finally:
            self._running.discard(running)

    def _keyed(self, claim: Claim, work: Callable[[DriverConnection], Answer]) -> Work[Answer]:
        ttl = self.ttl_seconds

        def run(connection: DriverConnection) -> Answer:
            now = int(time.time())
            this = {"caller": claim.caller, "key": claim.key}
            asked = {
                "method": claim.method,
                "path": claim.path,
                "fingerprint": claim.fingerprint,
                "created_at": now,
            }
            claiming = {**this, **asked, "status": 0, "body": "", "etag": None}
            if not connection.rowcount(_claim(connection.dialect_name), claiming):
                method, path, print_, status, body, tag, created_at = connection.rows(_FIND, this)[
                    0
                ]
                if created_at > now - ttl:
                    if (method, path, print_) != (claim.method, claim.path, claim.fingerprint):
                        return Answer(422, {"detail": KEY_REUSED})  # nothing ran
                    return Answer(status, json.loads(body), tag, replayed=True)
                connection.rowcount(_RECLAIM, {**this, **asked})  # expired: it starts afresh
            answer = work(connection)
            if answer.status in STORED_STATUSES:
                body = json.dumps(answer.body, separators=(",", ":"))
                connection.rowcount(
                    _ANSWER, {**this, "status": answer.status, "body": body, "etag": answer.etag}
                )
            else:
                connection.rowcount(_FORGET, this)
            return answer

        return run


def prune(connection: DriverConnection, ttl_seconds: int, batch: int) -> int:
    """Delete up to `batch` expired records, oldest first; how many went."""
    return connection.rowcount(PRUNE, {"before": int(time.time()) - ttl_seconds, "batch": batch})
