"""The gate's differ (scripts/_contract_diff.py), rule by rule, on small documents: each change
is classified as its rule says, and a change it can't classify is breaking whatever else
changed beside it."""

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _contract_diff import Change, diff

from tests.conftest import ROOT

Doc = dict[str, Any]

BASE: Doc = {
    "openapi": "3.1.0",
    "info": {"title": "Heroes", "version": "1.0.0"},
    "paths": {
        "/heroes/": {
            "get": {
                "operationId": "read_heroes",
                "parameters": [
                    {
                        "in": "query",
                        "name": "limit",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "headers": {"ETag": {"schema": {"type": "string", "pattern": "^a+$"}}},
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Hero"}}
                        },
                    },
                    "404": {"description": "not found"},
                },
            },
            "post": {
                "operationId": "create_hero",
                "security": [{"Key": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/HeroCreate"}}
                    },
                },
                "responses": {"200": {"description": "ok"}},
            },
        }
    },
    "components": {
        "schemas": {
            "Hero": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string", "maxLength": 100},
                    "kind": {"type": "string", "enum": ["a", "b"]},
                },
                "required": ["id", "name"],
            },
            "HeroCreate": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 100},
                    "age": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                },
                "required": ["name"],
                "additionalProperties": False,
            },
        },
        "securitySchemes": {"Key": {"type": "http", "scheme": "bearer"}},
    },
}

GET = ("paths", "/heroes/", "get")
POST = ("paths", "/heroes/", "post")
HERO = ("components", "schemas", "Hero")
CREATE = ("components", "schemas", "HeroCreate")


def _at(doc: Doc, *path: Any) -> Any:
    node: Any = doc
    for part in path:
        node = node[part]
    return node


def _set(*path: Any, value: Any) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        _at(doc, *path[:-1])[path[-1]] = value

    return mutate


def _delete(*path: Any) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        del _at(doc, *path[:-1])[path[-1]]

    return mutate


def _append(*path: Any, value: Any) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        _at(doc, *path).append(value)

    return mutate


def _new_required_property(doc: Doc) -> None:
    _at(doc, *CREATE, "properties")["power"] = {"type": "string"}
    _at(doc, *CREATE, "required").append("power")


LIMIT = (*GET, "parameters", 0)
OPTIONAL_NAME = {"in": "query", "name": "name", "required": False, "schema": {"type": "string"}}

