"""PostgreSQL behind a path that fails at random on every connection (scripts/_faults.py): cut
mid-message, or silent with both sockets open, under 16 writers with Idempotency-Keys. No
request is held past the service's bound, every write is acknowledged within its retries, none
is stored twice, the log has no traceback and no unretrieved exception, and the service answers
as usual within seconds of the network being sound again.

Reduced here (300 writes, one run); `scripts/stress faults` runs 2,000 writes, ten times in a
row, each with a seed of its own (printed, to replay one)."""

from pathlib import Path

import pytest
from _faults import drill
from sqlalchemy import create_engine

from tests.conftest import clear_heroes

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def test_writes_through_random_cuts_and_silences_are_bounded_and_stored_once(
    database_url: str, tmp_path: Path
) -> None:
    engine = create_engine(database_url)
    clear_heroes(engine)
    engine.dispose()
    report = drill(database_url, tmp_path / "server.log", writers=16, writes=300)
    print(report.summary())
    assert report.problems() == [], report.summary()
    assert report.recovery < 10, report.summary()  # "within seconds": 10 at most
