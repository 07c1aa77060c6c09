"""Dependencies that routes take as plain typed parameters."""

from email.message import Message
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

from api.auth import reader, writer
from api.db import Database
from api.limits import ID_MAX
from api.ratelimit import RateLimiter


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


async def _read_access(request: Request, caller: Annotated[str, Depends(reader)]) -> None:
    limiter: RateLimiter = request.app.state.limiter
    await limiter.read(caller)


async def _write_access(request: Request, caller: Annotated[str, Depends(writer)]) -> None:
    limiter: RateLimiter = request.app.state.limiter
    await limiter.write(caller)


# Who may call, and how often: first on every route's list, so a refused caller is refused
# before anything else is looked at (api/auth.py, api/ratelimit.py).
Reader = Depends(_read_access)
Writer = Depends(_write_access)
