"""Composition root of the applications service: `create_app(settings)` builds the FastAPI app.

The reference data is loaded and validated here, before anything starts (bad data stops the service).
"""

from __future__ import annotations

from fastapi import FastAPI

from applications.config import ApplicationsSettings
from applications.domain.clock import Clock, SystemClock
from applications.entrypoints import consumers
from applications.entrypoints.http import applicants, back_office, bureaus, reference
from applications.entrypoints.http import errors as http_errors
from applications.entrypoints.jobs import receipt_number_job
from applications.reference import load_reference_data
from applications.service_layer.services import ApplicationService
from shared.bureaus import load_bureaus
from shared.service import ServiceRuntime, build_app

SERVICE = "applications"


def create_app(settings: ApplicationsSettings, *, clock: Clock | None = None) -> FastAPI:
    """Return the applications app wired to its database, broker, outbox relay, consumers and nightly job."""
    reference_data = load_reference_data(settings.reference_data_dir)
    bureau_list = load_bureaus()
    if bureau_list.get(settings.default_bureau) is None:
        raise ValueError(f"the default bureau {settings.default_bureau!r} is not in the bureau list")
    clock = clock or SystemClock()
    runtime = ServiceRuntime(SERVICE, settings)
    service = ApplicationService(
        sessions=runtime.sessions,
        reference=reference_data,
        clock=clock,
        default_bureau=settings.default_bureau,
        bureaus=bureau_list,
    )
    consumers.register(runtime)
    if settings.receipt_job.enabled:
        runtime.background.append(receipt_number_job(service, settings.receipt_job, clock))
    app = build_app(
        runtime,
        title="RAS applications",
        routers=[reference.router, bureaus.router, applicants.router, back_office.router],
    )
    app.state.applications = service
    http_errors.install(app)
    return app


def app_from_env() -> FastAPI:
    """Uvicorn factory: read the settings from the environment (fails fast when incomplete)."""
    return create_app(ApplicationsSettings())
