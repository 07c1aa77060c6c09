"""PostgreSQL reads on the event loop: no thread per read, and one round trip for the reads of
a turn of the loop.

A read's statement goes out through libpq's asynchronous calls (psycopg.pq, psycopg's own
binding to libpq), and its answer is awaited the way the loop awaits any socket; psycopg's
adapters (its Transformer) turn the values into parameters and the rows back into Python
values. The statements of every read that asks in the same turn of the loop go out together,
in one batch on one connection (libpq's pipeline mode, one Sync): one send and one receive for
the batch instead of one each, the system calls being most of what a read cost once the
thread was gone. Measured, interleaved, each step against the one before (docs/performance.md):
on the loop instead of a thread per read, GET one +15 %, a page +8 %; batched, GET one +15 %
more (8 pairs of runs, median), a page +10 % (mixed). psycopg's own AsyncConnection was
measured too: its cursor layer costs more than the thread hop it saves (~110 µs of CPU a
query, against ~35 µs here).

The work functions are the synchronous ones that SQLite's reads and every write run
(api/crud.py): each runs in a greenlet (SQLAlchemy's greenlet_spawn, as its asyncio extension
does), and each statement it runs is awaited on the loop (await_only).

- A batch is one implicit transaction: each statement still has its own snapshot (READ
  COMMITTED), and PgBouncer's transaction mode sees one transaction (one ReadyForQuery). A
  statement that fails there makes the server skip the rest of its batch: those did not run,
  and go out again in the next one.
- Connections are opened when needed (a batch whose connections are all busy opens one; there
  are never more batches in flight than admitted reads) and kept in autocommit and pipeline
  mode for good: no BEGIN and no ROLLBACK around a read.
- A connection the server dropped, or whose statement it answered with an error that ends the
  session, fails its batch at once (nothing more may come: PgBouncer that can't reach a server
  answers with its error, then waits for the client to hang up): each read of it runs again
  (a read changed nothing), its next statement going out on another connection; a restart of
  the database is unseen, as on the writes' side (api/db/connections.py).
- A batch that hears nothing from the server for longer than any statement may run there
  (statement_timeout and a grace, api/limits.py) fails with ServerSilent, and its connection is
  closed: the server, or the way to it, is gone without a word (a machine lost, a network cut),
  and TCP alone would wait ~15 minutes. Its reads get a 503, not a second try (their time is
  spent); a write's COMMIT left unanswered is looked up (api/db/markers.py), never run again.
- A read abandoned while its statement runs (its request was cancelled) leaves its answer
  unread: the batch's other reads, and the connection, carry on.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.errors import error_from_result
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.util import await_only, greenlet_spawn

from api.db.connections import Work, session_ended, translate
from api.driver import DriverConnection, Row, Statements

T = TypeVar("T")
_ANSWERED = frozenset({pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK})
# libpq's parameters are numbered ($1, $2…): the statements compiled for that, once each.
NUMBERED = psycopg_dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]


@dataclass
class Statement:
    """A read's statement, waiting for its batch and then for its answer."""

    sql: bytes
    params: Sequence[Any]  # the values, as psycopg's adapters dumped them
    formats: Sequence[pq.Format]
    types: Sequence[int]
    answer: asyncio.Future[pq.abc.PGresult] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def answered(self, result: pq.abc.PGresult, encoding: str) -> None:
        if self.answer.done():  # its read was abandoned (its request cancelled)
            return
        if result.status in _ANSWERED:
            self.answer.set_result(result)
        else:
            self.answer.set_exception(error_from_result(result, encoding=encoding))

    def failed(self, error: BaseException) -> None:
        if not self.answer.done():
            self.answer.set_exception(error)


class ServerSilent(psycopg.errors.QueryCanceled):
    """No word from the server for longer than any statement may run there: it, or the way to
    it, is gone. A statement timeout's kind of error (a 503, and a read not run again: the
    time for it is spent)."""


