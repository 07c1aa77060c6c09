"""What a request may use beyond itself: one typed object per worker (its database doorway,
key ring, limiter, idempotency records), built by the app's lifespan
(api/main.py) and reached through `worker_state(request)` and nothing else.

Settings come in from the app factory (`create_app(settings)`), never from the environment of a
worker: `heroes-api` hands each worker the settings it parsed (api/serve.py).
"""

from dataclasses import dataclass

from fastapi import Request

from api.auth import KeyRing
from api.config import Settings
from api.db import Database
from api.idempotency import Idempotency
from api.ratelimit import RateLimiter


@dataclass(frozen=True)
class WorkerState:
    settings: Settings
    db: Database
    keys: KeyRing
    limiter: RateLimiter
    idempotency: Idempotency


def worker_state(request: Request) -> WorkerState:
    """This worker's state (a plain look-up: as a dependency it would cost a pass of FastAPI's
    dependency solving per request)."""
    found: WorkerState = request.app.state.worker
    return found
