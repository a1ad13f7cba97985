"""The scheduled job reminds 30 and 7 days before a password expires, exactly once per reminder."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from identity.service_layer.reminders import send_due_reminders
from shared.events import PasswordExpiring
from shared.testing.jpki import TestPki
from tests.identity.integration.conftest import Identity
from tests.identity.integration.support import execute, outbox_events, registered_user
from tests.support.apps import Infra, eventually
from tests.support.kafka import read_topic, settle

pytestmark = pytest.mark.integration


async def _age_password(identity: Identity, user_id: str, days: int) -> None:
    """Pretend the password was set ``days`` ago."""
    await execute(
        identity.services.sessions,
        f"UPDATE user_account SET password_changed_at = now() - interval '{days} days' WHERE id = :id",
        id=user_id,
    )


def reminders_of(identity: Identity, user_id: str, at_least: int = 1) -> Any:
    """Return a check for ``eventually``: the account's reminders once there are ``at_least``."""

    async def check() -> list[dict[str, Any]] | None:
        found = await outbox_events(identity.services.sessions, "PasswordExpiring", user_id)
        return found if len(found) >= at_least else None

    return check


async def test_the_job_sends_the_30_day_reminder_once_and_then_the_7_day_one_once(
    identity: Identity, live_pki: TestPki, infra: Infra
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    await _age_password(identity, user.user_id, 340)
    first = await eventually(reminders_of(identity, user.user_id), timeout=20)
    assert len(first) == 1 and first[0]["days_left"] in (25, 26)
    await send_due_reminders(identity.services)  # a second run, as another replica would do
    await settle(1.5)  # the background job runs every 0.5 s
    assert len(await reminders_of(identity, user.user_id)() or []) == 1

    expires_at = datetime.fromisoformat(first[0]["expires_at"])
    identity.clock.advance(expires_at - identity.clock() - timedelta(days=6))
    both = await eventually(reminders_of(identity, user.user_id, 2), timeout=20)
    await settle(1.5)
    assert [r["days_left"] for r in await reminders_of(identity, user.user_id)() or []] == [
        first[0]["days_left"],
        6,
    ]
    assert both[1]["expires_at"] == first[0]["expires_at"]

    records = await read_topic(
        infra.stack.kafka_bootstrap,
        PasswordExpiring.topic(),
        until=lambda rs: sum(r.key == user.user_id.encode() for r in rs) >= 2,
    )
    mine = [json.loads(r.value) for r in records if r.key == user.user_id.encode()]
    assert [m["days_left"] for m in mine] == [first[0]["days_left"], 6]
    assert all(m["email"] == user.email and m["locale"] == "ja" for m in mine)


async def test_a_password_found_within_7_days_of_expiry_gets_only_the_7_day_reminder(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    await _age_password(identity, user.user_id, 360)
    found = await eventually(reminders_of(identity, user.user_id), timeout=20)
    await settle(1.5)
    assert len(await reminders_of(identity, user.user_id)() or []) == 1
    assert found[0]["days_left"] <= 7
