"""Fixtures of the portal's view tests: the portal app with faked services and sessions in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.web.fakes import FakeServices
from web.config import WebSettings
from web.main import create_app
from web.sessions import MemorySessionStore


@pytest.fixture
def services() -> FakeServices:
    """The faked services."""
    return FakeServices()


@pytest.fixture
def store() -> MemorySessionStore:
    """Sessions in memory."""
    return MemorySessionStore()


@pytest.fixture
async def browser(services: FakeServices, store: MemorySessionStore) -> AsyncIterator[httpx.AsyncClient]:
    """A browser without JavaScript, speaking to the portal."""
    settings = WebSettings(
        database_url="postgresql+asyncpg://unused@127.0.0.1:1/unused",
        identity_url="http://identity",
        applications_url="http://applications",
        attachments_url="http://attachments",
        notifications_url="http://notifications",
    )
    app = create_app(settings, store=store, transport=services.transport())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", follow_redirects=False
    ) as c:
        yield c
