"""The client templates are generic: a second paged operation, planted in a copy of the contract
with a cursor, a filter and an item schema of its own, gets its iterators (the resource's pager
and the function module's sync_all) with no template change, and they page by following Link."""

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from _contract import generate_client

from tests.conftest import ROOT

VILLAIN = {
    "type": "object",
    "title": "Villain",
    "required": ["id", "lair"],
    "properties": {
        "id": {"type": "integer", "title": "Id"},
        "lair": {"type": "string", "maxLength": 50, "title": "Lair"},
    },
}
LIST_VILLAINS: dict[str, Any] = {
    "tags": ["villains"],
    "operationId": "read_villains",
    "summary": "Read Villains",
    "x-client-name": "list",
    "x-client-pagination": {"cursor": "after", "link": "next", "total": "X-Total-Count"},
    "parameters": [
        {"name": "after", "in": "query", "required": False, "schema": {"type": "integer"}},
        {"name": "lair", "in": "query", "required": False, "schema": {"type": "string"}},
        {"name": "size", "in": "query", "required": False, "schema": {"type": "integer"}},
    ],
    "responses": {
        "200": {
            "description": "A page of villains",
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Villain"}}
                }
            },
        }
    },
}

# Run with the planted client on the path: two pages served by a scripted transport, the second
# reached only through the first's Link; every request recorded.
PROBE = """
import json, sys
import httpx
import heroes_client
from heroes_client import Heroes
from heroes_client.api.villains import read_villains

seen = []

def serve(request):
    seen.append(str(request.url))
    if "after=" not in str(request.url):
        headers = {"Link": '</villains/?after=2&lair=volcano&size=2>; rel="next"', "X-Total-Count": "3"}
        return httpx.Response(200, json=[{"id": 1, "lair": "volcano"}, {"id": 2, "lair": "volcano"}], headers=headers)
    return httpx.Response(200, json=[{"id": 3, "lair": "volcano"}], headers={"X-Total-Count": "3"})

client = Heroes("http://villains.test", httpx_args={"transport": httpx.MockTransport(serve)})
pager = client.villains.list(lair="volcano", size=2)
ids = [villain.id for villain in pager]
functions = [villain.id for villain in read_villains.sync_all(
    client=heroes_client.Client(base_url="http://villains.test").set_httpx_client(
        httpx.Client(base_url="http://villains.test", transport=httpx.MockTransport(serve))),
    lair="volcano", size=2)]
print(json.dumps({"ids": ids, "total": pager.total, "functions": functions, "seen": seen}))
"""


def test_a_planted_second_paged_operation_gets_its_iterators(tmp_path: Path) -> None:
    schema = copy.deepcopy(json.loads((ROOT / "openapi.json").read_text()))
    schema["paths"]["/villains/"] = {"get": LIST_VILLAINS}
    schema["components"]["schemas"]["Villain"] = VILLAIN
    planted = tmp_path / "openapi.json"
    planted.write_text(json.dumps(schema))
    generate_client(planted, tmp_path / "client")

    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={"PYTHONPATH": str(tmp_path / "client")},
        capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found["ids"] == [1, 2, 3]  # across both pages
    assert found["functions"] == [1, 2, 3]
    assert found["total"] == 3
    assert found["seen"][0] == "http://villains.test/villains/?lair=volcano&size=2"
    assert found["seen"][1] == "http://villains.test/villains/?after=2&lair=volcano&size=2"
    # The planted cursor is the pager's, not the caller's.
    source = (tmp_path / "client" / "heroes_client" / "__init__.py").read_text()
    listing = source[source.index("class VillainsResource:") :]
    assert "after:" not in listing[: listing.index("-> SyncPager[Villain]")]


def test_an_extension_that_is_not_a_name_never_becomes_code(tmp_path: Path) -> None:
    """The templates write x-client-name into code: a value that isn't a Python identifier
    stops the generator (nothing in the contract becomes code unchecked)."""
    schema = json.loads((ROOT / "openapi.json").read_text())
    schema["paths"]["/heroes/"]["get"]["x-client-name"] = "list(); import os; os.system('x')#"
    planted = tmp_path / "openapi.json"
    planted.write_text(json.dumps(schema))
    try:
        generate_client(planted, tmp_path / "client")
    except subprocess.CalledProcessError:
        pass
    else:
        raise AssertionError("the generator wrote a client from a method name that is code")
    assert not (tmp_path / "client" / "heroes_client" / "__init__.py").exists()
