"""GET /health: is the service up, and does its database answer?"""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from api.deps import SessionDep

router = APIRouter(tags=["health"])


class Health(SQLModel):
    status: str
    database: str


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database does not answer"}},
)
def health(session: SessionDep) -> Health | JSONResponse:
    """Report whether the database answers a trivial query."""
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except SQLAlchemyError:
        body = Health(status="unavailable", database="unreachable")
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok", database="ok")
