"""Composition root of the attachments service: `create_app(settings)` builds the FastAPI app.

The app takes uploads, serves rounds and verdicts, talks to Mynaportal and follows the applications service's
events. The checks run in a separate process (``python -m attachments.checker``, see ``attachments.checker``).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from attachments.adapters.blobstore import BlobStore, FilesystemBlobStore
from attachments.adapters.mynaportal import HttpMynaportalClient, MynaportalClient
from attachments.config import AttachmentsSettings
from attachments.domain.errors import Refusal
from attachments.entrypoints.consumers import register
from attachments.entrypoints.http.routes import router
from shared.errors import problem
from shared.service import ServiceRuntime, build_app

SERVICE = "attachments"
UPLOAD_ROUTE = "POST /api/attachments/applications/{application_id}/attachments"


async def _refusal(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refusal)
    response = problem(exc)
    if exc.status == 413:
        response.headers["Connection"] = "close"  # the rest of the body is not read
    return response


def create_app(
    settings: AttachmentsSettings,
    *,
    blob_store: BlobStore | None = None,
    mynaportal: MynaportalClient | None = None,
) -> FastAPI:
    """Return the attachments app wired to its database, broker, outbox relay, blob store and Mynaportal."""
    runtime = ServiceRuntime(SERVICE, settings)
    register(runtime)
    # The outer wall of the upload route: the round budget refuses first, with its own code and what is left.
    wall = 2 * max(settings.upload.round_max_bytes, settings.upload.photo_max_bytes)
    app = build_app(runtime, title="RAS attachments", routers=[router], body_limits={UPLOAD_ROUTE: wall})
    app.add_exception_handler(Refusal, _refusal)
    app.state.settings = settings
    app.state.blob_store = blob_store or FilesystemBlobStore(settings.blob_dir)
    app.state.mynaportal = mynaportal or HttpMynaportalClient(
        settings.mynaportal.base_url, timeout_s=settings.mynaportal.timeout_s
    )
    return app


def app_from_env() -> FastAPI:
    """Uvicorn factory: read the settings from the environment (fails fast when incomplete)."""
    return create_app(AttachmentsSettings())
