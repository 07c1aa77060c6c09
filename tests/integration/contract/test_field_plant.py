"""A new field is one declaration and one migration (docs/changing-the-api.md): planted in a
copy of the app, a hero's `team` with an exact filter reaches the table (the migration matches
it), the API (stored, returned, filtered, kept in the next page's Link), openapi.json, the
generated client's list iterators, and the compatibility gate calls it a minor release."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from _contract import generate_client, project_version

from tests.conftest import ROOT
from tests.integration.contract.plants import TEAM, copy_with

# Run in the copy (PYTHONPATH): the app made from the planted declaration, on a fresh SQLite
# database migrated by the planted migration; what it did, as JSON.
IN_THE_COPY = """
import json, sys
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlmodel import SQLModel
from api.config import Settings
from api.main import create_app
from api.migrate import upgrade_to_head

url = sys.argv[1]
engine = create_engine(url)
upgrade_to_head(engine)
with engine.connect() as connection:
    drift = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
app = create_app(Settings(DATABASE_URL=url))
found = {"drift": [str(change) for change in drift], "schema": app.openapi()}
with TestClient(app, client=("127.0.0.1", 50000)) as client:
    for name, team in [("Iron Man", "Avengers"), ("Hulk", "Avengers"), ("Loner", None)]:
        body = {"name": name, "secret_name": "s", **({"team": team} if team else {})}
        assert client.post("/heroes/", json=body).status_code == 200
    first = client.get("/heroes/", params={"team": "Avengers", "limit": 1})
    link = first.headers["link"]
    second = client.get(link.split(">")[0].strip("<"))
    found["pages"] = [first.json(), second.json()]
    found["link"] = link
    found["one"] = client.get("/heroes/3").json()
    found["patched"] = client.patch("/heroes/3", json={"team": "X-Men"}).json()
print(json.dumps(found))
"""

# Run with the client generated from the copy's contract on the path.
CLIENT_SIGNATURES = """
import inspect, json
from heroes_client import Heroes
from heroes_client.api.heroes import read_heroes
print(json.dumps({
    "list": list(inspect.signature(Heroes("http://x").heroes.list).parameters),
    "sync_all": list(inspect.signature(read_heroes.sync_all).parameters),
}))
"""


def _run(code: str, path: Path, *args: str) -> Any:
    env = {**os.environ, "PYTHONPATH": str(path)}
    ran = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env, capture_output=True, text=True, timeout=120, check=False, cwd=path,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-3000:]
    return json.loads(ran.stdout.splitlines()[-1])


def test_a_new_field_is_one_declaration_and_one_migration(tmp_path: Path) -> None:
    version = str(project_version(ROOT))
    copy = copy_with(tmp_path, *TEAM, version=version)
    found = _run(IN_THE_COPY, copy, f"sqlite:///{tmp_path / 'heroes.db'}")

    assert found["drift"] == []  # the migration makes the table the declaration describes
    first, second = found["pages"]
    assert [(hero["name"], hero["team"]) for hero in first + second] == [
        ("Iron Man", "Avengers"),
        ("Hulk", "Avengers"),
    ]
    assert "team=Avengers" in found["link"]  # the filter is kept in the next page's Link
    assert found["one"]["team"] is None  # public, null when unknown
    assert found["patched"]["team"] == "X-Men"

    schema = found["schema"]
    components = schema["components"]["schemas"]
    for shape in ("HeroCreate", "HeroUpdate", "HeroPublic"):
        assert "team" in components[shape]["properties"], shape
    assert "team" in components["HeroPublic"]["required"]  # always in an answer
    assert "team" not in components["HeroCreate"].get("required", [])
    listing = schema["paths"]["/heroes/"]["get"]["parameters"]
    assert "team" in [parameter["name"] for parameter in listing]

    planted = tmp_path / "openapi.json"
    planted.write_text(json.dumps(schema))
    generate_client(planted, tmp_path / "client")
    signatures = _run(CLIENT_SIGNATURES, tmp_path / "client")
    assert "team" in signatures["list"]
    assert "team" in signatures["sync_all"]

    gate = subprocess.run(
        [ROOT / "scripts" / "compat", "--root", str(copy), "--static",
         "--reports", str(tmp_path / "reports")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = gate.stdout + gate.stderr
    assert gate.returncode == 0, output
    assert "[new-optional-request-parameter] GET /heroes/ query parameter `team`" in output
    assert "VERDICT: compatible with" in output, output
