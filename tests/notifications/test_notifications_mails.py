"""Each person-facing event becomes one mail per recipient, in their language, through the real SMTP catcher;
operators read the delivery log and re-send."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage

import httpx
import pytest
import pytest_asyncio

from notifications.config import DeliverySettings, NotificationsSettings, SmtpSettings
from notifications.main import create_app
from shared.auth import Principal, TokenSigner
from shared.events import ApplicationSubmitted, EmailDelivered, EmailFailed, PasswordSetupRequested, Recipient
from tests.notifications.bus import publish
from tests.notifications.maildir import mails_to as mail_to
from tests.notifications.samples import EXPIRES, SAMPLES, Sample, address
from tests.support.apps import Infra, eventually, running, text_of
from tests.support.kafka import read_topic, settle

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(infra: Infra) -> AsyncIterator[httpx.AsyncClient]:
    """The notifications app running in-process against the session's Kafka, PostgreSQL and SMTP catcher."""
    app = create_app(
        NotificationsSettings(
            **infra.common("notifications"),
            smtp=SmtpSettings(host="127.0.0.1", port=infra.stack.ports.smtp),
            delivery=DeliverySettings(poll_interval_s=0.2, backoff_base_s=0.2, backoff_max_s=1.0),
        )
    )
    async with running(app) as http:
        yield http


def token(infra: Infra, *roles: str) -> dict[str, str]:
    """Return an Authorization header for a caller holding ``roles``."""
    signed = TokenSigner(infra.private_key).sign(Principal(user_id=uuid.uuid4(), roles=frozenset(roles)))
    return {"Authorization": f"Bearer {signed}"}


async def one_mail(infra: Infra, to: str) -> EmailMessage:
    """Wait for the mail to ``to`` and return it."""
    mails: list[EmailMessage] = await eventually(lambda: mail_to(infra.stack.mail_dir, to), timeout=60)
    assert len(mails) == 1, [m["Message-ID"] for m in mails]
    return mails[0]


def html_of(message: EmailMessage) -> str:
    """Return the HTML body of a message."""
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    content: str = part.get_content()
    return content


def submitted(*recipients: Recipient) -> ApplicationSubmitted:
    """Return an ApplicationSubmitted event for the recipients."""
    return ApplicationSubmitted(
        application_id=uuid.uuid4(),
        recipients=list(recipients),
        provisional_receipt_number=f"P-{uuid.uuid4().hex[:8]}",
        procedures=["extension"],
        status_of_residence="student",
        filer_user_id=uuid.uuid4(),
        applicant_id=uuid.uuid4(),
        bureau="tokyo",
    )


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.template)
async def test_each_mail_reaches_its_recipient_in_their_own_language(
    infra: Infra, client: httpx.AsyncClient, sample: Sample
) -> None:
    ja, en = address("ja"), address("en")
    await publish(infra.stack.kafka_bootstrap, sample.build(ja, "ja"), sample.build(en, "en"))
    ja_mail, en_mail = await one_mail(infra, ja), await one_mail(infra, en)

    assert sample.subject_ja in ja_mail["Subject"] and sample.subject_en not in ja_mail["Subject"]
    for phrase in sample.body_ja:
        assert phrase in text_of(ja_mail), phrase
    assert sample.subject_en in en_mail["Subject"] and sample.subject_ja not in en_mail["Subject"]
    for phrase in sample.body_en:
        assert phrase in text_of(en_mail), phrase
    for mail, lang in ((ja_mail, "ja"), (en_mail, "en")):
        assert f'<html lang="{lang}">' in html_of(mail)
        assert mail["From"] == "no-reply@ras-immi.example.jp"
        assert mail["X-RAS-Template"] == sample.template
        assert mail["Auto-Submitted"] == "auto-generated"
        assert mail["Message-ID"].endswith("@ras-immi.example.jp>")
    assert ja_mail["Message-ID"] != en_mail["Message-ID"]


async def test_a_recipient_whose_language_is_unknown_gets_one_mail_in_japanese_then_english(
    infra: Infra, client: httpx.AsyncClient
) -> None:
    to = address("both")
    await publish(infra.stack.kafka_bootstrap, submitted(Recipient(email=to, locale=None)))
    mail = await one_mail(infra, to)
    assert "申請を受け付けました" in mail["Subject"] and "Application received" in mail["Subject"]
    body = text_of(mail)
    assert body.index("仮受付番号") < body.index("Provisional receipt number")


