"""GET /docs and /redoc: Swagger UI and ReDoc, from the files of the fastapi-offline package.

FastAPI's own pages load both from a CDN (blank pages without internet). The pages also carry
a Content-Security-Policy that lets them reach this server only: ReDoc's attribution footer
would otherwise fetch a logo from cdn.redoc.ly on every visit.
"""

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.access import OPEN, CheckedRoute, policy

STATIC_URL = "/static-offline-docs"
_STATIC_FILES = Path(fastapi_offline.__file__).parent / "static"

# Both pages start from an inline script and style themselves inline; ReDoc renders in a
# blob: worker. Everything else comes from here.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ]
)
_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY}

# The pages are open to anyone (the schema they show is served to anyone too).
router = APIRouter(include_in_schema=False, route_class=CheckedRoute)


def _page(html: HTMLResponse) -> HTMLResponse:
    html.headers.update(_HEADERS)
    return html


@router.get("/docs")
@policy(OPEN)
async def swagger_ui(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = request.scope.get("root_path", "")
    return _page(
        get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            # Its validator badge would send the schema's URL to validator.swagger.io.
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
        )
    )


@router.get("/")
@policy(OPEN)
async def root(request: Request) -> RedirectResponse:
    """The URL the start-up line prints leads somewhere: to the docs (not in the contract)."""
    return RedirectResponse(f"{request.scope.get('root_path', '')}/docs", status_code=307)


@router.get("/docs/oauth2-redirect")
@policy(OPEN)
async def swagger_ui_redirect() -> HTMLResponse:
    return _page(get_swagger_ui_oauth2_redirect_html())


@router.get("/redoc")
@policy(OPEN)
async def redoc(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = request.scope.get("root_path", "")
    return _page(
        get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
    )


def install(app: FastAPI) -> None:
    """The pages and their files, in place of FastAPI's CDN-backed ones (docs_url=None)."""
    app.mount(STATIC_URL, StaticFiles(directory=_STATIC_FILES), name="static-offline-docs")
    app.include_router(router)
