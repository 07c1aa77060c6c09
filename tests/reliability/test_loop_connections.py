"""The loop's connections on PostgreSQL (api/db/postgres_reads.py, api/db/postgres_writes.py):
a connection goes back to the pool, or is closed, only once nothing is in flight on it.

A batch's answers can come before its ReadyForQuery (the server's messages arrive in more than
one read of the socket), and a write transaction can be over by then. Closing the connection
there closed a socket the event loop was still watching: the next connection given the same
file descriptor failed to register it ("connection socket closed", a 503), as a read did in CI
(test_a_write_that_reaches_a_standby_is_a_503_and_changes_nothing), and the connection, still
sound, was lost to the pool. These tests use a stand-in for the connection, whose
ReadyForQuery comes a few turns of the loop after its answers (or, once the server ended the
session, never: its close is not read yet)."""

import asyncio
import contextlib
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import text
from sqlalchemy.util import greenlet_spawn

from api.db import Work
from api.db.postgres_reads import LoopConnection, PostgresReads, Statement
from api.db.postgres_writes import LoopTransaction, LoopTransactions
from api.driver import DriverConnection

_UPDATE = text("UPDATE hero SET age = 1")
_TURNS_TO_READY_FOR_QUERY = 5


class _LateReadyForQuery:
    """A stand-in for a LoopConnection: each statement of a batch is answered at once, the
    batch's end (ReadyForQuery) comes a few turns later, or never once the server has ended
    the session. `answer` gives each statement its result (or raises its error)."""

    def __init__(self, answer: Callable[[bytes], Any]) -> None:
        self.loop = asyncio.get_running_loop()
        self.ended = False
        self.in_batch = False
        self.closed = False
        self.closed_in_batch = False
        self.sent: list[bytes] = []
        self._answer = answer

    @property
    def reusable(self) -> bool:
        return not (self.ended or self.in_batch or self.closed)

    def close(self) -> None:
        self.closed_in_batch |= self.in_batch
        self.closed = True

    async def run(self, batch: list[Statement]) -> list[Statement]:
        self.in_batch = True
        try:
            for statement in batch:
                self.sent.append(statement.sql)
                try:
                    statement.answer.set_result(self._answer(statement.sql))
                except psycopg.Error as error:
                    statement.answer.set_exception(error)
            for _ in range(_TURNS_TO_READY_FOR_QUERY):
                await asyncio.sleep(0)
            if self.ended:
                await asyncio.get_running_loop().create_future()  # the close, not read yet
        finally:
            self.in_batch = False
        return []


class _Reads(PostgresReads):
    """The reads' connections: the one stand-in, taken and given back."""

    def __init__(self, connection: _LateReadyForQuery) -> None:
        super().__init__({}, slots=1, error=psycopg.Error, silence=60)
        self.connection = connection
        self.given_back = asyncio.Event()

    async def take(self, fresh: bool = False) -> LoopConnection:
        return self.connection  # type: ignore[return-value]

    def give_back(self, connection: LoopConnection) -> None:
        super().give_back(connection)
        self.given_back.set()


def _update(connection: DriverConnection) -> int:
    return connection.rowcount(_UPDATE, {})


def _transaction(transactions: LoopTransactions, work: Work[Any]) -> None:
    """One write transaction, as group commit runs it (in a greenlet on the loop)."""
    with transactions.checkout() as transaction:
        try:
            transaction.begin()
            [(ok, outcome)] = transaction.run([work])
            if not ok:
                raise outcome
            transaction.commit()
        except psycopg.Error as error:
            raise transactions.failure(error, transaction) from error


async def _run_transaction(answer: Callable[[bytes], Any]) -> tuple[_LateReadyForQuery, _Reads]:
    connection = _LateReadyForQuery(answer)
    reads = _Reads(connection)
    transactions = LoopTransactions(reads, slots=1, error=psycopg.Error)
    with contextlib.suppress(Exception):  # what it raised is not what these tests look at
        await greenlet_spawn(_transaction, transactions, _update)
    await reads.given_back.wait()
    return connection, reads


def test_a_write_transactions_connection_goes_back_after_its_last_batch_ends() -> None:
    """The COMMIT answered before its batch's ReadyForQuery: the connection is still in its
    batch, so it goes back when the batch ends, and is pooled again (not closed)."""

    async def scenario() -> tuple[_LateReadyForQuery, object]:
        connection, reads = await _run_transaction(lambda _: SimpleNamespace(command_tuples=1))
        return connection, reads._take()

    connection, pooled = asyncio.run(scenario())
    assert not connection.closed_in_batch
    assert not connection.closed
    assert pooled is connection  # pooled again, for the next transaction or read


def test_a_connection_whose_session_ended_is_closed_once_nothing_waits_on_it() -> None:
    """The server ended the session (its error answered the write's statement) and its close
    is not read yet: the batch waiting for it is given up, then the connection closed."""

    def answer(sql: bytes) -> Any:
        if sql.startswith(b"UPDATE"):
            raise psycopg.errors.AdminShutdown("terminating connection due to administrator")
        return SimpleNamespace(command_tuples=0)

    connection, _ = asyncio.run(_run_transaction(answer))
    assert connection.ended
    assert connection.closed
    assert not connection.closed_in_batch


@pytest.mark.parametrize("ended", [False, True], ids=["sound", "session ended"])
def test_the_writes_answer_does_not_wait_for_the_batchs_end(ended: bool) -> None:
    """The connection is given back (or closed) later, but the transaction returns as soon as
    its COMMIT, or its error, is answered: the requests of its group are not held up."""

    def answer(sql: bytes) -> Any:
        if ended and sql.startswith(b"UPDATE"):
            raise psycopg.errors.AdminShutdown("terminating connection due to administrator")
        return SimpleNamespace(command_tuples=1)

    async def scenario() -> bool:
        connection = _LateReadyForQuery(answer)
        reads = _Reads(connection)
        transactions = LoopTransactions(reads, slots=1, error=psycopg.Error)
        with contextlib.suppress(Exception):
            await greenlet_spawn(_transaction, transactions, _update)
        returned_in_batch = connection.in_batch
        await reads.given_back.wait()
        return returned_in_batch

    assert asyncio.run(scenario())


def test_a_transaction_whose_session_ended_sends_no_rollback() -> None:
    """The server's error ended the session, and its close is not read yet: libpq may still say
    the session is in a transaction, but a ROLLBACK sent then would wait for an answer that
    never comes (PgBouncer, failing its logins, answers with its error and then nothing)."""

    async def scenario() -> list[bytes]:
        connection = _LateReadyForQuery(lambda _: SimpleNamespace(command_tuples=0))
        connection.ended = True
        connection.pgconn = SimpleNamespace(  # type: ignore[attr-defined]
            status=pq.ConnStatus.OK, transaction_status=pq.TransactionStatus.INTRANS
        )
        transaction = LoopTransaction(connection, _Reads(connection))  # type: ignore[arg-type]
        await greenlet_spawn(transaction.rollback)
        return connection.sent

    assert asyncio.run(scenario()) == []
