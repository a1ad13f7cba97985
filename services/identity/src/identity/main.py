"""Composition root of the identity service: `create_app(settings)` builds the FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from identity.config import IdentitySettings
from identity.entrypoints.http import router
from shared.service import ServiceRuntime, build_app

SERVICE = "identity"


def create_app(settings: IdentitySettings) -> FastAPI:
    """Return the identity app wired to its database, broker and outbox relay."""
    runtime = ServiceRuntime(SERVICE, settings)
    return build_app(runtime, title="RAS identity", routers=[router])


def app_from_env() -> FastAPI:
    """Uvicorn factory: read the settings from the environment (fails fast when incomplete)."""
    return create_app(IdentitySettings())
