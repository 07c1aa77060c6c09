"""Dependencies that routes take as plain typed parameters."""

from email.message import Message
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

from api.db import Database
from api.limits import ID_MAX


# async: a plain attribute lookup must not cost a trip through the thread pool.
async def get_db(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


DatabaseDep = Annotated[Database, Depends(get_db)]

HeroId = Annotated[int, Path(ge=1, le=ID_MAX, description="The hero's id.")]


async def require_json(request: Request) -> None:
    """A body in any other media type is refused outright, rather than reported as a bad object."""
    message = Message()
    message["content-type"] = request.headers.get("content-type", "")
    subtype = message.get_content_subtype()
    if message.get_content_maintype() != "application" or not (
        subtype == "json" or subtype.endswith("+json")
    ):
        raise HTTPException(status_code=415, detail="Content-Type must be application/json")


JsonBody = Depends(require_json)
