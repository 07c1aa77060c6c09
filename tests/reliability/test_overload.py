"""Under more load than connections, requests wait in a bounded line or get a prompt 503."""

import asyncio
import time

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from api.config import Settings
from api.db import Database, Overloaded, create_db_engine
from api.main import create_app
from api.statements import DriverConnection

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


_ONE = text("SELECT 1")


def _slow(connection: DriverConnection) -> int:
    time.sleep(0.2)
    return int(connection.rows(_ONE, {})[0][0])


def test_requests_beyond_the_queue_are_shed_at_once(database_url: str) -> None:
    settings = Settings(
        DATABASE_URL=database_url, db_pool_size=2, max_queued_requests=3, db_pool_timeout=10
    )
    database = Database(create_db_engine(settings), settings)

    start = time.monotonic()

    async def timed() -> tuple[object, float]:
        try:
            outcome: object = await database.write(_slow)
        except Overloaded as refused:
            outcome = refused
        return outcome, time.monotonic() - start

    async def scenario() -> list[tuple[object, float]]:
        try:
            return await asyncio.gather(*(timed() for _ in range(8)))
        finally:
            await database.close()

    outcomes = asyncio.run(scenario())
    # 2 run, 3 wait their turn, 3 are refused without waiting.
    assert [outcome for outcome, _ in outcomes].count(1) == 5
    refused = [seconds for outcome, seconds in outcomes if isinstance(outcome, Overloaded)]
    assert len(refused) == 3
    assert max(refused) < 0.1


def test_waiting_longer_than_the_timeout_is_a_503(database_url: str) -> None:
    settings = Settings(DATABASE_URL=database_url, db_pool_size=1, db_pool_timeout=0.1)
    app: FastAPI = create_app(settings)

    async def scenario() -> list[int]:
        async with app.router.lifespan_context(app):
            database: Database = app.state.worker.db
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                blocker = asyncio.ensure_future(database.write(_slow))
                await asyncio.sleep(0.01)
                response = await client.get("/heroes/1")
                await blocker
                assert response.json() == {"detail": "Service overloaded, try again shortly"}
                assert response.headers["retry-after"] == "1"
                return [response.status_code]

    assert asyncio.run(scenario()) == [503]
