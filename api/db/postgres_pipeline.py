"""A batch of statements on one PostgreSQL connection, sent and answered together through
psycopg's pipeline mode (AsyncConnection.pipeline(), one cursor per statement, one Sync).

- One Sync per batch: its statements are one implicit transaction (in autocommit), or one step
  of an open one. Each statement still gets its own answer: its rows, or its error.
- A statement that fails makes the server skip the rest of its batch up to the Sync: those did
  not run, and are returned as skipped, for the caller to decide (run again, or fail).
- A value the session's encoding can't hold fails its own statement, before it is sent
  (`Unrepresentable`).
- A batch is bounded: it fails with ServerSilent once no statement could still be running on
  the server (`silence`: statement_timeout and a grace), or once the server has stopped
  answering after an error (PgBouncer that can't log in to a server says so, then nothing).
  Its statements are answered then, at the bound, and the connection is closed (cancelled
  twice, the driver gives up cancelling and closes it: nothing can be running there that a
  cancel request would stop), never reused.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import AsyncRawCursor, pq

from api.bounds import STALLED_AFTER_ERROR_SECONDS
from api.db.connections import Unrepresentable, session_ended
from api.statements import Row

_TUPLES = pq.ExecStatus.TUPLES_OK
# How soon the exchange of a batch given up is cancelled a second time (see _Watch._give_up).
_AGAIN_SECONDS = 0.01


@dataclass(frozen=True)
class Result:
    """A statement's answer: its rows (if it returns any) and the rows it touched."""

    rows: list[Row]
    rowcount: int


@dataclass(eq=False)
class Statement:
    """A statement waiting for its batch, and then for its answer."""

    sql: bytes
    params: Sequence[Any]
    awaited: bool = True  # False: one the batch sends for itself (BEGIN, the settings)
    answer: "asyncio.Future[Result]" = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def __post_init__(self) -> None:
        if not self.awaited:  # its error is the batch's to report, not a future's to leak
            self.answer.add_done_callback(_taken)

    def answered(self, result: Result) -> None:
        if not self.answer.done():  # else: its read was abandoned (its request cancelled)
            self.answer.set_result(result)

    def failed(self, error: BaseException) -> None:
        if not self.answer.done():
            self.answer.set_exception(error)


class ServerSilent(psycopg.errors.QueryCanceled):
    """No answer from the server for longer than any statement may run there, or none after
    an error: it, or the way to it, is gone. A statement timeout's kind of error (a 503, and a
    read not run again: its time is spent)."""


class ConnectionGone(psycopg.OperationalError):
    """The connection broke, or its session ended, under a batch: its statements that were not
    answered did not run there (a read runs again on another connection)."""


def _taken(answer: "asyncio.Future[Result]") -> None:
    if not answer.cancelled():
        answer.exception()


def lost(error: psycopg.Error) -> bool:
    """Whether `error` means the connection is gone: no SQLSTATE (the driver saw it break; the
    server sends one with each error of its own), or one that ends the session."""
    return not error.sqlstate or session_ended(error.sqlstate)


