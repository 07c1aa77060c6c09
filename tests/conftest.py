"""Fixtures shared by every group of tests: a database per test run, an app, a live server.

Every test that takes `database_url` runs twice, on SQLite and on PostgreSQL. The PostgreSQL half
needs HEROES_TEST_POSTGRES_URL (an admin URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres);
without it those tests skip, and with it an unreachable server is an error, not a skip.
"""

import asyncio
import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SAWarning
from sqlalchemy.util import await_only
from sqlmodel import SQLModel, select

from api.config import Settings
from api.db import create_db_engine
from api.heroes.queries import hero_table
from api.keys import create_key
from api.main import create_app
from api.migrate import upgrade_to_head

# The toolkit that the scripts and the tests share (scripts/_support.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import _support
from _support import free_port

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ENV = "HEROES_TEST_POSTGRES_URL"
# HEROES_TEST_AGAINST=tutorial points the in-process tests at the tutorial app, to watch them fail.
AGAINST_ENV = "HEROES_TEST_AGAINST"
TUTORIAL = ROOT / "scripts" / "benchmark" / "tutorial_app.py"
BACKENDS = ["sqlite", "postgresql"]
# In-process requests come from "testclient" unless told otherwise: from here they come from this
# machine, as a developer's curl would (protected mode accepts their writes while no key exists).
LOOPBACK = ("127.0.0.1", 50000)


@contextmanager
def scratch_postgres_database() -> Iterator[str]:
    """A migrated PostgreSQL database of its own, created here and dropped at the end."""
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        missing(f"PostgreSQL tests skipped: {POSTGRES_ENV} is not set (see README, Tests)")
    name = f"heroes_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test run's own (of each test process)."""
    with scratch_postgres_database() as url:
        yield url


STRICT_ENV = "HEROES_TEST_STRICT"  # .ci/run: a tool a test needs must be there


def missing(message: str) -> NoReturn:
    """What the environment lacks (a tool, a server, a setting): a skip with one line saying so,
    or a failure under HEROES_TEST_STRICT=1 (.ci/run), where everything must be there."""
    if os.environ.get(STRICT_ENV) == "1":
        pytest.fail(f"{message} (HEROES_TEST_STRICT=1: it must be there)")
    pytest.skip(message)


def require_tool(command: str, what: str) -> None:
    """Skip (with one line saying why) when `command` is missing, or fail under .ci/run."""
    if not shutil.which(command):
        missing(f"{what} skipped: `{command}` is not installed (.ci/run installs it)")


def clear_heroes(engine: Engine) -> None:
    """No heroes, and no record of earlier writes' Idempotency-Keys."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE hero, idempotency_record RESTART IDENTITY"))
        else:
            connection.execute(text("DELETE FROM hero"))
            connection.execute(text("DELETE FROM idempotency_record"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database migrated once per test process; each test gets a copy (a
    millisecond, where migrating takes 150-300 ms)."""
    path = tmp_path_factory.mktemp("template") / "heroes.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    engine.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database: a fresh SQLite file, or this run's PostgreSQL one emptied."""
    if request.param == "sqlite":
        path = tmp_path / "heroes.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    clear_heroes(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM api_key"))
    engine.dispose()
    yield url


def make_key(database_url: str, name: str | None = None) -> str:
    """A new API key in the database at `database_url`, migrated first if it is new (as
    `heroes-api keys create` does)."""
    engine = create_engine(database_url)
    try:
        upgrade_to_head(engine)
        return create_key(engine, name or f"test-{uuid.uuid4().hex[:8]}")
    finally:
        engine.dispose()


@pytest.fixture
def api_key(database_url: str) -> str:
    """A valid key, made before the app starts (so the app knows it from its first request)."""
    return make_key(database_url)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(DATABASE_URL=database_url)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    if os.environ.get(AGAINST_ENV) == "tutorial":
        return tutorial_app(settings.database_url)
    return create_app(settings)


def tutorial_app(database_url: str) -> FastAPI:
    """A fresh copy of the reference tutorial app on `database_url`, to show the tests bite."""
    os.environ["TUTORIAL_DATABASE_URL"] = database_url
    spec = importlib.util.spec_from_file_location("tutorial_app", TUTORIAL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # The tutorial declares its own `hero` table: give it a MetaData of its own to do so in.
    ours = SQLModel.metadata
    SQLModel.metadata = MetaData()
    try:
        # Its `Hero` is a second class of that name for SQLAlchemy's registry: expected here
        # (the suite makes SQLAlchemy's warnings errors, as bugs of ours).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            spec.loader.exec_module(module)
    finally:
        SQLModel.metadata = ours
    tutorial: FastAPI = module.app
    return tutorial


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, client=LOOPBACK) as test_client:
        yield test_client


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """A separate engine for looking at the database behind the service's back."""
    db_engine = create_db_engine(settings)
    yield db_engine
    db_engine.dispose()


def all_heroes(engine: Engine) -> list[tuple[int | None, str, int | None, str]]:
    columns = hero_table.c
    query = select(columns.id, columns.name, columns.age, columns.secret_name).order_by(columns.id)
    with engine.connect() as connection:
        return [(row[0], row[1], row[2], row[3]) for row in connection.execute(query)]


UNTIL_SECONDS = 10