class LoopConnection:
    """One libpq connection, in pipeline mode, whose batches of statements are sent, and
    answered, on the event loop. A batch that hears nothing from the server for `silence`
    seconds fails with ServerSilent, and the connection is ended."""

    def __init__(self, connection: psycopg.AsyncConnection[Any], silence: float) -> None:
        self._connection = connection  # it owns the libpq connection (and closes it when freed)
        self.pgconn = connection.pgconn
        self.pgconn.nonblocking = 1
        self.pgconn.enter_pipeline_mode()
        self._socket = self.pgconn.socket
        self.loop = asyncio.get_running_loop()  # its socket is watched by this loop only
        self._encoding = connection.info.encoding
        self.ended = False  # the server said it ends the session (it may not have closed it yet)
        self._silence = silence
        self._heard = 0.0  # when the server last said something to the batch in flight
        self._in_flight: asyncio.Future[None] | None = None  # that batch's end
        self._watchdog: asyncio.TimerHandle | None = None

    @property
    def reusable(self) -> bool:
        """Open, and not in the middle of anything."""
        return (
            not self.ended
            and self.pgconn.status == pq.ConnStatus.OK
            and self.pgconn.transaction_status == pq.TransactionStatus.IDLE
        )

    def close(self) -> None:
        self.pgconn.finish()

    async def run(self, batch: list[Statement]) -> list[Statement]:
        """Send the batch in one go, and answer each statement as its result arrives. Returns
        the statements that did not run (an earlier one of the batch failed: they were skipped,
        and may run again). Raises psycopg's error if the connection broke."""
        if self.ended:  # anything sent now would go unanswered
            raise psycopg.OperationalError("the server has ended this session")
        pgconn = self.pgconn
        for statement in batch:
            pgconn.send_query_params(
                statement.sql,
                statement.params,
                param_formats=statement.formats,
                param_types=statement.types,
                result_format=pq.Format.BINARY,
            )
        # One Sync for the batch: one implicit transaction (each statement still has its own
        # snapshot, under READ COMMITTED), and one ReadyForQuery, which is what PgBouncer's
        # transaction mode hands its server connection back on.
        pgconn.pipeline_sync()
        while pgconn.flush():  # a batch larger than the socket's buffer
            try:
                await asyncio.wait_for(self._writable(), self._silence)
            except TimeoutError:
                raise self._silent() from None
        skipped: list[Statement] = []
        done: asyncio.Future[None] = self.loop.create_future()
        waiting = iter(batch)
        results: list[pq.abc.PGresult] = []

        def readable() -> None:
            if done.done():
                return
            try:
                pgconn.consume_input()
                while not done.done() and not pgconn.is_busy():
                    result = pgconn.get_result()
                    if result is None:  # the current statement's results are all in
                        if not results:  # nothing more for now
                            break
                        last = results[-1]
                        results.clear()
                        statement = next(waiting, None)
                        if statement is None:  # more answers than statements: the session
                            raise _ended(last)  # ended (PgBouncer: its error, then the close)
                        if last.status == pq.ExecStatus.PIPELINE_ABORTED:
                            skipped.append(statement)
                        else:
                            statement.answered(last, self._encoding)
                            if _ends_session(last):
                                # Nothing more may come, not even the batch's end: PgBouncer
                                # that can't log in to a server says so, then waits for the
                                # client to hang up.
                                self.ended = True
                                raise error_from_result(last, encoding=self._encoding)
                    elif result.status == pq.ExecStatus.PIPELINE_SYNC:
                        done.set_result(None)
                    else:
                        results.append(result)
                if not done.done() and pgconn.status == pq.ConnStatus.BAD:
                    raise psycopg.OperationalError("the connection to the server was lost")
            except psycopg.Error as error:  # the connection broke
                done.set_exception(error)

        await self._answered(done, readable)
        return skipped

    async def _answered(self, done: asyncio.Future[None], readable: Callable[[], None]) -> None:
        """Until `done`, `readable` called whenever the socket has something; ServerSilent if
        the server says nothing for `silence` seconds (see _watch)."""

        def heard_from() -> None:
            self._heard = self.loop.time()
            readable()

        self._heard = self.loop.time()
        self._in_flight = done
        if self._watchdog is None:
            self._watchdog = self.loop.call_later(self._silence, self._watch)
        self.loop.add_reader(self._socket, heard_from)
        try:
            await done
        finally:
            self._in_flight = None
            self.loop.remove_reader(self._socket)

    def _watch(self) -> None:
        """Fails the batch in flight if the server has said nothing to it for `silence` seconds.
        One timer per connection, firing at most every `silence` seconds while batches come
        and then left to lapse, not one per batch: a timer set and cancelled is ~4 µs, and a
        GET is one batch."""
        done = self._in_flight
        quiet = self.loop.time() - self._heard
        if done is None or done.done():
            self._watchdog = None  # idle: the next batch sets it again
        elif quiet < self._silence:
            self._watchdog = self.loop.call_later(self._silence - quiet, self._watch)
        else:
            self._watchdog = None
            done.set_exception(self._silent())

    def _silent(self) -> ServerSilent:
        """The server said nothing for too long: what it would say later can't be told from
        this batch's answers, so the session is over."""
        self.ended = True
        return ServerSilent(f"no answer from the database in {self._silence:g} s")

    async def _writable(self) -> None:
        writable: asyncio.Future[None] = self.loop.create_future()
        self.loop.add_writer(self._socket, writable.set_result, None)
        try:
            await writable
        finally:
            self.loop.remove_writer(self._socket)


