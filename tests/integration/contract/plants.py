"""Changes planted in a copy of the app, for the tests that judge them (test_compat.py,
test_field_plant.py): a Plant replaces text that must be there; a NewFile adds a file."""

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT


@dataclass(frozen=True)
class Plant:
    """Replace `old` with `new` in `path` (relative to the copy); `old` must be there, once."""

    path: str
    old: str
    new: str


@dataclass(frozen=True)
class NewFile:
    """A file the change adds (a migration, say)."""

    path: str
    text: str


def copy_with(tmp_path: Path, *plants: Plant | NewFile, version: str) -> Path:
    """api/ and pyproject.toml (at `version`), copied, with the plants in them."""
    root = tmp_path / "app"
    shutil.copytree(ROOT / "api", root / "api", ignore=shutil.ignore_patterns("__pycache__"))
    pyproject = (ROOT / "pyproject.toml").read_text()
    pyproject = re.sub(r'^version = ".*"$', f'version = "{version}"', pyproject, flags=re.M)
    (root / "pyproject.toml").write_text(pyproject)
    for plant in plants:
        target = root / plant.path
        if isinstance(plant, NewFile):
            target.write_text(plant.text)
            continue
        source = target.read_text()
        assert source.count(plant.old) == 1, f"the plant no longer fits {plant.path}: update it"
        target.write_text(source.replace(plant.old, plant.new))
    return root


FIELDS = "api/heroes/fields.py"
LAST_FIELD = '    HeroField("secret_name", Text(SECRET_NAME_MAX_LENGTH), public=False),\n'

# docs/changing-the-api.md's example: a hero's team, filtered exactly. One declaration, one
# migration; everything else follows from the declaration.
TEAM_FIELD = Plant(
    FIELDS,
    LAST_FIELD,
    LAST_FIELD + '    HeroField("team", Text(NAME_MAX_LENGTH), optional=True, filter="exact"),\n',
)
TEAM_MIGRATION = NewFile(
    "api/migrations/versions/0006_hero_team.py",
    '''"""hero.team: a hero's team, and the index a filtered page reads

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hero", sa.Column("team", sa.String(length=100), nullable=True))
    op.create_index("ix_hero_team_id", "hero", ["team", "id"])


def downgrade() -> None:
    op.drop_index("ix_hero_team_id", table_name="hero")
    with op.batch_alter_table("hero") as batch:
        batch.drop_column("team")
''',
)
TEAM = (TEAM_FIELD, TEAM_MIGRATION)
