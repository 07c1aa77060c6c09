"""Group commit: one writer runs every write queued meanwhile in one transaction, commits once,
then answers each request with its own outcome. On SQLite the writer is a thread, and the
group's writes run one after the other; on PostgreSQL it is a greenlet on the event loop, and
the group's writes run side by side, the statements they send in one turn going out in one
batch (api/db/postgres_writes.py). Either way each write's own statements run in order, and
what a write changes is one statement (and, for a conditional one that changed nothing, a look
at whether the hero exists), so a group's outcome is one that running its writes one by one,
in some order, would give.

- Nothing is acknowledged before its commit.
- If a write of a group fails before the commit, the group is rolled back. A failure of the
  write's own (a constraint, a lock timeout, a bug) is that write's answer, and the rest of the
  group runs again without it: nothing of the failed attempt stands, so this is what running
  them without it would give, at the cost of one retry, and a write stuck on a lock holds its
  group up once, not twice. (A statement PostgreSQL skipped, or refused, because an earlier one
  had aborted the transaction is no failure of its write's.) A failure of the connection's is
  nobody's: each write then runs again alone.
- A group whose connection dies before its COMMIT is sent committed nothing: it runs again
  on another connection.
- A write never runs twice when its commit may have landed. If the COMMIT itself fails, its
  outcome is unknown: the group's marker (api/db/markers.py) is looked up on another connection.
  Landed: each request gets the result its write produced. Not landed: the group is treated as
  failed before its commit. The database can't be reached to tell: each request gets
  `OutcomeUnknown` (a 503 saying that a retry with the same Idempotency-Key is safe).

On PostgreSQL two more rules, both because nothing of a refused transaction happened:

- A transaction the server refused for a serialization failure or a deadlock (class 40: two
  writers raced, under SERIALIZABLE say) runs again, up to TRANSACTION_RETRIES times, with a
  short random pause: the race is nobody's failure. A COMMIT refused that way did not land.
- A group waits for a row lock at most GROUP_LOCK_TIMEOUT_SECONDS (its lock_timeout): a write
  that waited that long leaves the group, which runs on without it, and waits for its lock on
  its own, in a transaction of its own with the full HEROES_DB_LOCK_TIMEOUT, beside the next
  groups (at most WRITES_WAITING_ALONE_MAX at once). A write stuck on a lock delays the
  others by at most that second.

A queued write has a deadline: if no group has taken it within `queue_seconds` (the one
before it is stuck: on a row lock, until lock_timeout ends it), it leaves the line and its
request gets `Overloaded` (a 503 with Retry-After). It was never sent, so nothing is lost and a
retry is safe. A write already in a group is never abandoned: its commit may land. The line
can be bounded too (`max_queued`): past it a write is refused at once, unsent.

One writer, not one per request: a group of writes is one transaction (and, for SQLite, one
take of the file's write lock) instead of one each. No timer: every write that arrives while
a group is committing joins the next one, so a lone write waits for nothing.
"""

import asyncio
import functools
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.util import greenlet_spawn

from api.bounds import TRANSACTION_RETRIES, WRITES_WAITING_ALONE_MAX
from api.db import markers
from api.db.admission import Overloaded
from api.db.connections import (
    IN_FAILED_TRANSACTION,
    LOCK_NOT_AVAILABLE,
    RETRY_TRANSACTION,
    Transaction,
    Transactions,
    Work,
    WorkResult,
    sqlstate_of,
)

T = TypeVar("T")


class OutcomeUnknown(Exception):
    """A write's COMMIT failed and the database could not be reached to find out whether it
    landed. Never retried by the service: it may have happened."""


