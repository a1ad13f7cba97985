"""Service defaults: one place that wires database, broker, outbox relay, consumers, telemetry and health.

Each service's ``create_app(settings)`` builds a ``ServiceRuntime`` and hands it its routers and consumers.
The FastAPI lifespan starts the broker (FastStream, started in the lifespan as the architecture asks), the outbox
relay and the subscribers, and on shutdown drains in-flight handlers before closing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.auth import RevocationList, TokenVerifier
from shared.db import create_engine, ping, session_factory
from shared.errors import install_error_handlers
from shared.http import guard
from shared.messaging.broker import create_broker
from shared.messaging.outbox import OutboxRelay, backlog
from shared.revocations import RevocationFeed
from shared.settings import ServiceSettings
from shared.telemetry import configure_logging, tracer_provider

log = logging.getLogger(__name__)


class ServiceRuntime:
    """The infrastructure of one service process."""

    def __init__(self, name: str, settings: ServiceSettings, *, relay: bool = True) -> None:
        self.name = name
        self.settings = settings
        self.tracer_provider = tracer_provider(name, settings.telemetry)
        self.engine: AsyncEngine = create_engine(settings.database_url)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        self.broker: KafkaBroker = create_broker(
            settings.kafka, service=name, tracer_provider=self.tracer_provider
        )
        self.relay: OutboxRelay | None = (
            OutboxRelay(
                self.sessions, settings.kafka, client_id=f"{name}-outbox", settings=settings.messaging
            )
            if relay
            else None
        )
        self.revocations = RevocationList()
        self.verifier = TokenVerifier(
            settings.auth.public_key(),
            issuer=settings.auth.issuer,
            audience=settings.auth.audience,
            revocations=self.revocations,
        )
        self.revocation_feed: RevocationFeed | None = (
            RevocationFeed(
                settings.kafka,
                self.revocations,
                client_id=f"{name}-revocations",
                lookback=timedelta(seconds=settings.auth.revocation_lookback_s),
            )
            if settings.auth.revocation_feed
            else None
        )
        self.background: list[Callable[[], Any]] = []

    async def start(self) -> None:
        """Start the broker, subscribers and relay."""
        await self.broker.start()
        if self.relay is not None:
            self.relay.start()

    async def stop(self) -> None:
        """Drain in-flight handlers, stop the relay and close connections."""
        await self.broker.stop()
        if self.relay is not None:
            await self.relay.stop()
        await self.engine.dispose()

    async def readiness(self) -> dict[str, str]:
        """Return the state of each dependency: ``ok`` or the error."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(ping(self.engine), timeout=2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {exc!r}"[:300]
        try:
            ok = await self.broker.ping(timeout=2)
            checks["broker"] = "ok" if ok else "error: no answer"
        except Exception as exc:
            checks["broker"] = f"error: {exc!r}"[:300]
        return checks


def health_router(runtime: ServiceRuntime) -> APIRouter:
    """Return ``/alive`` (the process answers) and ``/ready`` (database and broker answer)."""
    router = APIRouter(tags=["health"])

    @router.get("/alive")
    async def read_alive() -> dict[str, str]:
        """The process is up."""
        return {"status": "alive", "service": runtime.name}

    @router.get("/ready", responses={503: {"description": "a dependency does not answer"}})
    async def read_ready() -> JSONResponse:
        """The database and the broker answer."""
        checks = await runtime.readiness()
        ready = all(v == "ok" for v in checks.values())
        body: dict[str, object] = {
            "status": "ready" if ready else "not_ready",
            "service": runtime.name,
            "checks": checks,
        }
        if checks.get("database") == "ok":
            async with runtime.sessions() as session:
                body["outbox_backlog"] = await backlog(session)  # events committed, not yet on the bus
        return JSONResponse(body, status_code=200 if ready else 503)

    return router


def build_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    routers: list[APIRouter],
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """Return the FastAPI app of a service with lifespan, health, errors, tracing and the HTTP edge (shared.http).

    ``body_limits`` raises the body limit of some routes, keyed ``"METHOD /path/template"``; every other route takes
    ``settings.http.json_max_bytes``.
    """
    configure_logging(runtime.name, runtime.settings.telemetry)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if runtime.revocation_feed is not None:
            # Before the first request: a token signed out before this process started is refused too.
            await runtime.revocation_feed.start()
        tasks: list[asyncio.Task[Any]] = [asyncio.create_task(job()) for job in runtime.background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if runtime.revocation_feed is not None:
                await runtime.revocation_feed.stop()
            await runtime.stop()

    app = FastAPI(title=title, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.token_verifier = runtime.verifier
    install_error_handlers(app)
    app.include_router(health_router(runtime))
    for router in routers:
        app.include_router(router)

    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=runtime.tracer_provider,
        excluded_urls="alive,ready",
        exclude_spans=["receive", "send"],
    )
    guard(app, runtime.settings.http, body_limits=body_limits)  # last: it wraps the finished middleware stack
    return app
