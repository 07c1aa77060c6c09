"""What routes take: the database, and a hero's id.

The hero routes check their caller before anything else (api/access.py) and then reach the
database through `database(request)`, a plain look-up: as a dependency it would cost a pass of
FastAPI's dependency solving per request. /health, which no one is refused, takes it as one.
"""

from typing import Annotated

from fastapi import Depends, Path, Request

from api.bounds import ID_MAX
from api.db import Database
from api.worker_state import worker_state


def database(request: Request) -> Database:
    return worker_state(request).db


# async: a plain attribute lookup must not cost a trip through the thread pool.
async def get_db(request: Request) -> Database:
    return database(request)


DatabaseDep = Annotated[Database, Depends(get_db)]

HeroId = Annotated[int, Path(ge=1, le=ID_MAX, description="The hero's id.")]
