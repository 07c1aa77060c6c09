"""PostgreSQL reads on the event loop: no thread per read, and one round trip for the reads of
a turn of the loop.

The work functions are the synchronous ones that SQLite's reads and every write run
(api/heroes/queries.py): each runs in a greenlet (SQLAlchemy's greenlet_spawn, as its asyncio extension
does), and each statement it runs is awaited on the loop (await_only). The statements of every
read that asks in the same turn of the loop go out together, in one batch on one pooled
connection (api/db/postgres_pipeline.py), opened by the session's timeouts.

- A statement that fails makes the server skip the rest of its batch: those did not run, and
  go out again in the next batch. Unless the failure was a timeout (a lock, or the statement's
  own): the ones behind it waited as long, and fail with it, so that a read waits for a lock
  at most lock_timeout, however many reads were ahead of it.
- A connection that broke, or whose session ended, fails its batch: each read of it runs again
  (a read changed nothing) on another connection, at most once per slot (after a restart
  every pooled connection may be dead): a restart of the database is unseen.
- A batch bounded by its silence (the server or the way to it gone): its reads get a 503, not
  a second try (their time is spent).
- A read abandoned while its statement runs (its request cancelled) leaves its answer unread;
  a batch whose every read was abandoned is cancelled on the server.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import psycopg
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.util import await_only, greenlet_spawn

from api.db.connections import RETRY_TRANSACTION, Unrepresentable, Work, translate
from api.db.postgres_conninfo import SESSION_SETTINGS
from api.db.postgres_pipeline import Batch, Result, ServerSilent, Statement, lost
from api.db.postgres_pool import Pool
from api.statements import DriverConnection, Row, Statements

T = TypeVar("T")
# libpq's parameters are numbered ($1, $2…): the statements compiled for that, once each.
NUMBERED = psycopg_dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
# Errors after which the statements skipped behind them fail too: they waited as long.
_TIMED_OUT = (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled)

Send = Callable[[bytes, tuple[Any, ...]], Awaitable[Result]]


class LoopDriverConnection(DriverConnection):
    """What a work function is given on the loop: crud's statements, each handed to `send` (the
    next batch of reads, or a write transaction's connection) and awaited from the work's
    greenlet."""

    def __init__(self, statements: Statements, send: Send) -> None:
        super().__init__(None, statements)
        self._send = send

    def rows(self, statement: ClauseElement, values: Mapping[str, Any]) -> list[Row]:
        return self._run(statement, values).rows

    def rowcount(self, statement: ClauseElement, values: Mapping[str, Any]) -> int:
        return self._run(statement, values).rowcount

    def _run(self, statement: ClauseElement, values: Mapping[str, Any]) -> Result:
        sql, arguments = self._statements.get(statement).arguments(values)
        assert isinstance(arguments, tuple), "numbered parameters come in order"
        try:
            result: Result = await_only(self._send(sql.encode(), arguments))
        except Unrepresentable as error:
            raise error.naming(arguments, self._statements.get(statement).names) from None
        return result


class PostgresReads:
    """This worker's reads on PostgreSQL: the batch being gathered, and the batches in flight."""

    def __init__(
        self,
        pool: Pool,
        error: type[Exception],
        silence: float,
        session: tuple[str, str],
    ) -> None:
        self.pool = pool
        self.silence = silence  # see postgres_pipeline.Batch
        self.session = session  # SESSION_SETTINGS' values
        self._error = error
        self._batch: list[Statement] = []
        self._sending: set[asyncio.Task[None]] = set()
        self.statements = Statements(NUMBERED)

    async def read(self, work: Work[T]) -> T:
        """Run `work`; if the connection its statement went out on broke, run it again (at most
        once per pooled connection: after a restart every one may be dead). A read changes
        nothing, so running it again is always safe."""
        attempts = self.pool.size + 1
        for attempt in range(attempts):
            try:
                result: T = await greenlet_spawn(
                    work, LoopDriverConnection(self.statements, self.send)
                )
            except psycopg.Error as error:
                gone = lost(error) and not isinstance(error, ServerSilent)
                again = gone or error.sqlstate in RETRY_TRANSACTION  # (SERIALIZABLE's races)
                if not again or attempt == attempts - 1:
                    raise translate(error, NUMBERED, self._error, gone) from error
                continue
            return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def send(self, sql: bytes, values: tuple[Any, ...]) -> Result:
        """The statement's result. It goes out in the batch sent at the end of this turn of
        the event loop, with every other read's statement of the same turn: one round trip
        for all of them."""
        statement = Statement(sql, values)
        self._queue(statement)
        return await statement.answer

    def _queue(self, statement: Statement) -> None:
        if not self._batch:
            asyncio.get_running_loop().call_soon(self._send_batch)
        self._batch.append(statement)

    def _send_batch(self) -> None:
        batch, self._batch = self._batch, []
        self.keep(asyncio.get_running_loop().create_task(self._run(batch)))

    def keep(self, task: "asyncio.Task[Any]") -> None:
        """Hold a reference to a task that sends statements, so that it runs to its end."""
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _run(self, statements: list[Statement]) -> None:
        try:
            connection = await self.pool.take()
        except psycopg.Error as error:  # no connection to be had: nothing was sent
            translated = translate(error, NUMBERED, self._error, lost=False)
            for statement in statements:
                statement.failed(translated)
            return
        head = Statement(SESSION_SETTINGS, self.session, awaited=False)
        batch = Batch(connection, [head, *statements], self.silence)
        stop_watching = _cancel_when_abandoned(statements)
        try:
            skipped = await batch.run()
        except psycopg.Error as error:  # every statement not answered has its error
            batch.fail(error)
            if isinstance(error, ServerSilent):
                self.pool.suspect()
            return
        except asyncio.CancelledError:  # every read of it abandoned
            return
        finally:
            stop_watching()
            await self.pool.give_back(connection, batch.ended)
        # Skipped behind a timeout, they waited as long: no second wait. Behind the session's
        # settings, they would meet the same error again.
        final = isinstance(batch.failure, _TIMED_OUT) or _failed(head)
        for statement in skipped:
            if final:
                statement.failed(batch.failure or psycopg.errors.PipelineAborted())
            elif not statement.answer.done():  # they did not run: in the next batch
                self._queue(statement)


def _failed(statement: Statement) -> bool:
    answer = statement.answer
    return answer.done() and not answer.cancelled() and answer.exception() is not None


def _cancel_when_abandoned(statements: list[Statement]) -> Callable[[], None]:
    """Cancel the current task (the batch's) once every one of `statements` has been abandoned
    by its read (its request cancelled), so that the driver cancels them on the server.
    Returns what stops watching."""
    task = asyncio.current_task()
    left = len(statements)

    def one_gone(answer: "asyncio.Future[Result]") -> None:
        nonlocal left
        if answer.cancelled():
            left -= 1
            if left == 0 and task is not None:
                task.cancel()

    for statement in statements:
        statement.answer.add_done_callback(one_gone)

    def stop() -> None:
        for statement in statements:
            statement.answer.remove_done_callback(one_gone)

    return stop
