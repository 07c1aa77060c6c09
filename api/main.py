"""Assembles the app: settings → engine → migrations → worker state → routers and error handlers.

`create_app(settings)` is the app factory (uvicorn's `factory=True`): nothing is built at import,
and each worker gets the settings `heroes-api` parsed (api/serve.py).
"""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI

from api import housekeeping, metrics, openapi
from api.access import require_policies
from api.auth import KeyRing
from api.config import Settings, get_settings
from api.db import Database, create_db_engine
from api.errors import COMMON_RESPONSES, install_error_handlers
from api.heroes import routes as heroes
from api.idempotency import Idempotency
from api.logs import RequestLines
from api.middleware import BodySizeLimitMiddleware, HeadMiddleware, JsonCORSMiddleware
from api.observability import ObserveRequests
from api.ratelimit import RateLimiter
from api.routes import docs, health
from api.worker_state import WorkerState

YOUNG_GENERATION_THRESHOLD = 20_000

# uvicorn's own logger: the start-up lines land beside "Application startup complete".
startup_log = logging.getLogger("uvicorn.error")

DESCRIPTION = """
The Hero service of FastAPI's *SQL Databases* tutorial, with the tutorial's wire contract kept
exactly and its defects fixed: bounded pages and strings, strict integers, every status documented.

`secret_name` is stored but never returned.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_db_engine(settings)
        if settings.migrate_on_startup:
            # Imported here: Alembic is slow to import, and the workers of `heroes-api
            # --workers N` start with the migration already done by their parent.
            from api.migrate import upgrade_to_head

            upgrade_to_head(engine)
        db = Database(engine, settings)
        await db.open()
        if settings.metrics:
            metrics.watch_connections(db)
        ttl_seconds = int(settings.idempotency_ttl.total_seconds())
        found = app.state.worker = WorkerState(
            settings=settings,
            db=db,
            keys=KeyRing(db, settings.key_refresh_seconds),
            limiter=RateLimiter(settings),
            idempotency=Idempotency(ttl_seconds),
        )
        await found.keys.load()  # if it fails, the refresher tries again
        refresher = asyncio.create_task(found.keys.refresh_forever())
        sweeper = asyncio.create_task(housekeeping.sweep_forever(db, ttl_seconds))
        _log_access_policy(settings, found.keys, found.limiter)
        # Everything alive now lives as long as the app: out of the collector's generations.
        # A request's objects are almost all gone when it ends: the youngest generation is
        # collected less often (docs/decisions/0011-garbage-collector.md).
        gc.collect()
        gc.freeze()
        threshold = gc.get_threshold()
        gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *threshold[1:])
        try:
            yield
        finally:
            refresher.cancel()
            sweeper.cancel()
            gc.set_threshold(*threshold)
            gc.unfreeze()
            await db.close()
            metrics.worker_stopped()

    app = FastAPI(
        title="Heroes API",
        version=version("heroes-api"),
        description=DESCRIPTION.strip(),
        lifespan=lifespan,
        generate_unique_id_function=openapi.operation_id,
        # api/routes/docs.py serves them without a CDN.
        docs_url=None,
        redoc_url=None,
        contact={"name": "Heroes API maintainers"},
        # Relative: wherever the service is deployed, its operations are under its own root. The
        # audience and environment are the OWASP ruleset's asks (api9:2023, inventory).
        servers=[
            {
                "url": "/",
                "description": "production: this service, wherever it is deployed",
                "x-internal": False,
            }
        ],
        license_info={"name": "MIT", "identifier": "MIT"},
        openapi_tags=[
            {"name": "heroes", "description": "The heroes: create, read, update, delete."},
            {"name": "health", "description": "Is the service up, and does its database answer?"},
        ],
        responses=COMMON_RESPONSES,
        # FastAPI's OpenTelemetry hooks look up the tracer provider on every request.
        telemetry={"tracing": settings.telemetry, "metrics": settings.telemetry},
    )
    routers = [heroes.router, health.router]
    for router in routers:
        # Their routes, on the app's own router: an included router (lazy since FastAPI 0.16x)
        # matches every request twice (docs/decisions/0010-fastapi-request-path.md).
        app.router.routes.extend(router.routes)
    install_error_handlers(app)
    docs.install(app)
    if settings.metrics:
        app.include_router(metrics.router)
    require_policies(app)  # every route says who may call it, or the app doesn't start
    openapi.install(app, private_reads=not settings.public_reads)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(HeadMiddleware)
    if settings.cors_origins:
        # What a page may send and read is what the contract defines (its header parameters,
        # its documented response headers): a header added to the contract is allowed with it.
        allowed, exposed = openapi.cors_headers(app.openapi())
        app.add_middleware(
            JsonCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE"],
            allow_headers=allowed,
            expose_headers=exposed,
            max_age=600,
        )
    # Outermost: it sees every answer, the other middlewares' refusals included.
    app.add_middleware(
        ObserveRequests,
        metrics=metrics.RequestMetrics() if settings.metrics else None,
        lines=RequestLines(settings.log_format) if settings.access_log else None,
    )
    return app


def _log_access_policy(settings: Settings, keys: KeyRing, limiter: RateLimiter) -> None:
    if not keys.loaded:
        startup_log.warning("access: API keys not read yet; writes get 503 until they are")
    elif keys.protected:
        startup_log.warning(
            "access: PROTECTED MODE, no API key exists: writes are accepted only from loopback "
            "clients not relayed by a proxy. Create a key: heroes-api keys create NAME"
        )
    else:
        startup_log.info("access: %d API key(s); every write needs one", len(keys))
    if settings.public_reads:
        startup_log.info("access: reads are public (HEROES_PUBLIC_READS=true)")
    else:
        startup_log.info("access: reads need a key too (HEROES_PUBLIC_READS=false)")
    startup_log.info(limiter.describe())
    if settings.cors_origins:
        startup_log.info("cors: browsers on %s may call", ", ".join(settings.cors_origins))
        if "*" in settings.cors_origins:
            startup_log.warning("cors: HEROES_CORS_ORIGINS has '*': any web page may call")
