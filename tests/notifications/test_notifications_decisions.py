"""Every decision that matters to a person reaches the applicant's and the filer's addresses on record: the
applications and notifications services in-process on the real broker, PostgreSQL and SMTP catcher."""

from __future__ import annotations

import uuid
from datetime import timedelta
from email.message import EmailMessage

import httpx
import pytest

from notifications.config import DeliverySettings, NotificationsSettings, SmtpSettings
from notifications.main import create_app as create_notifications
from shared.events import UserRegistered
from tests.applications.integration.applications_support import (
    SELF_EXTENSION_KINDS,
    People,
    accept,
    applications_client,
    publish,
    random_bureau,
    today,
    wait_for_attachments,
)
from tests.applications.integration.test_applications_lifecycle import complete_draft, contact_known
from tests.notifications.maildir import mails_to
from tests.support.apps import Infra, eventually, running, text_of

pytestmark = pytest.mark.integration


def notifications_app(infra: Infra) -> object:
    """Return the notifications service on the session's infrastructure."""
    return create_notifications(
        NotificationsSettings(
            **infra.common("notifications"),
            smtp=SmtpSettings(host="127.0.0.1", port=infra.stack.ports.smtp),
            delivery=DeliverySettings(poll_interval_s=0.2, backoff_base_s=0.2, backoff_max_s=1.0),
        )
    )


async def submitted(
    infra: Infra, client: httpx.AsyncClient, headers: dict[str, str], bureau: str, email: str
) -> tuple[str, str]:
    """Submit a self-filed extension whose step 1 names the applicant's own address; return its id and path."""
    path, _ = await complete_draft(client, headers, bureau, email=email)
    application_id = path.rsplit("/", 1)[1]
    await accept(infra, uuid.UUID(application_id), *SELF_EXTENSION_KINDS)
    await wait_for_attachments(client, path, headers, 4)
    response = await client.post(f"{path}/submit", headers=headers)
    assert response.status_code == 200, response.text
    return application_id, path


def by_template(address: str, infra: Infra) -> dict[str, list[EmailMessage]]:
    """Return the mails to an address grouped by template."""
    grouped: dict[str, list[EmailMessage]] = {}
    for mail in mails_to(infra.stack.mail_dir, address):
        grouped.setdefault(str(mail["X-RAS-Template"]), []).append(mail)
    return grouped


async def test_refusal_withdrawal_documents_requested_and_dispatch_reach_the_applicant_and_the_filer(
    infra: Infra,
) -> None:
    people = People(infra)
    me = people.applicant()
    headers = people.headers(me)
    bureau = random_bureau()
    officer = people.headers(people.officer(bureau))
    operator = people.headers(people.operator())
    own = f"own-{uuid.uuid4().hex[:10]}@example.jp"  # the applicant's address from step 1 (locale en)
    filer = f"filer-{uuid.uuid4().hex[:10]}@example.jp"  # the account's address from identity (locale ja)
    due = today() + timedelta(days=20)
    wanted = {
        "application_refused",
        "application_withdrawn",
        "application_returned",
        "card_dispatched",
    }
    async with applications_client(infra) as client, running(notifications_app(infra)):  # type: ignore[arg-type]
        await publish(
            infra, UserRegistered(user_id=me.user_id, category="foreign_national", email=filer, locale="ja")
        )
        await eventually(lambda: contact_known(infra, me.user_id), timeout=60)
        refused_id, _ = await submitted(infra, client, headers, bureau, own)
        dispatched_id, _ = await submitted(infra, client, headers, bureau, own)
        _, withdrawn_path = await submitted(infra, client, headers, bureau, own)
        withdrawn = await client.post(
            f"{withdrawn_path}/withdraw", json={"reason": "帰国します"}, headers=headers
        )
        assert withdrawn.status_code == 200, withdrawn.text
        await client.post("/api/back-office/jobs/assign-receipt-numbers", headers=operator)

        refused_base = f"/api/back-office/applications/{refused_id}"
        await client.post(f"{refused_base}/start-review", headers=officer)
        refused = await client.post(
            f"{refused_base}/refuse", json={"reason": "要件を満たしません"}, headers=officer
        )
        assert refused.status_code == 200, refused.text

        base = f"/api/back-office/applications/{dispatched_id}"
        await client.post(f"{base}/start-review", headers=officer)
        returned = await client.post(
            f"{base}/return",
            json={"requested_documents": [{"description": "在職証明書"}], "deadline": due.isoformat()},
            headers=officer,
        )
        assert returned.status_code == 200, returned.text
        received = await client.post(f"{base}/documents-received", json={"channel": "post"}, headers=officer)
        assert received.status_code == 200, received.text
        await client.post(f"{base}/complete-review", headers=officer)
        sent = await client.post(
            f"{base}/dispatch-card", json={"tracking_number": "1234-5678-9012"}, headers=officer
        )
        assert sent.status_code == 200, sent.text

        def arrived() -> tuple[dict[str, list[EmailMessage]], dict[str, list[EmailMessage]]] | None:
            to_own, to_filer = by_template(own, infra), by_template(filer, infra)
            return (to_own, to_filer) if wanted <= set(to_own) and wanted <= set(to_filer) else None

        to_own, to_filer = await eventually(arrived, timeout=90)

    for template in wanted:
        assert len(to_own[template]) == 1 and len(to_filer[template]) == 1, template
    # each in the recipient's own language: the applicant's step-1 locale is en, the filer's account is ja
    refusal_en, refusal_ja = (
        text_of(to_own["application_refused"][0]),
        text_of(to_filer["application_refused"][0]),
    )
    assert "What to do next" in refusal_en and "要件を満たしません" in refusal_en
    assert "今後の手続について" in refusal_ja
    assert "帰国します" in text_of(to_own["application_withdrawn"][0])
    assert "取下げ" in str(to_filer["application_withdrawn"][0]["Subject"])
    returned_en, returned_ja = (
        text_of(to_own["application_returned"][0]),
        text_of(to_filer["application_returned"][0]),
    )
    assert "在職証明書" in returned_en and f"Submit them by: {due.day} {due:%B %Y}" in returned_en
    assert f"提出期限: {due.year}年{due.month}月{due.day}日" in returned_ja
    assert "参考様式9" not in returned_ja  # filed under 10 MB: no declaration asked for
    assert "Tracking number: 1234-5678-9012" in text_of(to_own["card_dispatched"][0])
    assert "1234-5678-9012" in text_of(to_filer["card_dispatched"][0])