# (the change, the rule it must be classified under, its level)
RULES: list[tuple[Callable[[Doc], None], str, str]] = [
    (_delete("paths", "/heroes/", "get"), "api-removed", "breaking"),
    (_set("paths", "/heroes/{id}", value={"get": {"responses": {}}}), "endpoint-added", "additive"),
    (_set(*GET, "deprecated", value=True), "endpoint-deprecated", "additive"),
    (_set(*GET, "security", value=[{"Key": []}]), "api-security-added", "breaking"),
    (_set(*POST, "security", value=[{"Other": []}]), "api-security-changed", "breaking"),
    (_set(*POST, "security", value=[{"Key": []}, {}]), "api-security-changed", "additive"),
    (_delete(*GET, "parameters"), "request-parameter-removed", "breaking"),
    (
        _append(*GET, "parameters", value=OPTIONAL_NAME),
        "new-optional-request-parameter",
        "additive",
    ),
    (
        _append(*GET, "parameters", value={**OPTIONAL_NAME, "required": True}),
        "new-required-request-parameter",
        "breaking",
    ),
    (_set(*LIMIT, "required", value=True), "request-parameter-became-required", "breaking"),
    (_set(*LIMIT, "schema", "maximum", value=50), "request-parameter-max-decreased", "breaking"),
    (_set(*LIMIT, "schema", "maximum", value=500), "request-parameter-max-increased", "additive"),
    (_set(*LIMIT, "schema", "minimum", value=5), "request-parameter-min-increased", "breaking"),
    (
        _set(*LIMIT, "schema", "default", value=10),
        "request-parameter-default-value-changed",
        "breaking",
    ),
    (_set(*LIMIT, "schema", "type", value="string"), "request-parameter-type-narrowed", "breaking"),
    (
        _set(*LIMIT, "schema", "format", value="int32"),
        "request-parameter-format-changed",
        "breaking",
    ),
    (_delete(*POST, "requestBody"), "request-body-removed", "breaking"),
    (
        _set(*GET, "requestBody", value={"required": True, "content": {}}),
        "request-body-added",
        "breaking",
    ),
    (_set(*GET, "requestBody", value={"content": {}}), "request-body-added", "additive"),
    (
        _set(*POST, "requestBody", "content", "text/plain", value={}),
        "request-body-media-type-added",
        "additive",
    ),
    (
        _delete(*POST, "requestBody", "content", "application/json"),
        "request-body-media-type-removed",
        "breaking",
    ),
    (
        _set(*CREATE, "properties", "name", "maxLength", value=50),
        "request-body-max-length-decreased",
        "breaking",
    ),
    (
        _set(*CREATE, "properties", "power", value={"type": "string"}),
        "new-optional-request-body-property",
        "additive",
    ),
    (_new_required_property, "new-required-request-body-property", "breaking"),
    (
        _set(*CREATE, "required", value=["name", "age"]),
        "request-body-property-became-required",
        "breaking",
    ),
    (_delete(*CREATE, "properties", "age"), "request-body-property-removed", "breaking"),
    (
        _set(*CREATE, "properties", "age", value={"type": "integer"}),
        "request-body-type-narrowed",
        "breaking",
    ),
    (
        _set(
            *CREATE, "properties", "name", value={"anyOf": [{"type": "string"}, {"type": "null"}]}
        ),
        "request-type-changed",
        "additive",
    ),
    (_delete(*GET, "responses", "200"), "response-success-status-removed", "breaking"),
    (_delete(*GET, "responses", "404"), "response-non-success-status-removed", "breaking"),
    (
        _set(*GET, "responses", "201", value={"description": "x"}),
        "response-success-status-added",
        "breaking",
    ),
    (
        _set(*GET, "responses", "409", value={"description": "x"}),
        "response-non-success-status-added",
        "additive",
    ),
    (_delete(*GET, "responses", "200", "headers", "ETag"), "response-header-removed", "breaking"),
    (
        _set(*GET, "responses", "200", "headers", "Link", value={"schema": {"type": "string"}}),
        "response-header-added",
        "additive",
    ),
    (
        _set(*GET, "responses", "200", "headers", "ETag", "schema", "pattern", value="^a$"),
        "response-header-pattern-changed",
        "breaking",
    ),
    (
        _set(*GET, "responses", "200", "headers", "ETag", "required", value=True),
        "response-header-became-required",
        "additive",
    ),
    (_delete(*HERO, "properties", "kind"), "response-property-removed", "breaking"),
    (
        _set(*HERO, "properties", "power", value={"type": "string"}),
        "response-property-added",
        "additive",
    ),
    (_set(*HERO, "required", value=["id"]), "response-property-became-optional", "breaking"),
    (
        _set(*HERO, "required", value=["id", "name", "kind"]),
        "response-property-became-required",
        "additive",
    ),
    (
        _set(*HERO, "properties", "kind", "enum", value=["a", "b", "c"]),
        "response-enum-value-changed",
        "breaking",
    ),
    (
        _set(*HERO, "properties", "name", "maxLength", value=50),
        "response-max-length-decreased",
        "additive",
    ),
    (
        _set(*HERO, "properties", "name", "maxLength", value=500),
        "response-max-length-increased",
        "breaking",
    ),
    (
        _set(*HERO, "properties", "name", value={"anyOf": [{"type": "string"}, {"type": "null"}]}),
        "response-type-widened",
        "breaking",
    ),
    (
        _set(*GET, "responses", "200", "content", "text/csv", value={}),
        "response-media-type-added",
        "additive",
    ),
    (_set(*GET, "operationId", value="list_heroes"), "operation-id-changed", "breaking"),
    (_set(*GET, "x-client-name", value="list"), "client-shape-added", "additive"),
    (
        _set(*GET, "x-client-pagination", value={"cursor": "after_id", "link": "next"}),
        "client-shape-added",
        "additive",
    ),
    (_set("servers", value=[{"url": "/"}]), "api-servers-added", "additive"),
    (
        _set("components", "securitySchemes", "Key", "scheme", value="basic"),
        "security-scheme-changed",
        "breaking",
    ),
    (_set(*LIMIT, "style", value="spaceDelimited"), "unclassified-change", "breaking"),
    (
        _set(*HERO, "properties", "name", "uniqueItems", value=True),
        "unclassified-change",
        "breaking",
    ),
    (_set(*GET, "callbacks", value={"x": {}}), "unclassified-change", "breaking"),
    (_set("webhooks", value={"x": {}}), "unclassified-change", "breaking"),
    (_set(*GET, "description", value="Another text"), "documentation-changed", "text"),
]


def _changed(mutate: Callable[[Doc], None], *more: Callable[[Doc], None]) -> list[Change]:
    new = copy.deepcopy(BASE)
    for each in (mutate, *more):
        each(new)
    return diff(BASE, new)


