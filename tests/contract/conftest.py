"""The contract suite's schema: always the committed openapi.json, never the running app's."""

import os
import tomllib
from pathlib import Path
from typing import Any

from schemathesis import openapi
from schemathesis.config import SchemathesisConfig

from tests.conftest import ROOT

SCHEMA_PATH = ROOT / "openapi.json"
CONFIG_PATH = Path(__file__).with_name("schemathesis.toml")
EXAMPLES_ENV = "HEROES_CONTRACT_EXAMPLES"


def max_examples() -> int:
    config = tomllib.loads(CONFIG_PATH.read_text())
    return int(os.environ.get(EXAMPLES_ENV, config["generation"]["max-examples"]))


def load_contract(app: Any = None) -> Any:
    data = tomllib.loads(CONFIG_PATH.read_text())
    data["generation"]["max-examples"] = max_examples()
    loaded = openapi.from_path(SCHEMA_PATH, config=SchemathesisConfig.from_dict(data))
    schema = loaded.include(path_regex="^/heroes")
    if app is not None:
        schema.app = app
    return schema
