"""SMTP adapter: aiosmtplib with STARTTLS/TLS and authentication as configured."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from notifications.config import SmtpSettings
from notifications.service_layer.deliveries import PermanentDeliveryError, TransientDeliveryError


class AiosmtplibSender:
    """Hands messages to the configured SMTP server and classifies failures as permanent or transient."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._s = settings

    async def send(self, message: EmailMessage) -> None:
        """Send one message."""
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
                timeout=s.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if all(500 <= c < 600 for c in codes):
                raise PermanentDeliveryError(str(exc)) from exc
            raise TransientDeliveryError(str(exc)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentDeliveryError(f"{exc.code} {exc.message}") from exc
            raise TransientDeliveryError(f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransientDeliveryError(repr(exc)) from exc
        refused = {addr: resp for addr, resp in errors.items()}
        if refused:
            raise PermanentDeliveryError(f"refused: {refused}")
