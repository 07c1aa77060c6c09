"""GET /health: is the service up, and can its database take writes?"""

from enum import StrEnum
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from api.access import OPEN, CheckedRoute, policy
from api.db import Overloaded
from api.deps import DatabaseDep
from api.errors import COMMON_RESPONSES, describe, logger
from api.openapi import client_method, operation_id
from api.statements import DriverConnection

router = APIRouter(
    tags=["health"],
    responses=COMMON_RESPONSES,
    generate_unique_id_function=operation_id,
    route_class=CheckedRoute,
)


class HealthDetail(StrEnum):
    """Why the service is unavailable: one of a fixed set, so a probe can match on it."""

    UNREACHABLE = "The database does not answer"
    READ_ONLY = (
        "The database is read-only (a standby, or a role or database with "
        "default_transaction_read_only): writes get 503"
    )


class Health(SQLModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]
    detail: HealthDetail | None = Field(
        default=None, description="Why the service is unavailable, if it is."
    )


# Whether the database refuses writes: a standby (in recovery), or a session that starts
# read-only. SQLite's file is the service's own: a write to a read-only one fails on its own.
_READ_ONLY = {
    "postgresql": text(
        "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'"
    ),
    "sqlite": text("SELECT 0"),
}


def _read_only(connection: DriverConnection) -> bool:
    return bool(connection.rows(_READ_ONLY[connection.dialect_name], {})[0][0])


def _unavailable(body: Health) -> JSONResponse:
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=503, headers={"Retry-After": "1"}
    )


@router.get(
    "/health",
    response_model=Health,
    response_model_exclude_none=True,
    responses={
        503: {
            "model": Health,
            "description": "The database does not answer, or can't take writes (read-only)",
        }
    },
    openapi_extra=client_method("health", group=""),  # client.health()
)
@policy(OPEN)  # a load balancer's probe: no key, no rate limit
async def health(db: DatabaseDep) -> Any:
    """Report whether the database answers, and takes writes."""
    try:
        read_only = await db.read(_read_only)
    except (SQLAlchemyError, Overloaded) as error:
        logger.warning("health: database unreachable: %s", describe(error))
        return _unavailable(
            Health(status="unavailable", database="unreachable", detail=HealthDetail.UNREACHABLE)
        )
    if read_only:
        return _unavailable(
            Health(status="unavailable", database="ok", detail=HealthDetail.READ_ONLY)
        )
    return Health(status="ok", database="ok")
