"""Submission, receipt numbers, the state machine and the back office on the real broker and database."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from applications.adapters.orm import user_contact
from applications.cli import main as cli_main
from applications.domain.clock import JAPAN, FixedClock, SystemClock
from applications.reference import load_reference_data
from applications.service_layer.services import ApplicationService
from shared.db import create_engine, session_factory
from shared.events import (
    ApplicationRefused,
    ApplicationReturned,
    ApplicationReviewStarted,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CardDispatched,
    ReceiptNumberAssigned,
    ReviewCompleted,
    TaxInfoRegistered,
    UserRegistered,
)
from shared.events.applications import ApplicationClosed, DocumentsResubmitted
from tests.applications.integration.applications_support import (
    SELF_EXTENSION_KINDS,
    People,
    accept,
    applications_client,
    etag_of,
    events_of,
    extension_draft,
    full_extension_form,
    publish,
    random_bureau,
    reject,
    settings,
    today,
    wait_for_attachments,
)
from tests.support.apps import Infra, eventually

pytestmark = pytest.mark.integration


async def complete_draft(
    client: httpx.AsyncClient, headers: dict[str, str], bureau: str, **draft: Any
) -> tuple[str, httpx.Response]:
    """Create a self-filed extension draft with a complete form; return its path and the last response."""
    expires = today() + timedelta(days=60)
    created = await client.post(
        "/api/applications", json=extension_draft(bureau=bureau, expires=expires, **draft), headers=headers
    )
    assert created.status_code == 201, created.text
    path = f"/api/applications/{created.json()['id']}"
    saved = await client.patch(
        f"{path}/forms/extension", json=full_extension_form(expires), headers=headers | etag_of(created)
    )
    assert saved.status_code == 200, saved.text
    return path, saved


async def submitted_application(
    infra: Infra, client: httpx.AsyncClient, headers: dict[str, str], bureau: str
) -> tuple[uuid.UUID, str]:
    """Return a submitted application's id and path."""
    path, _ = await complete_draft(client, headers, bureau)
    application_id = uuid.UUID(path.rsplit("/", 1)[1])
    await accept(infra, application_id, *SELF_EXTENSION_KINDS)
    await wait_for_attachments(client, path, headers, 4)
    response = await client.post(f"{path}/submit", headers=headers)
    assert response.status_code == 200, response.text
    return application_id, path


