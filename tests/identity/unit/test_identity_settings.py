"""Identity refuses to start without its signing key, pepper, trust anchors or revocation source."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError

from identity.config import IdentitySettings, JpkiSettings, RevocationSettings
from shared.auth import generate_keypair
from shared.settings import AuthSettings, KafkaSettings
from shared.testing.jpki import TestPki

pytestmark = pytest.mark.unit

PKI = TestPki.create(datetime(2026, 3, 1, tzinfo=UTC))


def pem(kind: str) -> str:
    return PKI.ca(kind, "2023").certificate.public_bytes(serialization.Encoding.PEM).decode()  # type: ignore[arg-type]


def settings(**overrides: Any) -> IdentitySettings:
    private, public = generate_keypair()
    values: dict[str, Any] = {
        "database_url": "postgresql+asyncpg://ras@127.0.0.1:1/ras_identity",
        "kafka": KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        "auth": AuthSettings(public_key_pem=public),
        "token_private_key_pem": private,
        "handle_pepper": "a-pepper-of-sufficient-length",
        "jpki": {"auth_ca_pems": [pem("auth")], "sign_ca_pems": [pem("sign")]},
        "revocation": {"backend": "ocsp", "ocsp_url": "http://127.0.0.1:1/ocsp"},
        "web_base_url": "https://ras.example.jp/",
        **overrides,
    }
    return IdentitySettings(**values)


def test_complete_settings_load_and_parse_the_anchors() -> None:
    loaded = settings()
    assert [a.label for a in loaded.jpki.anchors()] == ["auth-0", "sign-0"]
    assert loaded.web_base_url == "https://ras.example.jp"
    assert len(loaded.pepper()) >= 16


def test_anchor_files_are_labelled_by_their_names(tmp_path: Path) -> None:
    auth = tmp_path / "auth-2023.pem"
    sign = tmp_path / "sign-2023.der"
    auth.write_text(pem("auth"))
    sign.write_bytes(PKI.sign_ca("2023").der)
    anchors = JpkiSettings(auth_ca_files=[auth], sign_ca_files=[sign]).anchors()
    assert [(a.kind, a.label) for a in anchors] == [("auth", "auth-2023"), ("sign", "sign-2023")]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"token_private_key_pem": None}, "IDENTITY_TOKEN_PRIVATE_KEY_FILE"),
        ({"token_private_key_pem": None, "token_private_key_file": "/nonexistent/key.pem"}, "does not exist"),
        ({"token_private_key_pem": "not a key"}, "not an unencrypted PEM private key"),
        ({"handle_pepper": "short"}, "IDENTITY_HANDLE_PEPPER"),
        ({"jpki": {"sign_ca_pems": [pem("sign")]}}, "authentication trust anchor"),
        ({"jpki": {"auth_ca_pems": [pem("auth")]}}, "signature trust anchor"),
        ({"jpki": {"auth_ca_pems": ["not a pem"], "sign_ca_pems": [pem("sign")]}}, "auth-0"),
        ({"jpki": {"auth_ca_files": ["/nonexistent.pem"], "sign_ca_pems": [pem("sign")]}}, "does not exist"),
        ({"revocation": {"backend": "ocsp"}}, "OCSP_URL"),
        ({"revocation": {"backend": "crl"}}, "IDENTITY_REVOCATION__CRL"),
        ({"web_base_url": "ras.example.jp"}, "IDENTITY_WEB_BASE_URL"),
    ],
)
def test_missing_or_broken_settings_stop_the_start_with_a_clear_message(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**overrides)


def test_a_missing_pepper_stops_the_start() -> None:
    values = settings().model_dump()
    values.pop("handle_pepper")
    with pytest.raises(ValidationError, match="handle_pepper"):
        IdentitySettings(**values)


def test_a_crl_for_an_anchor_that_is_not_configured_is_refused() -> None:
    from identity.adapters.revocation_factory import build_revocation_checker

    loaded = settings()
    with pytest.raises(ValueError, match="auth-2099"):
        build_revocation_checker(
            RevocationSettings(backend="crl", crl={"auth-2099": "/tmp/x.crl"}), loaded.jpki.anchors()
        )


def test_no_proxy_is_trusted_unless_configured_and_entries_must_be_addresses_or_networks() -> None:
    assert settings().trusted_proxies == [] and settings().proxy_networks() == []
    configured = settings(trusted_proxies=["10.0.0.5", "10.1.0.0/24", "::1"])
    assert [str(n) for n in configured.proxy_networks()] == ["10.0.0.5/32", "10.1.0.0/24", "::1/128"]
    with pytest.raises(ValidationError, match="IDENTITY_TRUSTED_PROXIES"):
        settings(trusted_proxies=["gateway.local"])


def test_rate_limits_are_settings_with_defaults() -> None:
    limits = settings().rate_limits
    assert limits.sign_in_per_address.limit >= limits.sign_in_per_account.limit >= 1
    assert (
        settings(
            rate_limits={"card_challenge_per_address": {"limit": 3, "window_s": 60}}
        ).rate_limits.card_challenge_per_address.limit
        == 3
    )
    with pytest.raises(ValidationError):
        settings(rate_limits={"reset_per_address": {"limit": 0, "window_s": 60}})
