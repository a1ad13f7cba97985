"""End to end: one foreign national's extension of stay, from card registration to the dispatched residence card.

The whole stack runs as real processes (``tests/e2e/conftest.py``); this test uses HTTP, the SMTP catcher's
``.eml`` files and identity's administrator command only, and waits for every downstream effect by polling.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from shared.testing.jpki import TestPki
from tests.e2e.e2e_support import (
    clean_pdf,
    eventually,
    face_photo,
    mails,
    new_card,
    random_bureau,
    random_email,
    register_and_sign_in,
    staff_headers,
    url,
    wait_for_mail,
)
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

#: What an engineer extending her own stay must attach (requirement → the kind uploaded for it).
REQUIRED = {
    "photo": "face_photo",
    "supporting_documents": "supporting_documents_pdf",
    "host_organisation_form": "host_organisation_form",
    "form19": "form19_supplementary",
}
REQUIRED_KINDS = list(REQUIRED.values())


def japan_today() -> date:
    """Today in Japan (receipt numbers carry it)."""
    return datetime.now(ZoneInfo("Asia/Tokyo")).date()


def extension_form(expires: date) -> dict[str, Any]:
    """A complete extension form (在留期間更新許可申請書) of an engineer filing for herself."""
    return {
        "nationality": "VIET NAM",
        "date_of_birth": "1995-05-01",
        "family_name": "NGUYEN",
        "given_name": "THI BINH",
        "sex": "female",
        "marital_status": "single",
        "occupation": "会社員",
        "home_country_address": "HANOI",
        "address_in_japan": "東京都新宿区西新宿2-8-1",
        "mobile": "090-1234-5678",
        "passport_number": "C7654321",
        "passport_expiry": "2030-01-31",
        "current_status": "engineer_humanities_international",
        "period_of_stay": "1年",
        "period_of_stay_expiry": expires.isoformat(),
        "residence_card_number": "AB12345678CD",
        "requested_period": "3年",
        "reason": "引き続き同じ会社で働くため",
        "criminal_record": "no",
    }


def extension_draft(expires: date, address: str, bureau: str) -> dict[str, Any]:
    """The body creating her extension draft (step 1: procedure, current status, her own address)."""
    return {
        "procedures": [{"code": "extension"}],
        "applicant": {
            "date_of_birth": "1995-05-01",
            "current_status": {"code": "engineer_humanities_international"},
            "period_of_stay_expires_on": expires.isoformat(),
            "email": address,
            "locale": "en",
        },
        "bureau": bureau,
    }


def if_match(response: httpx.Response) -> dict[str, str]:
    """The If-Match header echoing a response's ETag."""
    return {"If-Match": response.headers["ETag"]}


