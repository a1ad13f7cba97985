"""Every service's app on the test infrastructure, served by a real uvicorn with the limits of shared.http.

The servers run without their lifespan (no consumers, relay or jobs: they would join the consumer groups of the
session's other apps); requests still reach the real database. Each runs in its own thread and event loop, so a
test can talk to it over real sockets, synchronously or not.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from shared.auth import APPLICANT_ROLE, Principal, TokenSigner
from shared.http import HttpLimits, uvicorn_limits
from tests.support.apps import Infra
from tests.support.stack import free_port

ORIGIN = "https://ras.example.go.jp"
SERVICES = ("identity", "applications", "attachments", "notifications", "card-gateway")


@dataclass(frozen=True)
class Served:
    """One service's app and where it listens."""

    name: str
    app: FastAPI
    port: int

    @property
    def base_url(self) -> str:
        """Return the server's base URL."""
        return f"http://127.0.0.1:{self.port}"


def build(name: str, infra: Infra, tmp: Path, http: HttpLimits | None = None) -> FastAPI:
    """Return the app of one service on the test infrastructure (``http``: other edge limits)."""
    extra: dict[str, Any] = {"http": http} if http is not None else {}
    if name == "identity":
        from identity.main import create_app as identity_app
        from shared.testing.jpki import TestPki
        from tests.identity.integration.support import identity_settings

        pki = TestPki.create(datetime.now(UTC))
        return identity_app(identity_settings(infra, pki, f"http://127.0.0.1:{free_port()}/ocsp", **extra))
    if name == "applications":
        from applications.main import create_app as applications_app
        from tests.applications.integration.applications_support import settings

        return applications_app(settings(infra, **extra))
    if name == "attachments":
        from attachments.config import AttachmentsSettings, MynaportalSettings
        from attachments.main import create_app as attachments_app

        return attachments_app(
            AttachmentsSettings(
                **infra.common("attachments"),
                blob_dir=tmp / "blobs",
                mynaportal=MynaportalSettings(base_url=f"http://127.0.0.1:{free_port()}", timeout_s=1),
                **extra,
            )
        )
    if name == "notifications":
        from notifications.config import NotificationsSettings, SmtpSettings
        from notifications.main import create_app as notifications_app

        return notifications_app(
            NotificationsSettings(
                **infra.common("notifications"),
                smtp=SmtpSettings(host="127.0.0.1", port=infra.stack.ports.smtp),
                **extra,
            )
        )
    from card_gateway.config import CardGatewaySettings
    from card_gateway.main import create_app as card_gateway_app
    from tests.card_gateway.fakes import FakeReaderBackend

    return card_gateway_app(
        CardGatewaySettings(allowed_origins=[ORIGIN], **extra), backend=FakeReaderBackend()
    )


async def _close(app: FastAPI) -> None:
    runtime = getattr(app.state, "runtime", None)
    if runtime is not None:
        await runtime.engine.dispose()


@contextmanager
def served(name: str, app: FastAPI) -> Iterator[Served]:
    """Serve the app with uvicorn (the client-facing limits of shared.http) in a thread until the block ends."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        **uvicorn_limits(),
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    async def serve() -> None:
        try:
            await server.serve()
        finally:
            await _close(app)

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"uvicorn-{name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if failure or not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start: {failure!r}")
        time.sleep(0.02)
    try:
        yield Served(name, app, port)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def applicant_token(infra: Infra) -> str:
    """Return a valid access token of a fresh applicant (外国人本人) who owns nothing yet."""
    principal = Principal(user_id=uuid.uuid4(), roles=frozenset({APPLICANT_ROLE}), category="self")
    return TokenSigner(infra.private_key).sign(principal)


def headers_for(name: str, infra: Infra) -> dict[str, str]:
    """Return the headers a legitimate caller of the service sends (a token; the page's origin for the card)."""
    if name == "card-gateway":
        return {"Origin": ORIGIN}
    return {"Authorization": f"Bearer {applicant_token(infra)}"}


def each_service(infra: Infra, tmp: Path, http: HttpLimits | None = None) -> Callable[[str], FastAPI]:
    """Return a builder of the named service's app."""
    return lambda name: build(name, infra, tmp / name, http)
