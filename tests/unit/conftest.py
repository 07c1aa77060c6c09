"""tests/unit: no server, no database, no network, no tool from outside Python.

Both rules are enforced here, not only promised: a test of this folder that asks for a database
or a server fixture is a collection error, and an in-process connection to any address fails
(`heroes-api` run as a command may start, but must stop before it serves or opens a database).
"""

import socket
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
# The fixtures of tests/conftest.py that bring a database or a server with them.
OUT_OF_TIER = frozenset(
    {
        "database_url",
        "postgres_url",
        "sqlite_template",
        "settings",
        "app",
        "client",
        "engine",
        "api_key",
        "live_server",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            used = OUT_OF_TIER.intersection(getattr(item, "fixturenames", ()))
            if used:
                raise pytest.UsageError(
                    f"{item.nodeid} uses {sorted(used)}: a database or a server is not a unit "
                    "test's (tests/integration/)"
                )


class NetworkInUnitTest(AssertionError):
    pass


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise NetworkInUnitTest(f"a unit test connected to {address}")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
