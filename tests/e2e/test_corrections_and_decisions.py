"""The whole life beyond the happy path, on the running stack: people correct what they sent and are told of
every decision (issue 11).

- An applicant corrects a step-1 fact, replaces a rescanned PDF (removing the first scan), submits, withdraws, and
  gets the withdrawal mail.
- An officer refuses an application: the applicant gets the refusal mail saying what to do next.
- A relative of an adult cannot file by typing a child's date of birth: the record at identity decides.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from shared.testing.jpki import TestPki
from tests.e2e.e2e_support import (
    clean_pdf,
    eventually,
    face_photo,
    link_token,
    new_card,
    random_bureau,
    random_email,
    register_and_sign_in,
    register_with_card,
    set_password,
    sign_in,
    staff_headers,
    url,
    wait_for_mail,
)
from tests.e2e.test_journey import REQUIRED_KINDS, extension_draft, extension_form, if_match, japan_today
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def upload(
    client: httpx.Client, stack: Stack, headers: dict[str, str], application_id: str, kind: str
) -> str:
    """Upload one file of a slot (a photo or a clean PDF); return its attachment id."""
    photo = kind == "face_photo"
    answer = client.post(
        url(stack, "attachments", f"/api/attachments/applications/{application_id}/attachments"),
        params={
            "kind": "photo" if photo else "document",
            "filename": f"{kind}.{'jpg' if photo else 'pdf'}",
            "document_type": kind,
        },
        content=face_photo() if photo else clean_pdf(kind),
        headers=headers | {"Content-Type": "image/jpeg" if photo else "application/pdf"},
    )
    assert answer.status_code == 202, answer.text
    attachment_id: str = answer.json()["attachment_id"]
    return attachment_id


def view(client: httpx.Client, stack: Stack, headers: dict[str, str], application_id: str) -> httpx.Response:
    """The application as its applicant sees it."""
    answer = client.get(url(stack, "applications", f"/api/applications/{application_id}"), headers=headers)
    assert answer.status_code == 200, answer.text
    return answer


def accepted(
    client: httpx.Client, stack: Stack, headers: dict[str, str], application_id: str, ids: set[str]
) -> bool:
    """True once applications shows exactly ``ids`` as the round's attachments, each accepted."""
    attachments = view(client, stack, headers, application_id).json()["attachments"]
    return {a["attachment_id"] for a in attachments} == ids and all(
        a["state"] == "accepted" for a in attachments
    )


def draft(client: httpx.Client, stack: Stack, headers: dict[str, str], address: str, bureau: str) -> str:
    """A complete extension draft of the signed-in applicant; return its id."""
    expires = japan_today() + timedelta(days=60)
    created = client.post(
        url(stack, "applications", "/api/applications"),
        json=extension_draft(expires, address, bureau),
        headers=headers,
    )
    assert created.status_code == 201, created.text
    application_id: str = created.json()["id"]
    saved = client.patch(
        url(stack, "applications", f"/api/applications/{application_id}/forms/extension"),
        json=extension_form(expires),
        headers=headers | if_match(created),
    )
    assert saved.status_code == 200, saved.text
    return application_id


def submit(
    client: httpx.Client, stack: Stack, headers: dict[str, str], application_id: str
) -> httpx.Response:
    """Submit the draft as it stands."""
    current = view(client, stack, headers, application_id)
    return client.post(
        url(stack, "applications", f"/api/applications/{application_id}/submit"),
        headers=headers | if_match(current),
    )


