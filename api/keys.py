"""API keys: made at random, stored only as their SHA-256, shown once.

A key is 32 random bytes (256 bits), so a fast hash is enough: nobody can search that space, and
a slow password hash (bcrypt, argon2) would only put milliseconds on every write. The table is
in the database so that every worker and every replica sees the same keys (api/auth.py re-reads
it every few seconds). The command line manages keys (`heroes-api keys …`); requests only read.
"""

import hashlib
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Table, func, insert, select, update

from api.bounds import KEY_NAME_MAX_LENGTH
from api.models import ApiKey
from api.statements import DriverConnection

KEY_PREFIX = "heroes_"  # makes a leaked key recognisable to secret scanners and to people
_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{KEY_NAME_MAX_LENGTH - 1}}}")

key_table: Table = ApiKey.__table__  # type: ignore[attr-defined]


class KeyNameError(ValueError):
    """A name that can't be used for a new key, or names no key."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(engine: Engine, name: str) -> str:
    """Store a new key under `name` and return it: the only time it is ever seen."""
    if not _NAME.fullmatch(name):
        raise KeyNameError(
            f"a key name is 1-{KEY_NAME_MAX_LENGTH} letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as connection:
        taken = connection.execute(select(key_table.c.id).where(key_table.c.name == name)).first()
        if taken:
            # Revoked keys keep their names, so that the list tells what happened to each.
            raise KeyNameError(f"a key named {name!r} already exists (names are never reused)")
        connection.execute(
            insert(key_table).values(name=name, key_hash=hash_key(key), created_at=_now())
        )
    return key


def list_keys(engine: Engine) -> list[dict[str, Any]]:
    """Names and dates, never keys or hashes."""
    columns = (key_table.c.name, key_table.c.created_at, key_table.c.revoked_at)
    with engine.connect() as connection:
        rows = connection.execute(select(*columns).order_by(key_table.c.created_at)).all()
    return [dict(row._mapping) for row in rows]


def revoke_key(engine: Engine, name: str) -> None:
    with engine.begin() as connection:
        revoked = connection.execute(
            update(key_table)
            .where(key_table.c.name == name, key_table.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        if revoked.rowcount == 0:
            exists = connection.execute(
                select(func.count()).where(key_table.c.name == name)
            ).scalar_one()
            raise KeyNameError(
                f"key {name!r} is already revoked" if exists else f"no key named {name!r}"
            )


_ACTIVE = select(key_table.c.key_hash, key_table.c.name).where(key_table.c.revoked_at.is_(None))


def active_keys(connection: DriverConnection) -> dict[str, str]:
    """{SHA-256: name} of every key that isn't revoked."""
    return {key_hash: name for key_hash, name in connection.rows(_ACTIVE, {})}


def _now() -> datetime:
    return datetime.now(UTC)
