"""Connections: checked out of the engine's pool (the writes', and SQLite's long reads'),
pinged when a commit's outcome must be looked up, replaced when the server dropped them, and
their errors translated to SQLAlchemy's (what the error handlers know).

A restart of the database is invisible to callers: a read that meets a connection the server
dropped runs again on another (it changed nothing; PostgreSQL's reads do the same on theirs,
api/db/postgres_reads.py), and so does a group of writes whose connection dies before its
COMMIT is sent (api/db/group_commit.py). There is no pool_pre_ping: a round trip per checkout
(docs/decisions/0004-core-statements.md).
"""

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError, StatementError
from sqlalchemy.pool import PoolProxiedConnection

from api.statements import DriverConnection, Statements

T = TypeVar("T")
# PostgreSQL's read_only_sql_transaction: a write reached a standby (in a failover or a
# switchover, before the router has noticed), or a server that refuses writes for now.
READ_ONLY = "25006"
# Errors after which the server closes the session: class 08 (connection exceptions; PgBouncer's
# own, "server conn crashed?", are 08P01) and the server shutting down or starting up. The
# driver may not have read the close yet when the error arrives.
SESSION_ENDED = ("08", "57P01", "57P02", "57P03")
# A statement sent in a transaction that an earlier statement's error had aborted: it did not
# run, through no fault of its own.
IN_FAILED_TRANSACTION = "25P02"
# Text the database's encoding can't hold (a character LATIN1 lacks), said by the server:
# untranslatable_character, character_not_in_repertoire.
UNREPRESENTABLE = ("22P05", "22021")
# A lock not granted within lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"
# The transaction lost a race with another (SERIALIZABLE), or a deadlock: nothing of it
# happened, and running it again is what the server asks for.
RETRY_TRANSACTION = ("40001", "40P01")
Work = Callable[[DriverConnection], T]
# A work's result: (True, what it returned) or (False, the exception it raised).
WorkResult = tuple[bool, Any]


class Transaction(Protocol):
    """What a group of writes runs on: a pooled connection in the writer thread (`Connection`),
    or one of the loop's on PostgreSQL (api/db/postgres_writes.py)."""

    sqlite: bool
    driver: DriverConnection

    def begin(self) -> None: ...
    def run(self, works: list[Work[Any]]) -> list[WorkResult]:
        """Each work's outcome, in the open transaction. It may stop at the first that fails
        (the rest unanswered) or run them all."""
        ...

    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class Transactions(Protocol):
    """Where group commit takes its transactions from (`Connections`, or the loop's)."""

    on_loop: bool  # whether the group runs on the event loop (in a greenlet), not in a thread
    slots: int
    error: type[Exception]  # the driver's base error

    def checkout(
        self, live: bool = False, alone: bool = False
    ) -> contextlib.AbstractContextManager[Transaction]:
        """A connection for a transaction. `live`: one that can be trusted to reach the
        database (to look up a lost commit). `alone`: for a write that left its group to wait
        for a lock on its own (PostgreSQL: the full lock_timeout, not the group's)."""
        ...

    def failure(self, error: Exception, connection: Any) -> Exception: ...
    def pause(self, seconds: float) -> None: ...


class Unrepresentable(Exception):
    """A value that the database's encoding can't hold (a character outside LATIN1, say):
    the caller's to change, a 422. `field`: the parameter it was given as, when known."""

    def __init__(self, message: str, encoding: str | None = None, field: str | None = None):
        super().__init__(message)
        self.encoding = encoding
        self.field = field

    def naming(self, values: Sequence[Any], names: Sequence[str] | None) -> "Unrepresentable":
        """This error, with the name of the first of `values` the encoding can't hold."""
        if self.encoding is None or names is None:
            return self
        for name, value in zip(names, values, strict=False):
            if isinstance(value, str):
                try:
                    value.encode(self.encoding)
                except UnicodeError:
                    return Unrepresentable(str(self), self.encoding, name)
        return self


def sqlstate_of(error: BaseException) -> str:
    """The SQLSTATE of a driver's error, or of the one SQLAlchemy's wraps ("" if none)."""
    driver = getattr(error, "orig", None) or error
    return getattr(driver, "sqlstate", None) or ""


def session_ended(sqlstate: str | None) -> bool:
    """Whether an error with this SQLSTATE ends the session (the server closes it after)."""
    return (sqlstate or "").startswith(SESSION_ENDED)


def translate(error: Any, dialect: Dialect, base_error: type[Exception], lost: bool) -> Exception:
    """The driver's `error` as SQLAlchemy's (what the error handlers know); `lost`: the
    connection it came from is gone."""
    sqlstate = getattr(error, "sqlstate", None) or ""
    if sqlstate in UNREPRESENTABLE:
        return Unrepresentable(getattr(error.diag, "message_primary", None) or str(error))
    if sqlstate == READ_ONLY:
        # Not the write's fault, nor a bug: the database can't take writes just now. An
        # OperationalError, as when it can't be reached: a 503 to retry, nothing changed.
        return OperationalError(None, None, error, connection_invalidated=lost)
    translated: StatementError = DBAPIError.instance(
        None, None, error, base_error, connection_invalidated=lost, dialect=dialect
    )
    return translated


