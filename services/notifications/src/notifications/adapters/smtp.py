"""SMTP adapter: aiosmtplib with STARTTLS or implicit TLS and authentication as configured.

Failures are sorted for the delivery worker. Permanent (no retry): a 5xx answer to the recipient (RCPT) or to
the message (DATA). Server unavailable (the worker pauses, and the mail never fails for it): no connection,
refused or dropped connections, timeouts, and 421 (the server is closing). Transient (retry with backoff): any
other 4xx, and 5xx answers before the recipient is named (HELO, STARTTLS, AUTH, MAIL FROM) — those mean our own
set-up is wrong (a bad password, a refused sender), which an operator fixes once for every queued mail, so they
must not fail each mail for good.
"""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from notifications.config import SmtpSettings
from notifications.service_layer.deliveries import (
    PermanentDeliveryError,
    SmtpUnavailableError,
    TransientDeliveryError,
)


class AiosmtplibSender:
    """Hands messages to the configured SMTP server and classifies failures as permanent or transient."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._s = settings

    async def send(self, message: EmailMessage) -> None:
        """Send one message (a new connection each time, so a broken connection never carries over)."""
        s = self._s
        try:
            errors, _ = await aiosmtplib.send(
                message,
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password,
                use_tls=s.use_tls,
                start_tls=s.start_tls,
                validate_certs=s.validate_certs,
                cert_bundle=str(s.ca_file) if s.ca_file else None,
                timeout=s.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            if codes and all(500 <= c < 600 for c in codes):
                raise PermanentDeliveryError(f"recipient refused: {detail}") from exc
            if codes and all(c == 421 for c in codes):
                raise SmtpUnavailableError(f"server closing: {detail}") from exc
            raise TransientDeliveryError(f"recipient deferred: {detail}") from exc
        except aiosmtplib.SMTPDataError as exc:
            if exc.code == 421:
                raise SmtpUnavailableError(f"server closing: {exc.code} {exc.message}") from exc
            if 500 <= exc.code < 600:
                raise PermanentDeliveryError(f"message refused: {exc.code} {exc.message}") from exc
            raise TransientDeliveryError(f"message deferred: {exc.code} {exc.message}") from exc
        except (
            aiosmtplib.SMTPConnectError,
            aiosmtplib.SMTPServerDisconnected,
            aiosmtplib.SMTPTimeoutError,
        ) as exc:
            raise SmtpUnavailableError(repr(exc)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:
                raise SmtpUnavailableError(f"server answered {exc.code} {exc.message}") from exc
            raise TransientDeliveryError(f"server answered {exc.code} {exc.message}") from exc
        except (OSError, TimeoutError) as exc:
            raise SmtpUnavailableError(repr(exc)) from exc
        except aiosmtplib.SMTPException as exc:
            raise TransientDeliveryError(repr(exc)) from exc
        if errors:
            detail = "; ".join(f"{addr}: {resp.code} {resp.message}" for addr, resp in errors.items())
            if all(500 <= resp.code < 600 for resp in errors.values()):
                raise PermanentDeliveryError(f"recipient refused: {detail}")
            raise TransientDeliveryError(f"recipient deferred: {detail}")
