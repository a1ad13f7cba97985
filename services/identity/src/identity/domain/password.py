"""Password rules (each failure names its rule, in Japanese and English) and argon2id hashing.

Rules *(policy, :class:`PasswordPolicy`)*:

- ``password.too_short``: at least 12 characters;
- ``password.too_long``: at most 64 characters;
- ``password.invalid_character``: no control characters (spaces and any script are fine);
- ``password.too_few_character_classes``: at least 3 of 4 classes: lower-case, upper-case, digits, other symbols
  (letters without case, such as kana or kanji, count as symbols);
- ``password.contains_auth_id``: does not contain the 認証ID (case-insensitive);
- ``password.contains_email``: does not contain the e-mail address's local part (case-insensitive, when ≥ 3 chars);
- ``password.common``: not in the common-password list (:mod:`identity.domain.policy_data`).

Passwords are NFC-normalised before checking and hashing, so the same visible text always verifies.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from identity.domain.errors import IdentityRefusal, Reason
from identity.domain.policy_data import COMMON_PASSWORDS, POLICY_VERSION

__all__ = [
    "DEFAULT_PASSWORD_POLICY",
    "Argon2Parameters",
    "PasswordHashing",
    "PasswordPolicy",
    "PasswordRejected",
    "check_password",
    "normalize_password",
    "require_valid_password",
]


@dataclass(frozen=True)
class PasswordPolicy:
    """The password rules' parameters *(policy)*."""

    min_length: int = 12
    max_length: int = 64
    min_character_classes: int = 3
    min_email_local_part: int = 3
    common_passwords: frozenset[str] = field(default=COMMON_PASSWORDS, repr=False)
    version: str = POLICY_VERSION


DEFAULT_PASSWORD_POLICY = PasswordPolicy()


class PasswordRejected(IdentityRefusal):
    """A password broke one or more rules; ``reasons`` lists every one (the first is ``reason``)."""

    def __init__(self, reasons: list[Reason]) -> None:
        super().__init__(reasons[0])
        self.reasons = reasons


def normalize_password(password: str) -> str:
    """Return the NFC form used for checking and hashing."""
    return unicodedata.normalize("NFC", password)


def _character_classes(password: str) -> int:
    """Count the character classes present: lower, upper, digit, other."""
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not (c.islower() or c.isupper() or c.isdigit()) for c in password)
    return sum((lower, upper, digit, other))


def check_password(
    password: str,
    *,
    auth_id: str | None = None,
    email: str | None = None,
    policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY,
) -> list[Reason]:
    """Return every rule the password breaks (empty when acceptable)."""
    pw = normalize_password(password)
    folded = pw.casefold()
    reasons: list[Reason] = []
    if len(pw) < policy.min_length:
        reasons.append(
            Reason(
                "password.too_short",
                f"パスワードは{policy.min_length}文字以上にしてください（現在{len(pw)}文字）。",
                f"Use at least {policy.min_length} characters (you used {len(pw)}).",
                "password",
            )
        )
    if len(pw) > policy.max_length:
        reasons.append(
            Reason(
                "password.too_long",
                f"パスワードは{policy.max_length}文字以内にしてください（現在{len(pw)}文字）。",
                f"Use at most {policy.max_length} characters (you used {len(pw)}).",
                "password",
            )
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in pw):
        reasons.append(
            Reason(
                "password.invalid_character",
                "パスワードに制御文字などの使用できない文字が含まれています。",
                "The password contains control or invisible characters, which cannot be used.",
                "password",
            )
        )
    if _character_classes(pw) < policy.min_character_classes:
        reasons.append(
            Reason(
                "password.too_few_character_classes",
                f"英小文字・英大文字・数字・記号のうち{policy.min_character_classes}種類以上を組み合わせてください。",
                f"Mix at least {policy.min_character_classes} of: lower-case letters, upper-case letters, digits, symbols.",
                "password",
            )
        )
    if auth_id and auth_id.casefold() in folded:
        reasons.append(
            Reason(
                "password.contains_auth_id",
                "パスワードに認証IDを含めないでください。",
                "The password must not contain your authentication ID (認証ID).",
                "password",
            )
        )
    local = email.rsplit("@", 1)[0].casefold() if email else ""
    if len(local) >= policy.min_email_local_part and local in folded:
        reasons.append(
            Reason(
                "password.contains_email",
                "パスワードにメールアドレスの@より前の部分を含めないでください。",
                "The password must not contain the part of your e-mail address before the @.",
                "password",
            )
        )
    if folded in policy.common_passwords:
        reasons.append(
            Reason(
                "password.common",
                "このパスワードはよく使われていて推測されやすいため使用できません。別のパスワードにしてください。",
                "This password is too common and easy to guess. Choose another one.",
                "password",
            )
        )
    return reasons


def require_valid_password(
    password: str,
    *,
    auth_id: str | None = None,
    email: str | None = None,
    policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY,
) -> None:
    """Raise :class:`PasswordRejected` listing every broken rule, or return."""
    reasons = check_password(password, auth_id=auth_id, email=email, policy=policy)
    if reasons:
        raise PasswordRejected(reasons)


@dataclass(frozen=True)
class Argon2Parameters:
    """argon2id cost parameters; defaults are RFC 9106's second recommendation (t=3, 64 MiB, p=4)."""

    time_cost: int = 3
    memory_cost_kib: int = 64 * 1024
    parallelism: int = 4
    hash_len: int = 32
    salt_len: int = 16


class PasswordHashing:
    """argon2id hashing of passwords (PHC string format, salt included)."""

    def __init__(self, parameters: Argon2Parameters | None = None) -> None:
        p = parameters or Argon2Parameters()
        self._hasher = PasswordHasher(
            time_cost=p.time_cost,
            memory_cost=p.memory_cost_kib,
            parallelism=p.parallelism,
            hash_len=p.hash_len,
            salt_len=p.salt_len,
        )

    def hash(self, password: str) -> str:
        """Return the argon2id PHC string of a password."""
        return self._hasher.hash(normalize_password(password))

    def verify(self, stored_hash: str, password: str) -> bool:
        """Return whether the password matches the stored hash (``False`` for mismatches and unreadable hashes)."""
        try:
            return self._hasher.verify(stored_hash, normalize_password(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Return whether the stored hash used other parameters and should be replaced at the next sign-in."""
        return self._hasher.check_needs_rehash(stored_hash)