async def test_submission_is_blocked_until_every_required_attachment_is_accepted_then_gets_a_provisional_number(
    infra: Infra,
) -> None:
    people = People(infra)
    me = people.applicant()
    filer_mail = f"filer-{uuid.uuid4().hex[:8]}@example.jp"
    applicant_mail = f"own-{uuid.uuid4().hex[:8]}@example.jp"
    headers = people.headers(me)
    async with applications_client(infra) as client:
        await publish(
            infra,
            UserRegistered(user_id=me.user_id, category="foreign_national", email=filer_mail, locale="ja"),
        )
        path, _ = await complete_draft(client, headers, random_bureau(), email=applicant_mail)
        application_id = uuid.UUID(path.rsplit("/", 1)[1])

        blocked = await client.post(f"{path}/submit", headers=headers)
        assert blocked.status_code == 422
        assert blocked.json()["code"] == "application.submission_blocked"
        assert [r["code"] for r in blocked.json()["refusals"]] == [
            "attachments.photo_missing",
            "attachments.missing",
            "attachments.host_organisation_form_missing",
            "attachments.form19_missing",
        ]

        rejected_id = await reject(infra, application_id, "supporting_documents_pdf")
        await accept(infra, application_id, "face_photo", "host_organisation_form", "form19_supplementary")
        shown = await wait_for_attachments(client, path, headers, 4)
        rejected = next(a for a in shown["attachments"] if a["attachment_id"] == str(rejected_id))
        assert rejected["state"] == "rejected" and rejected["reasons"][0]["code"] == "pdf.encrypted"
        assert rejected["kind_name"]["en"] == "Supporting documents (PDF)"
        still = await client.post(f"{path}/submit", headers=headers)
        assert [r["code"] for r in still.json()["refusals"]] == ["attachments.rejected"]

        await accept(infra, application_id, "supporting_documents_pdf")
        await wait_for_attachments(client, path, headers, 5)
        await eventually(lambda: contact_known(infra, me.user_id), timeout=60)
        response = await client.post(f"{path}/submit", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["state"] == "submitted"
        assert re.fullmatch(rf"T{today():%Y%m%d}\d{{6}}", body["provisional_receipt_number"])
        again = await client.post(f"{path}/submit", headers=headers)
        assert again.status_code == 409 and again.json()["code"] == "application.invalid_transition"

    (event,) = await events_of(infra, ApplicationSubmitted, application_id)
    assert event["provisional_receipt_number"] == body["provisional_receipt_number"]
    assert [(r["email"], r["role"], r["locale"]) for r in event["recipients"]] == [
        (applicant_mail, "applicant", "en"),
        (filer_mail, "filer", "ja"),
    ]
    assert event["bureau"] == body["bureau"] and event["over_10mb_declared"] is False
    assert event["status_of_residence"] == "engineer_humanities_international"


async def contact_known(infra: Infra, user_id: uuid.UUID) -> bool:
    """Tell whether the service has consumed the user's user-registered event."""
    engine = create_engine(infra.db_url("applications"), pool_size=1)
    try:
        async with engine.connect() as conn:
            row = await conn.execute(select(user_contact.c.email).where(user_contact.c.user_id == user_id))
            return row.first() is not None
    finally:
        await engine.dispose()


async def test_submission_on_the_last_day_of_stay_is_refused_even_though_the_draft_was_made_earlier(
    infra: Infra,
) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    expires = today() + timedelta(days=3)
    clock = FixedClock(datetime.combine(today(), time(10), tzinfo=JAPAN))
    async with applications_client(infra, clock=clock) as client:
        created = await client.post(
            "/api/applications",
            json=extension_draft(bureau=random_bureau(), expires=expires),
            headers=headers,
        )
        path = f"/api/applications/{created.json()['id']}"
        await client.patch(
            f"{path}/forms/extension", json=full_extension_form(expires), headers=headers | etag_of(created)
        )
        await accept(infra, uuid.UUID(created.json()["id"]), *SELF_EXTENSION_KINDS)
        await wait_for_attachments(client, path, headers, 4)
        clock.set(datetime.combine(expires, time(9), tzinfo=JAPAN))
        response = await client.post(f"{path}/submit", headers=headers)
    assert response.status_code == 422
    assert [r["code"] for r in response.json()["refusals"]] == ["period.last_day_or_after"]


async def test_receipt_numbers_are_assigned_exactly_once_even_by_two_replicas_at_the_same_time(
    infra: Infra,
) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    bureau = random_bureau()
    async with applications_client(infra) as client:
        ids = [(await submitted_application(infra, client, headers, bureau))[0] for _ in range(3)]
        engines = [create_engine(infra.db_url("applications")) for _ in range(2)]
        reference = load_reference_data()
        replicas = [
            ApplicationService(
                sessions=session_factory(e), reference=reference, clock=SystemClock(), default_bureau="TKY"
            )
            for e in engines
        ]
        try:
            results = await asyncio.gather(*(r.assign_receipt_numbers(batch_size=1) for r in replicas))
        finally:
            for engine in engines:
                await engine.dispose()
        ours = [(i, n) for result in results for i, n in result if i in ids]
        assert sorted(i for i, _ in ours) == sorted(ids)
        numbers = [n for _, n in ours]
        assert len(set(numbers)) == 3
        assert all(re.fullmatch(rf"{bureau}-{today():%Y%m%d}-\d{{6}}", n) for n in numbers)
        shown = (await client.get(f"/api/applications/{ids[0]}", headers=headers)).json()
        assert shown["state"] == "received" and shown["receipt_number"] in numbers
    for application_id in ids:
        events = await events_of(infra, ReceiptNumberAssigned, application_id)
        assert len(events) == 1 and events[0]["receipt_number"] in numbers


def test_the_operator_command_assigns_pending_receipt_numbers(
    infra: Infra, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["assign-receipt-numbers"], settings=settings(infra)) == 0
    assert "receipt numbers" in capsys.readouterr().err


async def test_only_operators_may_run_the_receipt_number_job_now(infra: Infra) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    async with applications_client(infra) as client:
        application_id, path = await submitted_application(infra, client, headers, random_bureau())
        refused = await client.post(
            "/api/back-office/jobs/assign-receipt-numbers", headers=people.headers(people.officer("TKY"))
        )
        ran = await client.post(
            "/api/back-office/jobs/assign-receipt-numbers", headers=people.headers(people.operator())
        )
        shown = (await client.get(path, headers=headers)).json()
    assert refused.status_code == 403 and refused.json()["code"] == "auth.role_required"
    assert (
        ran.status_code == 200
        and ran.json()["receipt_numbers"][str(application_id)] == shown["receipt_number"]
    )


async def test_the_back_office_queue_is_the_officers_bureau_filtered_by_state_and_procedure_and_paginated(
    infra: Infra,
) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    bureau = random_bureau()
    officer = people.headers(people.officer(bureau))
    async with applications_client(infra) as client:
        ids = [str((await submitted_application(infra, client, headers, bureau))[0]) for _ in range(3)]
        page1 = (await client.get("/api/back-office/applications?page_size=2", headers=officer)).json()
        page2 = (await client.get("/api/back-office/applications?page_size=2&page=2", headers=officer)).json()
        none_received = (
            await client.get("/api/back-office/applications?state=received", headers=officer)
        ).json()
        by_procedure = (
            await client.get("/api/back-office/applications?state=submitted&procedure=coe", headers=officer)
        ).json()
        elsewhere = await client.get(
            f"/api/back-office/applications/{ids[0]}", headers=people.headers(people.officer(random_bureau()))
        )
        not_officer = await client.get("/api/back-office/applications", headers=headers)
        one = await client.get(f"/api/back-office/applications/{ids[0]}", headers=officer)
    assert page1["total"] == 3 and [i["id"] for i in page1["items"] + page2["items"]] == ids
    assert none_received["total"] == 0 and by_procedure["total"] == 0
    assert elsewhere.status_code == 404
    assert not_officer.status_code == 403 and not_officer.json()["code"] == "auth.role_required"
    assert one.status_code == 200 and len(one.json()["attachments"]) == 4


async def test_an_invalid_transition_is_refused_with_409_naming_what_is_allowed(
    infra: Infra,
) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    bureau = random_bureau()
    officer = people.headers(people.officer(bureau))
    async with applications_client(infra) as client:
        application_id, path = await submitted_application(infra, client, headers, bureau)
        base = f"/api/back-office/applications/{application_id}"
        early = await client.post(f"{base}/start-review", headers=officer)
        dispatch = await client.post(f"{base}/dispatch-card", headers=officer)
        resubmit = await client.post(f"{path}/resubmit", headers=headers)
    assert early.status_code == 409
    problem = early.json()
    assert problem["code"] == "application.invalid_transition"
    assert problem["details"] == {
        "current": "submitted",
        "action": "start_review",
        "allowed": [],  # the receipt number is the nightly job's, withdrawal the applicant's
    }
    assert "仮受付" in problem["message_ja"] and "submitted" in problem["message_en"]
    assert dispatch.status_code == 409 and resubmit.status_code == 409


async def test_the_filer_withdraws_and_the_bureau_refuses_each_with_its_event_and_actor(
    infra: Infra,
) -> None:
    people = People(infra)
    me = people.applicant()
    headers = people.headers(me)
    bureau = random_bureau()
    officer_principal = people.officer(bureau)
    officer = people.headers(officer_principal)
    operator = people.headers(people.operator())
    async with applications_client(infra) as client:
        withdrawn_id, withdrawn_path = await submitted_application(infra, client, headers, bureau)
        withdrawn = await client.post(
            f"{withdrawn_path}/withdraw", json={"reason": "帰国します"}, headers=headers
        )
        refused_id, refused_path = await submitted_application(infra, client, headers, bureau)
        await client.post("/api/back-office/jobs/assign-receipt-numbers", headers=operator)
        base = f"/api/back-office/applications/{refused_id}"
        await client.post(f"{base}/start-review", headers=officer)
        no_documents = await client.post(f"{base}/return", json={"requested_documents": []}, headers=officer)
        refused = await client.post(f"{base}/refuse", json={"reason": "要件を満たしません"}, headers=officer)
        after = await client.post(f"{refused_path}/withdraw", headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert (
        no_documents.status_code == 422
        and no_documents.json()["code"] == "application.requested_documents_missing"
    )
    assert refused.status_code == 200 and refused.json()["state"] == "refused"
    assert refused.json()["history"][-1]["actor_id"] == str(officer_principal.user_id)
    assert after.status_code == 409
    (w,) = await events_of(infra, ApplicationWithdrawn, withdrawn_id)
    assert w["withdrawn_by"] == str(me.user_id) and w["reason"] == "帰国します"
    (r,) = await events_of(infra, ApplicationRefused, refused_id)
    assert r["officer_id"] == str(officer_principal.user_id) and r["reason"] == "要件を満たしません"
    (s,) = await events_of(infra, ApplicationReviewStarted, refused_id)
    assert s["officer_id"] == str(officer_principal.user_id)


async def test_over_10mb_the_declaration_is_required_and_the_rest_follows_in_a_later_round(
    infra: Infra,
) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    bureau = random_bureau()
    officer = people.headers(people.officer(bureau))
    async with applications_client(infra) as client:
        path, _ = await complete_draft(client, headers, bureau)
        application_id = uuid.UUID(path.rsplit("/", 1)[1])
        await accept(infra, application_id, *SELF_EXTENSION_KINDS)
        await wait_for_attachments(client, path, headers, 4)
        undeclared = await client.post(f"{path}/submit", json={"over_10mb_declared": True}, headers=headers)
        assert [r["code"] for r in undeclared.json()["refusals"]] == ["attachments.declaration_form9_missing"]
        await accept(infra, application_id, "declaration_form9")
        await wait_for_attachments(client, path, headers, 5)
        submitted = await client.post(f"{path}/submit", json={"over_10mb_declared": True}, headers=headers)
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["over_10mb_declared"] is True
        await client.post(
            "/api/back-office/jobs/assign-receipt-numbers", headers=people.headers(people.operator())
        )
        base = f"/api/back-office/applications/{application_id}"
        await client.post(f"{base}/start-review", headers=officer)
        returned = await client.post(
            f"{base}/return",
            json={
                "requested_documents": [{"description": "残りの提出資料（10MB超過分）"}],
                "message": "再添付してください",
            },
            headers=officer,
        )
        assert returned.json()["rounds"][-1]["number"] == 2
        await accept(infra, application_id, "supporting_documents_pdf", round_number=2)
        await wait_for_attachments(client, path, headers, 6)
        without = await client.post(f"{path}/resubmit", headers=headers)
        assert [r["code"] for r in without.json()["refusals"]] == ["attachments.declaration_form9_missing"]
        await accept(infra, application_id, "declaration_form9", round_number=2)
        await wait_for_attachments(client, path, headers, 7)
        resubmitted = await client.post(f"{path}/resubmit", headers=headers)
        assert resubmitted.status_code == 200 and resubmitted.json()["state"] == "under_review"
    (s,) = await events_of(infra, ApplicationSubmitted, application_id)
    assert s["over_10mb_declared"] is True
    (r,) = await events_of(infra, ApplicationReturned, application_id)
    assert r["round_number"] == 2 and r["requested_documents"] == ["残りの提出資料（10MB超過分）"]
    (d,) = await events_of(infra, DocumentsResubmitted, application_id)
    assert d["round_number"] == 2


async def test_a_whole_life_on_the_real_broker_as_the_applicant_sees_it(infra: Infra) -> None:
    people = People(infra)
    me = people.applicant()
    headers = people.headers(me)
    bureau = random_bureau()
    officer_principal = people.officer(bureau)
    officer = people.headers(officer_principal)
    own_mail = f"own-{uuid.uuid4().hex[:8]}@example.jp"

    async with applications_client(infra) as client:

        async def seen() -> dict[str, Any]:
            response = await client.get(path, headers=headers)
            assert response.status_code == 200
            body: dict[str, Any] = response.json()
            return body

        # draft, saved at every step, then attachments accepted by the attachments service
        expires = today() + timedelta(days=60)
        created = await client.post(
            "/api/applications",
            json=extension_draft(bureau=bureau, expires=expires, email=own_mail),
            headers=headers,
        )
        path = f"/api/applications/{created.json()['id']}"
        application_id = uuid.UUID(created.json()["id"])
        form = full_extension_form(expires)
        step1 = {
            k: v
            for k, v in form.items()
            if k in {"nationality", "date_of_birth", "family_name", "given_name"}
        }
        saved = await client.patch(f"{path}/forms/extension", json=step1, headers=headers | etag_of(created))
        saved = await client.patch(f"{path}/forms/extension", json=form, headers=headers | etag_of(saved))
        assert saved.json()["validation"]["complete"]
        assert (await seen())["state"] == "draft"
        await accept(infra, application_id, *SELF_EXTENSION_KINDS)
        await wait_for_attachments(client, path, headers, 4)

        # submitted: provisional receipt number at once
        submitted = await client.post(f"{path}/submit", headers=headers)
        assert submitted.status_code == 200, submitted.text
        provisional = submitted.json()["provisional_receipt_number"]
        assert (await seen())["state"] == "submitted"

        # received: the nightly job, run now by an operator
        await client.post(
            "/api/back-office/jobs/assign-receipt-numbers", headers=people.headers(people.operator())
        )
        received = await seen()
        assert received["state"] == "received" and received["receipt_number"].startswith(f"{bureau}-")

        # under review, then returned asking for a named document: round 2 opens
        await client.post(f"/api/back-office/applications/{application_id}/start-review", headers=officer)
        assert (await seen())["state"] == "under_review"
        returned = await client.post(
            f"/api/back-office/applications/{application_id}/return",
            json={"requested_documents": [{"description": "在職証明書", "kind": "supporting_documents_pdf"}]},
            headers=officer,
        )
        assert returned.status_code == 200, returned.text
        shown = await seen()
        assert shown["state"] == "returned" and shown["state_label"]["ja"] == "返却中"
        assert shown["rounds"][1] == {
            **shown["rounds"][1],
            "number": 2,
            "open": True,
            "requested_documents": [{"description": "在職証明書", "kind": "supporting_documents_pdf"}],
        }

        # re-attached: the applicant attaches the rest and finishes the round
        await accept(infra, application_id, "supporting_documents_pdf", round_number=2)
        await publish(
            infra,
            TaxInfoRegistered(
                application_id=application_id,
                attachment_id=uuid.uuid4(),
                round_number=2,
                fiscal_year=2025,
                person_name="NGUYEN VAN AN",
                registered_by=me.user_id,
            ),
        )
        await wait_for_attachments(client, path, headers, 6)
        resubmitted = await client.post(f"{path}/resubmit", headers=headers)
        assert resubmitted.status_code == 200, resubmitted.text
        assert (await seen())["state"] == "under_review"

        # review completed: the fee from the fee table and what to send
        completed = await client.post(
            f"/api/back-office/applications/{application_id}/complete-review", headers=officer
        )
        assert completed.status_code == 200, completed.text
        shown = await seen()
        assert shown["state"] == "review_completed"
        assert shown["review_outcome"]["fee_total_yen"] == 5500
        assert [i["code"] for i in shown["review_outcome"]["items_to_send"]] == [
            "fee_payment_form",
            "return_envelope",
            "current_residence_card",
        ]

        # card dispatched, then closed
        dispatched = await client.post(
            f"/api/back-office/applications/{application_id}/dispatch-card",
            json={"tracking_number": "1234-5678-9012"},
            headers=officer,
        )
        assert dispatched.status_code == 200
        assert (await seen())["state"] == "card_dispatched"
        await client.post(f"/api/back-office/applications/{application_id}/close", headers=officer)
        final = await seen()
        assert final["state"] == "closed"
        assert [h["state"] for h in final["history"]] == [
            "draft",
            "submitted",
            "received",
            "under_review",
            "returned",
            "under_review",
            "review_completed",
            "card_dispatched",
            "closed",
        ]
        assert {a["kind"]: a["state"] for a in final["attachments"] if a["round_number"] == 2} == {
            "supporting_documents_pdf": "accepted",
            "tax_information": "accepted",
        }
        listed = (await client.get("/api/applications", headers=headers)).json()["items"]
        assert [(i["id"], i["state"], i["receipt_number"]) for i in listed] == [
            (str(application_id), "closed", final["receipt_number"])
        ]

    # every transition is on the bus, keyed by the application, the applicant's own address first
    (s,) = await events_of(infra, ApplicationSubmitted, application_id)
    assert s["provisional_receipt_number"] == provisional and s["recipients"][0]["email"] == own_mail
    (n,) = await events_of(infra, ReceiptNumberAssigned, application_id)
    assert n["receipt_number"] == final["receipt_number"] and n["provisional_receipt_number"] == provisional
    (started,) = await events_of(infra, ApplicationReviewStarted, application_id)
    assert started["officer_id"] == str(officer_principal.user_id)
    (r,) = await events_of(infra, ApplicationReturned, application_id)
    assert r["round_number"] == 2 and r["receipt_number"] == final["receipt_number"]
    (d,) = await events_of(infra, DocumentsResubmitted, application_id)
    assert d["round_number"] == 2 and d["resubmitted_by"] == str(me.user_id)
    (c,) = await events_of(infra, ReviewCompleted, application_id)
    assert c["fee_yen"] == 5500 and c["send_items"][0]["name_ja"].startswith("手数料納付書")
    (k,) = await events_of(infra, CardDispatched, application_id)
    assert k["tracking_number"] == "1234-5678-9012" and k["officer_id"] == str(officer_principal.user_id)
    (x,) = await events_of(infra, ApplicationClosed, application_id)
    assert x["recipients"] == []
