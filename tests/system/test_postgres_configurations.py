"""PostgreSQL as users run it: a server of our own (scripts/_postgres.py: initdb in a temporary
folder, its own port and socket, TLS, SCRAM), configured the ways deployments are, and the same
scenario through each: migrate, a key, create, read one, HEAD, a page with its count, filters, a
stale and a current conditional update, delete, /health.

Every case runs in CI. The shared server at 127.0.0.1:5432 is never reconfigured.
"""

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest
from _postgres import PrivatePostgres, available
from sqlalchemy.engine import make_url

from api.config import Settings
from api.db import create_db_engine
from api.keys import create_key
from api.main import create_app
from api.migrate import upgrade_to_head
from tests.conftest import missing, require_tool, served
from tests.support.pgbouncer import pgbouncer

# A password that needs percent-encoding in a URL.
SCRAM_PASSWORD = "p@ss:w/rd%#?&="
# Text that LATIN1 holds, and text it does not.
LATIN1_NAMES = ["Zoë", "Renée Éclair", "é" * 100]
NOT_LATIN1 = "Zoë 😀"


@pytest.fixture(scope="module")
def server() -> Iterator[PrivatePostgres]:
    if not available():
        missing("The PostgreSQL configuration matrix skipped: PostgreSQL 15's initdb not found")
    with PrivatePostgres() as started:
        started.sql(f"CREATE ROLE scram LOGIN PASSWORD '{SCRAM_PASSWORD.replace(chr(39), '')}'")
        started.sql("CREATE ROLE reader LOGIN")
        started.sql("ALTER ROLE reader SET default_transaction_read_only = on")
        for name, owner in [
            ("plain", "postgres"),
            ("tls", "postgres"),
            ("scramdb", "scram"),
            ("optionsdb", "postgres"),
            ("latin1client", "postgres"),
            ("serial", "postgres"),
            ("readonly", "postgres"),
            ("pooled", "postgres"),
        ]:
            started.sql(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        started.sql(
            "CREATE DATABASE latin1db ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' "
            "TEMPLATE template0"
        )
        started.sql("ALTER DATABASE latin1client SET client_encoding = 'LATIN1'")
        started.sql("ALTER DATABASE serial SET default_transaction_isolation = 'serializable'")
        started.sql("CREATE SCHEMA app", database="optionsdb")
        yield started


@dataclass
class Case:
    url: str
    settings: dict[str, Any] = field(default_factory=dict)
    migrate_url: str | None = None  # who migrates, if not the service's own URL


def _case(server: PrivatePostgres, name: str) -> Case:
    closed_port = str(server.port + 1 if server.port < 65535 else server.port - 1)
    socket = str(server.socket_dir)
    certificate = str(server.certificate)
    cases = {
        "tls-require": lambda: Case(server.url("tls", sslmode="require")),
        "tls-verify-full": lambda: Case(
            server.url("tls", host="localhost", sslmode="verify-full", sslrootcert=certificate)
        ),
        "scram-percent-encoded-password": lambda: Case(
            server.url("scramdb", user="scram", password=SCRAM_PASSWORD)
        ),
        "unix-socket": lambda: Case(
            f"postgresql+psycopg://postgres@/plain?host={socket}&port={server.port}"
        ),
        "multi-host-first-down": lambda: Case(
            f"postgresql+psycopg://postgres@/plain?host=127.0.0.1:{closed_port}"
            f"&host=127.0.0.1:{server.port}&target_session_attrs=read-write"
        ),
        "latin1-client-encoding": lambda: Case(server.url("latin1client")),
        "latin1-database": lambda: Case(server.url("latin1db")),
        "url-options-search-path": lambda: Case(
            server.url("optionsdb", options="-csearch_path=app", application_name="matrix")
        ),
    }
    return cases[name]()


@pytest.mark.parametrize(
    "name",
    [
        "tls-require",
        "tls-verify-full",
        "scram-percent-encoded-password",
        "unix-socket",
        "multi-host-first-down",
        "latin1-client-encoding",
        "latin1-database",
        "url-options-search-path",
    ],
)
def test_the_scenario_runs_on_the_configuration(server: PrivatePostgres, name: str) -> None:
    case = _case(server, name)
    _migrate(case.migrate_url or case.url)
    report = asyncio.run(_scenario(case.url, case.settings))
    assert report.statuses == EXPECTED, report.statuses


@pytest.mark.parametrize(
    ("name", "expected"),
    [("tls-require", "heroes-api"), ("url-options-search-path", "matrix")],
)
def test_the_service_names_itself_unless_the_url_does(
    server: PrivatePostgres, name: str, expected: str
) -> None:
    """application_name: heroes-api, so that an operator can tell the service's backends
    apart; the URL's own, if it sets one."""
    case = _case(server, name)
    assert asyncio.run(_scenario(case.url, case.settings)).application_name == expected


def test_the_urls_options_are_honoured(server: PrivatePostgres) -> None:
    """`?options=-csearch_path=app`: the migration made its tables in `app`, and the service
    serves `app`'s (none in `public`)."""
    _migrate(_case(server, "url-options-search-path").url)
    with psycopg.connect(server.url("optionsdb").replace("+psycopg", "")) as connection:
        tables = connection.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'hero'"
        ).fetchall()
    assert tables == [("app",)]


