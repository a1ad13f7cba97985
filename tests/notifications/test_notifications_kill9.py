"""The service runs as its own process (uvicorn), is killed with SIGKILL in the middle of a burst and started
again: no mail is lost, and no mail reaches anyone twice — a copy can only come from a send the dead process
made in the instant between the server's 250 and its commit, and then carries the same Message-ID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from notifications.adapters.orm import email_delivery
from shared.db import create_engine, session_factory
from shared.events import ApplicationSubmitted, Recipient
from tests.notifications.bus import publish
from tests.notifications.maildir import count_containing, mails_containing
from tests.notifications.smtp_server import free_port
from tests.support.apps import Infra, eventually
from tests.support.stack import ROOT

pytestmark = pytest.mark.integration

EVENTS = 80  # two recipients each: 160 mails


class ServiceProcess:
    """The notifications service as a separate uvicorn process, as `deploy/localstack.py` starts it."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start uvicorn with the app factory."""
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "notifications.main:app_from_env",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--no-access-log",
                ],
                env={**os.environ, **self.env},
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def alive(self) -> bool:
        """Return True once /alive answers."""
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the service exited with {self.proc.returncode}; see {self.log}")
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"http://127.0.0.1:{self.port}/alive", timeout=1)).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the process and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)


@pytest.fixture
def service(infra: Infra, tmp_path: Path) -> Iterator[ServiceProcess]:
    """A notifications process pointed at the test infrastructure; stopped at the end whatever happens."""
    prefix = "NOTIFICATIONS_"
    env = {
        f"{prefix}DATABASE_URL": infra.db_url("notifications"),
        f"{prefix}KAFKA__BOOTSTRAP_SERVERS": infra.stack.kafka_bootstrap,
        f"{prefix}AUTH__PUBLIC_KEY_PEM": infra.public_key,
        f"{prefix}SMTP__HOST": "127.0.0.1",
        f"{prefix}SMTP__PORT": str(infra.stack.ports.smtp),
        f"{prefix}DELIVERY__CONCURRENCY": "2",
        f"{prefix}DELIVERY__LEASE_S": "3",
        f"{prefix}DELIVERY__POLL_INTERVAL_S": "0.2",
        f"{prefix}DELIVERY__BACKOFF_BASE_S": "0.2",
        f"{prefix}DELIVERY__BACKOFF_MAX_S": "1",
        f"{prefix}MESSAGING__CONSUMER_BACKOFF_S": "0.05",
        f"{prefix}MESSAGING__OUTBOX_POLL_INTERVAL_S": "0.2",
    }
    process = ServiceProcess(env, free_port(), tmp_path / "notifications.log")
    try:
        yield process
    finally:
        process.kill(signal.SIGTERM)


async def test_a_service_killed_mid_burst_and_restarted_loses_no_mail_and_doubles_none(
    infra: Infra, service: ServiceProcess
) -> None:
    run = uuid.uuid4().hex[:8]
    events = [
        ApplicationSubmitted(
            application_id=uuid.uuid4(),
            recipients=[
                Recipient(email=f"k9-{run}-{i}-applicant@example.jp", locale="ja", role="applicant"),
                Recipient(email=f"k9-{run}-{i}-filer@example.jp", locale="en", role="filer"),
            ],
            provisional_receipt_number=f"P-{run}-{i}",
            procedures=["change"],
            status_of_residence="student",
            filer_user_id=uuid.uuid4(),
            applicant_id=uuid.uuid4(),
            bureau="tokyo",
        )
        for i in range(EVENTS)
    ]
    total = 2 * EVENTS
    mail_dir = infra.stack.mail_dir

    service.start()
    await eventually(service.alive, timeout=60)
    await publish(infra.stack.kafka_bootstrap, *events)
    await eventually(lambda: count_containing(mail_dir, run) >= 10, timeout=90, interval=0.02)
    service.kill(signal.SIGKILL)
    before = count_containing(mail_dir, run)
    assert before < total, "the kill must fall in the middle of the burst"

    service.start()
    await eventually(service.alive, timeout=60)
    engine = create_engine(infra.db_url("notifications"), pool_size=2)
    sessions = session_factory(engine)
    ids = [e.application_id for e in events]

    async def all_delivered() -> list[object] | None:
        async with sessions() as session:
            rows = (
                await session.execute(select(email_delivery).where(email_delivery.c.application_id.in_(ids)))
            ).all()
        done = len(rows) == total and all(r.status == "delivered" for r in rows)
        return list(rows) if done else None

    try:
        rows = await eventually(all_delivered, timeout=120, interval=0.5)
    finally:
        await engine.dispose()
    mails = mails_containing(mail_dir, run)

    expected = {f"k9-{run}-{i}-{role}@example.jp" for i in range(EVENTS) for role in ("applicant", "filer")}
    assert {str(m["To"]) for m in mails} == expected, "every recipient got their receipt"
    assert {m["Message-ID"] for m in mails} == {r.message_id for r in rows}
    per_recipient = {to: {m["Message-ID"] for m in mails if str(m["To"]) == to} for to in expected}
    assert all(len(ids) == 1 for ids in per_recipient.values()), "no one got two different mails"
    copies = len(mails) - total
    in_doubt = sum(r.in_doubt_sends for r in rows)
    assert 0 <= copies <= in_doubt <= 2, (copies, in_doubt)  # at most one in-flight send per sending slot
