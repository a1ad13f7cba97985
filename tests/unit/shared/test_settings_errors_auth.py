"""Settings that fail fast, problem-details errors and access tokens."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from pydantic_settings import SettingsConfigDict

from shared.auth import (
    CurrentPrincipal,
    Principal,
    TokenSigner,
    TokenVerifier,
    generate_keypair,
    require_role,
)
from shared.errors import AppError, install_error_handlers
from shared.settings import ServiceSettings


class DemoSettings(ServiceSettings):
    """A service's settings, as every service declares them."""

    model_config = SettingsConfigDict(env_prefix="DEMO_", env_nested_delimiter="__", extra="ignore")


pytestmark = pytest.mark.unit


def test_a_service_refuses_to_start_without_database_broker_or_token_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (
        "DEMO_DATABASE_URL",
        "DEMO_KAFKA__BOOTSTRAP_SERVERS",
        "DEMO_AUTH__PUBLIC_KEY_PEM",
    ):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError) as missing:
        DemoSettings()
    text = str(missing.value)
    assert "database_url" in text and "kafka" in text and "auth" in text


def test_settings_come_from_the_environment_with_the_service_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_DATABASE_URL", "postgresql+asyncpg://ras@127.0.0.1:1/x")
    monkeypatch.setenv("DEMO_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:9")
    monkeypatch.setenv("DEMO_AUTH__PUBLIC_KEY_PEM", "pem")
    settings = DemoSettings()
    assert settings.kafka.bootstrap_servers == "127.0.0.1:9"
    assert settings.auth.public_key() == "pem"


def test_a_database_url_without_the_async_driver_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_DATABASE_URL", "postgresql://ras@127.0.0.1/x")
    monkeypatch.setenv("DEMO_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:9")
    monkeypatch.setenv("DEMO_AUTH__PUBLIC_KEY_PEM", "pem")
    with pytest.raises(ValidationError, match="asyncpg"):
        DemoSettings()


class Body(BaseModel):
    """A request body with one integer."""

    count: int


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    private, public = generate_keypair()
    app.state.token_verifier = TokenVerifier(public, issuer="ras-identity", audience="ras")
    app.state.signer = TokenSigner(private)

    @app.get("/boom")
    async def boom() -> None:
        raise AppError(409, "thing.conflict", "競合しています。", "It conflicts.")

    @app.post("/body")
    async def body(value: Body) -> int:
        return value.count

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        require_role(principal, "officer")
        return {"user": str(principal.user_id)}

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("bug")

    return app


async def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
    )


async def test_errors_leave_as_problem_details_with_a_stable_code_and_japanese_and_english() -> None:
    async with await _client(_app()) as client:
        conflict = await client.get("/boom")
        assert conflict.status_code == 409
        assert conflict.headers["content-type"] == "application/problem+json"
        assert conflict.json()["code"] == "thing.conflict"
        assert conflict.json()["message_ja"] == "競合しています。"
        invalid = await client.post("/body", json={"count": "many"})
        assert invalid.status_code == 422
        assert invalid.json()["code"] == "request.invalid"
        assert invalid.json()["fields"][0]["field"] == "count"
        assert "count" in invalid.json()["message_ja"]
        missing = await client.get("/nowhere")
        assert missing.status_code == 404 and missing.json()["code"] == "resource.not_found"
        crash = await client.get("/crash")
        assert crash.status_code == 500 and crash.json()["code"] == "internal.error"
        assert "bug" not in crash.text


async def test_tokens_are_verified_and_roles_enforced() -> None:
    app = _app()
    signer: TokenSigner = app.state.signer
    officer = Principal(user_id=uuid.uuid4(), roles=frozenset({"officer"}), bureau="tokyo")
    applicant = Principal(user_id=uuid.uuid4(), roles=frozenset({"applicant"}))
    async with await _client(app) as client:
        assert (await client.get("/me")).json()["code"] == "auth.required"
        ok = await client.get("/me", headers={"Authorization": f"Bearer {signer.sign(officer)}"})
        assert ok.status_code == 200 and ok.json()["user"] == str(officer.user_id)
        denied = await client.get("/me", headers={"Authorization": f"Bearer {signer.sign(applicant)}"})
        assert denied.status_code == 403 and denied.json()["code"] == "auth.role_required"
        expired = signer.sign(officer, ttl=timedelta(seconds=-5))
        assert (await client.get("/me", headers={"Authorization": f"Bearer {expired}"})).json()["code"] == (
            "auth.invalid_token"
        )
        forged = TokenSigner(generate_keypair()[0]).sign(officer)
        assert (await client.get("/me", headers={"Authorization": f"Bearer {forged}"})).status_code == 401


def test_a_principal_may_act_only_for_itself_and_linked_applicants() -> None:
    child = uuid.uuid4()
    parent = Principal(user_id=uuid.uuid4(), roles=frozenset({"applicant"}), acts_for=frozenset({child}))
    assert parent.may_act_for(child)
    assert parent.may_act_for(parent.user_id)
    assert not parent.may_act_for(uuid.uuid4())
    _, public = generate_keypair()
    private2, _ = generate_keypair()
    with pytest.raises(AppError):
        TokenVerifier(public, issuer="ras-identity", audience="ras").verify(
            TokenSigner(private2).sign(parent)
        )
