"""Dependencies that routes take as plain typed parameters."""

from collections.abc import Iterator
from email.message import Message
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from sqlmodel import Session

from api.limits import ID_MAX
from api.models import Hero


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_hero(
    hero_id: Annotated[int, Path(ge=1, le=ID_MAX, description="The hero's id.")],
    session: SessionDep,
) -> Hero:
    hero = session.get(Hero, hero_id)
    if hero is None:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero


HeroDep = Annotated[Hero, Depends(get_hero)]


def require_json(request: Request) -> None:
    """A body in any other media type is refused outright, rather than reported as a bad object."""
    message = Message()
    message["content-type"] = request.headers.get("content-type", "")
    subtype = message.get_content_subtype()
    if message.get_content_maintype() != "application" or not (
        subtype == "json" or subtype.endswith("+json")
    ):
        raise HTTPException(status_code=415, detail="Content-Type must be application/json")


JsonBody = Depends(require_json)