@pytest.mark.parametrize("name", ["latin1-client-encoding", "latin1-database"])
def test_latin1_text_is_stored_and_read_back_exactly(server: PrivatePostgres, name: str) -> None:
    """On a LATIN1 session (a database default, or a LATIN1 database): names come back as they
    were sent, are stored as the characters they are (100 é fit in 100), filter exactly, rows a
    LATIN1 client (psql) wrote read correctly, and what LATIN1 can't hold is a 422 that
    stores nothing."""
    case = _case(server, name)
    database = make_url(case.url).database or ""
    auth = {"Authorization": f"Bearer {_migrate(case.url)}"}
    server.psql(
        database,
        "INSERT INTO hero (name, secret_name, age, version) VALUES ('Françoise', 's', 1, 1);",
        encoding="LATIN1",
    )
    app = create_app(Settings(DATABASE_URL=case.url))

    async def scenario() -> dict[str, Any]:
        async with served(app) as client:
            created = [
                (
                    await client.post(
                        "/heroes/", json={"name": name, "secret_name": "s"}, headers=auth
                    )
                ).json()
                for name in LATIN1_NAMES
            ]
            refused = await client.post(
                "/heroes/", json={"name": NOT_LATIN1, "secret_name": "s"}, headers=auth
            )
            filtered = await client.get("/heroes/", params={"name": "Zoë"})
            page = await client.get("/heroes/")
            return {
                "created": [hero.get("name") for hero in created],
                "read": [
                    (await client.get(f"/heroes/{hero['id']}")).json()["name"] for hero in created
                ],
                "refused": (refused.status_code, refused.json()),
                "filtered": [hero["name"] for hero in filtered.json()],
                "page": [hero["name"] for hero in page.json()],
            }

    seen = asyncio.run(scenario())
    assert seen["created"] == LATIN1_NAMES
    assert seen["read"] == LATIN1_NAMES
    assert seen["filtered"] == ["Zoë"]
    assert seen["page"] == ["Françoise", *LATIN1_NAMES]
    status, body = seen["refused"]
    assert status == 422, body
    assert body["detail"][0]["type"] == "unrepresentable_text"
    assert body["detail"][0]["loc"] == ["body", "name"]
    # Stored as characters, in the database's own encoding: what psql reads back.
    with psycopg.connect(case.url.replace("+psycopg", "")) as connection:
        connection.execute("SET client_encoding = 'UTF8'")
        stored = connection.execute("SELECT name, length(name) FROM hero ORDER BY id").fetchall()
    assert stored == [("Françoise", 9), *((n, len(n)) for n in LATIN1_NAMES)]


def test_under_serializable_two_instances_retry_their_races_inside(
    server: PrivatePostgres,
) -> None:
    """A database whose default isolation is SERIALIZABLE, two service instances on it, both
    changing one hero at once and creating others: the server refuses some of their
    transactions (serialization failures); each is run again inside, and every request gets
    its 200."""
    url = server.url("serial")
    auth = {"Authorization": f"Bearer {_migrate(url)}"}
    first, second = (create_app(Settings(DATABASE_URL=url)) for _ in range(2))

    async def scenario() -> tuple[list[int], int, int]:
        async with served(first) as one, served(second) as two:
            hero = (
                await one.post("/heroes/", json={"name": "Raced", "secret_name": "s"}, headers=auth)
            ).json()
            path = f"/heroes/{hero['id']}"
            answers: list[httpx.Response] = []
            rounds = 0
            # Rounds until the server has refused a transaction (the event the test is about):
            # on a busy machine the two instances' groups overlap less often.
            while rounds < ROUNDS or (not _races(server) and rounds < ROUNDS_MAX):
                rounds += 1
                requests = [
                    client.patch(path, json={"age": n}, headers=auth)
                    if n % 4
                    else client.post(
                        "/heroes/", json={"name": f"Racer {n}", "secret_name": "s"}, headers=auth
                    )
                    for n in range(40)
                    for client in (one, two)
                ]
                answers += await asyncio.gather(*requests)
            version = (await one.get(path)).headers["etag"].strip('"').split(".")[1]
            return [answer.status_code for answer in answers], int(version), rounds

    statuses, version, rounds = asyncio.run(scenario())
    assert _races(server), f"no serialization failure in {rounds} rounds: the test tested nothing"
    assert statuses == [200] * 80 * rounds
    assert version == 1 + 60 * rounds  # every PATCH applied once (30 from each instance)


def _races(server: PrivatePostgres) -> bool:
    return "could not serialize access" in server.log()


ROUNDS = 5
ROUNDS_MAX = 60