class Connection:
    """A checked-out connection: the driver's connection, running our statements, and what a
    write transaction needs."""

    def __init__(
        self,
        pooled: PoolProxiedConnection,
        statements: Statements,
        sqlite: bool,
    ) -> None:
        self.pooled = pooled
        self.dbapi: Any = pooled.dbapi_connection
        self.driver = DriverConnection(self.dbapi, statements)
        self.sqlite = sqlite

    def begin(self) -> None:
        if self.sqlite:
            # Take the write lock first: a deferred transaction that reads before it writes can
            # meet another process' lock with no chance to wait for it. (PostgreSQL's driver
            # opens a transaction with the first statement.)
            self.dbapi.execute("BEGIN IMMEDIATE")

    def run(self, works: list[Work[Any]]) -> list[WorkResult]:
        """One after the other, up to the first that fails."""
        outcomes: list[WorkResult] = []
        for work in works:
            try:
                outcomes.append((True, work(self.driver)))
            except Exception as error:
                outcomes.append((False, error))
                break
        return outcomes

    def commit(self) -> None:
        self.dbapi.commit()

    def rollback(self) -> None:
        if self.pooled.is_valid:
            self.dbapi.rollback()


class Connections:
    on_loop = False  # group commit runs on these from its writer thread

    def __init__(self, engine: Engine, slots: int) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.statements = Statements(engine.dialect)
        # At most one retry per pool slot: after a restart every pooled connection may be dead.
        self.slots = slots
        self.error: type[Exception] = engine.dialect.loaded_dbapi.Error

    @contextlib.contextmanager
    def checkout(self, live: bool = False, alone: bool = False) -> Iterator[Connection]:
        """A pooled connection; with `live`, one that has just answered a ping (PostgreSQL).
        (`alone` changes nothing here: the writer thread's writes never leave their group.)"""
        pooled = self._live() if live and not self.sqlite else self._connect()
        try:
            yield Connection(pooled, self.statements, self.sqlite)
        finally:
            pooled.close()

    def read(self, work: Work[T]) -> T:
        """Run `work` on a pooled connection. Optimistic: a connection the server dropped fails at
        its first statement, and a read changes nothing, so it runs again on the next one."""
        for attempt in range(self.slots + 1):
            with self.checkout() as connection:
                try:
                    return work(connection.driver)
                except self.error as error:
                    self._raise_unless_dropped(error, connection.pooled, attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def translated(self, error: Any, connection: PoolProxiedConnection | None) -> Exception:
        """The driver's error as SQLAlchemy's; a connection the server dropped is invalidated, so
        that the pool doesn't hand it out again."""
        dialect = self.engine.dialect
        lost = connection is not None and (
            session_ended(getattr(error, "sqlstate", None))
            or dialect.is_disconnect(error, connection.dbapi_connection, None)
        )
        if connection is not None and lost and connection.is_valid:  # once: a rollback may
            connection.invalidate(error)  # have dropped it already
        return translate(error, dialect, self.error, lost)

    def failure(self, error: Exception, connection: Connection | None) -> Exception:
        """What a request should be told of `error`: a driver's error translated, anything else
        (a bug in a write's work) as it is."""
        if isinstance(error, self.error):
            return self.translated(error, connection.pooled if connection else None)
        return error

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)

    def _connect(self) -> PoolProxiedConnection:
        try:
            return self.engine.raw_connection()
        except self.error as error:  # the pool hands the driver's connect error on as is
            raise self.translated(error, None) from error

    def _live(self) -> PoolProxiedConnection:
        """SQLAlchemy's pool_pre_ping, for looking up a commit whose answer was lost: that lookup
        must reach the database if it can, or the write's outcome stays unknown."""
        for attempt in range(self.slots + 1):
            pooled = self._connect()
            try:
                self.engine.dialect.do_ping(pooled.dbapi_connection)  # type: ignore[arg-type]
                return pooled
            except self.error as error:
                try:
                    self._raise_unless_dropped(error, pooled, attempt)
                finally:
                    pooled.close()  # after: a dropped one is invalidated first
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _raise_unless_dropped(
        self, error: Exception, connection: PoolProxiedConnection, attempt: int
    ) -> None:
        """Return if `error` says the server dropped `connection` and another may be tried;
        else raise it, translated."""
        translated = self.translated(error, connection)
        if not getattr(translated, "connection_invalidated", False) or attempt == self.slots:
            raise translated from error


class KeptConnection:
    """One connection held for good, for SQLite's reads on the event loop: a checkout per read
    would cost more than many of the reads."""

    def __init__(self, connections: Connections) -> None:
        self._connections = connections
        self._pooled = connections.engine.raw_connection()
        self._driver = DriverConnection(self._pooled.dbapi_connection, connections.statements)

    def read(self, work: Work[T]) -> T:
        try:
            return work(self._driver)
        except self._connections.error as error:
            raise self._connections.translated(error, self._pooled) from error
