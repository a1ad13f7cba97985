"""A request that fails because a dependency is away answers 503 with Retry-After, never 500; a bug still 500."""

from __future__ import annotations

import errno

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from shared.errors import install_error_handlers

pytestmark = pytest.mark.unit


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/db-gone")
    async def db_gone() -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError(errno.ECONNREFUSED, "refused"))

    @app.get("/bug")
    async def bug() -> None:
        raise ValueError("a bug")

    return app


async def test_a_dependency_outage_answers_503_with_retry_after_and_a_japanese_and_english_problem() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        gone = await client.get("/db-gone")
        bug = await client.get("/bug")
    assert gone.status_code == 503
    assert gone.headers["Retry-After"] == "5"
    assert gone.headers["content-type"] == "application/problem+json"
    body = gone.json()
    assert body["code"] == "service.unavailable" and body["retry_after_s"] == 5
    assert "5 秒" in body["message_ja"] and "try again in about 5 seconds" in body["message_en"]
    assert "OperationalError" not in gone.text
    assert bug.status_code == 500 and bug.json()["code"] == "internal.error"