@pytest.mark.parametrize(
    ("mutate", "rule", "level"), RULES, ids=[f"{r}-{n}" for n, (_, r, _l) in enumerate(RULES)]
)
def test_each_change_is_classified_by_its_rule(
    mutate: Callable[[Doc], None], rule: str, level: str
) -> None:
    found = {(change.rule, change.level) for change in _changed(mutate)}
    assert (rule, level) in found, found


def test_an_unchanged_document_has_no_change() -> None:
    assert diff(BASE, copy.deepcopy(BASE)) == []


def test_a_new_version_number_alone_is_no_change() -> None:
    assert _changed(_set("info", "version", value="1.0.1")) == []


@pytest.mark.parametrize(
    "unclassifiable",
    [
        _set(*LIMIT, "style", value="spaceDelimited"),
        _set(*GET, "responses", "200", "content", "application/json", "encoding", value={}),
        _set(*HERO, "properties", "name", "not", value={"const": "x"}),
    ],
)
def test_an_unclassified_change_stays_breaking_beside_an_addition(
    unclassifiable: Callable[[Doc], None],
) -> None:
    # The masking case: alone it was breaking, and with an additive change beside it the
    # old differ called the whole change additive.
    alone = _changed(unclassifiable)
    masked = _changed(unclassifiable, _append(*GET, "parameters", value=OPTIONAL_NAME))
    for changes in (alone, masked):
        assert ("unclassified-change", "breaking") in {(c.rule, c.level) for c in changes}
    assert ("new-optional-request-parameter", "additive") in {(c.rule, c.level) for c in masked}


def test_a_tightened_response_header_pattern_is_breaking_with_or_without_company() -> None:
    tighten = _set(*GET, "responses", "200", "headers", "ETag", "schema", "pattern", value="^a$")
    for changes in (
        _changed(tighten),
        _changed(tighten, _append(*GET, "parameters", value=OPTIONAL_NAME)),
    ):
        assert any(
            c.level == "breaking" and c.rule == "response-header-pattern-changed" for c in changes
        )


def test_path_level_parameters_are_judged_as_the_operations() -> None:
    old = copy.deepcopy(BASE)
    shared = {"in": "query", "name": "trace", "required": False, "schema": {"type": "string"}}
    old["paths"]["/heroes/"]["parameters"] = [shared]
    new = copy.deepcopy(old)
    new["paths"]["/heroes/"]["parameters"] = [{**shared, "required": True}]
    rules = {(c.rule, c.level) for c in diff(old, new)}
    assert ("request-parameter-became-required", "breaking") in rules


# scripts/compat diff: the differ for the contract's users' own CI.


def _compat_diff(tmp_path: Path, new: Doc, *options: str) -> subprocess.CompletedProcess[str]:
    old_file, new_file = tmp_path / "old.json", tmp_path / "new.json"
    old_file.write_text(json.dumps(BASE))
    new_file.write_text(json.dumps(new))
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "compat"),
            "diff",
            str(old_file),
            str(new_file),
            *options,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_compat_diff_exits_1_on_a_breaking_change_and_says_which(tmp_path: Path) -> None:
    new = copy.deepcopy(BASE)
    _set(*LIMIT, "schema", "maximum", value=50)(new)
    result = _compat_diff(tmp_path, new)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[request-parameter-max-decreased] GET /heroes/ query parameter `limit`" in result.stdout


def test_compat_diff_exits_0_on_additions_and_speaks_json(tmp_path: Path) -> None:
    new = copy.deepcopy(BASE)
    _append(*GET, "parameters", value=OPTIONAL_NAME)(new)
    result = _compat_diff(tmp_path, new, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == [
        {
            "id": "new-optional-request-parameter",
            "level": "additive",
            "operation": "GET",
            "path": "/heroes/",
            "where": "GET /heroes/ query parameter `name`",
            "text": "new, optional",
        }
    ]


def test_compat_diff_exits_1_on_an_unclassified_change(tmp_path: Path) -> None:
    new = copy.deepcopy(BASE)
    _set(*LIMIT, "style", value="spaceDelimited")(new)
    assert _compat_diff(tmp_path, new).returncode == 1


@pytest.mark.parametrize("key", ["x-client-name", "x-client-group"])
def test_renaming_or_removing_a_client_method_is_breaking(key: str) -> None:
    """A caller of the generated client calls the method by its name: renamed or gone, its
    code breaks as surely as for a renamed operationId."""
    old = copy.deepcopy(BASE)
    _at(old, *GET)[key] = "list"
    renamed, removed = copy.deepcopy(old), copy.deepcopy(old)
    _at(renamed, *GET)[key] = "all"
    del _at(removed, *GET)[key]
    for new in (renamed, removed):
        found = {(change.rule, change.level) for change in diff(old, new)}
        assert ("client-shape-changed", "breaking") in found, found