def test_a_foreign_national_registers_applies_is_returned_for_a_document_and_receives_the_card(
    stack: Stack, client: httpx.Client, pki: TestPki
) -> None:
    address = random_email("applicant")
    bureau = random_bureau()

    # 1-3. card registration, set-up mail, password, 認証ID mail, sign-in (each step asserted by the helper)
    applicant = register_and_sign_in(client, stack, new_card(pki), address)
    user_id, me = applicant.user_id, applicant.headers

    # 4. an extension draft, its form filled in and complete
    expires = japan_today() + timedelta(days=60)
    created = client.post(
        url(stack, "applications", "/api/applications"),
        json=extension_draft(expires, address, bureau),
        headers=me,
    )
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    path = url(stack, "applications", f"/api/applications/{application_id}")
    assert created.json()["state"] == "draft" and created.json()["applicant_id"] == user_id
    requirements = created.json()["required_attachments"]
    assert [r["code"] for r in requirements] == list(REQUIRED)
    assert all(REQUIRED[r["code"]] in r["any_of"] for r in requirements)
    saved = client.patch(
        f"{path}/forms/extension", json=extension_form(expires), headers=me | if_match(created)
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["validation"]["complete"], saved.json()["validation"]
    blocked = client.post(f"{path}/submit", headers=me | if_match(saved))
    assert blocked.status_code == 422 and blocked.json()["code"] == "application.submission_blocked"
    assert [r["code"] for r in blocked.json()["refusals"]] == [
        "attachments.photo_missing",
        "attachments.missing",
        "attachments.host_organisation_form_missing",
        "attachments.form19_missing",
    ]

    def shown() -> dict[str, Any]:
        response = client.get(path, headers=me)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    # 5. the attachments: a 3:4 face photo and a clean PDF of each required document kind
    attach = url(stack, "attachments", f"/api/attachments/applications/{application_id}/attachments")
    uploads: dict[str, str] = {}
    for kind in REQUIRED_KINDS:
        photo = kind == "face_photo"
        response = client.post(
            attach,
            params={
                "kind": "photo" if photo else "document",
                "filename": "face.jpg" if photo else f"{kind}.pdf",
                "document_type": kind,
            },
            content=face_photo() if photo else clean_pdf(kind),
            headers=me | {"Content-Type": "image/jpeg" if photo else "application/pdf"},
        )
        assert response.status_code == 202, response.text
        assert response.json()["round_number"] == 1
        uploads[kind] = response.json()["attachment_id"]

    # the checker processes give their verdicts; the applications service learns them from the bus
    def all_accepted(round_number: int, count: int) -> dict[str, Any] | None:
        body = shown()
        mine = [a for a in body["attachments"] if a["round_number"] == round_number]
        rejected = [a for a in mine if a["state"] == "rejected"]
        assert not rejected, f"an attachment was rejected: {rejected}"
        return body if len(mine) == count and all(a["state"] == "accepted" for a in mine) else None

    accepted = eventually(lambda: all_accepted(1, 4), "every round-1 attachment accepted by applications")
    assert {a["attachment_id"]: a["kind"] for a in accepted["attachments"]} == {
        attachment_id: kind for kind, attachment_id in uploads.items()
    }
    seen_by_attachments = client.get(
        url(stack, "attachments", f"/api/attachments/applications/{application_id}"), headers=me
    ).json()
    assert seen_by_attachments["open_round"] == 1
    assert {a["state"] for a in seen_by_attachments["rounds"][0]["attachments"]} == {"accepted"}

    # 6. submit: the provisional receipt number at once, and the receipt mail to the applicant
    submitted = client.post(f"{path}/submit", headers=me | if_match(client.get(path, headers=me)))
    assert submitted.status_code == 200, submitted.text
    provisional = submitted.json()["provisional_receipt_number"]
    assert submitted.json()["state"] == "submitted"
    assert re.fullmatch(rf"T{japan_today():%Y%m%d}\d{{6}}", provisional), provisional
    receipt_mail = wait_for_mail(stack, address, "application_submitted")
    assert provisional in receipt_mail.subject and provisional in receipt_mail.text

    # the attachments service closes round 1 on submission
    def round_states() -> list[str]:
        view = client.get(
            url(stack, "attachments", f"/api/attachments/applications/{application_id}"), headers=me
        ).json()
        return [r["state"] for r in view["rounds"]]

    eventually(lambda: round_states() == ["closed"], "round 1 closed by the attachments service")

    # 7. staff: an officer of the bureau and an operator, created on the command line, set up by mail
    officer = staff_headers(client, stack, bureau=bureau, role="officer")
    operator = staff_headers(client, stack, bureau=bureau, role="operator")
    queue = client.get(url(stack, "applications", "/api/back-office/applications"), headers=officer)
    assert queue.status_code == 200, queue.text
    assert [i["id"] for i in queue.json()["items"]] == [application_id]
    back = url(stack, "applications", f"/api/back-office/applications/{application_id}")

    # 8. the receipt-number job, run now by the operator: the official number, and its mail
    job = client.post(
        url(stack, "applications", "/api/back-office/jobs/assign-receipt-numbers"), headers=operator
    )
    assert job.status_code == 200, job.text
    receipt_number = job.json()["receipt_numbers"][application_id]
    assert re.fullmatch(rf"{bureau}-{japan_today():%Y%m%d}-\d{{6}}", receipt_number), receipt_number
    assert shown()["state"] == "received" and shown()["receipt_number"] == receipt_number
    number_mail = wait_for_mail(stack, address, "receipt_number_assigned")
    assert receipt_number in number_mail.subject and provisional in number_mail.text

    # 9. review starts; the officer returns the application asking for a document: round 2 opens
    started = client.post(
        f"{back}/start-review", headers=officer | if_match(client.get(back, headers=officer))
    )
    assert started.status_code == 200, started.text
    assert shown()["state"] == "under_review"
    returned = client.post(
        f"{back}/return",
        json={
            "requested_documents": [{"description": "在職証明書", "kind": "supporting_documents_pdf"}],
            "message": "在職証明書を添付してください。",
        },
        headers=officer | if_match(started),
    )
    assert returned.status_code == 200, returned.text
    now = shown()
    assert now["state"] == "returned" and now["rounds"][-1]["number"] == 2 and now["rounds"][-1]["open"]
    returned_mail = wait_for_mail(stack, address, "application_returned")
    assert "在職証明書" in returned_mail.text and receipt_number in returned_mail.subject
    eventually(lambda: round_states() == ["closed", "open"], "round 2 opened by the attachments service")

    # 10. the applicant uploads the document to round 2 and resubmits
    second = client.post(
        attach,
        params={
            "kind": "document",
            "filename": "employment.pdf",
            "document_type": "supporting_documents_pdf",
        },
        content=clean_pdf("Certificate of employment", pages=1),
        headers=me | {"Content-Type": "application/pdf"},
    )
    assert second.status_code == 202, second.text
    assert second.json()["round_number"] == 2
    eventually(lambda: all_accepted(2, 1), "the round-2 attachment accepted by applications")
    resubmitted = client.post(f"{path}/resubmit", headers=me | if_match(client.get(path, headers=me)))
    assert resubmitted.status_code == 200, resubmitted.text
    assert shown()["state"] == "under_review"

    # 11. review completed: the fee and what to send, by mail too
    completed = client.post(
        f"{back}/complete-review", headers=officer | if_match(client.get(back, headers=officer))
    )
    assert completed.status_code == 200, completed.text
    outcome = shown()["review_outcome"]
    assert shown()["state"] == "review_completed" and outcome["fee_total_yen"] > 0
    completed_mail = wait_for_mail(stack, address, "review_completed")
    assert receipt_number in completed_mail.subject

    # 12. the card is dispatched
    dispatched = client.post(
        f"{back}/dispatch-card",
        json={"tracking_number": "1234-5678-9012"},
        headers=officer | if_match(completed),
    )
    assert dispatched.status_code == 200, dispatched.text
    dispatched_mail = wait_for_mail(stack, address, "card_dispatched")
    assert receipt_number in dispatched_mail.subject

    # the applicant saw every state over HTTP, and finds the application in 申請情報検索
    final = shown()
    assert final["state"] == "card_dispatched"
    assert [h["state"] for h in final["history"]] == [
        "draft",
        "submitted",
        "received",
        "under_review",
        "returned",
        "under_review",
        "review_completed",
        "card_dispatched",
    ]
    listed = client.get(url(stack, "applications", "/api/applications"), headers=me).json()["items"]
    assert [(i["id"], i["state"], i["receipt_number"]) for i in listed] == [
        (application_id, "card_dispatched", receipt_number)
    ]
    # every mail of the journey reached the applicant exactly once
    for template in (
        "registration_received",
        "password_setup",
        "auth_id_issued",
        "application_submitted",
        "receipt_number_assigned",
        "application_returned",
        "review_completed",
        "card_dispatched",
    ):
        assert len(mails(stack, address, template)) == 1, template


def test_a_photo_of_the_wrong_shape_is_rejected_and_the_applicant_is_told_why_by_mail(
    stack: Stack, client: httpx.Client, pki: TestPki
) -> None:
    address = random_email("applicant")
    me = register_and_sign_in(client, stack, new_card(pki), address).headers
    expires = japan_today() + timedelta(days=60)
    created = client.post(
        url(stack, "applications", "/api/applications"),
        json=extension_draft(expires, address, random_bureau()),
        headers=me,
    )
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]

    wide = client.post(
        url(stack, "attachments", f"/api/attachments/applications/{application_id}/attachments"),
        params={"kind": "photo", "filename": "landscape.jpg", "document_type": "face_photo"},
        content=face_photo((800, 600)),
        headers=me | {"Content-Type": "image/jpeg"},
    )
    assert wide.status_code == 202, wide.text

    def rejected() -> dict[str, Any] | None:
        body = client.get(
            url(stack, "applications", f"/api/applications/{application_id}"), headers=me
        ).json()
        found = [a for a in body["attachments"] if a["attachment_id"] == wide.json()["attachment_id"]]
        return found[0] if found and found[0]["state"] == "rejected" else None

    verdict = eventually(rejected, "the photo rejected in the application")
    codes = [r["code"] for r in verdict["reasons"]]
    assert codes and all(c.startswith("photo.") for c in codes), verdict
    assert all(r["message_ja"] and r["message_en"] for r in verdict["reasons"])
    mail = wait_for_mail(stack, address, "attachment_rejected")
    assert "landscape.jpg" in mail.text and mail.subject.endswith("An attached file was not accepted")
    blocked = client.post(
        url(stack, "applications", f"/api/applications/{application_id}/submit"), headers=me
    )
    assert blocked.status_code == 422
    assert "attachments.rejected" in [r["code"] for r in blocked.json()["refusals"]], blocked.text