class Batch:
    """One batch on one connection. `run()` answers every statement (or returns it as skipped)
    within `silence` seconds, whatever the server does."""

    def __init__(
        self,
        connection: psycopg.AsyncConnection[Any],
        statements: list[Statement],
        silence: float,
    ) -> None:
        self.connection = connection
        self.statements = statements
        self._silence = silence
        self._cursors: list[AsyncRawCursor[Any]] = []
        self.ended = False  # the session is over (or can't be trusted): never reuse it
        self.failure: psycopg.Error | None = None  # what made the server skip statements

    async def run(self) -> list[Statement]:
        """Send the batch and answer its statements. Returns those the server skipped. Raises
        ConnectionGone (every unanswered statement failed with it) if the connection broke or
        its session ended, ServerSilent if the server fell silent. Cancelled, it cancels the
        statements on the server (the driver does) and the connection is not reused. Returns
        only once the driver is done with the connection."""
        loop = asyncio.get_running_loop()
        exchange = loop.create_task(self._exchange())
        watch = _Watch(self, exchange, loop.time())
        watch.arm(loop)
        try:
            return await exchange
        except asyncio.CancelledError:
            self.ended = True
            task = asyncio.current_task()
            if watch.gave_up is not None and not (task and task.cancelling()):
                raise watch.gave_up from None
            raise
        finally:
            watch.disarm()

    def fail(self, error: BaseException) -> None:
        for statement in self.statements:
            statement.failed(error)

    async def _exchange(self) -> list[Statement]:
        connection = self.connection
        sent: list[tuple[Statement, AsyncRawCursor[Any]]] = []
        failure: psycopg.Error | None = None
        try:
            async with connection.pipeline() as pipeline:
                for statement in self.statements:
                    cursor = AsyncRawCursor(connection)
                    try:
                        await cursor.execute(
                            statement.sql, statement.params, prepare=False, binary=True
                        )
                    except psycopg.Error as error:  # an earlier statement's, read meanwhile:
                        failure = failure or _first(error)  # this one was sent all the same
                    except UnicodeEncodeError as error:  # a value the session's encoding
                        statement.failed(Unrepresentable(str(error), error.encoding))  # lacks
                        continue
                    sent.append((statement, cursor))
                    self._cursors.append(cursor)
                try:
                    await pipeline.sync()
                except psycopg.Error as error:
                    failure = failure or _first(error)
        except psycopg.Error as error:  # leaving pipeline mode failed: the connection broke
            failure = failure or error
        return await self._answer(sent, failure)

    async def _answer(
        self, sent: list[tuple[Statement, AsyncRawCursor[Any]]], failure: psycopg.Error | None
    ) -> list[Statement]:
        """Each sent statement its rows, or its error: the first without a result failed with
        `failure`, and the ones after it were skipped (the server runs nothing more up to the
        Sync). Without a SQLSTATE the connection broke: nothing unanswered ran."""
        if failure is not None and lost(failure):
            self.ended = True
            if not failure.sqlstate:
                failure = ConnectionGone(str(failure) or "the connection to the server was lost")
        self.failure = failure
        skipped: list[Statement] = []
        failed = False
        for statement, cursor in sent:
            result = cursor.pgresult
            if result is not None:
                rows = await cursor.fetchall() if result.status == _TUPLES else []
                statement.answered(Result(rows, cursor.rowcount))
            elif isinstance(failure, ConnectionGone):
                statement.failed(failure)
            elif not failed:
                failed = True
                statement.failed(failure or ConnectionGone("no answer from the server"))
            else:
                skipped.append(statement)
        if isinstance(failure, ConnectionGone):
            raise failure
        return skipped

    def progress(self) -> int:
        """How many of the batch's statements have been answered so far."""
        return sum(cursor.pgresult is not None for cursor in self._cursors)

    def stalled_after_error(self) -> bool:
        """Whether the server has answered a statement of the batch with an error (the pipeline
        is aborted): the rest, skipped, would come at once."""
        return self.connection.pgconn.pipeline_status == pq.PipelineStatus.ABORTED


def _first(error: psycopg.Error) -> psycopg.Error | None:
    """The error that explains a failed batch: a statement's own, not PipelineAborted (what
    psycopg says of the statements skipped after it)."""
    return None if isinstance(error, psycopg.errors.PipelineAborted) else error


class _Watch:
    """The batch's bound: checked every STALLED_AFTER_ERROR_SECONDS while it runs (one timer
    at a time), it gives the batch up when the server has said nothing more since an error, or
    when `silence` has passed since it was sent."""

    def __init__(self, batch: Batch, exchange: "asyncio.Task[list[Statement]]", start: float):
        self._batch = batch
        self._exchange = exchange
        self._start = start
        self._seen = -1
        self._timer: asyncio.TimerHandle | None = None
        self.gave_up: psycopg.Error | None = None

    def arm(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = loop.call_later(
            min(STALLED_AFTER_ERROR_SECONDS, self._batch._silence), self._check, loop
        )

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._exchange.done():
            return
        batch = self._batch
        progress = batch.progress()
        stalled = batch.stalled_after_error() and progress == self._seen
        self._seen = progress
        if stalled:
            self._give_up(ServerSilent("the database stopped answering after an error"))
        elif loop.time() - self._start >= batch._silence:
            self._give_up(ServerSilent(f"no answer from the database in {batch._silence:g} s"))
        else:
            self.arm(loop)

    def _give_up(self, error: psycopg.Error) -> None:
        """Answer every statement now, and end the exchange: cancelled once, the driver sends
        the server a cancel request and waits for it (up to 10 s, holding the connection);
        cancelled again meanwhile, it closes the connection at once."""
        self.gave_up = error
        self._batch.ended = True
        self._batch.fail(error)
        self._exchange.cancel()
        asyncio.get_running_loop().call_later(_AGAIN_SECONDS, self._exchange.cancel)
