"""Alembic environment: online migrations on the engine that api.migrate hands over."""

from alembic import context
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

import api.heroes.schemas
import api.models  # noqa: F401

# Any fixed number: it names the lock that serialises migrations across processes.
_MIGRATION_LOCK_ID = 7_411_902


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    assert isinstance(engine, Engine)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Replicas starting together must not run the same migration twice.
                connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})"))
            context.run_migrations()


run_migrations_online()
