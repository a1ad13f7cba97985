"""The SMTP adapter authenticates over STARTTLS to a real server, and sorts refusals into permanent and transient."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from notifications.adapters.smtp import AiosmtplibSender
from notifications.config import SmtpSettings
from notifications.service_layer.deliveries import PermanentDeliveryError, TransientDeliveryError
from tests.notifications.samples import address
from tests.notifications.smtp_server import (
    Credentials,
    TestSmtpServer,
    free_port,
    self_signed_certificate,
    server_tls_context,
)
from tests.support.apps import Infra

pytestmark = pytest.mark.integration


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[TestSmtpServer, Credentials, Path]]:
    """An SMTP server on loopback that requires STARTTLS and then AUTH."""
    cert, key = self_signed_certificate(tmp_path)
    credentials = Credentials("ras-mailer", "s3cret-pass")
    server = TestSmtpServer(
        tls_context=server_tls_context(cert, key),
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=credentials,
    )
    with server:
        yield server, credentials, cert


def message(to: str) -> EmailMessage:
    """Return a small message."""
    msg = EmailMessage()
    msg["From"] = "no-reply@ras-immi.example.jp"
    msg["To"] = to
    msg["Subject"] = "テスト / test"
    msg.set_content("本文 / body")
    return msg


async def test_mail_is_handed_over_with_auth_after_starttls_to_a_server_with_a_self_signed_certificate(
    tls_server: tuple[TestSmtpServer, Credentials, Path],
) -> None:
    server, credentials, cert = tls_server
    to = address("tls")
    sender = AiosmtplibSender(
        SmtpSettings(
            host="127.0.0.1",
            port=server.port,
            start_tls=True,
            username="ras-mailer",
            password="s3cret-pass",
            ca_file=cert,
        )
    )
    await sender.send(message(to))
    [received] = server.mailbox.to(to)
    assert received["Subject"] == "テスト / test"
    assert credentials.tries == [True]


async def test_a_wrong_smtp_password_is_a_transient_failure_so_queued_mail_waits_for_the_fix(
    tls_server: tuple[TestSmtpServer, Credentials, Path],
) -> None:
    server, credentials, cert = tls_server
    sender = AiosmtplibSender(
        SmtpSettings(
            host="127.0.0.1",
            port=server.port,
            start_tls=True,
            username="ras-mailer",
            password="wrong",
            ca_file=cert,
        )
    )
    with pytest.raises(TransientDeliveryError, match="535"):
        await sender.send(message(address("tls")))
    assert credentials.tries and not any(credentials.tries)


async def test_a_server_certificate_that_is_not_trusted_is_refused(
    tls_server: tuple[TestSmtpServer, Credentials, Path],
) -> None:
    server, _, _ = tls_server
    sender = AiosmtplibSender(
        SmtpSettings(host="127.0.0.1", port=server.port, start_tls=True, username="u", password="p")
    )
    with pytest.raises(TransientDeliveryError, match=r"(?i)certificate"):
        await sender.send(message(address("tls")))
    assert server.mailbox.messages == []


async def test_a_recipient_refused_with_550_is_a_permanent_failure(infra: Infra) -> None:
    sender = AiosmtplibSender(SmtpSettings(host="127.0.0.1", port=infra.stack.ports.smtp))
    with pytest.raises(PermanentDeliveryError, match="550"):
        await sender.send(message(address("reject-me")))


async def test_no_server_listening_is_a_transient_failure() -> None:
    sender = AiosmtplibSender(SmtpSettings(host="127.0.0.1", port=free_port(), timeout_s=2))
    with pytest.raises(TransientDeliveryError):
        await sender.send(message(address("nobody")))