def connection_lost(error: psycopg.Error) -> bool:
    """Whether `error` means the connection is gone: no SQLSTATE (the driver saw it break; the
    server sends one with each error of its own), or one that ends the session."""
    return not error.sqlstate or session_ended(error.sqlstate)


def _ends_session(result: pq.abc.PGresult) -> bool:
    """Whether `result` is an error after which the server (or PgBouncer) ends the session."""
    if result.status != pq.ExecStatus.FATAL_ERROR:
        return False
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    return sqlstate is not None and session_ended(sqlstate.decode())


def _ended(result: pq.abc.PGresult) -> psycopg.Error:
    """The error a result past the batch's last statement carries (the server's, or PgBouncer's,
    before it closed the connection)."""
    if result.status == pq.ExecStatus.FATAL_ERROR:
        return error_from_result(result)
    return psycopg.OperationalError(f"unexpected result from the server: {result.status!r}")


Send = Callable[[bytes, tuple[Any, ...]], Awaitable[pq.abc.PGresult]]


class LoopDriverConnection(DriverConnection):
    """What a work function is given on the loop: crud's statements, each handed to `send` (the
    next batch of reads, or a write transaction's connection) and awaited from the work's
    greenlet."""

    def __init__(self, reads: "PostgresReads", send: Send) -> None:
        super().__init__(reads, reads.statements)
        self._reads = reads
        self._send = send

    def rows(self, statement: ClauseElement, values: Mapping[str, Any]) -> list[Row]:
        return self._reads.rows(self._run(statement, values))

    def rowcount(self, statement: ClauseElement, values: Mapping[str, Any]) -> int:
        return int(self._run(statement, values).command_tuples or 0)

    def _run(self, statement: ClauseElement, values: Mapping[str, Any]) -> pq.abc.PGresult:
        sql, arguments = self._statements.get(statement).arguments(values)
        assert isinstance(arguments, tuple), "numbered parameters come in order"
        result: pq.abc.PGresult = await_only(self._send(sql.encode(), arguments))
        return result


