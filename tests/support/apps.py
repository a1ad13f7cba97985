"""Helpers to run services in-process against the real test infrastructure, and to read the mail they send."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from shared.settings import AuthSettings, KafkaSettings, MessagingSettings
from tests.support.stack import TestStack


@dataclass(frozen=True)
class Infra:
    """Addresses of the test session's infrastructure and its token keys."""

    stack: TestStack
    private_key: str
    public_key: str

    def db_url(self, service: str) -> str:
        """Return the URL of the service's test database."""
        return self.stack.database_url(f"ras_test_{service}")

    def common(self, service: str) -> dict[str, Any]:
        """Return the settings every service needs."""
        return {
            "database_url": self.db_url(service),
            "kafka": KafkaSettings(bootstrap_servers=self.stack.kafka_bootstrap, request_timeout_ms=5000),
            "auth": AuthSettings(public_key_pem=self.public_key),
            "messaging": MessagingSettings(
                outbox_poll_interval_s=0.2, outbox_max_backoff_s=1.0, consumer_backoff_s=0.05
            ),
        }


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (broker, relay, consumers) and yield an HTTP client for it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve an app whose lifespan already runs (``running``) on a free loopback port; yield its base URL."""
    import socket

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False
        )
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            await task
            raise RuntimeError("the test server did not start")
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def eventually(check: Callable[[], Any], *, timeout: float = 30, interval: float = 0.1) -> Any:
    """Poll ``check`` (sync or async) until it returns a truthy value; fail with the last value otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")


def read_mail(directory: Path) -> list[EmailMessage]:
    """Return every message the SMTP catcher kept, oldest first."""
    messages = []
    for path in sorted(directory.glob("*.eml")):
        with open(path, "rb") as fh:
            messages.append(email.message_from_binary_file(fh, policy=email.policy.default))
    return messages


def mail_to(directory: Path, address: str) -> list[EmailMessage]:
    """Return the messages whose envelope recipient is ``address``."""
    return [m for m in read_mail(directory) if address in str(m.get("X-Envelope-To", ""))]


def text_of(message: EmailMessage) -> str:
    """Return the plain-text body of a message."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""
