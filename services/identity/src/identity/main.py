"""Composition root of the identity service: `create_app(settings)` builds the FastAPI app.

The identity service owns accounts (外国人本人, 法定代理人, 親族; officers and operators), registration with the My Number
Card (JPKI), password set-up links, the 認証ID, sign-in and tokens, the password lifecycle and representation. It
publishes user-registered, password-setup-requested, auth-id-issued, password-expiring, password-reset-requested,
representation-registered and sessions-revoked through its outbox; like every service it reads sessions-revoked.
"""

from __future__ import annotations

from fastapi import FastAPI

from identity.bootstrap import Clock, IdentityServices, bootstrap
from identity.config import IdentitySettings
from identity.domain.jpki import RevocationChecker
from identity.entrypoints.http import router
from identity.entrypoints.http.errors import install_identity_error_handlers
from identity.service_layer.passwords import run_reset_queue
from identity.service_layer.reminders import run_reminder_job
from shared.service import ServiceRuntime, build_app

SERVICE = "identity"


def create_app(
    settings: IdentitySettings, *, clock: Clock | None = None, revocation: RevocationChecker | None = None
) -> FastAPI:
    """Return the identity app wired to its database, broker, outbox relay and reminder job."""
    runtime = ServiceRuntime(SERVICE, settings)
    services = bootstrap(settings, runtime.sessions, clock=clock, revocation=revocation)

    async def reminder_job() -> None:
        await run_reminder_job(services, settings.reminder_interval_s)

    async def reset_job() -> None:
        await run_reset_queue(services, settings.reset_queue_interval_s)

    runtime.background += [reminder_job, reset_job]
    app = build_app(runtime, title="RAS identity", routers=[router])
    app.state.identity = services
    install_identity_error_handlers(app)
    return app


def services_of(app: FastAPI) -> IdentityServices:
    """Return the services of an app built by :func:`create_app` (for commands and tests)."""
    services: IdentityServices = app.state.identity
    return services


def app_from_env() -> FastAPI:
    """Uvicorn factory: read the settings from the environment (fails fast when incomplete)."""
    return create_app(IdentitySettings())