def test_an_applicant_corrects_a_fact_replaces_a_rescan_submits_and_withdraws_and_is_told(
    stack: Stack, pki: TestPki
) -> None:
    address = random_email("corrects")
    with httpx.Client(timeout=30) as client:
        me = register_and_sign_in(client, stack, new_card(pki), address).headers
        application_id = draft(client, stack, me, address, random_bureau())

        # a step-1 fact corrected: the answer says what changed
        later = japan_today() + timedelta(days=70)
        changed = client.patch(
            url(stack, "applications", f"/api/applications/{application_id}/case"),
            json={"applicant": {"period_of_stay_expires_on": later.isoformat()}},
            headers=me | if_match(view(client, stack, me, application_id)),
        )
        assert changed.status_code == 200, changed.text
        assert "period_of_stay_expires_on" in {c["fact"] for c in changed.json()["changed"]}
        refilled = client.patch(
            url(stack, "applications", f"/api/applications/{application_id}/forms/extension"),
            json=extension_form(later),
            headers=me | if_match(view(client, stack, me, application_id)),
        )
        assert refilled.status_code == 200, refilled.text

        # every slot, and the supporting PDF twice (the first scan, then a rescan)
        ids = {kind: upload(client, stack, me, application_id, kind) for kind in REQUIRED_KINDS}
        first_scan = ids["supporting_documents_pdf"]
        rescan = upload(client, stack, me, application_id, "supporting_documents_pdf")
        everything = set(ids.values()) | {rescan}
        eventually(
            lambda: accepted(client, stack, me, application_id, everything), "five accepted attachments"
        )
        assert submit(client, stack, me, application_id).status_code == 422  # two supporting PDFs

        # the first scan removed: the rescan alone stands and the submission goes through
        removed = client.delete(
            url(stack, "attachments", f"/api/attachments/attachments/{first_scan}"), headers=me
        )
        assert removed.status_code in (200, 204), removed.text
        remaining = everything - {first_scan}
        eventually(lambda: accepted(client, stack, me, application_id, remaining), "the first scan gone")
        submitted = submit(client, stack, me, application_id)
        assert submitted.status_code == 200, submitted.text
        provisional = submitted.json()["provisional_receipt_number"]
        wait_for_mail(stack, address, "application_submitted")

        # withdrawn by the applicant: confirmed by mail
        withdrawn = client.post(
            url(stack, "applications", f"/api/applications/{application_id}/withdraw"),
            json={"reason": "I will apply at the bureau"},
            headers=me | if_match(view(client, stack, me, application_id)),
        )
        assert withdrawn.status_code == 200, withdrawn.text
        assert withdrawn.json()["state"] == "withdrawn"
        mail = wait_for_mail(stack, address, "application_withdrawn")
        assert provisional in mail.text or provisional in mail.subject


def test_an_officer_refuses_and_the_applicant_is_told_what_to_do_next(stack: Stack, pki: TestPki) -> None:
    address = random_email("refused")
    bureau = random_bureau()
    with httpx.Client(timeout=30) as client:
        me = register_and_sign_in(client, stack, new_card(pki), address).headers
        application_id = draft(client, stack, me, address, bureau)
        ids = {upload(client, stack, me, application_id, kind) for kind in REQUIRED_KINDS}
        eventually(lambda: accepted(client, stack, me, application_id, ids), "every attachment accepted")
        assert submit(client, stack, me, application_id).status_code == 200

        officer = staff_headers(client, stack, bureau=bureau, role="officer")
        operator = staff_headers(client, stack, bureau=bureau, role="operator")
        job = client.post(
            url(stack, "applications", "/api/back-office/jobs/assign-receipt-numbers"), headers=operator
        )
        assert job.status_code == 200, job.text
        back = url(stack, "applications", f"/api/back-office/applications/{application_id}")
        started = client.post(
            f"{back}/start-review", headers=officer | if_match(client.get(back, headers=officer))
        )
        assert started.status_code == 200, started.text
        refused = client.post(
            f"{back}/refuse",
            json={"reason": "提出された書類では在留の必要性が確認できませんでした。"},
            headers=officer | if_match(started),
        )
        assert refused.status_code == 200, refused.text
        assert view(client, stack, me, application_id).json()["state"] == "refused"
        mail = wait_for_mail(stack, address, "application_refused")
        assert mail.text.strip()


def test_a_relative_of_an_adult_cannot_file_by_typing_a_childs_birth_date(stack: Stack, pki: TestPki) -> None:
    address = random_email("relative")
    card = new_card(pki)
    recorded = date(japan_today().year - 30, 4, 1)
    with httpx.Client(timeout=30) as client:
        registered = register_with_card(
            client,
            stack,
            card,
            address,
            category="relative",
            representation={
                "name": "TRAN VAN AN",
                "date_of_birth": recorded.isoformat(),
                "nationality": "VNM",
                "relationship": "spouse",
                "basis": "illness",
            },
        )
        applicant_id = registered["applicant_id"]
        done = set_password(client, stack, link_token(wait_for_mail(stack, address, "password_setup").text))
        me = sign_in(client, stack, done["auth_id"])

        typed_child: dict[str, Any] = extension_draft(
            japan_today() + timedelta(days=60), address, random_bureau()
        )
        typed_child["applicant_id"] = applicant_id
        typed_child["relationship"] = "spouse"
        typed_child["applicant"]["date_of_birth"] = date(japan_today().year - 10, 4, 1).isoformat()

        def refused() -> httpx.Response | None:
            answer = client.post(
                url(stack, "applications", "/api/applications"), json=typed_child, headers=me
            )
            # until identity's representation event has reached applications, the answer is 409
            return None if answer.status_code == 409 else answer

        answer = eventually(refused, "the representation on record at applications")
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "application.date_of_birth_not_as_recorded"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", answer.json()["recorded_date_of_birth"])