async def test_the_receipt_reaches_the_applicant_and_the_filer_once_each_even_when_the_event_arrives_twice(
    infra: Infra, client: httpx.AsyncClient
) -> None:
    applicant, filer = address("applicant"), address("filer")
    event = submitted(
        Recipient(email=applicant, locale="ja", role="applicant"),
        Recipient(email=filer, locale="en", role="filer"),
    )
    await publish(infra.stack.kafka_bootstrap, event, event)
    to_applicant, to_filer = await one_mail(infra, applicant), await one_mail(infra, filer)
    await settle(2)
    assert len(mail_to(infra.stack.mail_dir, applicant)) == 1
    assert len(mail_to(infra.stack.mail_dir, filer)) == 1
    assert "申請中であることの証明" in text_of(to_applicant)
    assert "The applicant's own e-mail address has been sent the same notice" in text_of(to_filer)


async def test_a_refused_address_fails_at_once_and_publishes_email_failed_while_the_other_is_delivered(
    infra: Infra, client: httpx.AsyncClient
) -> None:
    refused, fine = address("reject-me"), address("fine")
    event = submitted(
        Recipient(email=fine, locale="ja", role="applicant"),
        Recipient(email=refused, locale="ja", role="filer"),
    )
    await publish(infra.stack.kafka_bootstrap, event)
    await one_mail(infra, fine)

    def about(records: list[object], topic_recipient: str) -> list[dict[str, object]]:
        values = [json.loads(getattr(r, "value", b"") or b"{}") for r in records]
        return [v for v in values if v.get("recipient") == topic_recipient]

    failed = await read_topic(
        infra.stack.kafka_bootstrap, EmailFailed.topic(), until=lambda rs: bool(about(list(rs), refused))
    )
    [failure] = about(list(failed), refused)
    assert failure["permanent"] is True and "550" in str(failure["error"])
    assert failure["source_event_id"] == str(event.event_id)
    delivered = await read_topic(
        infra.stack.kafka_bootstrap, EmailDelivered.topic(), until=lambda rs: bool(about(list(rs), fine))
    )
    assert about(list(delivered), fine)[0]["message_id"] == one_or_none(infra, fine)

    log = await client.get(
        "/api/notifications/deliveries", params={"recipient": refused}, headers=token(infra, "operator")
    )
    [row] = log.json()["items"]
    assert (row["status"], row["attempts"], row["permanent_failure"]) == ("failed", 1, True)
    failures = await client.get("/api/notifications/failures", headers=token(infra, "operator"))
    assert row["id"] in [f["id"] for f in failures.json()["items"]]


def one_or_none(infra: Infra, to: str) -> str | None:
    """Return the Message-ID of the one mail to ``to``."""
    mails = mail_to(infra.stack.mail_dir, to)
    return str(mails[0]["Message-ID"]) if len(mails) == 1 else None


async def test_operators_read_the_log_by_application_and_resend_a_mail_as_a_new_linked_delivery(
    infra: Infra, client: httpx.AsyncClient
) -> None:
    applicant, filer = address("applicant"), address("filer")
    event = submitted(
        Recipient(email=applicant, locale="ja", role="applicant"),
        Recipient(email=filer, locale="ja", role="filer"),
    )
    await publish(infra.stack.kafka_bootstrap, event)
    first = await one_mail(infra, applicant)
    await one_mail(infra, filer)
    operator = token(infra, "operator")

    async def logged_as_delivered() -> httpx.Response | None:
        # the catcher may hold the mail a moment before the sender records it as delivered
        response = await client.get(
            "/api/notifications/deliveries",
            params={"application_id": str(event.application_id)},
            headers=operator,
        )
        items = response.json().get("items", []) if response.status_code == 200 else []
        return response if len(items) == 2 and all(r["status"] == "delivered" for r in items) else None

    by_application = await eventually(logged_as_delivered, timeout=30)
    assert by_application.status_code == 200
    rows = by_application.json()["items"]
    assert {r["recipient"] for r in rows} == {applicant, filer}
    assert all(r["status"] == "delivered" and r["template"] == "application_submitted" for r in rows)
    assert all("body_text" not in r for r in rows)
    original = next(r for r in rows if r["recipient"] == applicant)

    by_recipient = await client.get(
        "/api/notifications/deliveries", params={"recipient": applicant.upper()}, headers=operator
    )
    assert [r["id"] for r in by_recipient.json()["items"]] == [original["id"]]

    headers = {**operator, "Idempotency-Key": "ticket-4711"}
    resent = await client.post(f"/api/notifications/deliveries/{original['id']}/resend", headers=headers)
    assert resent.status_code == 202, resent.text
    again = await client.post(f"/api/notifications/deliveries/{original['id']}/resend", headers=headers)
    assert again.status_code == 200 and again.json()["id"] == resent.json()["id"]
    copy = resent.json()
    assert copy["resend_of"] == original["id"] and copy["id"] != original["id"]
    assert copy["message_id"] != original["message_id"]

    mails = await eventually(lambda: len(mail_to(infra.stack.mail_dir, applicant)) == 2 or None, timeout=30)
    assert mails
    both = mail_to(infra.stack.mail_dir, applicant)
    assert {m["Message-ID"] for m in both} == {first["Message-ID"], copy["message_id"]}
    assert text_of(both[0]) == text_of(both[1])
    shown = await client.get(f"/api/notifications/deliveries/{copy['id']}", headers=operator)
    assert shown.json()["status"] == "delivered"


