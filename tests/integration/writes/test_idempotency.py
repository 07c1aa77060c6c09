"""Idempotency-Key on POST, PATCH and DELETE: a repeat gets the stored answer and changes nothing;
another request with the same key is a 422, the same one still running a 409; keys are scoped to
their caller and expire."""

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from api import housekeeping
from api.config import Settings
from api.db import Database
from api.heroes import queries
from api.idempotency import Answer, Claim, Idempotency
from api.main import create_app
from api.statements import DriverConnection
from tests.conftest import LOOPBACK, Gate, all_heroes, bearer, make_key, until

HERO = {"name": "Deadpond", "secret_name": "Dive Wilson"}
KEY_REUSED = {
    "detail": [
        {
            "loc": ["header", "idempotency-key"],
            "msg": "This Idempotency-Key was used with another request (body, method or path): "
            "use a new key for a new request",
            "type": "idempotency_key_reused",
        }
    ]
}


@pytest.fixture
def key(database_url: str) -> str:
    return make_key(database_url, "first")


@pytest.fixture
def api(app: FastAPI, key: str) -> Iterator[TestClient]:
    with TestClient(app, client=LOOPBACK, headers=bearer(key)) as client:
        yield client


def _keyed(idempotency_key: str) -> dict[str, str]:
    return {"Idempotency-Key": idempotency_key}


def _same_answer(first: httpx2.Response, again: httpx2.Response) -> None:
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers.get("etag") == first.headers.get("etag")
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"


def test_a_repeated_create_is_answered_from_the_record_and_stores_one_hero(
    api: TestClient, engine: Engine
) -> None:
    first = api.post("/heroes/", json=HERO, headers=_keyed("create-1"))
    again = api.post("/heroes/", json=HERO, headers=_keyed("create-1"))
    assert first.status_code == 200
    _same_answer(first, again)
    assert len(all_heroes(engine)) == 1


def test_the_replay_is_the_first_answer_even_after_the_hero_changed_or_went(
    api: TestClient, engine: Engine
) -> None:
    first = api.post("/heroes/", json={**HERO, "age": 30}, headers=_keyed("k"))
    hero_id = first.json()["id"]
    assert api.patch(f"/heroes/{hero_id}", json={"age": 31}).status_code == 200
    _same_answer(first, api.post("/heroes/", json={**HERO, "age": 30}, headers=_keyed("k")))
    assert api.delete(f"/heroes/{hero_id}").status_code == 200
    _same_answer(first, api.post("/heroes/", json={**HERO, "age": 30}, headers=_keyed("k")))
    assert all_heroes(engine) == []


def test_a_repeated_patch_changes_nothing_again(api: TestClient) -> None:
    hero_id = api.post("/heroes/", json=HERO).json()["id"]
    first = api.patch(f"/heroes/{hero_id}", json={"age": 5}, headers=_keyed("patch"))
    assert first.headers["etag"] == f'"{hero_id}.2"'
    again = api.patch(f"/heroes/{hero_id}", json={"age": 5}, headers=_keyed("patch"))
    _same_answer(first, again)
    assert api.get(f"/heroes/{hero_id}").headers["etag"] == f'"{hero_id}.2"'  # not version 3


def test_an_empty_patch_with_a_key_is_recorded_too(api: TestClient) -> None:
    hero_id = api.post("/heroes/", json=HERO).json()["id"]
    first = api.patch(f"/heroes/{hero_id}", json={}, headers=_keyed("nothing"))
    assert first.status_code == 200
    _same_answer(first, api.patch(f"/heroes/{hero_id}", json={}, headers=_keyed("nothing")))


def test_a_repeated_delete_replays_its_200(api: TestClient) -> None:
    hero_id = api.post("/heroes/", json=HERO).json()["id"]
    first = api.delete(f"/heroes/{hero_id}", headers=_keyed("bye"))
    assert first.json() == {"ok": True}
    _same_answer(first, api.delete(f"/heroes/{hero_id}", headers=_keyed("bye")))
    # Without the key, a second delete finds nothing.
    assert api.delete(f"/heroes/{hero_id}").status_code == 404


def test_404_and_412_are_what_the_write_decided_and_are_replayed(api: TestClient) -> None:
    missing = api.patch("/heroes/999999", json={"age": 1}, headers=_keyed("missing"))
    assert missing.status_code == 404
    _same_answer(missing, api.patch("/heroes/999999", json={"age": 1}, headers=_keyed("missing")))
    hero_id = api.post("/heroes/", json=HERO).json()["id"]
    stale = {"If-Match": f'"{hero_id}.7"', **_keyed("stale")}
    first = api.patch(f"/heroes/{hero_id}", json={"age": 2}, headers=stale)
    assert first.status_code == 412
    _same_answer(first, api.patch(f"/heroes/{hero_id}", json={"age": 2}, headers=stale))


