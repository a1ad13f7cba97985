"""Sign-in lockout: too many failed attempts per account or per client address within a window lock for a while.

Pure functions over the failure timestamps the caller keeps. Pass the account's failures since its last successful
sign-in and the address's recent failures; do not record attempts that were refused because of a lock (they would
extend it). Defaults *(policy)*: 5 failures within 15 minutes lock the account for 30 minutes; 20 failures from one
address within 15 minutes lock that address for 30 minutes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from identity.domain.errors import Reason

__all__ = ["DEFAULT_LOCKOUT_POLICY", "JST", "LockoutDecision", "LockoutPolicy", "evaluate_lockout"]

JST = timezone(timedelta(hours=9), "JST")


@dataclass(frozen=True)
class LockoutPolicy:
    """Thresholds, windows and lock durations *(policy)*."""

    account_max_failures: int = 5
    account_window: timedelta = timedelta(minutes=15)
    account_lock: timedelta = timedelta(minutes=30)
    address_max_failures: int = 20
    address_window: timedelta = timedelta(minutes=15)
    address_lock: timedelta = timedelta(minutes=30)


DEFAULT_LOCKOUT_POLICY = LockoutPolicy()


@dataclass(frozen=True)
class LockoutDecision:
    """Whether sign-in is locked, for which scope, until when, and how many account attempts remain."""

    locked: bool
    scope: Literal["account", "address"] | None
    until: datetime | None
    failures_left: int

    def reason(self) -> Reason | None:
        """Return the explanation to show (with the unlock time in Japan time), or ``None`` when not locked."""
        if not self.locked or self.until is None:
            return None
        local = self.until.astimezone(JST)
        ja_when = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
        en_when = f"{local:%H:%M} on {local.day} {local:%B %Y} (Japan time)"
        if self.scope == "account":
            return Reason(
                "signin.locked",
                f"サインインに続けて失敗したため、このアカウントは{ja_when}までロックされています。"
                "その後にもう一度お試しください。パスワードを忘れた場合は、パスワードの再設定ができます。",
                f"Too many failed sign-ins: this account is locked until {en_when}. Try again after that, "
                "or reset your password if you have forgotten it.",
            )
        return Reason(
            "signin.address_locked",
            f"この接続元からのサインイン失敗が多いため、{ja_when}までサインインできません。",
            f"Too many failed sign-ins from your network: signing in is blocked until {en_when}.",
        )


def _locked_until(
    failures: Iterable[datetime], *, max_failures: int, window: timedelta, lock: timedelta
) -> datetime | None:
    """Return the latest end of a lock triggered by ``max_failures`` failures within ``window``."""
    times = sorted(failures)
    until: datetime | None = None
    for i in range(max_failures - 1, len(times)):
        if times[i] - times[i - max_failures + 1] < window:
            candidate = times[i] + lock
            until = candidate if until is None or candidate > until else until
    return until


def evaluate_lockout(
    *,
    account_failures: Iterable[datetime],
    address_failures: Iterable[datetime] = (),
    now: datetime,
    policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
) -> LockoutDecision:
    """Decide whether a sign-in attempt at ``now`` is locked out."""
    account = list(account_failures)
    account_until = _locked_until(
        account,
        max_failures=policy.account_max_failures,
        window=policy.account_window,
        lock=policy.account_lock,
    )
    address_until = _locked_until(
        address_failures,
        max_failures=policy.address_max_failures,
        window=policy.address_window,
        lock=policy.address_lock,
    )
    recent = sum(1 for t in account if now - policy.account_window < t <= now)
    left = max(policy.account_max_failures - recent, 0)
    if account_until is not None and account_until > now:
        return LockoutDecision(True, "account", account_until, 0)
    if address_until is not None and address_until > now:
        return LockoutDecision(True, "address", address_until, left)
    return LockoutDecision(False, None, None, left)
