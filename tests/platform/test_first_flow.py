"""The platform end to end: identity commits a row and its event, notifications consumes it once and mails."""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from identity.config import IdentitySettings
from identity.main import create_app as create_identity
from notifications.config import NotificationsSettings, SmtpSettings
from notifications.main import create_app as create_notifications
from shared.events import all_topics
from shared.settings import TelemetrySettings
from shared.telemetry import tracer_provider
from tests.support.apps import Infra, eventually, mail_to, running, text_of

pytestmark = pytest.mark.integration


async def test_a_registration_reaches_the_user_as_one_mail_in_both_languages_within_one_trace(
    infra: Infra,
) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider("tests", TelemetrySettings()).add_span_processor(SimpleSpanProcessor(exporter))
    identity = create_identity(IdentitySettings(**infra.common("identity")))
    notifications = create_notifications(
        NotificationsSettings(
            **infra.common("notifications"), smtp=SmtpSettings(host="127.0.0.1", port=infra.stack.ports.smtp)
        )
    )
    address = f"user-{uuid.uuid4().hex[:10]}@example.jp"
    async with running(identity) as client, running(notifications):
        response = await client.post(
            "/api/identity/provisional-registrations", json={"category": "foreign_national", "email": address}
        )
        assert response.status_code == 201, response.text
        mails = await eventually(lambda: mail_to(infra.stack.mail_dir, address), timeout=60)
    assert len(mails) == 1
    mail = mails[0]
    assert "利用者情報登録を受け付けました" in mail["Subject"]
    assert "Your registration was received" in mail["Subject"]
    body = text_of(mail)
    assert "パスワード設定用のリンク" in body and "link to set your password" in body
    assert mail["Message-ID"].endswith("@ras-immi.example.jp>")

    spans = exporter.get_finished_spans()
    http = [s for s in spans if s.name.startswith("POST /api/identity/provisional-registrations")]
    assert http, [s.name for s in spans]
    trace_id = http[0].context.trace_id
    consumer_spans = [s for s in spans if "user-registered" in s.name and s.kind.name == "CONSUMER"]
    assert consumer_spans, [s.name for s in spans]
    assert any(s.context.trace_id == trace_id for s in consumer_spans), (
        "the consumer's work is not in the request's trace"
    )


def test_kcat_lists_every_versioned_topic_and_its_dead_letter_topic(infra: Infra) -> None:
    kcat = shutil.which("kcat")
    assert kcat, "kcat is installed by scripts/bootstrap.sh"
    listing = subprocess.run(
        [kcat, "-b", infra.stack.kafka_bootstrap, "-L"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    for topic in all_topics():
        assert f'topic "{topic}"' in listing, topic