def test_a_read_only_role_is_unhealthy_and_its_writes_say_why(
    server: PrivatePostgres, caplog: pytest.LogCaptureFixture
) -> None:
    """A role whose sessions start read-only (default_transaction_read_only): /health is not
    ok and says why; a write is a 503 that changes nothing, and the log names the SQLSTATE."""
    auth = {"Authorization": f"Bearer {_migrate(server.url('readonly'))}"}
    server.sql("GRANT ALL ON ALL TABLES IN SCHEMA public TO reader", database="readonly")
    server.sql("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO reader", database="readonly")
    app = create_app(Settings(DATABASE_URL=server.url("readonly", user="reader")))

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with served(app) as client:
            health = await client.get("/health")
            write = await client.post(
                "/heroes/", json={"name": "Nope", "secret_name": "s"}, headers=auth
            )
            return health, write, await client.get("/heroes/")

    with caplog.at_level(logging.WARNING, logger="api"):
        health, write, page = asyncio.run(scenario())
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert "read-only" in health.json()["detail"]
    assert write.status_code == 503
    assert (page.status_code, page.json()) == (200, [])
    logged = [record.getMessage() for record in caplog.records]
    assert any("25006" in line and "read-only transaction" in line for line in logged), logged


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_the_scenario_runs_through_a_stock_pgbouncer(server: PrivatePostgres, mode: str) -> None:
    """PgBouncer with nothing set for the service (no ignore_startup_parameters, no
    connect_query), in either pool mode."""
    require_tool("pgbouncer", "The PgBouncer configurations")
    _migrate(server.url("pooled"))
    with pgbouncer(make_url(server.url("pooled")), pool_size=4, mode=mode) as port:
        url = make_url(server.url("pooled")).set(port=port).render_as_string(hide_password=False)
        report = asyncio.run(_scenario(url, {}))
    assert report.statuses == EXPECTED, report.statuses


# The scenario's answers, in order.
EXPECTED = {
    "create": 200,
    "read one": 200,
    "HEAD": 200,
    "page with count": 200,
    "filter by name": 200,
    "filter by age": 200,
    "stale update": 412,
    "update": 200,
    "delete": 200,
    "read deleted": 404,
    "health": 200,
    "content-range": "0-0/1",
    "filtered": ["Zoë"],
    "too old": [],
}


@dataclass
class Report:
    statuses: dict[str, Any]
    application_name: str


def _migrate(url: str) -> str:
    """What `heroes-api migrate` and `heroes-api keys create` do; the key."""
    engine = create_db_engine(Settings(DATABASE_URL=url))
    try:
        upgrade_to_head(engine)
        return create_key(engine, f"matrix-{id(engine)}")
    finally:
        engine.dispose()


async def _scenario(url: str, settings: dict[str, Any]) -> Report:
    key = _migrate(url)
    app = create_app(Settings(DATABASE_URL=url, **settings))
    auth = {"Authorization": f"Bearer {key}"}
    seen: dict[str, Any] = {}
    async with served(app) as client:
        await _clear(client, auth)
        created = await client.post(
            "/heroes/", json={"name": "Zoë", "secret_name": "s", "age": 30}, headers=auth
        )
        seen["create"] = created.status_code
        hero = created.json()
        path = f"/heroes/{hero['id']}"
        one = await client.get(path)
        seen["read one"] = one.status_code
        seen["HEAD"] = (await client.head(path)).status_code
        page = await client.get("/heroes/", headers={"Prefer": "count=exact"})
        seen["page with count"] = page.status_code
        seen["content-range"] = page.headers.get("content-range")
        by_name = await client.get("/heroes/", params={"name": "Zoë"})
        seen["filter by name"] = by_name.status_code
        seen["filtered"] = [each["name"] for each in by_name.json()]
        by_age = await client.get("/heroes/", params={"min_age": 31})
        seen["filter by age"] = by_age.status_code
        seen["too old"] = by_age.json()
        stale = await client.patch(
            path, json={"age": 1}, headers={**auth, "If-Match": f'"{hero["id"]}.99"'}
        )
        seen["stale update"] = stale.status_code
        updated = await client.patch(
            path, json={"age": 31}, headers={**auth, "If-Match": one.headers["etag"]}
        )
        seen["update"] = updated.status_code
        seen["delete"] = (await client.delete(path, headers=auth)).status_code
        seen["read deleted"] = (await client.get(path)).status_code
        seen["health"] = (await client.get("/health")).status_code
        application_name = await _application_name(app)
    return Report(seen, application_name)


async def _clear(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    """No heroes left from an earlier case on the same database."""
    for hero in (await client.get("/heroes/")).json():
        await client.delete(f"/heroes/{hero['id']}", headers=auth)


async def _application_name(app: Any) -> str:
    """What the service's own connections call themselves on the server."""
    db = app.state.worker.db

    def name(connection: Any) -> str:
        from sqlalchemy import text

        return str(connection.rows(text("SELECT current_setting('application_name')"), {})[0][0])

    result: str = await db.read(name)
    return result
