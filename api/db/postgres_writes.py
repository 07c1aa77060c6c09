"""PostgreSQL's write transactions on the event loop: what group commit (api/db/group_commit.py)
runs its groups on, on PostgreSQL, instead of a pooled connection in a writer thread.

The group's logic is the same code either way (every exactly-once rule lives there); it runs
in a greenlet on the loop, and each of its statements goes out in a batch on a pooled
connection (api/db/postgres_pipeline.py), awaited the way the loop awaits a socket.

- The writes of a group run side by side, their statements batched (see LoopTransaction).
- BEGIN, and the transaction's timeouts (SESSION_SETTINGS), go out with the transaction's first
  batch: no round trip of their own.
- A connection that broke, whose session ended, or whose batch was given up is closed when given
  back, never reused: the next transaction takes another.
"""

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy.util import await_only, greenlet_spawn

from api.db.connections import Work, WorkResult, translate
from api.db.postgres_conninfo import SESSION_SETTINGS
from api.db.postgres_pipeline import Batch, Result, ServerSilent, Statement, lost
from api.db.postgres_pool import Connection
from api.db.postgres_reads import NUMBERED, LoopDriverConnection, PostgresReads
from api.statements import DriverConnection

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

    def __init__(
        self,
        connection: Connection,
        reads: PostgresReads,
        session: tuple[str, str],
        silence: float,
        pooled: bool = True,
    ) -> None:
        self.connection = connection
        self._reads = reads
        self._session = session
        self._silence = silence  # how long a batch may go unanswered (postgres_pipeline)
        self._pooled = pooled  # else a connection of its own, closed when given back
        self.ended = False  # its session is over, or can't be trusted: never reused
        self._begin = False
        self._queued: list[Statement] = []
        self._sending: asyncio.Task[None] | None = None  # the batches going out, if any
        self.driver: DriverConnection = LoopDriverConnection(reads.statements, self._send)

    def begin(self) -> None:
        self._begin = True  # sent with the first statement

    def run(self, works: list[Work[Any]]) -> list[WorkResult]:
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
        """Nothing is sent on a session that ended: its transaction ended with it, and the
        driver, its close not read yet, may still say it is open (a ROLLBACK would wait for an
        answer that never comes)."""
        self._begin = False
        pgconn = self.connection.pgconn
        if (
            not self.ended
            and pgconn.status == pq.ConnStatus.OK
            and pgconn.transaction_status in _IN_TRANSACTION
        ):
            self._execute(_ROLLBACK)

    def _execute(self, sql: bytes) -> None:
        await_only(self._send(sql, ()))

    async def _send(self, sql: bytes, values: tuple[Any, ...]) -> Result:
        statement = Statement(sql, values)
        self._queued.append(statement)
        if self._sending is None:
            # At the end of this turn of the loop, with the statements of every write that
            # sends one in the same turn.
            self._sending = asyncio.get_running_loop().create_task(self._send_queued())
            self._reads.keep(self._sending)
        return await statement.answer

    def give_back(self) -> None:
        """The connection back once its last batch has ended (the driver may still be busy
        with it: a batch given up is being cancelled). The caller does not wait: the group's
        answers go out at once."""
        sending = self._sending
        if sending is None:
            self._reads.keep(asyncio.get_running_loop().create_task(self._give_back()))
            return
        sending.add_done_callback(
            lambda _: self._reads.keep(asyncio.get_running_loop().create_task(self._give_back()))
        )

    async def _give_back(self) -> None:
        if self._pooled:
            await self._reads.pool.give_back(self.connection, self.ended)
        else:
            await self.connection.close()

    async def _send_queued(self) -> None:
        """Batch after batch, one at a time on the connection, until none is left."""
        try:  # it starts after the rest of this turn: their statements are in the first batch
            while self._queued:
                batch, self._queued = self._queued, []
                if self._begin:
                    self._begin = False
                    batch[:0] = [
                        Statement(_BEGIN, (), awaited=False),
                        Statement(SESSION_SETTINGS, self._session, awaited=False),
                    ]
                await self._run(batch)
        finally:
            self._sending = None

    async def _run(self, statements: list[Statement]) -> None:
        batch = Batch(self.connection, statements, self._silence)
        try:
            skipped = await batch.run()
        except psycopg.Error as error:  # the connection broke: no statement is answered
            batch.fail(error)
            skipped = []
            if isinstance(error, ServerSilent):
                self._reads.pool.suspect()
        finally:
            self.ended = self.ended or batch.ended
        # Nobody awaits BEGIN's answer, nor the settings': their error, if any, is taken here
        # (and given to the statements it made the server skip). The others skipped after a
        # failure get what any statement of an aborted transaction gets: in_failed_sql_transaction.
        opening = [s.answer for s in statements[:2] if s.sql in (_BEGIN, SESSION_SETTINGS)]
        began = next(
            (a.exception() for a in opening if a.done() and a.exception() is not None), None
        )
        cause = began or psycopg.errors.InFailedSqlTransaction(
            "not run: an earlier statement of the transaction failed"
        )
        for statement in skipped:
            statement.failed(cause)


class LoopTransactions:
    """Group commit's connections on PostgreSQL (what `Connections` is on the thread's side):
    transactions on the pool's connections, run from a greenlet on the loop."""

    on_loop = True

    def __init__(
        self,
        reads: PostgresReads,
        slots: int,
        error: type[Exception],
        session: tuple[str, str],
        alone: tuple[str, str],
        lookup_silence: float,
    ) -> None:
        self._reads = reads
        self._session = session  # statement_timeout and lock_timeout, for a group
        self._alone = alone  # and for a write waiting for a lock on its own
        # A lost commit's lookup waits for a lock no longer than the lookup's own deadline:
        # its batch is bounded by that, not by the statement timeout.
        self._lookup_silence = min(reads.silence, lookup_silence)
        # At most one retry per slot: after a restart every idle connection may be dead.
        self.slots = slots
        self.error = error  # psycopg's base error: what a statement raises

    @contextlib.contextmanager
    def checkout(self, live: bool = False, alone: bool = False) -> Iterator[LoopTransaction]:
        """A connection for a transaction; with `live`, a new one outside the pool (to look up
        a lost commit: a pooled one may be as dead as the one the commit was lost on); with
        `alone`, one whose transaction waits for locks as long as HEROES_DB_LOCK_TIMEOUT."""
        pool = self._reads.pool
        try:
            connection = await_only(pool.fresh() if live else pool.take())
        except psycopg.Error as error:  # the server can't be reached: nothing was sent
            raise translate(error, NUMBERED, self.error, lost=False) from error
        session = self._alone if alone else self._session
        silence = self._lookup_silence if live else self._reads.silence
        transaction = LoopTransaction(
            connection, self._reads, session, silence=silence, pooled=not live
        )
        try:
            yield transaction
        finally:
            transaction.give_back()

    def failure(self, error: Exception, connection: LoopTransaction | None) -> Exception:
        """What a request should be told of `error`: a driver's error as SQLAlchemy's (dropped,
        if the connection is lost), anything else (a bug in a write's work) as it is."""
        if not isinstance(error, psycopg.Error):
            return error
        gone = lost(error)
        if gone and connection is not None:
            connection.ended = True
        return translate(error, NUMBERED, self.error, gone)

    def pause(self, seconds: float) -> None:
        await_only(asyncio.sleep(seconds))