class PostgresReads:
    """This worker's reads on PostgreSQL: its connections, and the batch being gathered."""

    def __init__(
        self,
        connect_arguments: dict[str, Any],
        slots: int,
        error: type[Exception],
        silence: float,
    ) -> None:
        self._connect_arguments = connect_arguments
        self._silence = silence  # see LoopConnection
        self._slots = slots
        self._error = error
        self._idle: list[LoopConnection] = []
        self._batch: list[Statement] = []
        self._sending: set[asyncio.Task[None]] = set()
        self.statements = Statements(NUMBERED)
        self._dump, self._load = Transformer(), Transformer()
        # Called as connections are taken and given back (the metrics' gauge).
        self.watchers: list[tuple[Callable[[], None], Callable[[], None]]] = []

    async def read(self, work: Work[T]) -> T:
        """Run `work`; if the connection its statement went out on was dropped by the server,
        run it again (at most once per slot: after a restart every idle connection may be
        dead). A read changes nothing, so running it again is always safe."""
        for attempt in range(self._slots + 1):
            try:
                result: T = await greenlet_spawn(work, LoopDriverConnection(self, self.send))
            except psycopg.Error as error:
                lost = connection_lost(error)
                if not lost or attempt == self._slots:
                    raise translate(error, NUMBERED, self._error, lost) from error
                continue
            return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def send(self, sql: bytes, values: tuple[Any, ...]) -> pq.abc.PGresult:
        """The statement's result. It goes out in the batch sent at the end of this turn of
        the event loop, with every other read's statement of the same turn: one round trip
        and one system call each way for all of them, not one each (GET one +20-50 %,
        measured against a statement per connection, docs/performance.md)."""
        statement = self.statement(sql, values)
        self._queue(statement)
        return await statement.answer

    def statement(self, sql: bytes, values: tuple[Any, ...]) -> Statement:
        """`sql` with `values` as psycopg's adapters dump them: here, not in the batch, so that
        a value they can't take fails its own statement only."""
        dump = self._dump
        params = dump.dump_sequence(values, [PyFormat.AUTO] * len(values))
        return Statement(sql, params, list(dump.formats or []), list(dump.types or []))

    def _queue(self, statement: Statement) -> None:
        if not self._batch:
            asyncio.get_running_loop().call_soon(self._send_batch)
        self._batch.append(statement)

    def rows(self, result: pq.abc.PGresult) -> list[Row]:
        load = self._load
        load.set_pgresult(result)
        rows: list[Row] = load.load_rows(0, result.ntuples, tuple)
        return rows

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    def _send_batch(self) -> None:
        batch, self._batch = self._batch, []
        self.keep(asyncio.get_running_loop().create_task(self._run(batch)))

    def keep(self, task: "asyncio.Task[None]") -> None:
        """Hold a reference to a task that sends statements, so that it runs to its end."""
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _run(self, batch: list[Statement]) -> None:
        try:
            connection = await self.take()
        except Exception as error:  # no connection to be had: nothing was sent
            for statement in batch:
                statement.failed(error)
            return
        try:
            skipped = await connection.run(batch)
        except BaseException as error:  # the connection broke: every statement not answered
            connection.close()
            for statement in batch:
                statement.failed(error)
            if not isinstance(error, psycopg.Error):
                raise
            return
        finally:
            self.give_back(connection)
        for statement in skipped:  # they did not run: in the next batch
            if not statement.answer.done():
                self._queue(statement)

    async def take(self, fresh: bool = False) -> LoopConnection:
        """An idle connection of this event loop's, or a new one (`fresh`: always a new one).
        Raises SQLAlchemy's error if the server can't be reached."""
        connection = None if fresh else self._take()
        if connection is None:
            connection = await self._connect()
        for taken, _ in self.watchers:
            taken()
        return connection

    def _take(self) -> LoopConnection | None:
        """An idle connection of this event loop's, if there is one."""
        loop = asyncio.get_running_loop()
        while self._idle:
            connection = self._idle.pop()
            if connection.loop is loop:
                return connection
            # Made on another loop (an app served from two, as two test clients do): its
            # answers would wake that loop, not this one.
            connection.close()
        return None

    def give_back(self, connection: LoopConnection) -> None:
        for _, given_back in self.watchers:
            given_back()
        if connection.reusable:
            self._idle.append(connection)
        else:
            connection.close()

    async def _connect(self) -> LoopConnection:
        try:
            connection = await psycopg.AsyncConnection.connect(
                **self._connect_arguments, autocommit=True
            )
        except psycopg.Error as error:
            raise translate(error, NUMBERED, self._error, lost=False) from error
        return LoopConnection(connection, self._silence)
