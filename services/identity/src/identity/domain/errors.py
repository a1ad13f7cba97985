"""Reasons for refusals: a stable machine code plus what happened and what to do, in Japanese and English."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """One refusal or validation failure: stable ``code``, ``ja`` and ``en`` messages, optional ``field``."""

    code: str
    ja: str
    en: str
    field: str | None = None


class IdentityRefusal(Exception):
    """Base of the domain's refusals; ``reason`` says which and why."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(f"{reason.code}: {reason.en}")
        self.reason = reason

    @property
    def code(self) -> str:
        """Return the stable refusal code."""
        return self.reason.code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.reason.code!r})"
