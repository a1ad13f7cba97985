"""Rounds: round 1 before submission, later rounds opened by the bureau, each with its own limit and declaration."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from attachments.checks.models import MB
from shared.auth import Principal
from shared.events import (
    ApplicationReturned,
    ApplicationReviewStarted,
    ApplicationSubmitted,
    Event,
    Recipient,
)
from shared.events.applications import Form9Declaration
from tests.attachments.checks.attachment_check_factories import Files
from tests.attachments.service.support import AttachmentsStack, applicant, officer, padded_pdf
from tests.support.apps import eventually
from tests.support.kafka import produce

pytestmark = pytest.mark.integration


async def publish(stack: AttachmentsStack, event: Event) -> None:
    """Publish an applications-service event as that service would."""
    await produce(stack.bootstrap, event.topic(), event.model_dump_json().encode(), key=event.key().encode())


async def round_states(stack: AttachmentsStack, principal: Principal, application_id: uuid.UUID) -> list[str]:
    """The state of each round, oldest first."""
    return [r["state"] for r in (await stack.application(principal, application_id))["rounds"]]


def submitted(
    application_id: uuid.UUID, applicant_id: uuid.UUID, email: str = "app@example.jp"
) -> ApplicationSubmitted:
    """The applications service's submission event."""
    return ApplicationSubmitted(
        application_id=application_id,
        provisional_receipt_number="T-0001",
        procedures=["extension"],
        status_of_residence="engineer_humanities_international",
        filer_user_id=applicant_id,
        applicant_id=applicant_id,
        bureau="tokyo",
        recipients=[Recipient(email=email, locale="en")],
    )


async def test_round_one_closes_at_submission_and_a_later_upload_is_refused(
    stack: AttachmentsStack, files: Files
) -> None:
    person = applicant()
    application_id = uuid.uuid4()
    pdf = files.plain_bytes(files.text_pdf())
    assert (await stack.upload(person, application_id, pdf)).status_code == 202
    await publish(stack, submitted(application_id, person.user_id))

    async def closed() -> bool:
        return await round_states(stack, person, application_id) == ["closed"]

    await eventually(closed, timeout=60)
    view = await stack.application(person, application_id)
    assert view["submitted"] is True and view["open_round"] is None
    refused = await stack.upload(person, application_id, pdf)
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "attachments.round_closed"
    assert problem["round_number"] == 1
    assert "閉め切" in problem["message_ja"] or "締め切" in problem["message_ja"]


async def test_the_bureau_opens_round_two_with_its_own_ten_megabytes_and_review_closes_it(
    stack: AttachmentsStack, files: Files
) -> None:
    person = applicant()
    application_id = uuid.uuid4()
    big = padded_pdf(files, 9 * MB)
    assert (await stack.upload(person, application_id, big)).status_code == 202
    full = await stack.upload(person, application_id, padded_pdf(files, 2 * MB))
    assert full.status_code == 413
    await publish(stack, submitted(application_id, person.user_id))
    returned = ApplicationReturned(
        application_id=application_id,
        officer_id=uuid.uuid4(),
        requested_documents=["課税証明書"],
        round_number=2,
        recipients=[Recipient(email="app@example.jp", locale="en")],
    )
    await publish(stack, returned)

    async def reopened() -> bool:
        return await round_states(stack, person, application_id) == ["closed", "open"]

    await eventually(reopened, timeout=60)
    second = await stack.upload(person, application_id, big, email="filer@example.jp")
    assert second.status_code == 202, second.text
    assert second.json()["round_number"] == 2
    view = await stack.application(person, application_id)
    assert view["open_round"] == 2
    assert [r["used_bytes"] for r in view["rounds"]] == [len(big), len(big)]
    assert view["rounds"][1]["remaining_bytes"] == 10 * MB - len(big)
    verdict = await stack.verdict(person, second.json()["attachment_id"])
    assert verdict["state"] == "accepted", verdict["reasons"]
    await publish(stack, ApplicationReviewStarted(application_id=application_id, officer_id=uuid.uuid4()))

    async def closed_again() -> bool:
        return await round_states(stack, person, application_id) == ["closed", "closed"]

    await eventually(closed_again, timeout=60)


async def rounds_of(stack: AttachmentsStack, principal: Principal, application_id: uuid.UUID) -> list[Any]:
    """Return the application's rounds as the attachments API shows them."""
    response = await stack.client.get(
        f"/api/attachments/applications/{application_id}", headers=stack.auth(principal)
    )
    return list(response.json()["rounds"]) if response.status_code == 200 else []


async def test_each_round_shows_the_form_9_box_the_applications_service_says_it_needs(
    stack: AttachmentsStack, files: Files
) -> None:
    person = applicant()
    application_id = uuid.uuid4()
    assert (
        await stack.upload(person, application_id, files.plain_bytes(files.text_pdf()))
    ).status_code == 202
    gone = await stack.client.put(
        f"/api/attachments/applications/{application_id}/rounds/1/declaration",
        json={"declaration": "more_will_be_attached_later"},
        headers=stack.auth(person),
    )
    assert gone.status_code in (404, 405)  # 参考様式9 is the applications service's (ADR 0014)
    await publish(
        stack,
        submitted(application_id, person.user_id).model_copy(
            update={
                "over_10mb_declared": True,
                "declaration_form9": Form9Declaration(
                    tick="more_will_be_attached_later", text_ja="…", text_en="…"
                ),
            }
        ),
    )
    await publish(
        stack,
        ApplicationReturned(
            application_id=application_id,
            officer_id=uuid.uuid4(),
            requested_documents=["残りの資料"],
            round_number=2,
            declaration_form9=Form9Declaration(
                tick="bureau_requested_additional_documents", text_ja="…", text_en="…"
            ),
        ),
    )

    async def both() -> list[Any] | None:
        rounds = await rounds_of(stack, officer(), application_id)
        return rounds if len(rounds) == 2 and rounds[1]["declaration_form9"] else None

    first, second = await eventually(both, timeout=60)
    assert (
        first["declaration_form9"] == "more_will_be_attached_later" and first["over_limit_declared"] is True
    )
    assert second["declaration_form9"] == "bureau_requested_additional_documents"
    assert second["state"] == "open"


async def test_a_round_needs_no_form_9_when_the_applications_service_says_none(
    stack: AttachmentsStack, files: Files
) -> None:
    person = applicant()
    application_id = uuid.uuid4()
    await publish(stack, submitted(application_id, person.user_id))
    await publish(
        stack,
        ApplicationReturned(
            application_id=application_id, officer_id=uuid.uuid4(), requested_documents=[], round_number=2
        ),
    )

    async def reopened() -> list[Any] | None:
        rounds = await rounds_of(stack, person, application_id)
        return rounds if len(rounds) == 2 and rounds[1]["state"] == "open" else None

    rounds = await eventually(reopened, timeout=60)
    assert [r["declaration_form9"] for r in rounds] == [None, None]
    assert rounds[0]["over_limit_declared"] is False
