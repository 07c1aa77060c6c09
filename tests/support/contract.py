"""The contract tests' schema: always the committed openapi.json, never the running app's."""

import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from schemathesis import openapi
from schemathesis.config import SchemathesisConfig

from api.auth import SCHEME
from tests.conftest import ROOT
from tests.support import contract_hooks  # noqa: F401  (registers them for the in-process runs)

sys.path.insert(0, str(ROOT / "scripts"))
from _contract import schemathesis_env

SCHEMA_PATH = ROOT / "openapi.json"
CONFIG_PATH = Path(__file__).with_name("schemathesis.toml")
EXAMPLES_ENV = "HEROES_CONTRACT_EXAMPLES"
KEY_ENV = "HEROES_CONTRACT_API_KEY"  # read by schemathesis.toml's [auth] section


def contract_env(api_key: str) -> dict[str, str]:
    """The environment of a `st` CLI run: the key, and our hooks (tests/support/contract_hooks.py)."""
    return schemathesis_env(**{KEY_ENV: api_key})


def max_examples() -> int:
    config = tomllib.loads(CONFIG_PATH.read_text())
    return int(os.environ.get(EXAMPLES_ENV, config["generation"]["max-examples"]))


def load_contract(app: Any = None, api_key: str | None = None) -> Any:
    data = tomllib.loads(CONFIG_PATH.read_text())
    data["generation"]["max-examples"] = max_examples()
    if api_key is not None:
        # Schemathesis sends the key where the contract asks for one, and leaves it out (or
        # spoils it) where it checks that the operation refuses callers without it.
        data["auth"] = {"openapi": {SCHEME: {"bearer": api_key}}}
    loaded = openapi.from_path(SCHEMA_PATH, config=SchemathesisConfig.from_dict(data))
    schema = loaded.include(path_regex="^/heroes")
    if app is not None:
        schema.app = app
    return schema
