"""Alembic owns the schema: the models and the migrations agree, and start-up applies them."""

import os
import subprocess
import sys

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from api.config import Settings
from api.main import create_app
from api.migrate import alembic_config
from tests.conftest import LOOPBACK, bearer, make_key

TABLES = ["alembic_version", "api_key", "commit_marker", "hero", "idempotency_record"]


def test_models_and_migrations_agree(database_url: str) -> None:
    # The fixture's database was built by the migrations alone; autogenerate must find nothing.
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_start_up_applies_migrations_to_an_empty_database(tmp_path: str) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    with TestClient(create_app(Settings(DATABASE_URL=url)), client=LOOPBACK) as client:
        assert client.post("/heroes/", json={"name": "a", "secret_name": "b"}).status_code == 200
    tables = inspect(create_engine(url)).get_table_names()
    assert sorted(tables) == TABLES


def test_start_up_can_leave_migrations_to_the_operator(tmp_path: str) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    settings = Settings(DATABASE_URL=url, migrate_on_startup=False)
    with TestClient(create_app(settings)):
        pass
    assert inspect(create_engine(url)).get_table_names() == []


def test_migrate_command_creates_the_schema(tmp_path: str) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "api", "migrate"], env=env, check=True, timeout=60)
    assert sorted(inspect(create_engine(url)).get_table_names()) == TABLES


def test_upgrade_from_0001_keeps_every_hero_and_gives_it_a_version(database_url: str) -> None:
    engine = create_engine(database_url)
    config = alembic_config(engine)
    command.downgrade(config, "0001")
    with engine.begin() as connection:
        for name in ("a", "b", "c"):
            connection.execute(
                text("INSERT INTO hero (name, age, secret_name) VALUES (:n, 3, 's')"), {"n": name}
            )
        before = connection.execute(text("SELECT id, name FROM hero ORDER BY id")).all()
    command.upgrade(config, "head")
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT id, name, version FROM hero ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [(i, name, 1) for i, name in before]
        last = before[-1][0]
        connection.execute(text("DELETE FROM hero WHERE id = :i"), {"i": last})
    engine.dispose()
    # The next hero gets an id past every id the table ever held, on both databases.
    with TestClient(create_app(Settings(DATABASE_URL=database_url)), client=LOOPBACK) as client:
        created = client.post("/heroes/", json={"name": "new", "secret_name": "s"})
        assert created.json()["id"] > last
        assert created.headers["etag"] == f'"{created.json()["id"]}.1"'


def test_upgrade_from_2_2_0_keeps_heroes_and_keys_and_keyed_writes_work(database_url: str) -> None:
    # 0003 is the schema 2.2.0 shipped with.
    engine = create_engine(database_url)
    config = alembic_config(engine)
    command.downgrade(config, "0003")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO hero (name, age, secret_name) VALUES ('Old', 7, 's')"))
    engine.dispose()
    key = make_key(database_url)  # migrates to head, as `heroes-api keys create` does
    with TestClient(create_app(Settings(DATABASE_URL=database_url)), client=LOOPBACK) as client:
        assert [hero["name"] for hero in client.get("/heroes/").json()] == ["Old"]
        headers = {**bearer(key), "Idempotency-Key": "upgrade-1"}
        first = client.post("/heroes/", json={"name": "New", "secret_name": "s"}, headers=headers)
        again = client.post("/heroes/", json={"name": "New", "secret_name": "s"}, headers=headers)
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert [hero["name"] for hero in client.get("/heroes/").json()] == ["Old", "New"]
    # And back: the downgrade drops what 0004 added (and the fixture's database is left at head).
    engine = create_engine(database_url)
    command.downgrade(alembic_config(engine), "0003")
    assert "idempotency_record" not in inspect(engine).get_table_names()
    command.upgrade(alembic_config(engine), "head")
    engine.dispose()
