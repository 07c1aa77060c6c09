"""What the served schema says beyond what FastAPI writes from the routes: the HEAD operations
(answered by api/middleware.py), the X-Request-ID header of every response
(api/observability.py), the API key's security scheme (checked by the routes' policies,
api/access.py, not by a FastAPI security dependency), with HEROES_PUBLIC_READS=false that
the reads (their policy says which) need a key, and the `x-client-*` extensions the generated
client's templates read (scripts/client-templates)."""

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute

from api.access import KEY_NEEDED, CheckedRoute
from api.auth import SCHEME, bearer
from api.bounds import REQUEST_ID_MAX_LENGTH, REQUEST_ID_PATTERN

REQUEST_ID = {
    "description": "The request's id: the caller's X-Request-ID if it was sane (up to "
    f"{REQUEST_ID_MAX_LENGTH} letters, digits and `._:+/=-`), else a new one. The service's log "
    "line for the request carries it.",
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": REQUEST_ID_MAX_LENGTH,
        "pattern": REQUEST_ID_PATTERN,
    },
}

_REQUEST_ID_REF = {"$ref": "#/components/headers/X-Request-ID"}


def operation_id(route: APIRoute) -> str:
    # The function name, so that the generated client reads `create_hero`, `read_heroes`, …
    return route.name


# The client's shape, declared on each operation (as Speakeasy's x-speakeasy-group and
# x-speakeasy-name-override do): the resource it belongs to (default: its first tag; "" is the
# client itself) and the method's name (default: the operationId).
CLIENT_GROUP = "x-client-group"
CLIENT_NAME = "x-client-name"
# Paging a generator can't guess: the query parameter a next page's link sets, the link's
# relation, and the response header whose `…/total` counts every match (RFC 9110 Content-Range).
CLIENT_PAGINATION = "x-client-pagination"


def client_method(
    name: str, group: str | None = None, pagination: dict[str, str] | None = None
) -> dict[str, Any]:
    """An operation's `openapi_extra`: its method in the generated client."""
    extra: dict[str, Any] = {CLIENT_NAME: name}
    if group is not None:
        extra[CLIENT_GROUP] = group
    if pagination is not None:
        extra[CLIENT_PAGINATION] = pagination
    return extra


def _head(get: dict[str, Any]) -> dict[str, Any]:
    """The GET operation as HEAD: same parameters, statuses and headers, no bodies."""
    head = copy.deepcopy(get)
    head["operationId"] = f"{get['operationId']}_head"
    head["summary"] = f"{get.get('summary', '')} (headers only)".strip()
    head["description"] = "The GET's status and headers, without its body."
    head.pop("requestBody", None)
    head.pop(CLIENT_PAGINATION, None)  # no items to iterate
    if CLIENT_NAME in get:
        head[CLIENT_NAME] = f"{get[CLIENT_NAME]}_head"
    for response in head["responses"].values():
        response.pop("content", None)
        response.pop("links", None)
    return head


def install(app: FastAPI, private_reads: bool) -> None:
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        # The reads whose policy makes them need a key when reads do (api/access.py).
        private = {
            route.path
            for route in app.routes
            if private_reads and isinstance(route, CheckedRoute) and route.policy.read
        }
        schema["components"]["headers"] = {"X-Request-ID": REQUEST_ID}
        # Every 422 the service sends has `detail` (FastAPI's and api/errors.py's alike): said
        # so, a client reads the errors without a "maybe unset".
        schema["components"]["schemas"]["HTTPValidationError"]["required"] = ["detail"]
        # As FastAPI writes a security dependency's scheme.
        schema["components"]["securitySchemes"] = {
            SCHEME: jsonable_encoder(bearer.model, by_alias=True, exclude_none=True)
        }
        for item in schema["paths"].values():
            for operation in item.values():
                for response in operation["responses"].values():
                    response.setdefault("headers", {})["X-Request-ID"] = _REQUEST_ID_REF
        for path, item in schema["paths"].items():
            if "get" not in item:
                continue
            if path in private:
                item["get"]["security"] = copy.deepcopy(KEY_NEEDED)
            item["head"] = _head(item["get"])
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def cors_headers(schema: dict[str, Any]) -> tuple[list[str], list[str]]:
    """For CORS, from the contract itself: the request headers a page on another origin may
    send (every header parameter, `Authorization` for an http security scheme, `Content-Type`
    where an operation takes a body) and the response headers it may read (every one the
    contract documents). A header the contract adds is allowed with it: no second list."""
    sent: set[str] = set()
    exposed: set[str] = set()
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "header":
                    sent.add(parameter["name"])
            if "requestBody" in operation:
                sent.add("Content-Type")
            for response in operation.get("responses", {}).values():
                exposed.update(response.get("headers", {}))
    schemes = schema.get("components", {}).get("securitySchemes", {}).values()
    if any(scheme.get("type") == "http" for scheme in schemes):
        sent.add("Authorization")
    return sorted(sent, key=str.lower), sorted(exposed, key=str.lower)