async def test_a_delivered_mail_holding_a_password_link_is_erased_and_cannot_be_resent(
    infra: Infra, client: httpx.AsyncClient
) -> None:
    to = address("setup")
    event = PasswordSetupRequested(
        user_id=uuid.uuid4(),
        email=to,
        locale="ja",
        setup_url="https://ras.example.jp/s/T0KEN",
        expires_at=EXPIRES,
    )
    await publish(infra.stack.kafka_bootstrap, event)
    assert "https://ras.example.jp/s/T0KEN" in text_of(await one_mail(infra, to))
    operator = token(infra, "operator")

    async def delivered_row() -> dict[str, object] | None:
        rows = (
            await client.get("/api/notifications/deliveries", params={"recipient": to}, headers=operator)
        ).json()["items"]
        return rows[0] if rows and rows[0]["status"] == "delivered" else None

    row = await eventually(delivered_row)
    refused = await client.post(f"/api/notifications/deliveries/{row['id']}/resend", headers=operator)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == "delivery.secret_not_resendable"
    assert "再送はできません" in problem["message_ja"] and "cannot be re-sent" in problem["message_en"]


async def test_operator_endpoints_answer_problem_details_to_anyone_else(
    infra: Infra, client: httpx.AsyncClient
) -> None:
    anonymous = await client.get("/api/notifications/failures")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "auth.required")
    forged = await client.get("/api/notifications/failures", headers={"Authorization": "Bearer not-a-token"})
    assert (forged.status_code, forged.json()["code"]) == (401, "auth.invalid_token")
    applicant = await client.get("/api/notifications/failures", headers=token(infra, "applicant"))
    assert (applicant.status_code, applicant.json()["code"]) == (403, "auth.role_required")
    operator = token(infra, "operator")
    unknown = await client.post(f"/api/notifications/deliveries/{uuid.uuid4()}/resend", headers=operator)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "delivery.not_found")
    assert unknown.json()["message_ja"] and unknown.json()["message_en"]
    unfiltered = await client.get("/api/notifications/deliveries", headers=operator)
    assert (unfiltered.status_code, unfiltered.json()["code"]) == (422, "delivery.filter_required")
    bad_id = await client.get("/api/notifications/deliveries/not-a-uuid", headers=operator)
    assert (bad_id.status_code, bad_id.json()["code"]) == (422, "request.invalid")


async def test_the_openapi_document_lists_every_error_code_of_the_operator_endpoints(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    resend = spec["paths"]["/api/notifications/deliveries/{delivery_id}/resend"]["post"]["responses"]
    expected = {
        "401": ["auth.required", "auth.invalid_token"],
        "403": ["auth.role_required"],
        "404": ["delivery.not_found"],
        "409": ["delivery.in_progress", "delivery.secret_not_resendable"],
        "422": ["request.invalid"],
    }
    for status, codes in expected.items():
        for code in codes:
            assert f"`{code}`" in resend[status]["description"], (status, code)
    log = spec["paths"]["/api/notifications/deliveries"]["get"]["responses"]
    assert "`delivery.filter_required`" in log["422"]["description"]
