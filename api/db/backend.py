"""What the doorway (api/db/database.py) runs its work on: one interface, two backends.

api/db/sqlite_backend.py and api/db/postgres_backend.py implement it. The doorway owns what is
the same on both (admission, the group commit's line); a backend owns its connections, where
a read runs, and what a group of writes runs on.
"""

from collections.abc import Callable
from typing import Protocol, TypeVar

from api.db.connections import Transactions, Work

T = TypeVar("T")


class Backend(Protocol):
    @property
    def writes(self) -> Transactions:
        """What the group commit runs a group of writes on."""
        ...

    # Whether a write takes one of the admission's slots while it waits for its group: it does
    # where waiting holds a connection (SQLite's writer thread), not where it holds none.
    writes_admitted: bool

    async def read(self, work: Work[T], long: bool) -> T:
        """Run `work` outside a write transaction; `long`: a deep page or a count."""
        ...

    def watch(self, taken: Callable[[], None], given_back: Callable[[], None]) -> None:
        """Call these as the backend's own connections are taken and given back."""
        ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...