class NotCommitted(Exception):
    """A group certainly did not commit; `error` is what its requests should be told."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class WriteFailed(NotCommitted):
    """A group did not commit because some of its writes failed of their own, on a connection
    that is still sound: `errors` holds each one's answer, by its place in the group."""

    def __init__(self, errors: dict[int, Exception]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


# After a failed COMMIT, how soon to look again while the database doesn't answer.
_FIRST_LOOK_DELAY = 0.05
_LOOK_DELAY_MAX = 1.0
# Before a transaction the server refused for a race runs again: a random pause of up to this
# much times the attempt's number, so that the racers don't meet again.
_RERUN_DELAY = 0.01


@dataclass(frozen=True)
class _Alone:
    """A write's answer to come from its transaction of its own (it left its group to wait for
    a lock)."""

    task: "asyncio.Future[WorkResult]"


class GroupCommit:
    def __init__(
        self,
        connections: Transactions,
        resolve_seconds: float,
        queue_seconds: float,
        max_queued: int | None = None,
    ) -> None:
        self._connections = connections
        self._queue_seconds = queue_seconds
        # How many writes may wait for the next group (None: as many as are let in).
        self._max_queued = max_queued
        # How long to keep trying to learn a failed COMMIT's outcome before answering 503.
        self._resolve_seconds = resolve_seconds
        self._markers = markers.Markers()
        # The marker rows of writes waiting alone for a lock (one each, reused once done).
        self._spare_markers: list[markers.Markers] = []
        self._alone = 0  # writes waiting alone now
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")
        self._pending: list[tuple[Work[Any], asyncio.Future[Any]]] = []
        self._committing = False

    @property
    def queued(self) -> int:
        """Writes waiting for the next group."""
        return len(self._pending)

    async def write(self, work: Work[T]) -> T:
        """Run `work` in the next group commit; return once it is committed. Overloaded, at
        once, if the line for the next group is full."""
        if (
            self._committing
            and self._max_queued is not None
            and len(self._pending) >= self._max_queued
        ):
            raise Overloaded  # never sent: a retry is safe
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        entry = (work, future)
        self._pending.append(entry)
        if not self._committing:
            self._commit_pending()
            return await future  # already in a group: no deadline to keep
        # A timer, not asyncio.wait_for: no task and no shield per write.
        expiry = loop.call_later(self._queue_seconds, self._expire, entry)
        try:
            return await future
        finally:
            expiry.cancel()

    def close(self) -> None:
        self._writer.shutdown(wait=True)

    def _expire(self, entry: tuple[Work[Any], asyncio.Future[Any]]) -> None:
        """A write still in line at its deadline leaves it, unsent."""
        if entry in self._pending:
            self._pending.remove(entry)
            entry[1].set_exception(Overloaded())

    def _commit_pending(self) -> None:
        group, self._pending = self._pending, []
        self._committing = True
        works = [work for work, _ in group]
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[WorkResult]]
        if self._connections.on_loop:  # PostgreSQL: in a greenlet, its statements awaited
            done = loop.create_task(greenlet_spawn(self._commit, works))
        else:
            done = loop.run_in_executor(self._writer, self._commit, works)
        done.add_done_callback(functools.partial(self._answer, group))

    def _answer(
        self,
        group: list[tuple[Work[Any], asyncio.Future[Any]]],
        done: asyncio.Future[list[WorkResult]],
    ) -> None:
        self._committing = False
        try:
            outcomes = done.result()
        except BaseException as error:  # the writer itself failed: nothing was committed
            outcomes = [(False, error)] * len(group)
        for (_work, future), outcome in zip(group, outcomes, strict=True):
            _ok, value = outcome
            if isinstance(value, _Alone):
                value.task.add_done_callback(functools.partial(_settle_alone, future))
            else:
                _settle(future, outcome)
        if self._pending:
            self._commit_pending()

    # In the writer thread (SQLite), or in a greenlet on the event loop (PostgreSQL).

    def _commit(self, group: list[Work[Any]]) -> list[WorkResult]:
        """The whole group in one transaction; if it certainly failed, each write alone (on a
        connection of its own: the group's may be the thing that failed)."""
        outcomes: dict[int, WorkResult] = {}
        left = list(range(len(group)))  # the writes not answered yet, by their place in `group`
        while len(left) > 1:
            try:
                results = self._attempt([group[index] for index in left])
            except WriteFailed as failed:
                for place in sorted(failed.errors, reverse=True):
                    index = left.pop(place)
                    outcomes[index] = self._failed(group[index], failed.errors[place])
                continue
            except NotCommitted:
                break
            except OutcomeUnknown as unknown:
                outcomes.update((index, (False, unknown)) for index in left)
            else:
                outcomes.update(
                    (index, (True, result)) for index, result in zip(left, results, strict=True)
                )
            left = []
        for index in left:
            try:
                outcomes[index] = (True, self._attempt([group[index]])[0])
            except NotCommitted as failed:
                outcomes[index] = self._failed(group[index], failed.error)
            except OutcomeUnknown as unknown:
                outcomes[index] = (False, unknown)
        return [outcomes[index] for index in range(len(group))]

    def _failed(self, work: Work[Any], error: Exception) -> WorkResult:
        """A write's answer when it failed of its own in a group: its error, or, if it waited
        for a lock (the group's short lock_timeout), the outcome of its transaction of its own,
        run beside the next groups."""
        if (
            not self._connections.on_loop
            or sqlstate_of(error) != LOCK_NOT_AVAILABLE
            or self._alone >= WRITES_WAITING_ALONE_MAX
        ):
            return (False, error)
        self._alone += 1
        task = asyncio.get_running_loop().create_task(greenlet_spawn(self._commit_alone, work))
        task.add_done_callback(self._one_less_alone)
        return (True, _Alone(task))

    def _one_less_alone(self, _task: "asyncio.Future[WorkResult]") -> None:
        self._alone -= 1

    def _commit_alone(self, work: Work[Any]) -> WorkResult:
        """`work` in a transaction of its own, that waits for locks as long as the setting
        says, with a marker row of its own (it commits beside the groups)."""
        own = self._spare_markers.pop() if self._spare_markers else markers.Markers()
        try:
            return (True, self._attempt([work], alone=True, marks=own)[0])
        except NotCommitted as failed:
            return (False, failed.error)
        except OutcomeUnknown as unknown:
            return (False, unknown)
        finally:
            self._spare_markers.append(own)

    def _attempt(
        self, group: list[Work[Any]], alone: bool = False, marks: markers.Markers | None = None
    ) -> list[Any]:
        """The group's results if it committed. Raises NotCommitted if it certainly did not,
        OutcomeUnknown if that can't be told.

        No ping before a group: a connection that turns out dead before the COMMIT was sent
        can't have committed anything, so the group runs again on another one (at most once
        per pool slot: after a restart every pooled connection may be dead). A ping per group
        would be a round trip per group for nothing (docs/decisions/0002-group-commit.md)."""
        marks = marks or self._markers
        marker_renewals, reconnects, reruns = 1, self._connections.slots, TRANSACTION_RETRIES
        while True:
            try:
                with self._connections.checkout(alone=alone) as connection:
                    stamp, results = self._run(connection, group, marks)
                    if stamp is None:  # the writer's marker row had gone: a new one, once
                        if marker_renewals == 0:
                            raise NotCommitted(
                                RuntimeError("the writer's commit marker could not be kept")
                            )
                        marker_renewals -= 1
                        continue
                    try:
                        connection.commit()
                        return results
                    except self._connections.error as error:
                        failure = self._connections.failure(error, connection)
                        if _refused(failure):  # the server answered: it did not land
                            raise NotCommitted(failure) from error
            except NotCommitted as failed:  # a WriteFailed is a write's own error, never dropped
                if _dropped(failed.error) and reconnects > 0:
                    reconnects -= 1  # the connection died before the COMMIT: nothing landed
                    continue
                if _refused(failed.error) and reruns > 0:
                    reruns -= 1  # a race lost: nothing of it happened
                    attempt = TRANSACTION_RETRIES - reruns
                    self._connections.pause(random.uniform(0, _RERUN_DELAY * attempt))
                    continue
                raise
            except Exception as error:  # no connection to be had: nothing was sent
                raise NotCommitted(error) from error
            # The COMMIT was sent and may have been applied: look (on another connection, this
            # one given back first), never redo.
            if self._landed(stamp, marks):
                return results
            raise NotCommitted(failure)

    def _run(
        self, connection: Transaction, group: list[Work[Any]], marks: markers.Markers
    ) -> tuple[markers.Stamp | None, list[Any]]:
        """The group's statements and its stamp, in an open transaction; on any failure, rolled
        back and raised as NotCommitted. No stamp: the marker row had gone (rolled back too)."""
        failed: list[int] = []  # the writes that failed of their own, if any did
        try:
            marks.prepare(connection)
            connection.begin()
            outcomes = connection.run(group)
            # The writes that failed of their own: a statement skipped after another's error,
            # or refused in the transaction that error aborted, failed for that one. Side by
            # side (PostgreSQL) every write ran, so all of them are known at once, and leave
            # together: a group can be hundreds long, and a retry per failure would be
            # quadratic. (At most one of them is the database's: its error aborted the rest.)
            failures = [n for n, (ok, _) in enumerate(outcomes) if not ok]
            failed = [n for n in failures if not _skipped(outcomes[n][1])] or failures[:1]
            if failed:
                raise outcomes[failed[0]][1]
            results = [result for _, result in outcomes]
            stamp = marks.stamp(connection)
        except Exception as error:
            failure = self._connections.failure(error, connection)
            errors = {failed[0]: failure} if failed else {}
            for place in failed[1:]:
                errors[place] = self._connections.failure(outcomes[place][1], connection)
            self._rollback(connection)
            # A lost connection, or a race the server refused, is nobody's failure: then every
            # write runs again.
            lost = next((e for e in errors.values() if _dropped(e) or _refused(e)), None)
            if errors and lost is None:
                raise WriteFailed(errors) from error
            raise NotCommitted(lost or failure) from error
        if stamp is None:
            self._rollback(connection)
        return stamp, results

    def _rollback(self, connection: Transaction) -> None:
        try:
            connection.rollback()
        except self._connections.error as error:  # the connection died: so did its transaction
            self._connections.failure(error, connection)

    def _landed(self, stamp: markers.Stamp, marks: markers.Markers) -> bool:
        """Whether the group stamped `stamp` committed; OutcomeUnknown if the database doesn't
        say so within the resolve time."""
        deadline = time.monotonic() + self._resolve_seconds
        delay = _FIRST_LOOK_DELAY
        while True:
            try:
                with self._connections.checkout(live=True) as connection:
                    left = max(0.0, deadline - time.monotonic())
                    return markers.landed(connection, stamp, left)
            except Exception as error:
                if time.monotonic() + delay > deadline:
                    marks.abandon()
                    raise OutcomeUnknown from error
                self._connections.pause(delay)
                delay = min(delay * 2, _LOOK_DELAY_MAX)


def _settle(future: "asyncio.Future[Any]", outcome: WorkResult) -> None:
    if future.done():  # a request whose caller went away needs no answer
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _settle_alone(future: "asyncio.Future[Any]", alone: "asyncio.Future[WorkResult]") -> None:
    """A write's answer from its transaction of its own."""
    if alone.cancelled():  # the service is stopping
        _settle(future, (False, RuntimeError("the service stopped before the write ended")))
    elif (error := alone.exception()) is not None:
        _settle(future, (False, error))
    else:
        _settle(future, alone.result())


def _refused(failure: Exception) -> bool:
    """Whether the server refused the transaction for a race (a serialization failure, a
    deadlock): it ran none of it, and asks for it to run again."""
    return sqlstate_of(failure) in RETRY_TRANSACTION


def _skipped(error: Exception) -> bool:
    """Whether `error` is a statement's that never ran because an earlier one of its
    transaction failed (PostgreSQL's in_failed_sql_transaction)."""
    return getattr(error, "sqlstate", None) == IN_FAILED_TRANSACTION


def _dropped(failure: Exception) -> bool:
    """Whether `failure` is the connection's (lost, or closed under it), not a write's."""
    return isinstance(failure, DBAPIError) and failure.connection_invalidated
