"""認証ID (authentication ID): the sign-in identifier issued after the password is set.

Format: 10 characters from the 32-character alphabet ``23456789ABCDEFGHJKLMNPQRSTUVWXYZ`` (no ``0``/``O``, ``1``/``I``
to avoid misreading): 9 random characters (45 bits) and a final check character computed with the Luhn mod-32
algorithm, which catches every single-character typo and most swaps of neighbours. Shown to users in two groups of
five (``ABCDE-FGH2K``); input is accepted with or without the hyphen, spaces and in lower case. Uniqueness is the
database's job (regenerate on a unique-constraint conflict).
"""

from __future__ import annotations

import secrets
import unicodedata

__all__ = [
    "AUTH_ID_ALPHABET",
    "AUTH_ID_LENGTH",
    "check_character",
    "format_auth_id",
    "generate_auth_id",
    "normalize_auth_id",
]

AUTH_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
AUTH_ID_LENGTH = 10
_BASE = len(AUTH_ID_ALPHABET)
_INDEX = {c: i for i, c in enumerate(AUTH_ID_ALPHABET)}


def _luhn_sum(chars: str, *, start_factor: int) -> int:
    """Return the Luhn mod-N sum of ``chars`` read right to left."""
    factor, total = start_factor, 0
    for char in reversed(chars):
        addend = _INDEX[char] * factor
        total += addend // _BASE + addend % _BASE
        factor = 1 if factor == 2 else 2
    return total


def check_character(payload: str) -> str:
    """Return the Luhn mod-32 check character of a payload."""
    return AUTH_ID_ALPHABET[(_BASE - _luhn_sum(payload, start_factor=2) % _BASE) % _BASE]


def generate_auth_id() -> str:
    """Return a new random 認証ID (normalised form, no hyphen)."""
    payload = "".join(secrets.choice(AUTH_ID_ALPHABET) for _ in range(AUTH_ID_LENGTH - 1))
    return payload + check_character(payload)


def normalize_auth_id(text: str) -> str | None:
    """Return the canonical 認証ID for user input, or ``None`` when it is not a well-formed one."""
    folded = unicodedata.normalize("NFKC", text)
    candidate = "".join(folded.split()).replace("-", "").replace("‐", "").replace("ー", "").upper()
    if len(candidate) != AUTH_ID_LENGTH or any(c not in _INDEX for c in candidate):
        return None
    if _luhn_sum(candidate, start_factor=1) % _BASE != 0:
        return None
    return candidate


def format_auth_id(auth_id: str) -> str:
    """Return the 認証ID as shown to users: two groups of five joined by a hyphen."""
    return f"{auth_id[:5]}-{auth_id[5:]}"
