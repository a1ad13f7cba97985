"""Step-1 facts editable until submission, the caller's own actions, documents received on paper, return
deadlines and 参考様式9 as one model — on the real broker and database."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from applications.domain.form9 import FORM9_TEXTS, Form9Tick
from shared.events import ApplicationReturned, ApplicationSubmitted
from shared.events.applications import DocumentsResubmitted
from tests.applications.integration.applications_support import (
    SELF_EXTENSION_KINDS,
    People,
    accept,
    applications_client,
    create_on_record,
    etag_of,
    events_of,
    extension_draft,
    full_extension_form,
    random_bureau,
    represent,
    today,
    wait_for_attachments,
)
from tests.applications.integration.test_applications_lifecycle import complete_draft, submitted_application
from tests.support.apps import Infra

pytestmark = pytest.mark.integration

MORE_LATER_JA = (
    "添付資料のデータの容量が10MBを超えるため、在留申請オンラインシステムに資料を追加で添付します。"
)
BUREAU_REQUESTED_JA = (
    "申請した地方出入国在留管理官署からの追加資料の提出依頼があったので、"
    "在留申請オンラインシステムに資料を追加で添付します。"
)


async def under_review(
    infra: Infra, client: httpx.AsyncClient, people: People, headers: dict[str, str], bureau: str
) -> tuple[uuid.UUID, str, str]:
    """Return a submitted, received application under review: its id, its path and its back-office path."""
    application_id, path = await submitted_application(infra, client, headers, bureau)
    await client.post(
        "/api/back-office/jobs/assign-receipt-numbers", headers=people.headers(people.operator())
    )
    base = f"/api/back-office/applications/{application_id}"
    started = await client.post(f"{base}/start-review", headers=people.headers(people.officer(bureau)))
    assert started.status_code == 200, started.text
    return application_id, path, base


# -- point 3: step-1 facts ------------------------------------------------------------------------------------


async def test_a_representatives_draft_gets_the_applicants_email_later_and_the_receipt_goes_there(
    infra: Infra,
) -> None:
    people = People(infra)
    child = uuid.uuid4()
    representative = people.representative(child)
    headers = people.headers(representative)
    bureau = random_bureau()
    expires = today() + timedelta(days=60)
    draft = extension_draft(
        bureau=bureau,
        expires=expires,
        applicant_id=child,
        born=(today() - timedelta(days=10 * 366)).isoformat(),
    )
    del draft["applicant"]["email"], draft["applicant"]["locale"]
    own = f"child-{uuid.uuid4().hex[:8]}@example.jp"
    await represent(infra, representative, child, born=draft["applicant"]["date_of_birth"])
    async with applications_client(infra) as client:
        created = await create_on_record(client, draft, headers)
        assert created.status_code == 201, created.text
        path = f"/api/applications/{created.json()['id']}"
        no_version = await client.patch(f"{path}/case", json={"applicant": {"email": own}}, headers=headers)
        changed = await client.patch(
            f"{path}/case",
            json={"applicant": {"email": own, "locale": "en"}},
            headers=headers | etag_of(created),
        )
        stale = await client.patch(
            f"{path}/case", json={"applicant": {"locale": "ja"}}, headers=headers | etag_of(created)
        )
    assert no_version.status_code == 428
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert {(c["fact"], c["before"], c["after"]) for c in body["changed"]} == {
        ("applicant_email", None, own),
        ("applicant_locale", None, "en"),
    }
    assert body["dropped"] == [] and body["invalid"] == []
    assert body["application"]["version"] == created.json()["version"] + 1
    assert stale.status_code == 409 and stale.json()["code"] == "application.version_conflict"

    # the address given later is the one the receipt goes to
    async with applications_client(infra) as client:
        form = full_extension_form(expires) | {
            "date_of_birth": draft["applicant"]["date_of_birth"],
        }
        shown = await client.get(path, headers=headers)
        saved = await client.patch(f"{path}/forms/extension", json=form, headers=headers | etag_of(shown))
        assert saved.status_code == 200, saved.text
        application_id = uuid.UUID(path.rsplit("/", 1)[1])
        await accept(infra, application_id, *SELF_EXTENSION_KINDS, "legal_representative_proof")
        await wait_for_attachments(client, path, headers, 5)
        submitted = await client.post(f"{path}/submit", headers=headers)
        assert submitted.status_code == 200, submitted.text
    (event,) = await events_of(infra, ApplicationSubmitted, application_id)
    first = event["recipients"][0]
    assert (first["email"], first["locale"], first["role"]) == (own, "en", "applicant")


async def test_changing_step_1_facts_reruns_eligibility_and_reports_changes_dropped_and_invalid_fields(
    infra: Infra,
) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    bureau, other_bureau = random_bureau(), random_bureau()
    expires = today() + timedelta(days=60)
    async with applications_client(infra) as client:
        created = await client.post(
            "/api/applications",
            json=extension_draft(
                bureau=bureau,
                expires=expires,
                procedures=[{"code": "extension"}, {"code": "reentry", "variant": "single"}],
            ),
            headers=headers,
        )
        assert created.status_code == 201, created.text
        path = f"/api/applications/{created.json()['id']}"
        saved = await client.patch(
            f"{path}/forms/extension", json=full_extension_form(expires), headers=headers | etag_of(created)
        )
        trip = {"destination": "VIET NAM", "purpose_of_travel": "帰省"}
        saved = await client.patch(f"{path}/forms/reentry", json=trip, headers=headers | etag_of(saved))
        assert saved.status_code == 200, saved.text

        ineligible = await client.patch(
            f"{path}/case",
            json={"applicant": {"period_of_stay_expires_on": today().isoformat()}},
            headers=headers | etag_of(saved),
        )
        unchanged = await client.get(path, headers=headers)

        later = expires + timedelta(days=30)
        changed = await client.patch(
            f"{path}/case",
            json={
                "procedures": [{"code": "extension"}],
                "applicant": {"period_of_stay_expires_on": later.isoformat()},
                "bureau": other_bureau,
            },
            headers=headers | etag_of(unchanged),
        )
    assert ineligible.status_code == 422
    assert ineligible.json()["code"] == "application.not_eligible"
    assert [r["code"] for r in ineligible.json()["refusals"]] == ["period.last_day_or_after"]
    assert unchanged.json()["version"] == saved.json()["application"]["version"]
    assert unchanged.json()["form_values"]["reentry"] == trip

    assert changed.status_code == 200, changed.text
    body: dict[str, Any] = changed.json()
    facts = {c["fact"]: (c["before"], c["after"]) for c in body["changed"]}
    assert facts["period_of_stay_expires_on"] == (expires.isoformat(), later.isoformat())
    assert facts["bureau"] == (bureau, other_bureau)
    assert facts["procedures"][1] == [{"code": "extension", "variant": None}]
    assert sorted(d["path"] for d in body["dropped"]) == ["reentry.destination", "reentry.purpose_of_travel"]
    assert all(d["message_ja"] and d["message_en"] for d in body["dropped"])
    assert [(i["path"], i["code"]) for i in body["invalid"]] == [
        ("extension.period_of_stay_expiry", "field.mismatch")
    ]
    application = body["application"]
    assert application["bureau"] == other_bureau
    assert [p["code"] for p in application["procedures"]] == ["extension"]
    assert "reentry" not in application["form_values"]


async def test_step_1_facts_cannot_change_after_submission(infra: Infra) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    async with applications_client(infra) as client:
        _, path = await submitted_application(infra, client, headers, random_bureau())
        shown = await client.get(path, headers=headers)
        refused = await client.patch(
            f"{path}/case", json={"applicant": {"locale": "ja"}}, headers=headers | etag_of(shown)
        )
    assert refused.status_code == 409 and refused.json()["code"] == "application.invalid_transition"


# -- point 18: the caller's own actions --------------------------------------------------------------------------


async def test_each_view_offers_only_the_callers_own_actions(infra: Infra) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    bureau = random_bureau()
    officer = people.headers(people.officer(bureau))
    async with applications_client(infra) as client:
        _, path, base = await under_review(infra, client, people, headers, bureau)
        applicant_view = (await client.get(path, headers=headers)).json()
        officer_view = (await client.get(base, headers=officer)).json()
        too_early = await client.post(f"{path}/resubmit", headers=headers)
        not_yet = await client.post(f"{base}/dispatch-card", headers=officer)
        returned = await client.post(
            f"{base}/return", json={"requested_documents": [{"description": "在職証明書"}]}, headers=officer
        )
        applicant_returned = (await client.get(path, headers=headers)).json()
    assert applicant_view["allowed_actions"] == ["withdraw"]
    # a refused action names only what this caller may do instead
    assert too_early.status_code == 409 and too_early.json()["details"]["allowed"] == ["withdraw"]
    assert not_yet.status_code == 409
    assert not_yet.json()["details"]["allowed"] == ["return_for_documents", "complete_review", "refuse"]
    assert officer_view["allowed_actions"] == ["return_for_documents", "complete_review", "refuse"]
    assert returned.json()["allowed_actions"] == ["record_documents_received", "refuse"]
    assert applicant_returned["allowed_actions"] == ["resubmit_documents", "withdraw"]


# -- point 19: documents received on paper, return deadline ----------------------------------------------------


async def test_documents_received_by_post_or_at_the_counter_resume_review_recorded_with_the_officer(
    infra: Infra,
) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    bureau = random_bureau()
    officer_principal = people.officer(bureau)
    officer = people.headers(officer_principal)
    due = today() + timedelta(days=21)
    async with applications_client(infra) as client:
        application_id, _, base = await under_review(infra, client, people, headers, bureau)
        past = await client.post(
            f"{base}/return",
            json={"requested_documents": [{"description": "在職証明書"}], "deadline": today().isoformat()},
            headers=officer,
        )
        returned = await client.post(
            f"{base}/return",
            json={"requested_documents": [{"description": "在職証明書"}], "deadline": due.isoformat()},
            headers=officer,
        )
        by_applicant = await client.post(
            f"{base}/documents-received", json={"channel": "post"}, headers=headers
        )
        by_fax = await client.post(f"{base}/documents-received", json={"channel": "fax"}, headers=officer)
        received = await client.post(
            f"{base}/documents-received",
            json={"channel": "counter", "note": "窓口で在職証明書を受領"},
            headers=officer,
        )
        completed = await client.post(f"{base}/complete-review", headers=officer)
    assert past.status_code == 422 and past.json()["code"] == "application.return_deadline_invalid"
    assert returned.status_code == 200, returned.text
    assert returned.json()["rounds"][-1]["deadline"] == due.isoformat()
    assert [r["declaration_form9"] for r in returned.json()["rounds"]] == [None, None]
    assert by_applicant.status_code == 403
    assert by_fax.status_code == 422
    assert received.status_code == 200, received.text
    body = received.json()
    assert body["state"] == "under_review"
    last = body["history"][-1]
    assert last["channel"] == "counter" and last["actor_id"] == str(officer_principal.user_id)
    assert last["note"] == "窓口で在職証明書を受領"
    assert body["rounds"][-1]["open"] is False
    assert completed.status_code == 200 and completed.json()["state"] == "review_completed"

    (r,) = await events_of(infra, ApplicationReturned, application_id)
    assert r["deadline"] == due.isoformat()
    assert r["declaration_form9"] is None  # filed under 10 MB: the rule asks for no declaration
    (d,) = await events_of(infra, DocumentsResubmitted, application_id)
    assert d["channel"] == "counter" and d["resubmitted_by"] == str(officer_principal.user_id)


async def test_a_return_without_a_deadline_gets_the_default_one(infra: Infra) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    bureau = random_bureau()
    officer = people.headers(people.officer(bureau))
    async with applications_client(infra) as client:
        application_id, _, base = await under_review(infra, client, people, headers, bureau)
        returned = await client.post(
            f"{base}/return", json={"requested_documents": [{"description": "在職証明書"}]}, headers=officer
        )
    assert returned.json()["rounds"][-1]["deadline"] == (today() + timedelta(days=14)).isoformat()
    (r,) = await events_of(infra, ApplicationReturned, application_id)
    assert r["deadline"] == (today() + timedelta(days=14)).isoformat()


# -- point 17: 参考様式9 -------------------------------------------------------------------------------------------


def test_the_two_form_9_texts_are_the_seeds_verbatim() -> None:
    assert FORM9_TEXTS[Form9Tick.MORE_LATER].ja == MORE_LATER_JA
    assert FORM9_TEXTS[Form9Tick.BUREAU_REQUESTED].ja == BUREAU_REQUESTED_JA


async def test_over_10mb_the_events_carry_the_form_9_box_to_tick_verbatim(infra: Infra) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    bureau = random_bureau()
    officer = people.headers(people.officer(bureau))
    async with applications_client(infra) as client:
        path, _ = await complete_draft(client, headers, bureau)
        application_id = uuid.UUID(path.rsplit("/", 1)[1])
        await accept(infra, application_id, *SELF_EXTENSION_KINDS, "declaration_form9")
        await wait_for_attachments(client, path, headers, 5)
        submitted = await client.post(f"{path}/submit", json={"over_10mb_declared": True}, headers=headers)
        assert submitted.status_code == 200, submitted.text
        await client.post(
            "/api/back-office/jobs/assign-receipt-numbers", headers=people.headers(people.operator())
        )
        base = f"/api/back-office/applications/{application_id}"
        await client.post(f"{base}/start-review", headers=officer)
        returned = await client.post(
            f"{base}/return", json={"requested_documents": [{"description": "残りの資料"}]}, headers=officer
        )
        assert returned.status_code == 200, returned.text
        first, second = returned.json()["rounds"]
        assert first["declaration_form9"]["text_ja"] == MORE_LATER_JA
        assert second["declaration_form9"]["tick"] == "bureau_requested_additional_documents"
        assert second["declaration_form9"]["text_ja"] == BUREAU_REQUESTED_JA
        await accept(infra, application_id, "supporting_documents_pdf", round_number=2)
        await wait_for_attachments(client, path, headers, 6)
        without = await client.post(f"{path}/resubmit", headers=headers)
    (s,) = await events_of(infra, ApplicationSubmitted, application_id)
    assert s["declaration_form9"]["tick"] == "more_will_be_attached_later"
    assert s["declaration_form9"]["text_ja"] == MORE_LATER_JA
    assert "10 MB" in s["declaration_form9"]["text_en"]
    (r,) = await events_of(infra, ApplicationReturned, application_id)
    assert r["declaration_form9"]["tick"] == "bureau_requested_additional_documents"
    assert r["declaration_form9"]["text_ja"] == BUREAU_REQUESTED_JA
    refusal = without.json()["refusals"][0]
    assert refusal["code"] == "attachments.declaration_form9_missing"
    assert BUREAU_REQUESTED_JA in refusal["message_ja"]
