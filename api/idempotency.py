"""Idempotency-Key (draft-ietf-httpapi-idempotency-key-header-06) on POST, PATCH and DELETE.

A caller that didn't hear back can't tell whether its write happened. With a key, it can simply
send the request again:

- The first request with a key runs. Its answer (status, body, ETag) is stored in the same
  transaction as the write, with the caller, the key, the method, the path and a fingerprint of
  the body as parsed: the write and its record commit together or not at all.
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

The record is inserted right after the write, in its transaction, with ON CONFLICT DO NOTHING:
a new key (the common case) costs that one statement. If the key is on record already (a
repeat), or another worker or replica is writing it (a repeat racing the first request: the
INSERT waits for that transaction), the attempt rolls back, write and all, and the request runs
again looking first: it then finds the record and replays it. The write never stands twice.
"""

import functools
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Table, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from api.db import Database, Work
from api.errors import KEY_REUSED, idempotency_key_in_use
from api.models import IdempotencyRecord
from api.statements import DriverConnection

REPLAYED_HEADER = "Idempotent-Replayed"
# What the write itself decided; anything else leaves the key free.
STORED_STATUSES = frozenset({200, 404, 412})

record_table: Table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
_c = record_table.c
_COLUMNS = ("caller", "key", "method", "path", "fingerprint", "status", "body", "etag")
_THIS = (_c.caller == bindparam("caller")) & (_c.key == bindparam("key"))
_FIND = select(_c.method, _c.path, _c.fingerprint, _c.status, _c.body, _c.etag, _c.created_at)
_FIND = _FIND.where(_THIS)
_FORGET = delete(record_table).where(_THIS)
# The oldest records (by id: the order they were made in), those of them expired: a batch
# reads no further than its own size, however many records are younger.
_OLDEST = select(_c.id).order_by(_c.id).limit(bindparam("batch"))
PRUNE = delete(record_table).where(
    _c.id.in_(_OLDEST.scalar_subquery()), _c.created_at < bindparam("before")
)


@functools.cache
def _record(dialect: str) -> Insert:
    """The record, unless the key is on record already (ON CONFLICT DO NOTHING: one construct
    per dialect)."""
    dml = {"postgresql": postgresql, "sqlite": sqlite}[dialect]
    values: dict[str, Any] = {name: bindparam(name) for name in (*_COLUMNS, "created_at")}
    record: Insert = dml.insert(record_table).values(values).on_conflict_do_nothing()
    return record


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


def fingerprint(values: dict[str, Any] | None) -> str:
    """SHA-256 of the body as parsed: the values the write sets, in name order (so whitespace,
    the order of keys and an ignored `id` don't count; `"age": null` and no age are the same
    create). Integers, strings and None have one repr each."""
    canonical = repr(sorted(values.items())) if values is not None else ""
    return hashlib.sha256(canonical.encode()).hexdigest()


class _KeyTaken(Exception):
    """The key is on record, or a transaction is writing it: this attempt's write must not
    stand. Raised inside the transaction, so that it rolls back."""


# A write whose key was taken looks again: the record is then there to replay (after an attempt
# that met a record still being committed, one more finds it committed).
_LOOKS = 3


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
            # Optimistic: a new key (the common case) costs one INSERT beside the write.
            try:
                return await db.write(self._keyed(claim, work, look_first=False))
            except _KeyTaken:
                pass
            for _ in range(_LOOKS):
                try:
                    return await db.write(self._keyed(claim, work, look_first=True))
                except _KeyTaken:
                    continue
            raise idempotency_key_in_use()
        finally:
            self._running.discard(running)

    def _keyed(
        self, claim: Claim, work: Callable[[DriverConnection], Answer], look_first: bool
    ) -> Work[Answer]:
        ttl = self.ttl_seconds

        def run(connection: DriverConnection) -> Answer:
            now = int(time.time())
            this = {"caller": claim.caller, "key": claim.key}
            if look_first and (found := connection.rows(_FIND, this)):
                method, path, print_, status, body, tag, created_at = found[0]
                if created_at > now - ttl:
                    if (method, path, print_) != (claim.method, claim.path, claim.fingerprint):
                        return Answer(422, {"detail": KEY_REUSED})  # nothing ran
                    return Answer(status, json.loads(body), tag, replayed=True)
                connection.rowcount(_FORGET, this)  # expired: the key starts afresh
            answer = work(connection)
            if answer.status not in STORED_STATUSES:
                return answer
            record = {
                **this,
                "method": claim.method,
                "path": claim.path,
                "fingerprint": claim.fingerprint,
                "status": answer.status,
                "body": json.dumps(answer.body),  # default arguments: json's C fast path
                "etag": answer.etag,
                "created_at": now,
            }
            # ON CONFLICT DO NOTHING waits for a transaction still writing the key (PostgreSQL;
            # SQLite has one writer at a time), then inserts nothing if it committed.
            if not connection.rowcount(_record(connection.dialect_name), record):
                raise _KeyTaken
            return answer

        return run


def prune(connection: DriverConnection, ttl_seconds: int, batch: int) -> int:
    """Delete up to `batch` expired records, oldest first; how many went."""
    return connection.rowcount(PRUNE, {"before": int(time.time()) - ttl_seconds, "batch": batch})
