"""Composition root of the attachments service: `create_app(settings)` builds the FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from attachments.config import AttachmentsSettings
from shared.service import ServiceRuntime, build_app

SERVICE = "attachments"


def create_app(settings: AttachmentsSettings) -> FastAPI:
    """Return the attachments app wired to its database, broker and outbox relay."""
    runtime = ServiceRuntime(SERVICE, settings)
    return build_app(runtime, title="RAS attachments", routers=[])


def app_from_env() -> FastAPI:
    """Uvicorn factory: read the settings from the environment (fails fast when incomplete)."""
    return create_app(AttachmentsSettings())
