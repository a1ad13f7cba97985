"""The platform end to end: identity commits a registration and its events, notifications consumes them once and mails."""

from __future__ import annotations

import base64
import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from identity.adapters.ocsp_simulator import OcspSimulator, SimulatedCa
from identity.main import create_app as create_identity
from notifications.config import NotificationsSettings, SmtpSettings
from notifications.main import create_app as create_notifications
from shared.events import all_topics
from shared.settings import TelemetrySettings
from shared.telemetry import tracer_provider
from shared.testing.jpki import TestPki
from tests.identity.integration.support import b64, identity_settings, outbox_events, random_email
from tests.support.apps import Infra, eventually, mail_to, running, text_of

pytestmark = pytest.mark.integration


async def test_a_registration_reaches_the_user_as_mail_in_both_languages_within_one_trace(
    infra: Infra,
) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider("tests", TelemetrySettings()).add_span_processor(SimpleSpanProcessor(exporter))
    pki = TestPki.create(datetime.now(UTC))
    card = pki.issue_card()
    simulator = OcspSimulator([SimulatedCa(ca.certificate, ca.key) for ca in pki.trusted_cas()])
    notifications = create_notifications(
        NotificationsSettings(
            **infra.common("notifications"), smtp=SmtpSettings(host="127.0.0.1", port=infra.stack.ports.smtp)
        )
    )
    address = random_email()
    async with simulator:
        identity = create_identity(identity_settings(infra, pki, simulator.ocsp_url))
        async with running(identity) as client, running(notifications):
            issued = (
                await client.post("/api/identity/card-challenges", json={"purpose": "registration"})
            ).json()
            signature = card.sign("auth", base64.b64decode(issued["challenge"]))
            response = await client.post(
                "/api/identity/registrations",
                json={
                    "attempt_id": issued["attempt_id"],
                    "challenge_id": issued["challenge_id"],
                    "certificate": b64(card.auth_cert_der),
                    "signature": b64(signature),
                    "category": "foreign_national",
                    "email": address,
                    "agreed_to_terms": True,
                },
            )
            assert response.status_code == 201, response.text
            user_id = response.json()["user_id"]
            setup_url = (
                await outbox_events(identity.state.identity.sessions, "PasswordSetupRequested", user_id)
            )[0]["setup_url"]
            mails = await eventually(
                lambda: (found := mail_to(infra.stack.mail_dir, address)) and len(found) >= 2 and found,
                timeout=60,
            )
    received = [m for m in mails if "利用者情報登録を受け付けました" in m["Subject"]]
    assert len(received) == 1
    mail = received[0]
    assert "Your registration was received" in mail["Subject"]
    assert mail["Message-ID"].endswith("@ras-immi.example.jp>")
    link_mails = [m for m in mails if setup_url in text_of(m)]
    assert len(link_mails) == 1, [m["Subject"] for m in mails]

    spans = exporter.get_finished_spans()
    http = [s for s in spans if s.name.startswith("POST /api/identity/registrations")]
    assert http, [s.name for s in spans]
    trace_id = http[0].context.trace_id
    for topic in ("user-registered", "password-setup-requested"):
        consumer_spans = [s for s in spans if topic in s.name and s.kind.name == "CONSUMER"]
        assert consumer_spans, [s.name for s in spans]
        assert any(s.context.trace_id == trace_id for s in consumer_spans), (
            f"the consumer's work on {topic} is not in the request's trace"
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
