"""Fast look-ups in the SMTP catcher's folder, which every test session and engineer shares (thousands of files):
each file's envelope line is read once and remembered, and only matching messages are parsed."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

_envelopes: dict[Path, str] = {}


def _envelope_to(path: Path) -> str:
    known = _envelopes.get(path)
    if known is None:
        with open(path, "rb") as fh:
            known = fh.readline().decode(errors="replace")  # "X-Envelope-To: ..." comes first
        _envelopes[path] = known
    return known


def mails_to(directory: Path, address: str) -> list[EmailMessage]:
    """Return the messages whose envelope recipient is ``address``, oldest first."""
    found = []
    for path in sorted(directory.glob("*.eml")):
        if address in _envelope_to(path):
            with open(path, "rb") as fh:
                message = email.message_from_binary_file(fh, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.append(message)
    return found


def count_containing(directory: Path, token: str) -> int:
    """Return how many messages have ``token`` in their envelope recipient."""
    return sum(1 for path in directory.glob("*.eml") if token in _envelope_to(path))


def mails_containing(directory: Path, token: str) -> list[EmailMessage]:
    """Return the messages with ``token`` in their envelope recipient, oldest first."""
    return mails_to(directory, token)
