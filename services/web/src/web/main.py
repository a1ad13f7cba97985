"""Composition root of the portal: `create_app(settings)` builds the FastAPI app that renders every page."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.db import create_engine, ping
from shared.telemetry import configure_logging
from web import assets, links
from web.api import Api, ServiceUnavailable
from web.config import WebSettings
from web.i18n import format_day, format_time
from web.limits import BodyLimit
from web.sessions import PostgresSessionStore, SessionStore
from web.views import page, router

log = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).parent
DIST = PACKAGE_DIR / "static" / "dist"


def templates() -> Environment:
    """The Jinja2 environment: autoescaped HTML, dates in the page's language."""
    env = Environment(
        loader=FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["format_day"] = format_day
    env.globals["format_time"] = format_time
    return env


def create_app(
    settings: WebSettings,
    *,
    store: SessionStore | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Return the portal app; ``store`` and ``transport`` replace the session store and the services in view tests."""
    configure_logging("web", settings.telemetry)
    engine = create_engine(settings.database_url, pool_size=5) if store is None else None
    api = Api(settings, transport)
    env = templates()
    env.globals["stylesheet"] = f"/static/{assets.build(DIST)}"

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await api.close()
        if engine is not None:
            await engine.dispose()

    app = FastAPI(title="RAS portal", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.sessions = store or PostgresSessionStore(engine)  # type: ignore[arg-type]
    app.state.api = api
    app.state.templates = env
    app.add_middleware(BodyLimit)
    app.include_router(router)
    app.include_router(links.router)
    app.mount("/static", StaticFiles(directory=DIST), name="static")

    @app.get("/alive", include_in_schema=False)
    async def alive() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/ready", include_in_schema=False)
    async def ready() -> Response:
        if engine is None:
            return JSONResponse({"status": "ready"})
        try:
            await asyncio.wait_for(ping(engine), timeout=2)
        except Exception as exc:
            return JSONResponse({"status": "not ready", "database": repr(exc)[:200]}, status_code=503)
        return JSONResponse({"status": "ready", "database": "ok"})

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, _: ServiceUnavailable) -> Response:
        p = await page(request)
        response = await p.render("unavailable.html", status=503)
        response.headers["Retry-After"] = "30"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        p = await page(request)
        if exc.status_code == 404:
            return await p.render("not_found.html", status=404)
        return await p.render("error.html", status=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        p = await page(request)
        return await p.render("error.html", status=500)

    return app


def app_from_env() -> FastAPI:
    """Uvicorn factory: read the settings from the environment (fails fast when incomplete)."""
    return create_app(WebSettings())
