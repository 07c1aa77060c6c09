"""Commit markers: how a writer learns whether a commit whose answer was lost landed.

A COMMIT can reach the database and its answer never come back (the connection died on the way,
a proxy or PgBouncer went away). Running the group again would store its writes twice; failing
it would turn writes that happened into errors. So every group stamps a token in its own
transaction: the writer's row in `commit_marker` gets the group's sequence number. After a
failed commit, a new connection reads the row: if it holds the group's number, the group landed
and each request gets its own result; if not, nothing of it did and it may run again.

One token per transaction, not per write: a transaction commits whole or not at all, so one
token tells the fate of every write in it, at the cost of one single-row UPDATE per group. A row
per writer rather than a row per group: nothing grows, so nothing needs pruning on the hot path.

Looking is also waiting: the reading transaction takes the row's lock (FOR UPDATE on
PostgreSQL, the write lock on SQLite), so if the lost COMMIT is still being applied, the answer
comes after it, not before. If the lost transaction's session is stuck holding the row (its
client vanished before COMMIT, and the server hasn't noticed), the wait is bounded; the outcome
is then unknown, and the writer moves to a new row so that later groups don't queue behind it.
"""

import os
import time
from dataclasses import dataclass

from sqlalchemy import Table, bindparam, delete, func, insert, select, true, update

from api.db.connections import Transaction
from api.models import CommitMarker

marker_table: Table = CommitMarker.__table__  # type: ignore[attr-defined]
_writer = marker_table.c.writer

_CREATE = insert(marker_table).values(
    writer=bindparam("writer"), seq=0, updated_at=bindparam("now")
)
_STAMP = (
    update(marker_table)
    .where(_writer == bindparam("writer"))
    .values(seq=bindparam("seq"), updated_at=bindparam("now"))
)
_READ = select(marker_table.c.seq).where(_writer == bindparam("writer")).with_for_update()
_LOCK_TIMEOUT = select(func.set_config("lock_timeout", bindparam("milliseconds"), true()))
# Writers idle this long are gone (a worker stamps its row with every group it commits).
IDLE_WRITER_SECONDS = 7 * 24 * 3600
PRUNE_MARKERS = delete(marker_table).where(marker_table.c.updated_at < bindparam("before"))


@dataclass(frozen=True)
class Stamp:
    """The token of one group: this writer's row holds `seq` if and only if the group landed."""

    writer: str
    seq: int


class Markers:
    """One writer's marker row. Used by one group at a time (the writer thread's, or the
    greenlet's on the loop)."""

    def __init__(self) -> None:
        self._writer: str | None = None
        self._seq = 0

    def prepare(self, connection: Transaction) -> None:
        """Make sure this writer has a committed row to stamp. Its own transaction: a group's
        lock can only be waited for on a row that existed before the group began."""
        if self._writer is not None:
            return
        writer = os.urandom(16).hex()
        connection.begin()
        try:
            connection.driver.rowcount(_CREATE, {"writer": writer, "now": int(time.time())})
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        self._writer, self._seq = writer, 0

    def stamp(self, connection: Transaction) -> Stamp | None:
        """Stamp the open transaction with the next number; None if the row has gone (pruned
        while this writer was idle): the writer then needs a new one."""
        assert self._writer is not None, "prepare() first"
        self._seq += 1
        values = {"writer": self._writer, "seq": self._seq, "now": int(time.time())}
        if connection.driver.rowcount(_STAMP, values) != 1:
            self._writer = None
            return None
        return Stamp(self._writer, self._seq)

    def abandon(self) -> None:
        """Stamp a new row from now on: a stuck transaction may hold this one's lock."""
        self._writer = None


def landed(connection: Transaction, stamp: Stamp, wait_seconds: float) -> bool:
    """Whether the group stamped `stamp` committed, looked up on another connection; waits (at
    most `wait_seconds` on PostgreSQL) for a commit still being applied."""
    connection.begin()
    try:
        if not connection.sqlite:
            # SET LOCAL (set_config's `true`): for this transaction only (PgBouncer's
            # transaction mode keeps no session state). Waiting for a lock longer than this
            # means a stuck session.
            timeout = {"milliseconds": str(max(1, int(wait_seconds * 1000)))}
            connection.driver.rows(_LOCK_TIMEOUT, timeout)
        rows = connection.driver.rows(_READ, {"writer": stamp.writer})
    finally:
        connection.rollback()
    return bool(rows) and rows[0][0] == stamp.seq