def test_whitespace_and_key_order_are_the_same_request(api: TestClient) -> None:
    json_type = {"Content-Type": "application/json", **_keyed("spacing")}
    first = api.post("/heroes/", content=b'{"name":"A","secret_name":"B"}', headers=json_type)
    again = api.post(
        "/heroes/", content=b'{ "secret_name" : "B",\n  "name" : "A" }', headers=json_type
    )
    _same_answer(first, again)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/heroes/", {**HERO, "age": 99}),  # another body
        ("PATCH", "/heroes/{id}", {"age": 1}),  # another method and path
        ("DELETE", "/heroes/{id}", None),
    ],
)
def test_the_same_key_for_another_request_is_a_422_and_runs_nothing(
    api: TestClient, engine: Engine, method: str, path: str, body: Any
) -> None:
    first = api.post("/heroes/", json=HERO, headers=_keyed("once"))
    hero_id = first.json()["id"]
    before = all_heroes(engine)
    other = api.request(method, path.format(id=hero_id), json=body, headers=_keyed("once"))
    assert other.status_code == 422
    assert other.json() == KEY_REUSED
    assert all_heroes(engine) == before


def test_refusals_before_the_write_leave_the_key_free(api: TestClient, engine: Engine) -> None:
    invalid = api.post("/heroes/", json={"name": ""}, headers=_keyed("retry-me"))
    assert invalid.status_code == 422
    anonymous = api.post(
        "/heroes/", json=HERO, headers={**_keyed("retry-me"), "Authorization": "Bearer nope"}
    )
    assert anonymous.status_code == 401
    created = api.post("/heroes/", json=HERO, headers=_keyed("retry-me"))
    assert created.status_code == 200
    assert "idempotent-replayed" not in created.headers
    assert len(all_heroes(engine)) == 1


@pytest.fixture
def other_key(database_url: str) -> str:
    return make_key(database_url, "second")


def test_keys_are_scoped_to_their_caller(other_key: str, api: TestClient, engine: Engine) -> None:
    other = bearer(other_key)
    mine = api.post("/heroes/", json=HERO, headers=_keyed("shared"))
    # The other caller's first use of the same key runs, and its repeat replays its own answer.
    theirs = api.post("/heroes/", json=HERO, headers={**other, **_keyed("shared")})
    theirs_again = api.post("/heroes/", json=HERO, headers={**other, **_keyed("shared")})
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]
    _same_answer(theirs, theirs_again)
    assert len(all_heroes(engine)) == 2


@pytest.mark.parametrize("bad", [b"", b"x" * 256, b"has space", b"tab\there", "caf\u00e9".encode()])
def test_a_malformed_key_is_a_422(api: TestClient, bad: bytes, engine: Engine) -> None:
    response = api.post("/heroes/", json=HERO, headers=[(b"Idempotency-Key", bad)])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "idempotency-key"]
    assert all_heroes(engine) == []


def test_a_key_on_a_read_is_ignored(api: TestClient) -> None:
    hero_id = api.post("/heroes/", json=HERO).json()["id"]
    for _ in range(2):
        read = api.get(f"/heroes/{hero_id}", headers=_keyed("read"))
        assert read.status_code == 200
        assert "idempotent-replayed" not in read.headers


def test_the_longest_key_is_accepted(api: TestClient) -> None:
    longest = "k" * 255
    first = api.post("/heroes/", json=HERO, headers=_keyed(longest))
    _same_answer(first, api.post("/heroes/", json=HERO, headers=_keyed(longest)))


