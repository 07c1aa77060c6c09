"""PostgreSQL's write transactions on the event loop: what group commit (api/db/group_commit.py)
runs its groups on, on PostgreSQL, instead of a pooled connection in a writer thread.

The group's logic is the same code either way (every exactly-once rule lives there); it runs
in a greenlet on the loop, and each of its statements is sent on one of the reads'
connections (api/db/postgres_reads.py: libpq's asynchronous calls, pipeline mode) and awaited
the way the loop awaits a socket. What that saves is the writer thread: a statement through
psycopg's cursor in a thread cost ~135 µs of CPU under the GIL, beside the event loop; through
libpq on the loop, ~35 µs.

- The writes of a group run side by side, their statements batched (see LoopTransaction).
- BEGIN goes out with the transaction's first batch: no round trip of its own.
- COMMIT and ROLLBACK are statements like the others (the extended protocol: pipeline mode has
  no simple queries).
- A connection the server dropped, or that said it is ending the session, is closed when given
  back, never reused: the next transaction opens another.
"""

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy.util import await_only, greenlet_spawn

from api.db.connections import Outcome, Work, translate
from api.db.postgres_reads import (
    NUMBERED,
    LoopConnection,
    LoopDriverConnection,
    PostgresReads,
    Statement,
    connection_lost,
)
from api.driver import DriverConnection

_BEGIN, _COMMIT, _ROLLBACK = b"BEGIN", b"COMMIT", b"ROLLBACK"
_IN_TRANSACTION = frozenset({pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR})


class LoopTransaction:
    """A connection taken for one transaction at a time: what group commit's `Connection` is
    on the thread's side (begin, run, commit, rollback). Called from the group's greenlet.

    The group's writes run side by side, each in a greenlet of its own, and the statements they
    send in one turn of the loop go out together, in one batch: a group of n writes of two
    statements each is two round trips, not 2n. The transaction is one either way: a write's
    statement that fails aborts it, the statements sent after it don't run (each fails with
    in_failed_sql_transaction, through no fault of its own), and group commit answers the
    writes that failed of their own with their errors and runs the others again without them,
    as it does on the thread's side."""

    sqlite = False

    def __init__(self, connection: LoopConnection, reads: PostgresReads) -> None:
        self.connection = connection
        self._reads = reads
        self._begin = False
        self._queued: list[Statement] = []
        self._sending: asyncio.Task[None] | None = None  # the batches going out, if any
        self.driver: DriverConnection = LoopDriverConnection(reads, self._send)

    def begin(self) -> None:
        self._begin = True  # sent with the first statement

    def run(self, works: list[Work[Any]]) -> list[Outcome]:
        if len(works) == 1:  # no greenlet of its own needed
            try:
                return [(True, works[0](self.driver))]
            except Exception as error:
                return [(False, error)]
        ran = await_only(
            asyncio.gather(
                *(greenlet_spawn(work, self.driver) for work in works), return_exceptions=True
            )
        )
        return [(not isinstance(outcome, BaseException), outcome) for outcome in ran]

    def commit(self) -> None:
        self._execute(_COMMIT)

    def rollback(self) -> None:
        """Nothing is sent on a session the server ended: its transaction ended with it, and
        libpq, its close not read yet, may still say it is open (a ROLLBACK would wait for an
        answer that never comes)."""
        self._begin = False
        connection = self.connection.pgconn
        if (
            not self.connection.ended
            and connection.status == pq.ConnStatus.OK
            and connection.transaction_status in _IN_TRANSACTION
        ):
            self._execute(_ROLLBACK)

    def _execute(self, sql: bytes) -> None:
        await_only(self._send(sql, ()))

    async def _send(self, sql: bytes, values: tuple[Any, ...]) -> pq.abc.PGresult:
        statement = self._reads.statement(sql, values)
        self._queued.append(statement)
        if self._sending is None:
            # At the end of this turn of the loop, with the statements of every write that
            # sends one in the same turn.
            self._sending = asyncio.get_running_loop().create_task(self._send_queued())
            self._reads.keep(self._sending)
        return await statement.answer

    def give_back(self) -> None:
        """The connection back to the reads' pool once its last batch has ended. A batch's
        answers can come before its ReadyForQuery (in another read of the socket), so the
        transaction may be over first: given back then, the connection would be closed as
        busy, its socket while the loop still watched it (the next socket given that
        descriptor failed to register: a 503, tests/reliability/test_loop_connections.py).
        The caller does not wait: the group's answers go out at once. A connection whose
        session the server ended gives up its batch (the close it waits for may be unread)
        and is closed."""
        sending = self._sending
        if sending is None:
            self._reads.give_back(self.connection)
            return
        if self.connection.ended:
            sending.cancel()
        sending.add_done_callback(lambda _: self._reads.give_back(self.connection))

    async def _send_queued(self) -> None:
        """Batch after batch, one at a time on the connection, until none is left."""
        try:  # it starts after the rest of this turn: their statements are in the first batch
            while self._queued:
                batch, self._queued = self._queued, []
                if self._begin:
                    self._begin = False
                    batch.insert(0, self._reads.statement(_BEGIN, ()))
                await self._run(batch)
        finally:
            self._sending = None

    async def _run(self, batch: list[Statement]) -> None:
        try:
            skipped = await self.connection.run(batch)
        except psycopg.Error as error:  # the connection broke: no statement is answered
            for statement in batch:
                statement.failed(error)
            skipped = []
        # Nobody awaits BEGIN's answer: its error, if any, is taken here (and given to the
        # statements it made the server skip). The others skipped after a failure get what
        # any statement of an aborted transaction gets: in_failed_sql_transaction.
        first = batch[0].answer
        began = first.exception() if batch[0].sql == _BEGIN and first.done() else None
        cause = began or psycopg.errors.InFailedSqlTransaction(
            "not run: an earlier statement of the transaction failed"
        )
        for statement in skipped:
            statement.failed(cause)


class LoopTransactions:
    """Group commit's connections on PostgreSQL (what `Connections` is on the thread's side):
    transactions on the reads' connections, run from a greenlet on the loop."""

    on_loop = True

    def __init__(self, reads: PostgresReads, slots: int, error: type[Exception]) -> None:
        self._reads = reads
        # At most one retry per slot: after a restart every idle connection may be dead.
        self.slots = slots
        self.error = error  # psycopg's base error: what a statement raises

    @contextlib.contextmanager
    def checkout(self, live: bool = False) -> Iterator[LoopTransaction]:
        """A connection for a transaction; with `live`, a new one (to look up a lost commit: an
        idle one may be as dead as the one the commit was lost on)."""
        transaction = LoopTransaction(await_only(self._reads.take(fresh=live)), self._reads)
        try:
            yield transaction
        finally:
            transaction.give_back()

    def failure(self, error: Exception, connection: LoopTransaction | None) -> Exception:
        """What a request should be told of `error`: a driver's error as SQLAlchemy's (dropped,
        if the connection is lost), anything else (a bug in a write's work) as it is."""
        if not isinstance(error, psycopg.Error):
            return error
        lost = connection_lost(error)
        if lost and connection is not None:
            connection.connection.ended = True
        return translate(error, NUMBERED, self.error, lost)

    def pause(self, seconds: float) -> None:
        await_only(asyncio.sleep(seconds))
