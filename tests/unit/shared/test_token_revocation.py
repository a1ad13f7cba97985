"""Access tokens: every bad token is refused, and ended sign-ins are refused even when the token is cached."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from shared.auth import Principal, RevocationList, TokenSigner, TokenVerifier, generate_keypair
from shared.errors import AppError
from shared.events import SessionsRevoked
from shared.revocations import RevocationFeed
from shared.settings import KafkaSettings

pytestmark = pytest.mark.unit

PRIVATE, PUBLIC = generate_keypair()


def principal(session_id: str | None = None) -> Principal:
    """Return an applicant with a sign-in id."""
    return Principal(
        user_id=uuid.uuid4(), roles=frozenset({"applicant"}), session_id=session_id or str(uuid.uuid4())
    )


def verifier(revocations: RevocationList | None = None) -> TokenVerifier:
    """Return a verifier of the test key."""
    return TokenVerifier(PUBLIC, issuer="ras-identity", audience="ras", revocations=revocations)


def later(seconds: float = 900) -> datetime:
    """Return a moment in the future."""
    return datetime.now(UTC) + timedelta(seconds=seconds)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _hs256(claims: dict[str, object], key: bytes) -> str:
    """Return a token MACed with HS256 under ``key`` (the key-confusion attack)."""
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def bad_tokens() -> dict[str, str]:
    """Return one token of each kind that must be refused."""
    signer = TokenSigner(PRIVATE)
    good = signer.sign(principal())
    header, payload, signature = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})
    tampered_claims = {**claims, "roles": ["officer"]}
    public_der = PUBLIC.encode()
    return {
        "expired": signer.sign(principal(), ttl=timedelta(seconds=-5)),
        "other key": TokenSigner(generate_keypair()[0]).sign(principal()),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "tampered": f"{header}.{_b64(tampered_claims)}.{signature}",
        "HS256 with the public key": _hs256(claims, public_der),
        "garbage": "not-a-token",
    }


@pytest.mark.parametrize("kind", list(bad_tokens()))
def test_every_bad_token_is_refused(kind: str) -> None:
    with pytest.raises(AppError) as refused:
        verifier(RevocationList()).verify(bad_tokens()[kind])
    assert refused.value.status == 401 and refused.value.code == "auth.invalid_token"


def test_tokens_carry_the_sign_in_id_and_their_issue_time() -> None:
    who = principal("f" * 32)
    seen = verifier().verify(TokenSigner(PRIVATE).sign(who))
    assert seen.session_id == "f" * 32 and seen.issued_at is not None
    assert abs(seen.issued_at - time.time()) < 60


def test_an_ended_sign_in_is_refused_even_after_its_token_was_cached() -> None:
    revocations = RevocationList()
    check = verifier(revocations)
    ended, going_on = principal(), principal()
    ended_token, other_token = TokenSigner(PRIVATE).sign(ended), TokenSigner(PRIVATE).sign(going_on)
    assert check.verify(ended_token).user_id == ended.user_id  # now cached
    revocations.revoke(user_id=ended.user_id, session_ids=[ended.session_id or ""], valid_until=later())
    with pytest.raises(AppError):
        check.verify(ended_token)
    with pytest.raises(AppError):
        check.verify(ended_token)
    assert check.verify(other_token).user_id == going_on.user_id


def test_a_cut_off_ends_tokens_issued_in_earlier_seconds_only() -> None:
    revocations = RevocationList()
    check = verifier(revocations)
    who = principal()
    old = TokenSigner(PRIVATE).sign(who)
    revocations.revoke(
        user_id=who.user_id, issued_before=datetime.now(UTC) + timedelta(seconds=2), valid_until=later()
    )
    with pytest.raises(AppError):
        check.verify(old)
    revocations.revoke(
        user_id=uuid.uuid4(), issued_before=datetime.now(UTC) - timedelta(seconds=5), valid_until=later()
    )
    fresh = principal()
    assert check.verify(TokenSigner(PRIVATE).sign(fresh)).user_id == fresh.user_id


def test_entries_leave_once_no_token_they_concern_can_be_valid() -> None:
    revocations = RevocationList()
    who = principal()
    revocations.revoke(user_id=who.user_id, session_ids=[who.session_id or ""], valid_until=later(-1))
    assert len(revocations) == 0 and not revocations.is_revoked(who)
    revocations.revoke(user_id=who.user_id, session_ids=["a"], valid_until=later(0.2))
    assert len(revocations) == 1
    time.sleep(1.3)
    revocations.revoke(user_id=who.user_id, session_ids=["b"], valid_until=later())
    assert len(revocations) == 1


def test_the_feed_applies_sessions_revoked_messages_and_skips_unreadable_ones() -> None:
    revocations = RevocationList()
    feed = RevocationFeed(KafkaSettings(bootstrap_servers="127.0.0.1:9"), revocations, client_id="t")
    who = principal()
    event = SessionsRevoked(
        user_id=who.user_id,
        reason="signed_out",
        session_ids=[uuid.UUID(who.session_id or "")],
        valid_until=later(),
    )
    feed._apply(b"{not json")
    feed._apply(None)
    assert len(revocations) == 0
    feed._apply(event.model_dump_json().encode())
    assert revocations.is_revoked(who) and feed.applied == 1
