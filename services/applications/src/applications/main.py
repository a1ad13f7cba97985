"""Composition root of the applications service: `create_app(settings)` builds the FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from applications.config import ApplicationsSettings
from shared.service import ServiceRuntime, build_app

SERVICE = "applications"


def create_app(settings: ApplicationsSettings) -> FastAPI:
    """Return the applications app wired to its database, broker and outbox relay."""
    runtime = ServiceRuntime(SERVICE, settings)
    return build_app(runtime, title="RAS applications", routers=[])


def app_from_env() -> FastAPI:
    """Uvicorn factory: read the settings from the environment (fails fast when incomplete)."""
    return create_app(ApplicationsSettings())
