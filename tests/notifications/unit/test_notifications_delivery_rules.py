"""Pure rules of delivery: keys, Message-IDs, addresses, backoff, the MIME message and the settings."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from notifications.config import DeliverySettings, MailSettings, SmtpSettings
from notifications.service_layer.deliveries import (
    PermanentDeliveryError,
    backoff,
    build_message,
    idempotency_key,
    message_id_for,
    valid_address,
)

pytestmark = pytest.mark.unit


def test_one_event_gives_one_key_per_recipient_and_template_whatever_the_case_of_the_address() -> None:
    event_id = uuid.uuid4()
    assert idempotency_key(event_id, "t", " A@Example.JP ") == idempotency_key(event_id, "t", "a@example.jp")
    assert idempotency_key(event_id, "t", "a@example.jp") != idempotency_key(event_id, "u", "a@example.jp")


def test_the_message_id_is_stable_for_a_key_and_differs_between_keys() -> None:
    mail = MailSettings(message_id_domain="mail.example.jp")
    assert message_id_for("k1", mail) == message_id_for("k1", mail)
    assert message_id_for("k1", mail) != message_id_for("k2", mail)
    assert message_id_for("k1", mail).endswith("@mail.example.jp>")


@pytest.mark.parametrize("address", ["a@example.jp", "first.last+tag@sub.example.co.jp"])
def test_a_plain_mailbox_is_a_valid_address(address: str) -> None:
    assert valid_address(address)


@pytest.mark.parametrize(
    "address", ["", "no-at-sign", "a@nodot", "a@b.jp\r\nBcc: x@y.jp", "Name <a@b.jp>", "a b@c.jp", "a@b@c.jp"]
)
def test_anything_else_is_refused_as_an_invalid_address(address: str) -> None:
    assert not valid_address(address)


def test_a_row_with_an_invalid_address_fails_permanently_before_any_smtp_traffic() -> None:
    row = SimpleNamespace(recipient="Bcc: x@y.jp\r\n", subject="s", body_text="b", body_html=None)
    with pytest.raises(PermanentDeliveryError):
        build_message(row, MailSettings())


def test_backoff_doubles_up_to_its_cap_with_a_little_jitter() -> None:
    policy = DeliverySettings(backoff_base_s=1, backoff_max_s=8)
    waits = [backoff(n, policy).total_seconds() for n in range(1, 7)]
    for wait, base in zip(waits, [1, 2, 4, 8, 8, 8], strict=True):
        assert base <= wait <= base * 1.2


def test_the_message_has_the_sender_reply_to_stable_id_and_both_bodies() -> None:
    row = SimpleNamespace(
        id=uuid.uuid4(),
        source_event_id=uuid.uuid4(),
        recipient="a@example.jp",
        subject="件名 / Subject",
        body_text="本文",
        body_html="<p>本文</p>",
        message_id="<x@ras.example.jp>",
        template="application_submitted",
        locale=None,
    )
    message = build_message(row, MailSettings(sender="from@ras.example.jp", reply_to="desk@ras.example.jp"))
    assert (message["From"], message["Reply-To"], message["Message-ID"]) == (
        "from@ras.example.jp",
        "desk@ras.example.jp",
        "<x@ras.example.jp>",
    )
    assert message["Content-Language"] == "ja, en"
    assert message.get_body(preferencelist=("html",)) is not None


def test_smtp_settings_refuse_tls_and_starttls_together_and_a_user_without_password() -> None:
    with pytest.raises(ValidationError, match="exclude each other"):
        SmtpSettings(host="h", use_tls=True, start_tls=True)
    with pytest.raises(ValidationError, match="both"):
        SmtpSettings(host="h", username="u")