async def until(condition: Callable[[], bool]) -> None:
    """Wait, on the event loop, for `condition` to hold (an event some other task or thread
    brings about); fail if it doesn't within UNTIL_SECONDS."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + UNTIL_SECONDS
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"still waiting after {UNTIL_SECONDS} s for {condition}")
        await asyncio.sleep(0.001)


def _resolve(future: "asyncio.Future[None]") -> None:
    if not future.done():  # a waiter that timed out has gone
        future.set_result(None)


class Gate:
    """What a write's work waits on, held up until the test lets it go. Works run in the writer
    thread on SQLite, and in a greenlet on the event loop on PostgreSQL, where blocking the
    thread would stop the loop itself (and the test with it): there, the wait is awaited."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._lock = threading.Lock()
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def set(self) -> None:
        with self._lock:
            self._open.set()
            waiting, self._waiting = self._waiting, []
        for loop, opened in waiting:
            loop.call_soon_threadsafe(_resolve, opened)

    def is_set(self) -> bool:
        return self._open.is_set()

    def wait(self, timeout: float = UNTIL_SECONDS) -> None:
        """From a work: until set, or `timeout` seconds."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # in a thread
            self._open.wait(timeout)
            return
        with self._lock:
            if self._open.is_set():
                return
            opened: asyncio.Future[None] = loop.create_future()
            self._waiting.append((loop, opened))
        with contextlib.suppress(TimeoutError):
            await_only(asyncio.wait_for(opened, timeout))


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """`app` started (its lifespan run), and a client that calls it in-process, from this
    machine (LOOPBACK)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=LOOPBACK)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


PORT_TRIES = 5


def start_server(
    database_url: str, *args: str, env: dict[str, str] | None = None, log: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`heroes-api` in a child process on a free 127.0.0.1 port, once /health answers 200; its
    logs (a line per request included) go to `log`, or to a temporary file."""
    env = {**os.environ, "DATABASE_URL": database_url, **(env or {})}
    for _ in range(PORT_TRIES):
        port = free_port()
        process = _support.start_process(_support.heroes_api(port, *args), env=env, log=log)
        base_url = f"http://127.0.0.1:{port}"
        try:
            _support.wait_until_serving(f"{base_url}/health", process=process, status=200)
            # The answer may have come from another test's server that took the free port
            # first (this one then exits, "already in use"): serving is ours once our own
            # log names the address, and a start that lost the port is tried on another.
            while f"Heroes API on {base_url}" not in process.log_text():
                if process.poll() is not None:
                    break
                time.sleep(0.05)
        except RuntimeError:
            _support.kill_process(process)
            if "already in use" in process.log_text():
                continue
            raise
        if process.poll() is None:
            return process, base_url
        if "already in use" not in process.log_text():
            raise RuntimeError(f"the server exited (code {process.returncode})")
    raise RuntimeError(f"no free port held in {PORT_TRIES} tries")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    _support.stop_process(process, timeout=10)


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    process, base_url = start_server(database_url, log=tmp_path / "server.log")
    try:
        yield base_url
    finally:
        stop_server(process)


def _runs_on_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "postgresql" in callspec.params.values()


TIERS = ("unit", "integration", "system")
OUTCOMES = ("passed", "failed", "error", "skipped")


def _tier_counts(terminalreporter: pytest.TerminalReporter) -> dict[str, dict[str, int]]:
    counts = {tier: dict.fromkeys(OUTCOMES, 0) for tier in TIERS}
    for outcome in OUTCOMES:
        for report in terminalreporter.stats.get(outcome, []):
            parts = getattr(report, "nodeid", "").split("/")
            if len(parts) > 2 and parts[0] == "tests" and parts[1] in counts:
                counts[parts[1]][outcome] += 1
    return counts


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # A line per tier: what CI ran of each (scripts/test runs all three in one session).
    tiers = _tier_counts(terminalreporter)
    for tier, counts in tiers.items():
        if any(counts.values()):
            said = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)
            terminalreporter.write_line(f"tests/{tier}: {said}")
    databases_ran = any(any(tiers[tier].values()) for tier in ("integration", "system"))
    if databases_ran and not os.environ.get(POSTGRES_ENV):
        terminalreporter.write_line(
            f"PostgreSQL half SKIPPED: {POSTGRES_ENV} is not set, so only SQLite was tested "
            "(see README, Tests)",
            yellow=True,
        )


# Modules whose tests take 10-60 s each: run first, so that none is left to run alone at the
# end while the other workers idle (xdist hands out the rest in collection order). The HA drills
# (~2 minutes on one worker, in order) start first of all.
LONG_FIRST = (
    "test_ha.py",
    "test_bench.py",
    "test_client_published.py",
    "test_compat.py",
    "test_schemathesis.py",
    "test_client_install.py",
    "test_replicas.py",
    "test_cli.py",
    "test_client_retries.py",
    "test_faults.py",
    "test_documented_commands.py",
    "test_postgres_configurations.py",
)


def _long_first(item: pytest.Item) -> int:
    name = item.path.name
    return LONG_FIRST.index(name) if name in LONG_FIRST else len(LONG_FIRST)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_long_first)  # stable: the order within each module is kept
    # One header line says why, instead of a skip line per test.
    if os.environ.get(POSTGRES_ENV):
        return
    if os.environ.get(STRICT_ENV) == "1":
        raise pytest.UsageError(
            f"HEROES_TEST_STRICT=1 and {POSTGRES_ENV} is not set: the PostgreSQL half must run"
        )
    deselected = [item for item in items if _runs_on_postgres(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not _runs_on_postgres(item)]