def test_records_expire_after_the_ttl_and_are_swept(
    database_url: str, key: str, engine: Engine
) -> None:
    ttl = 3600
    app = create_app(Settings(DATABASE_URL=database_url, idempotency_ttl=ttl))
    with TestClient(app, client=LOOPBACK, headers=bearer(key)) as api:
        first = api.post("/heroes/", json=HERO, headers=_keyed("old"))
        kept = api.post("/heroes/", json=HERO, headers=_keyed("new"))
        # Age the first record past the TTL (rather than wait an hour).
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE idempotency_record SET created_at = created_at - :age WHERE key = 'old'"
                ),
                {"age": ttl + 1},
            )
        again = api.post("/heroes/", json=HERO, headers=_keyed("old"))
        assert "idempotent-replayed" not in again.headers
        assert again.json()["id"] != first.json()["id"]  # expired: it ran again
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE idempotency_record SET created_at = created_at - :age WHERE key = 'old'"
                ),
                {"age": ttl + 1},
            )
        database: Database = app.state.worker.db
        swept = api.portal.call(housekeeping.sweep, database, ttl)  # type: ignore[union-attr]
        assert swept == 1
        with engine.connect() as connection:
            left = connection.execute(text("SELECT key FROM idempotency_record")).scalars().all()
        assert left == ["new"]
        assert api.post("/heroes/", json=HERO, headers=_keyed("new")).json() == kept.json()


def test_the_same_key_while_the_first_is_still_running_is_a_409(
    database_url: str, key: str
) -> None:
    app: FastAPI = create_app(Settings(DATABASE_URL=database_url))
    release = Gate()

    async def scenario() -> list[int]:
        async with app.router.lifespan_context(app):
            database: Database = app.state.worker.db
            transport = httpx.ASGITransport(app=app, client=LOOPBACK)
            headers = {**bearer(key), **_keyed("slow")}
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                # The writer is busy: the first keyed request waits in the next group.
                blocker = asyncio.ensure_future(database.write(lambda _c: release.wait(10)))
                first = asyncio.ensure_future(client.post("/heroes/", json=HERO, headers=headers))
                await until(lambda: database.writes_queued == 1)
                second = await client.post("/heroes/", json=HERO, headers=headers)
                assert second.headers["retry-after"] == "1"
                release.set()
                await blocker
                answered = await first
                third = await client.post("/heroes/", json=HERO, headers=headers)
                assert third.headers["idempotent-replayed"] == "true"
                return [answered.status_code, second.status_code, third.status_code]

    try:
        assert asyncio.run(scenario()) == [200, 409, 200]
    finally:
        release.set()


def _someone_waits_on_a_lock(database_url: str) -> bool:
    checker = create_engine(database_url)
    try:
        with checker.connect() as connection:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
    finally:
        checker.dispose()
    return bool(waiting)


def test_a_repeat_racing_the_first_in_another_worker_replays_it(database_url: str) -> None:
    """Two workers (two Databases on one database), the same key: the second's transaction meets
    the first's uncommitted record, waits for it, and answers with the stored outcome."""
    settings = Settings(DATABASE_URL=database_url)
    first_db = Database(create_engine(database_url), settings)
    second_db = Database(create_engine(database_url), settings)
    started, gate = threading.Event(), Gate()
    inside, release = threading.Event(), Gate()
    claim = Claim("key:racer", "race", "POST", "/heroes/", "f" * 64)

    def create(connection: DriverConnection) -> Answer:
        hero = queries.create_hero(connection, {"name": "R", "age": None, "secret_name": "s"})
        return Answer(200, {"id": hero["id"]})

    def busy(_connection: DriverConnection) -> None:
        started.set()
        gate.wait(10)

    def hold(_connection: DriverConnection) -> None:
        inside.set()  # the keyed write and its record are in the transaction, not committed
        release.wait(10)

    async def scenario() -> tuple[Answer, Answer]:
        # The first worker's writer is busy, so that the keyed write and `hold` queue up and
        # run as one group, in that order.
        blocker = asyncio.ensure_future(first_db.write(busy))
        await until(started.is_set)
        first = asyncio.ensure_future(Idempotency(3600).write(first_db, claim, create))
        held = asyncio.ensure_future(first_db.write(hold))
        await until(lambda: first_db.writes_queued == 2)
        gate.set()
        await blocker
        await until(inside.is_set)
        second = asyncio.ensure_future(Idempotency(3600).write(second_db, claim, create))
        if second_db.engine.dialect.name == "postgresql":
            # Let go only once the second is waiting on the first's record (on SQLite it can't
            # even begin: the first holds the file's write lock).
            await until(lambda: _someone_waits_on_a_lock(database_url))
        assert not second.done()
        release.set()
        await held
        return await first, await second

    async def then_close() -> tuple[Answer, Answer]:
        try:
            return await scenario()
        finally:
            gate.set()
            release.set()
            await first_db.close()
            await second_db.close()

    first, second = asyncio.run(then_close())
    assert (first.replayed, second.replayed) == (False, True)
    assert second.body == first.body
    checker = create_engine(database_url)
    with checker.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM hero")).scalar_one() == 1
    checker.dispose()
