"""Sign-in lockout per account and per client address, with the unlock time explained."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from identity.domain.lockout import LockoutPolicy, evaluate_lockout

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def minutes_ago(*values: int) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in values]


def test_not_locked_below_the_threshold_and_counts_attempts_left() -> None:
    decision = evaluate_lockout(account_failures=minutes_ago(1, 2, 3), now=NOW)
    assert not decision.locked
    assert decision.failures_left == 2
    assert decision.reason() is None


def test_five_failures_within_15_minutes_lock_the_account_for_30_minutes() -> None:
    decision = evaluate_lockout(account_failures=minutes_ago(10, 8, 6, 4, 2), now=NOW)
    assert decision.locked
    assert decision.scope == "account"
    assert decision.until == NOW - timedelta(minutes=2) + timedelta(minutes=30)
    assert decision.failures_left == 0


def test_the_lock_ends_after_its_duration() -> None:
    failures = minutes_ago(10, 8, 6, 4, 2)
    later = NOW + timedelta(minutes=29)
    assert not evaluate_lockout(account_failures=failures, now=later).locked


def test_failures_spread_beyond_the_window_do_not_lock() -> None:
    assert not evaluate_lockout(account_failures=minutes_ago(60, 45, 30, 15, 0), now=NOW).locked


def test_many_failures_from_one_address_lock_that_address() -> None:
    address = [NOW - timedelta(seconds=20 * i) for i in range(20)]
    decision = evaluate_lockout(account_failures=[], address_failures=address, now=NOW)
    assert decision.locked
    assert decision.scope == "address"
    reason = decision.reason()
    assert reason is not None
    assert reason.code == "signin.address_locked"


def test_the_message_says_when_it_unlocks_in_japan_time() -> None:
    decision = evaluate_lockout(account_failures=minutes_ago(5, 4, 3, 2, 1), now=NOW)
    reason = decision.reason()
    assert reason is not None
    assert reason.code == "signin.locked"
    # 09:00 UTC - 1 min + 30 min = 09:29 UTC = 18:29 JST
    assert "2026年3月1日 18:29" in reason.ja
    assert "18:29 on 1 March 2026 (Japan time)" in reason.en


def test_thresholds_are_policy() -> None:
    policy = LockoutPolicy(account_max_failures=3)
    assert evaluate_lockout(account_failures=minutes_ago(3, 2, 1), now=NOW, policy=policy).locked
