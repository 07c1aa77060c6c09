"""Alembic owns the schema: the models and the migrations agree, and start-up applies them."""

import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from api.config import Settings
from api.main import create_app
from tests.conftest import LOOPBACK


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
    assert sorted(tables) == ["alembic_version", "api_key", "hero"]


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
    assert sorted(inspect(create_engine(url)).get_table_names()) == [
        "alembic_version",
        "api_key",
        "hero",
    ]
