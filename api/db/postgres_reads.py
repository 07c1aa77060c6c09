"""PostgreSQL reads on the event loop: no thread per read.

A read's statement goes out through libpq's asynchronous calls (psycopg.pq, psycopg's own
binding to libpq), and its answer is awaited the way the loop awaits any socket; psycopg's
adapters (its Transformer) turn the values into parameters and the rows back into Python
values. Against the thread per read this replaces (psycopg's blocking calls in a pool of
threads), measured in one interleaved run: GET one +15 %, a page +8 % (docs/performance.md).
psycopg's own AsyncConnection was measured too: its cursor layer costs more than the thread
hop it saves (~110 µs of CPU a query, against ~35 µs here).

The work functions are the synchronous ones that SQLite's reads and every write run
(api/crud.py): each runs in a greenlet (SQLAlchemy's greenlet_spawn, as its asyncio extension
does), and each statement it runs is awaited on the loop (await_only).

Connections are opened when needed, at most one per admission slot (Database admits no more
at once), and kept in autocommit for good: a read is one statement with a snapshot of its own,
one round trip, no BEGIN and no ROLLBACK. A connection the server dropped fails at its
statement, and the read (which changed nothing) runs again on another: a restart of the
database is unseen, as on the writes' side (api/db/connections.py). A read abandoned while its
statement runs (its request was cancelled) closes its connection: the answer still on its way
would otherwise reach the next read.
"""

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.errors import error_from_result
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.util import await_only, greenlet_spawn

from api.db.connections import SESSION_ENDED, Work, translate
from api.driver import DriverConnection, Row, Statements

T = TypeVar("T")
_ANSWERED = frozenset({pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK})
# libpq's parameters are numbered ($1, $2…): the statements compiled for that, once each.
_NUMBERED = psycopg_dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]


class LoopConnection:
    """One libpq connection whose statements are sent, and answered, on the event loop."""

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self._connection = connection  # it owns the libpq connection (and closes it when freed)
        self.pgconn = connection.pgconn
        self.pgconn.nonblocking = 1
        self._socket = self.pgconn.socket
        self.loop = asyncio.get_running_loop()  # its socket is watched by this loop only
        self._adapt = Transformer(connection)
        self._encoding = connection.info.encoding

    @property
    def reusable(self) -> bool:
        """Open, and not in the middle of anything."""
        return (
            self.pgconn.status == pq.ConnStatus.OK
            and self.pgconn.transaction_status == pq.TransactionStatus.IDLE
        )

    def close(self) -> None:
        self.pgconn.finish()

    async def execute(self, sql: bytes, values: Sequence[Any]) -> pq.abc.PGresult:
        """The statement's result; the server's error raised as psycopg's exception."""
        adapt, pgconn = self._adapt, self.pgconn
        params = adapt.dump_sequence(values, [PyFormat.AUTO] * len(values))
        pgconn.send_query_params(
            sql,
            params,
            param_formats=adapt.formats,
            param_types=adapt.types,
            result_format=pq.Format.BINARY,
        )
        while pgconn.flush():  # a statement larger than the socket's buffer: rare
            await self._writable()
        for result in await self._results():
            if result.status not in _ANSWERED:
                raise error_from_result(result, encoding=self._encoding)
        return result

    def rows(self, result: pq.abc.PGresult) -> list[Row]:
        adapt = self._adapt
        adapt.set_pgresult(result)
        rows: list[Row] = adapt.load_rows(0, result.ntuples, tuple)
        return rows

    async def _results(self) -> list[pq.abc.PGresult]:
        """Every result of the statement sent, once the server has sent them all."""
        pgconn, results = self.pgconn, list[pq.abc.PGresult]()
        answered: asyncio.Future[list[pq.abc.PGresult]] = self.loop.create_future()

        def readable() -> None:
            if answered.done():
                return
            try:
                pgconn.consume_input()
                while not pgconn.is_busy():
                    result = pgconn.get_result()
                    if result is None:  # the statement's last
                        answered.set_result(results)
                        return
                    results.append(result)
            except psycopg.Error as error:  # the connection broke
                answered.set_exception(error)

        self.loop.add_reader(self._socket, readable)
        try:
            return await answered
        finally:
            self.loop.remove_reader(self._socket)

    async def _writable(self) -> None:
        writable: asyncio.Future[None] = self.loop.create_future()
        self.loop.add_writer(self._socket, writable.set_result, None)
        try:
            await writable
        finally:
            self.loop.remove_writer(self._socket)


class LoopDriverConnection(DriverConnection):
    """What a read's work is given: crud's statements, each awaited on the loop from the work's
    greenlet."""

    def __init__(self, connection: LoopConnection, statements: Statements) -> None:
        super().__init__(connection, statements)
        self._connection = connection

    def rows(self, statement: ClauseElement, values: Mapping[str, Any]) -> list[Row]:
        result = self._run(statement, values)
        return self._connection.rows(result)

    def rowcount(self, statement: ClauseElement, values: Mapping[str, Any]) -> int:
        return int(self._run(statement, values).command_tuples or 0)

    def _run(self, statement: ClauseElement, values: Mapping[str, Any]) -> pq.abc.PGresult:
        sql, arguments = self._statements.get(statement).arguments(values)
        assert isinstance(arguments, tuple), "numbered parameters come in order"
        result: pq.abc.PGresult = await_only(self._connection.execute(sql.encode(), arguments))
        return result


class PostgresReads:
    """This worker's connections for reads, on its event loop."""

    def __init__(
        self, connect_arguments: dict[str, Any], slots: int, error: type[Exception]
    ) -> None:
        self._connect_arguments = connect_arguments
        self._slots = slots
        self._error = error
        self._idle: list[LoopConnection] = []
        self._statements = Statements(_NUMBERED)
        # Called as connections are taken and given back (the metrics' gauge).
        self.watchers: list[tuple[Callable[[], None], Callable[[], None]]] = []

    async def read(self, work: Work[T]) -> T:
        """Run `work`; a connection the server dropped is replaced and the read run again (at
        most once per slot: after a restart every idle connection may be dead)."""
        for attempt in range(self._slots + 1):
            connection = self._take() or await self._connect()
            for taken, _ in self.watchers:
                taken()
            try:
                driver = LoopDriverConnection(connection, self._statements)
                result: T = await greenlet_spawn(work, driver)
            except psycopg.Error as error:
                lost = (error.sqlstate or "").startswith(SESSION_ENDED) or not connection.reusable
                self._give_back(connection)
                if not lost or attempt == self._slots:
                    raise translate(error, _NUMBERED, self._error, lost) from error
                continue
            except BaseException:  # abandoned mid-statement, or a bug in the work
                connection.close()
                self._give_back(connection)
                raise
            self._give_back(connection)
            return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

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

    def _give_back(self, connection: LoopConnection) -> None:
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
            raise translate(error, _NUMBERED, self._error, lost=False) from error
        return LoopConnection(connection)
