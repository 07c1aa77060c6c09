"""Dependencies that routes take as plain typed parameters.

A hero route takes one access dependency, which checks who is calling (api/auth.py), how often
(api/ratelimit.py) and, for a body, its media type, and then hands over the database. One rather
than a chain: FastAPI resolves each dependency with a pass over every parameter source, and
the chain of four it replaces cost ~15 % of a GET one (py-spy).
"""

from email.message import Message
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security.base import SecurityBase

from api.auth import bearer, reader, writer
from api.db import Database
from api.limits import ID_MAX
from api.ratelimit import RateLimiter


# async: a plain attribute lookup must not cost a trip through the thread pool.
async def get_db(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


DatabaseDep = Annotated[Database, Depends(get_db)]

HeroId = Annotated[int, Path(ge=1, le=ID_MAX, description="The hero's id.")]


def require_json(request: Request) -> None:
    """A body in any other media type is refused outright, rather than reported as a bad object."""
    message = Message()
    message["content-type"] = request.headers.get("content-type", "")
    subtype = message.get_content_subtype()
    if message.get_content_maintype() != "application" or not (
        subtype == "json" or subtype.endswith("+json")
    ):
        raise HTTPException(status_code=415, detail="Content-Type must be application/json")


async def _read_access(request: Request) -> Database:
    limiter: RateLimiter = request.app.state.limiter
    await limiter.read(await reader(request))
    database: Database = request.app.state.db
    return database


class _WriteAccess(SecurityBase):
    """A write's access check. A security scheme (the API key's), so that OpenAPI says which
    operations need the key, as the HTTPBearer dependency it stands in for did."""

    def __init__(self, json_body: bool) -> None:
        self.model = bearer.model
        self.scheme_name = bearer.scheme_name
        self.json_body = json_body

    async def __call__(self, request: Request) -> Database:
        limiter: RateLimiter = request.app.state.limiter
        await limiter.write(writer(request, await bearer(request)))
        if self.json_body:
            require_json(request)
        database: Database = request.app.state.db
        return database


# The database, for a caller who may read it; or may write it (with a JSON body, or none). The
# check runs before anything else of the request is looked at: a refused caller learns nothing
# about their body or parameters.
Reading = Annotated[Database, Depends(_read_access)]
Writing = Annotated[Database, Depends(_WriteAccess(json_body=True))]
Deleting = Annotated[Database, Depends(_WriteAccess(json_body=False))]
