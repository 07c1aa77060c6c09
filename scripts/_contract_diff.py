"""What changed between two OpenAPI documents, and which changes break an existing caller.

oasdiff (the Go tool most API teams use for this) doesn't install here: no Go toolchain, no Debian
package, and its npm wrappers download a binary. Its rule names are borrowed so that a message
reads the same as in a team that uses it (`request-parameter-max-decreased`, …).

The rules follow from who calls us: a request the old contract allowed must still be accepted
(request schemas may only widen), and a response must still be what the old contract promised
(response schemas may only narrow). Anything this module cannot prove safe is called breaking.
This is the static half of scripts/compat; the behavioural half runs Schemathesis and the released
client against the app, because a document can promise what the code doesn't do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["breaking", "additive", "text"]
Direction = Literal["request", "response"]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Keys that describe and never constrain: changing them is a documentation change.
TEXT_KEYS = {"description", "summary", "title", "examples", "example", "externalDocs", "tags"}
# (key, the direction a request schema may move it without breaking anyone)
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
# As oasdiff names them in its rule ids (request-parameter-max-decreased, …).
BOUND_NAMES = {
    "minimum": "min",
    "maximum": "max",
    "exclusiveMinimum": "exclusive-min",
    "exclusiveMaximum": "exclusive-max",
    "minLength": "min-length",
    "maxLength": "max-length",
    "minItems": "min-items",
    "maxItems": "max-items",
    "minProperties": "min-properties",
    "maxProperties": "max-properties",
}
ANONYMOUS = "{}"  # the security requirement that asks for nothing
# What each kind of node may hold that this differ judges (besides TEXT_KEYS, which are text).
# A key outside its set that differs is an unclassified change: breaking.
DOCUMENT_KEYS = frozenset({"openapi", "info", "paths", "components", "servers", "security"})
COMPONENT_KEYS = frozenset(
    {"schemas", "parameters", "responses", "headers", "requestBodies", "securitySchemes"}
)
PATH_ITEM_KEYS = frozenset({*METHODS, "parameters"})
# The generated client's shape (api/openapi.py): its resource, method name and paging.
CLIENT_KEYS = ("x-client-group", "x-client-name", "x-client-pagination")
OPERATION_KEYS = frozenset(
    {
        "operationId",
        "security",
        "parameters",
        "requestBody",
        "responses",
        "deprecated",
        *CLIENT_KEYS,
    }
)
PARAMETER_KEYS = frozenset({"in", "name", "required", "schema", "deprecated"})
BODY_KEYS = frozenset({"required", "content"})
RESPONSE_KEYS = frozenset({"headers", "content", "links"})  # links: relations, for readers
HEADER_KEYS = frozenset({"schema", "required", "deprecated"})
MEDIA_KEYS = frozenset({"schema"})
SCHEMA_KEYS = frozenset(
    {
        "type",
        "anyOf",
        "oneOf",
        "allOf",
        "$ref",
        *LOWER_BOUNDS,
        *UPPER_BOUNDS,
        "pattern",
        "format",
        "multipleOf",
        "const",
        "enum",
        "default",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)


@dataclass(frozen=True)
class Change:
    level: Level
    rule: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.what}"


class _Differ:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []

    def add(self, level: Level, rule: str, where: str, what: str) -> None:
        self.changes.append(Change(level, rule, where, what))

    # --- documents, operations -------------------------------------------------------------

    def run(self) -> list[Change]:
        self.unhandled("document", self.old, self.new, DOCUMENT_KEYS)
        self.servers("document", self.old.get("servers"), self.new.get("servers"))
        self.components(self.old.get("components", {}), self.new.get("components", {}))
        for path in sorted(self.old.get("paths", {}).keys() & self.new.get("paths", {}).keys()):
            old_item = self.old["paths"][path]
            new_item = self.new["paths"][path]
            self.unhandled(f"path {path}", old_item, new_item, PATH_ITEM_KEYS)
        old_ops, new_ops = _operations(self.old), _operations(self.new)
        for key in sorted(old_ops.keys() - new_ops.keys()):
            self.add("breaking", "api-removed", key, "operation removed: old callers get 404/405")
        for key in sorted(new_ops.keys() - old_ops.keys()):
            self.add("additive", "endpoint-added", key, "new operation")
        for key in sorted(old_ops.keys() & new_ops.keys()):
            self.operation(key, old_ops[key], new_ops[key])
        # A safety net behind the key checks: some difference, and nothing classified it.
        if not self.changes and _strip_text(self.old) != _strip_text(self.new):
            self.add(
                "breaking", "unclassified-change", "document", "a change this differ can't classify"
            )
        if _without_version(self.old) != _without_version(self.new) and not self.changes:
            self.add(
                "text", "documentation-changed", "document", "descriptions, titles or examples"
            )
        return self.changes

    def unhandled(self, where: str, old: Any, new: Any, handled: frozenset[str]) -> None:
        """Every key of `old`/`new` this differ doesn't judge must be unchanged: a change it
        can't classify is breaking, whatever else changed beside it."""
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        for key in sorted((old.keys() | new.keys()) - handled - TEXT_KEYS):
            if _strip_text(old.get(key)) != _strip_text(new.get(key)):
                self.add(
                    "breaking",
                    "unclassified-change",
                    f"{where} `{key}`",
                    f"{_show(old.get(key))} → {_show(new.get(key))}: a change this differ can't "
                    "classify",
                )

    def servers(self, where: str, old: Any, new: Any) -> None:
        if old == new:
            return
        if not old:
            self.add("additive", "api-servers-added", where, f"servers {_show(new)}")
        else:
            self.add(
                "breaking",
                "api-servers-changed",
                where,
                f"servers {_show(old)} → {_show(new)}: callers resolving URLs against them move",
            )

    def components(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        # Schemas, parameters, responses, headers and bodies are judged where they are used
        # (through $ref); a security scheme is judged here.
        self.unhandled("components", old, new, COMPONENT_KEYS)
        old_schemes, new_schemes = old.get("securitySchemes", {}), new.get("securitySchemes", {})
        for name in sorted(old_schemes.keys() | new_schemes.keys()):
            if _strip_text(old_schemes.get(name)) != _strip_text(new_schemes.get(name)):
                self.add(
                    "breaking" if name in old_schemes else "additive",
                    "security-scheme-changed" if name in old_schemes else "security-scheme-added",
                    f"security scheme `{name}`",
                    f"{_show(old_schemes.get(name))} → {_show(new_schemes.get(name))}",
                )

    def operation(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.unhandled(where, old, new, OPERATION_KEYS)
        if old.get("operationId") != new.get("operationId"):
            self.add(
                "breaking",
                "operation-id-changed",
                where,
                f"operationId {_show(old.get('operationId'))} → {_show(new.get('operationId'))}: "
                "clients generated from the contract name their functions after it",
            )
        for key in CLIENT_KEYS:
            if old.get(key) == new.get(key):
                continue
            added = key not in old
            self.add(
                "additive" if added else "breaking",
                "client-shape-added" if added else "client-shape-changed",
                f"{where} `{key}`",
                f"{_show(old.get(key))} → {_show(new.get(key))}: "
                + (
                    "the generated client gains a method or a pager"
                    if added
                    else "the generated client's method moves, is renamed or pages otherwise"
                ),
            )
        self.security(where, old, new)
        self.parameters(where, old.get("parameters", []), new.get("parameters", []))
        self.request_body(where, old.get("requestBody"), new.get("requestBody"))
        self.responses(where, old.get("responses", {}), new.get("responses", {}))
        if not old.get("deprecated") and new.get("deprecated"):
            self.add("additive", "endpoint-deprecated", where, "operation marked deprecated")

    def security(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        old_security = _requirements(self.old, old)
        new_security = _requirements(self.new, new)
        if old_security == new_security or not new_security - {ANONYMOUS}:
            return
        # An empty requirement ({}) means "anonymous callers are accepted".
        if ANONYMOUS in old_security and ANONYMOUS not in new_security:
            self.add(
                "breaking",
                "api-security-added",
                where,
                f"now requires credentials ({_names(new_security)}); anonymous old callers get 401",
            )
        elif not old_security and ANONYMOUS not in new_security:
            self.add(
                "breaking",
                "api-security-added",
                where,
                f"now requires credentials ({_names(new_security)}); old callers send none",
            )
        else:
            level: Level = "breaking" if old_security - new_security else "additive"
            self.add(
                level,
                "api-security-changed",
                where,
                f"security {_names(old_security) or 'none'} → {_names(new_security) or 'none'}",
            )

    def parameters(self, where: str, old: list[Any], new: list[Any]) -> None:
        old_params = {(p["in"], p["name"]): p for p in (self.resolve(p, self.old) for p in old)}
        new_params = {(p["in"], p["name"]): p for p in (self.resolve(p, self.new) for p in new)}
        for key in sorted(old_params.keys() - new_params.keys()):
            self.add(
                "breaking",
                "request-parameter-removed",
                f"{where} {key[0]} parameter `{key[1]}`",
                "removed: old callers still send it, and it no longer does what they ask",
            )
        for key in sorted(new_params.keys() - old_params.keys()):
            at = f"{where} {key[0]} parameter `{key[1]}`"
            if new_params[key].get("required"):
                self.add("breaking", "new-required-request-parameter", at, "new and required")
            else:
                self.add("additive", "new-optional-request-parameter", at, "new, optional")
        for key in sorted(old_params.keys() & new_params.keys()):
            at = f"{where} {key[0]} parameter `{key[1]}`"
            old_p, new_p = old_params[key], new_params[key]
            self.unhandled(at, old_p, new_p, PARAMETER_KEYS)
            if not old_p.get("required") and new_p.get("required"):
                self.add("breaking", "request-parameter-became-required", at, "now required")
            elif old_p.get("required") and not new_p.get("required"):
                self.add("additive", "request-parameter-became-optional", at, "now optional")
            self.schema(
                "request-parameter", at, old_p.get("schema", {}), new_p.get("schema", {}), "request"
            )

    def request_body(self, where: str, old: Any, new: Any) -> None:
        at = f"{where} request body"
        if old is None and new is None:
            return
        if old is None:
            level: Level = "breaking" if new.get("required") else "additive"
            self.add(
                level,
                "request-body-added",
                at,
                "new body" + (" (required)" * (level == "breaking")),
            )
            return
        old, new = self.resolve(old, self.old), self.resolve(new or {}, self.new)
        if not new:
            self.add("breaking", "request-body-removed", at, "the operation no longer reads a body")
            return
        self.unhandled(at, old, new, BODY_KEYS)
        if not old.get("required") and new.get("required"):
            self.add("breaking", "request-body-became-required", at, "now required")
        self.content("request-body", at, old.get("content", {}), new.get("content", {}), "request")

    def responses(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        for status in sorted(old.keys() - new.keys()):
            at = f"{where} response {status}"
            if status.startswith("2"):
                self.add(
                    "breaking",
                    "response-success-status-removed",
                    at,
                    "no longer documented: old callers wait for this status",
                )
            else:
                self.add(
                    "breaking",
                    "response-non-success-status-removed",
                    at,
                    "no longer documented: old callers handle it, and the contract no longer says when it happens",
                )
        for status in sorted(new.keys() - old.keys()):
            at = f"{where} response {status}"
            if status.startswith("2"):
                self.add(
                    "breaking",
                    "response-success-status-added",
                    at,
                    "a new success status: old callers don't expect it",
                )
            else:
                self.add(
                    "additive",
                    "response-non-success-status-added",
                    at,
                    "newly documented status (old callers see it only where the app now answers it)",
                )
        for status in sorted(old.keys() & new.keys()):
            at = f"{where} response {status}"
            old_r, new_r = self.resolve(old[status], self.old), self.resolve(new[status], self.new)
            self.unhandled(at, old_r, new_r, RESPONSE_KEYS)
            old_h, new_h = old_r.get("headers", {}), new_r.get("headers", {})
            for name in sorted(old_h.keys() - new_h.keys()):
                self.add("breaking", "response-header-removed", f"{at} header `{name}`", "removed")
            for name in sorted(new_h.keys() - old_h.keys()):
                self.add("additive", "response-header-added", f"{at} header `{name}`", "new header")
            for name in sorted(old_h.keys() & new_h.keys()):
                self.header(f"{at} header `{name}`", old_h[name], new_h[name])
            self.content(
                "response", at, old_r.get("content", {}), new_r.get("content", {}), "response"
            )

    def header(self, at: str, old: Any, new: Any) -> None:
        old, new = self.resolve(old, self.old), self.resolve(new, self.new)
        self.unhandled(at, old, new, HEADER_KEYS)
        if old.get("required") and not new.get("required"):
            self.add("breaking", "response-header-became-optional", at, "no longer always sent")
        elif not old.get("required") and new.get("required"):
            self.add("additive", "response-header-became-required", at, "now always sent")
        self.schema("response-header", at, old.get("schema", {}), new.get("schema", {}), "response")

    def content(
        self, rule: str, at: str, old: dict[str, Any], new: dict[str, Any], direction: Direction
    ) -> None:
        for media in sorted(old.keys() - new.keys()):
            self.add(
                "breaking", f"{rule}-media-type-removed", f"{at} {media}", "media type removed"
            )
        for media in sorted(new.keys() - old.keys()):
            self.add("additive", f"{rule}-media-type-added", f"{at} {media}", "media type added")
        for media in sorted(old.keys() & new.keys()):
            self.unhandled(f"{at} {media}", old[media], new[media], MEDIA_KEYS)
            self.schema(
                rule, at, old[media].get("schema", {}), new[media].get("schema", {}), direction
            )

    # --- schemas ---------------------------------------------------------------------------

    @staticmethod
    def resolve(node: Any, document: dict[str, Any]) -> Any:
        seen = set()
        while isinstance(node, dict) and "$ref" in node and node["$ref"] not in seen:
            seen.add(node["$ref"])
            target: Any = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def schema(
        self, rule: str, at: str, old: Any, new: Any, direction: Direction, depth: int = 0
    ) -> None:
        old = self.resolve(old, self.old)
        new = self.resolve(new, self.new)
        # Refs are compared by what they point at (two documents can share a $ref string and
        # differ behind it); the depth bound stops a recursive schema.
        if depth > 20:
            return
        old_branches, new_branches = _branches(old, self.old), _branches(new, self.new)
        removed = sorted(old_branches.keys() - new_branches.keys())
        added = sorted(new_branches.keys() - old_branches.keys())
        prefix = "request" if direction == "request" else "response"
        if removed and direction == "request":
            self.add(
                "breaking",
                f"{rule}-type-narrowed",
                at,
                f"no longer accepts {', '.join(removed)}: old callers sending it get 422",
            )
        if added and direction == "response":
            self.add(
                "breaking",
                f"{rule}-type-widened",
                at,
                f"may now be {', '.join(added)}: old callers don't expect it",
            )
        if (removed and direction == "response") or (added and direction == "request"):
            self.add(
                "additive",
                f"{prefix}-type-changed",
                at,
                f"types {', '.join(sorted(old_branches))} → {', '.join(sorted(new_branches))}",
            )
        for kind in sorted(old_branches.keys() & new_branches.keys()):
            self.constraints(rule, at, old_branches[kind], new_branches[kind], direction, depth)

    def constraints(
        self,
        rule: str,
        at: str,
        old: dict[str, Any],
        new: dict[str, Any],
        direction: Direction,
        depth: int,
    ) -> None:
        widen_ok = direction == "request"
        self.unhandled(at, old, new, SCHEMA_KEYS)
        for key in LOWER_BOUNDS + UPPER_BOUNDS:
            a, b = old.get(key), new.get(key)
            if a == b:
                continue
            lower = key in LOWER_BOUNDS
            name = BOUND_NAMES[key]
            if a is None or b is None:
                # A bound that appears tightens; one that vanishes loosens.
                tightened, moved = a is None, "added" if a is None else "removed"
            else:
                tightened = b > a if lower else b < a
                moved = "increased" if b > a else "decreased"
            words = f"{key} {_show(a)} → {_show(b)}"
            breaks = tightened if widen_ok else not tightened
            if breaks:
                why = (
                    "old callers sending values the old bound allowed get 422"
                    if widen_ok
                    else "responses may now fall outside what old callers were promised"
                )
                self.add("breaking", f"{rule}-{name}-{moved}", at, f"{words}: {why}")
            else:
                self.add("additive", f"{rule}-{name}-{moved}", at, words)
        for key in ("pattern", "format", "multipleOf", "const"):
            if old.get(key) != new.get(key):
                self.add(
                    "breaking",
                    f"{rule}-{key.lower()}-changed",
                    at,
                    f"{key} {_show(old.get(key))} → {_show(new.get(key))}",
                )
        if "enum" in old or "enum" in new:
            old_enum, new_enum = (
                set(map(_key, old.get("enum", []))),
                set(map(_key, new.get("enum", []))),
            )
            lost = (old_enum - new_enum) if widen_ok else (new_enum - old_enum)
            if ("enum" not in old and widen_ok) or ("enum" not in new and not widen_ok) or lost:
                self.add(
                    "breaking",
                    f"{rule}-enum-value-changed",
                    at,
                    f"enum {_show(old.get('enum'))} → {_show(new.get('enum'))}",
                )
        if widen_ok and old.get("default") != new.get("default"):
            self.add(
                "breaking",
                f"{rule}-default-value-changed",
                at,
                f"default {_show(old.get('default'))} → {_show(new.get('default'))}: "
                "old callers that leave it out get a different answer",
            )
        if "properties" in old or "properties" in new:
            self.object(rule, at, old, new, direction, depth)
        if "items" in old or "items" in new:
            self.schema(
                rule,
                f"{at} items",
                old.get("items", {}),
                new.get("items", {}),
                direction,
                depth + 1,
            )

    def object(
        self,
        rule: str,
        at: str,
        old: dict[str, Any],
        new: dict[str, Any],
        direction: Direction,
        depth: int,
    ) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
        closed = new.get("additionalProperties") is False
        if direction == "request":
            if old.get("additionalProperties") is not False and closed:
                self.add(
                    "breaking",
                    f"{rule}-additional-properties-refused",
                    at,
                    "unknown properties are now refused",
                )
            for name in sorted(old_props.keys() - new_props.keys()):
                self.add(
                    "breaking" if closed else "additive",
                    f"{rule}-property-removed",
                    f"{at} property `{name}`",
                    "removed" + (": old callers sending it get 422" if closed else ""),
                )
            for name in sorted(new_props.keys() - old_props.keys()):
                required = name in new_req
                self.add(
                    "breaking" if required else "additive",
                    f"new-required-{rule}-property"
                    if required
                    else f"new-optional-{rule}-property",
                    f"{at} property `{name}`",
                    "new and required: old callers don't send it and get 422"
                    if required
                    else "new, optional",
                )
            for name in sorted((new_req - old_req) & old_props.keys()):
                self.add(
                    "breaking",
                    f"{rule}-property-became-required",
                    f"{at} property `{name}`",
                    "now required: old callers leaving it out get 422",
                )
        else:
            for name in sorted(old_props.keys() - new_props.keys()):
                self.add(
                    "breaking",
                    f"{rule}-property-removed",
                    f"{at} property `{name}`",
                    "removed: old callers reading it find nothing",
                )
            for name in sorted(new_props.keys() - old_props.keys()):
                self.add(
                    "additive", f"{rule}-property-added", f"{at} property `{name}`", "new property"
                )
            for name in sorted((old_req - new_req) & new_props.keys()):
                self.add(
                    "breaking",
                    f"{rule}-property-became-optional",
                    f"{at} property `{name}`",
                    "no longer always present",
                )
            for name in sorted((new_req - old_req) & old_props.keys()):
                self.add(
                    "additive",
                    f"{rule}-property-became-required",
                    f"{at} property `{name}`",
                    "now always present",
                )
        for name in sorted(old_props.keys() & new_props.keys()):
            self.schema(
                rule,
                f"{at} property `{name}`",
                old_props[name],
                new_props[name],
                direction,
                depth + 1,
            )


def _branches(schema: Any, document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The schema as {JSON type: its constraints}, with anyOf/oneOf and type lists flattened."""
    schema = _Differ.resolve(schema, document)
    if not isinstance(schema, dict):
        return {"any": {}}
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        shared = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
        out: dict[str, dict[str, Any]] = {}
        for alternative in alternatives:
            for kind, constraints in _branches(alternative, document).items():
                out[kind] = {**shared, **constraints}
        return out
    for part in schema.get("allOf", []):
        schema = {
            **_Differ.resolve(part, document),
            **{k: v for k, v in schema.items() if k != "allOf"},
        }
    kinds = schema.get("type", "any")
    if isinstance(kinds, str):
        kinds = [kinds]
    return {kind: schema for kind in kinds}


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every operation, with its path's parameters (an operation's own override them)."""
    found = {}
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method not in METHODS:
                continue
            own = operation.get("parameters", [])
            named = {(p.get("in"), p.get("name")) for p in own}
            inherited = [p for p in shared if (p.get("in"), p.get("name")) not in named]
            if inherited:
                operation = {**operation, "parameters": [*inherited, *own]}
            found[f"{method.upper()} {path}"] = operation
    return found


def _requirements(document: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    """The operation's security requirements, each as a comparable string."""
    security = operation.get("security", document.get("security", []))
    return {_key(requirement) for requirement in security}


def _names(requirements: set[str]) -> str:
    return ", ".join(sorted("anonymous" if r == ANONYMOUS else r for r in requirements))


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "none" if value is None else json.dumps(value)


def _strip_text(node: Any, names: bool = False) -> Any:
    """`node` without its documentation; `names` marks a map of property names, kept whole."""
    if isinstance(node, dict):
        return {
            k: _strip_text(v, names=k == "properties" and not names)
            for k, v in node.items()
            if names or (k not in TEXT_KEYS and k != "info")
        }
    if isinstance(node, list):
        return [_strip_text(v) for v in node]
    return node


def _without_version(document: dict[str, Any]) -> dict[str, Any]:
    info = {k: v for k, v in document.get("info", {}).items() if k != "version"}
    return {**document, "info": info}


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every classified change from `old` to `new`, breaking ones first."""
    changes = _Differ(old, new).run()
    order = {"breaking": 0, "additive": 1, "text": 2}
    return sorted(changes, key=lambda c: order[c.level])
