"""GET /health: is the service up, and does its database answer?"""

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from api.access import OPEN, CheckedRoute, policy
from api.db import Overloaded
from api.deps import DatabaseDep
from api.driver import DriverConnection
from api.errors import COMMON_RESPONSES
from api.openapi import operation_id

router = APIRouter(
    tags=["health"],
    responses=COMMON_RESPONSES,
    generate_unique_id_function=operation_id,
    route_class=CheckedRoute,
)


class Health(SQLModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]


_PING = text("SELECT 1")


def _ping(connection: DriverConnection) -> None:
    connection.rows(_PING, {})


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database does not answer"}},
)
@policy(OPEN)  # a load balancer's probe: no key, no rate limit
async def health(db: DatabaseDep) -> Any:
    """Report whether the database answers a trivial query."""
    try:
        await db.read(_ping)
    except (SQLAlchemyError, Overloaded):
        body = Health(status="unavailable", database="unreachable")
        return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": "1"})
    return Health(status="ok", database="ok")
