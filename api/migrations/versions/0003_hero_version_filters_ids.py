"""hero: a version per row (ETags), (name, id) and (age, id) indexes, no id reuse on SQLite

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # On SQLite the table is rebuilt, as AUTOINCREMENT requires; the copy keeps every row and
    # its id, and starts the id sequence after the largest one.
    with op.batch_alter_table(
        "hero",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True},
    ) as batch:
        # Existing rows start at version 1, like new ones.
        batch.add_column(
            sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        batch.drop_index("ix_hero_name")
        batch.drop_index("ix_hero_age")
        batch.create_index("ix_hero_name_id", ["name", "id"], unique=False)
        batch.create_index("ix_hero_age_id", ["age", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hero") as batch:
        batch.drop_index("ix_hero_age_id")
        batch.drop_index("ix_hero_name_id")
        batch.create_index("ix_hero_age", ["age"], unique=False)
        batch.create_index("ix_hero_name", ["name"], unique=False)
        batch.drop_column("version")
