"""Under more load than connections, requests wait in a bounded line or get a prompt 503."""

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from api.config import Settings
from api.db import Database, Overloaded, create_db_engine
from api.main import create_app
from api.statements import DriverConnection
from tests.conftest import Gate, until

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


_ONE = text("SELECT 1")


class HeldWork:
    """A write's work that holds its connection until the test lets it go, and counts how many
    such works have started and finished."""

    def __init__(self) -> None:
        self.gate = Gate()
        self.started = 0
        self.finished = 0

    def __call__(self, connection: DriverConnection) -> int:
        self.started += 1
        self.gate.wait()
        value = int(connection.rows(_ONE, {})[0][0])
        self.finished += 1
        return value


def test_requests_beyond_the_queue_are_shed_at_once(database_url: str) -> None:
    settings = Settings(
        DATABASE_URL=database_url, db_pool_size=2, max_queued_requests=3, db_pool_timeout=10
    )
    database = Database(create_db_engine(settings), settings)
    held = HeldWork()
    # How many works had finished when each refusal came back: "at once" means before any
    # slot was given back, i.e. none.
    refused_after: list[int] = []

    async def one() -> object:
        try:
            return await database.write(held)
        except Overloaded as refused:
            refused_after.append(held.finished)
            return refused

    async def scenario() -> list[object]:
        try:
            writes = asyncio.gather(*(one() for _ in range(8)))
            # Released only once the refusals are in: a refusal that waited for a slot
            # would never come, and `until` fails.
            await until(lambda: len(refused_after) == 3)
            held.gate.set()
            return await writes
        finally:
            await database.close()

    outcomes = asyncio.run(scenario())
    # 2 run, 3 wait their turn, 3 are refused without waiting.
    assert outcomes.count(1) == 5
    assert refused_after == [0, 0, 0]
    assert held.finished == 5


def test_waiting_longer_than_the_timeout_is_a_503(database_url: str) -> None:
    settings = Settings(DATABASE_URL=database_url, db_pool_size=1, db_pool_timeout=0.1)
    app: FastAPI = create_app(settings)
    held = HeldWork()

    async def scenario() -> list[int]:
        async with app.router.lifespan_context(app):
            database: Database = app.state.worker.db
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                blocker = asyncio.ensure_future(database.write(held))
                # The one slot is taken once the blocking write's work has started.
                await until(lambda: held.started == 1)
                try:
                    response = await client.get("/heroes/1")
                finally:
                    held.gate.set()
                await blocker
                assert response.json() == {"detail": "Service overloaded, try again shortly"}
                assert response.headers["retry-after"] == "1"
                return [response.status_code]

    assert asyncio.run(scenario()) == [503]
