"""``create_app(settings)``: the loopback-only HTTP API of card-gateway, and ``run`` to serve it with uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from card_gateway.bootstrap import build_gateway
from card_gateway.config import CardGatewaySettings, is_loopback
from card_gateway.entrypoints.http.errors import install_card_error_handlers
from card_gateway.entrypoints.http.routes import router
from card_gateway.entrypoints.http.security import LocalOriginMiddleware
from card_gateway.service_layer.gateway import AsyncCardGateway
from card_gateway.service_layer.ports import ReaderBackend
from shared.http import guard, uvicorn_limits


def create_app(settings: CardGatewaySettings, *, backend: ReaderBackend | None = None) -> FastAPI:
    """Build the API: origin allow-list and CORS on every request, problem-details errors, no bus credentials."""
    gateway = AsyncCardGateway(build_gateway(settings, backend=backend))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            gateway.close()

    app = FastAPI(
        title="card-gateway",
        summary="Local My Number Card (JPKI) access for the applicant's browser",
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    app.state.settings = settings
    install_card_error_handlers(app)
    app.include_router(router)
    app.add_middleware(
        LocalOriginMiddleware, allowed_origins=settings.allowed_origins, check_host=settings.check_host_header
    )
    guard(app, settings.http)
    return app


def run(settings: CardGatewaySettings) -> None:
    """Serve the API on the configured loopback address (refuses any other address)."""
    import uvicorn

    from shared.telemetry import configure_logging

    if not is_loopback(settings.host):
        raise SystemExit(f"refusing to listen on {settings.host}: loopback only")
    configure_logging("card-gateway", settings.telemetry)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        server_header=False,
        log_config=None,
        **uvicorn_limits(),
    )


def app_from_env() -> FastAPI:
    """Uvicorn factory used by the local stack: settings from the environment (fails fast when incomplete)."""
    return create_app(CardGatewaySettings())
