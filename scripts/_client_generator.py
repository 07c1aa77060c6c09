"""openapi-python-client, run as its CLI's `generate --fail-on-warning` runs it, with one thing
added: the templates can read an operation's `x-` extensions, which the generator's parser drops.

    python scripts/_client_generator.py SCHEMA CONFIG TEMPLATES OUTPUT   # TEMPLATES "": the generator's

A template asks `extension(endpoint, "x-client-name", default)`: that is how the client's shape
and paging (api/openapi.py declares them) reach scripts/client-templates, which name no
operation of their own.
"""

import json
import keyword
import re
import sys
from pathlib import Path
from typing import Any

from openapi_python_client import Project
from openapi_python_client.cli import handle_errors
from openapi_python_client.config import Config, ConfigFile, MetaType
from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.errors import GeneratorError
from openapi_python_client.schema.untrusted_string import UntrustedString

# What the templates write into code from an extension must be a name, or a plain token for a
# string literal: nothing in the document becomes code unchecked (the generator's own rule).
_TOKEN = re.compile(r"^[A-Za-z0-9_.-]*$")


def _name(value: Any, empty: bool) -> bool:
    return isinstance(value, str) and (
        (empty and value == "") or (value.isidentifier() and not keyword.iskeyword(value))
    )


def _paging(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and {"cursor", "link"} <= set(value)
        and all(isinstance(v, str) and _TOKEN.match(v) for v in value.values())
    )


def _checked(name: str, value: Any, where: str) -> Any:
    if name in ("x-client-name", "x-client-group") and not _name(value, name == "x-client-group"):
        sys.exit(f"{where}: {name} must be a Python identifier, not {value!r}")
    if name == "x-client-pagination" and not _paging(value):
        sys.exit(f"{where}: {name} must name a cursor and a link relation, not {value!r}")
    return value


def extensions(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Each operation's `x-…` entries, by (path, method)."""
    return {
        (path, method): {
            key: _checked(key, value, f"{method.upper()} {path}")
            for key, value in operation.items()
            if key.startswith("x-")
        }
        for path, item in schema.get("paths", {}).items()
        for method, operation in item.items()
        if isinstance(operation, dict)
    }


def _text(value: Any) -> str:
    return value.get_untrusted_value() if isinstance(value, UntrustedString) else str(value)


def main(schema_path: Path, config_path: Path, templates: Path, output: Path) -> None:
    config = Config.from_sources(
        ConfigFile.load_from_path(config_path), MetaType.PDM, schema_path, "utf-8", True, output
    )
    schema = json.loads(schema_path.read_text())
    openapi = GeneratorData.from_dict(schema, config=config)
    if isinstance(openapi, GeneratorError):
        handle_errors([openapi], fail_on_warning=True)
        return
    found = extensions(schema)

    def extension(endpoint: Any, name: str, default: Any = None) -> Any:
        return found.get((_text(endpoint.path), _text(endpoint.method)), {}).get(name, default)

    project = Project(
        openapi=openapi, config=config, custom_template_path=templates if str(templates) else None
    )
    project.env.globals["extension"] = extension
    handle_errors(project.build(), fail_on_warning=True)


if __name__ == "__main__":
    schema, config, templates, output = sys.argv[1:5]
    main(Path(schema), Path(config), Path(templates) if templates else Path(""), Path(output))
