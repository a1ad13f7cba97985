"""Settings fail fast: loopback only, an explicit origin list."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from card_gateway.config import CardGatewaySettings

pytestmark = pytest.mark.unit


def test_reads_origins_from_the_environment_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARD_GATEWAY_ALLOWED_ORIGINS", "https://RAS.example.go.jp/, http://localhost:5173")
    monkeypatch.setenv("CARD_GATEWAY_PORT", "18000")
    settings = CardGatewaySettings()
    assert settings.allowed_origins == ["https://ras.example.go.jp", "http://localhost:5173"]
    assert settings.port == 18000 and settings.host == "127.0.0.1"


def test_refuses_to_start_without_an_origin_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CARD_GATEWAY_ALLOWED_ORIGINS", raising=False)
    with pytest.raises(ValidationError):
        CardGatewaySettings()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_refuses_to_bind_anywhere_but_loopback(host: str) -> None:
    with pytest.raises(ValidationError, match="loopback"):
        CardGatewaySettings(host=host, allowed_origins=["https://ras.example.go.jp"])


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_accepts_loopback_hosts(host: str) -> None:
    assert CardGatewaySettings(host=host, allowed_origins=["https://ras.example.go.jp"]).host == host


@pytest.mark.parametrize(
    "origin", ["*", "null", "https://ras.example.go.jp/path", "ftp://x", "ras.example.go.jp"]
)
def test_refuses_anything_but_exact_origins(origin: str) -> None:
    with pytest.raises(ValidationError):
        CardGatewaySettings(allowed_origins=[origin])
