"""Drafts over HTTP on the real database: eligibility at creation, saving every step, versions, who sees what."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.applications.integration.applications_support import (
    People,
    applications_client,
    create_on_record,
    etag_of,
    extension_draft,
    full_extension_form,
    random_bureau,
    represent,
    today,
)
from tests.support.apps import Infra

pytestmark = pytest.mark.integration


async def test_creates_a_draft_with_its_etag_and_the_attachments_it_will_need(
    infra: Infra,
) -> None:
    people = People(infra)
    me = people.applicant()
    async with applications_client(infra) as client:
        response = await client.post(
            "/api/applications", json=extension_draft(bureau=random_bureau()), headers=people.headers(me)
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["ETag"] == '"1"'
        assert response.headers["Location"] == f"/api/applications/{body['id']}"
        assert body["state"] == "draft" and body["state_label"] == {"ja": "作成中", "en": "draft"}
        assert body["applicant_id"] == str(me.user_id) == body["filer_user_id"]
        assert body["filer_category"] == "self"
        assert [r["code"] for r in body["required_attachments"]] == [
            "photo",
            "supporting_documents",
            "host_organisation_form",
            "form19",
        ]
        assert [h["state"] for h in body["history"]] == ["draft"]
        assert body["rounds"][0]["number"] == 1 and body["rounds"][0]["open"]


async def test_refuses_a_draft_on_the_last_day_of_stay_listing_every_refusal_in_japanese_and_english(
    infra: Infra,
) -> None:
    people = People(infra)
    draft = extension_draft(
        bureau=random_bureau(), expires=today(), born=(today() - timedelta(days=14 * 366)).isoformat()
    )
    async with applications_client(infra) as client:
        response = await client.post(
            "/api/applications", json=draft, headers=people.headers(people.applicant())
        )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "application.not_eligible"
    assert [r["code"] for r in problem["refusals"]] == ["applicant.under_15_self", "period.last_day_or_after"]
    last_day = problem["refusals"][1]
    assert (
        "満了日" in last_day["message_ja"]
        and "regional immigration services bureau" in last_day["message_en"]
    )
    assert last_day["details"]["expires_on"] == today().isoformat()


async def test_refuses_a_relative_filing_a_work_certificate_and_an_out_of_scope_status(
    infra: Infra,
) -> None:
    people = People(infra)
    applicant = uuid.uuid4()
    relative = people.representative(applicant, category="relative")
    draft = extension_draft(
        bureau=random_bureau(),
        applicant_id=applicant,
        status="temporary_visitor",
        procedures=[{"code": "work_certificate"}],
    )
    await represent(infra, relative, applicant, born="1995-05-01", basis="illness", relationship="spouse")
    async with applications_client(infra) as client:
        response = await create_on_record(client, draft, people.headers(relative))
    assert response.status_code == 422
    codes = [r["code"] for r in response.json()["refusals"]]
    assert codes == ["status.out_of_scope", "category.not_allowed"]


async def test_refuses_to_file_for_an_applicant_the_caller_does_not_act_for(
    infra: Infra,
) -> None:
    people = People(infra)
    representative = people.representative(uuid.uuid4())
    stranger = uuid.uuid4()
    async with applications_client(infra) as client:
        response = await client.post(
            "/api/applications",
            json=extension_draft(bureau=random_bureau(), applicant_id=stranger),
            headers=people.headers(representative),
        )
        officer = await client.post(
            "/api/applications",
            json=extension_draft(bureau=random_bureau()),
            headers=people.headers(people.officer("TKY")),
        )
        anonymous = await client.post("/api/applications", json=extension_draft(bureau=random_bureau()))
    assert response.status_code == 403 and response.json()["code"] == "application.applicant_not_linked"
    assert officer.status_code == 403 and officer.json()["code"] == "application.filer_not_allowed"
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "auth.required"


async def test_saves_a_partial_step_without_failing_and_reports_what_is_wrong_and_missing(
    infra: Infra,
) -> None:
    people = People(infra)
    me = people.headers(people.applicant())
    async with applications_client(infra) as client:
        created = await client.post(
            "/api/applications", json=extension_draft(bureau=random_bureau()), headers=me
        )
        path = f"/api/applications/{created.json()['id']}"
        saved = await client.patch(
            f"{path}/forms/extension",
            json={"nationality": "VIET NAM", "residence_card_number": "ab123"},
            headers=me | etag_of(created),
        )
        assert saved.status_code == 200, saved.text
        assert saved.headers["ETag"] == '"2"'
        report = saved.json()["validation"]
        assert not report["complete"]
        assert [i["path"] for i in report["issues"]] == ["extension.residence_card_number"]
        assert report["issues"][0]["message_ja"] and report["issues"][0]["message_en"]
        assert "extension.family_name" in [m["path"] for m in report["missing"]]
        resumed = (await client.get(path, headers=me)).json()
        assert resumed["form_values"]["extension"] == {
            "nationality": "VIET NAM",
            "residence_card_number": "ab123",
        }
        whole = await client.get(f"{path}/validation", headers=me)
        assert whole.status_code == 200 and whole.json()["complete"] is False


async def test_replacing_a_step_clears_the_fields_of_that_step_that_were_left_out(
    infra: Infra,
) -> None:
    people = People(infra)
    me = people.headers(people.applicant())
    async with applications_client(infra) as client:
        created = await client.post(
            "/api/applications", json=extension_draft(bureau=random_bureau()), headers=me
        )
        path = f"/api/applications/{created.json()['id']}"
        first = await client.patch(
            f"{path}/forms/extension",
            json={"nationality": "VIET NAM", "occupation": "会社員", "requested_period": "3年"},
            headers=me | etag_of(created),
        )
        step = await client.put(
            f"{path}/forms/extension/steps/2-1", json={"nationality": "NEPAL"}, headers=me | etag_of(first)
        )
    assert step.status_code == 200, step.text
    assert step.json()["application"]["form_values"]["extension"] == {
        "nationality": "NEPAL",
        "requested_period": "3年",
    }


async def test_a_stale_write_from_a_second_tab_gets_409_and_a_write_without_a_version_gets_428(
    infra: Infra,
) -> None:
    people = People(infra)
    me = people.headers(people.applicant())
    async with applications_client(infra) as client:
        created = await client.post(
            "/api/applications", json=extension_draft(bureau=random_bureau()), headers=me
        )
        path = f"/api/applications/{created.json()['id']}/forms/extension"
        tab_one = await client.patch(path, json={"occupation": "A"}, headers=me | etag_of(created))
        tab_two = await client.patch(path, json={"occupation": "B"}, headers=me | etag_of(created))
        unversioned = await client.patch(path, json={"occupation": "C"}, headers=me)
    assert tab_one.status_code == 200
    assert tab_two.status_code == 409
    problem = tab_two.json()
    assert problem["code"] == "application.version_conflict"
    assert problem["expected_version"] == 1 and problem["current_version"] == 2
    assert "別の画面" in problem["message_ja"] and "another tab" in problem["message_en"]
    assert (
        unversioned.status_code == 428 and unversioned.json()["code"] == "application.precondition_required"
    )


async def test_applicants_see_only_their_own_and_representatives_those_they_act_for(
    infra: Infra,
) -> None:
    people = People(infra)
    owner = people.applicant()
    other = people.applicant()
    representative = people.representative(owner.user_id)
    async with applications_client(infra) as client:
        created = await client.post(
            "/api/applications", json=extension_draft(bureau=random_bureau()), headers=people.headers(owner)
        )
        path = f"/api/applications/{created.json()['id']}"
        by_owner = await client.get(path, headers=people.headers(owner))
        by_other = await client.get(path, headers=people.headers(other))
        by_representative = await client.get(path, headers=people.headers(representative))
        listed = await client.get("/api/applications", headers=people.headers(representative))
        others_list = await client.get("/api/applications", headers=people.headers(other))
        write_by_other = await client.patch(
            f"{path}/forms/extension",
            json={"occupation": "X"},
            headers=people.headers(other) | etag_of(created),
        )
    assert by_owner.status_code == 200 and by_representative.status_code == 200
    assert by_other.status_code == 404 and by_other.json()["code"] == "application.not_found"
    assert write_by_other.status_code == 404
    assert [i["id"] for i in listed.json()["items"]] == [created.json()["id"]]
    assert others_list.json()["total"] == 0


async def test_a_legal_representative_files_for_the_applicant_they_act_for(
    infra: Infra,
) -> None:
    people = People(infra)
    applicant = uuid.uuid4()
    representative = people.representative(applicant)
    born = (today() - timedelta(days=10 * 366)).isoformat()
    draft = extension_draft(bureau=random_bureau(), applicant_id=applicant, born=born)
    await represent(infra, representative, applicant, born=born)
    async with applications_client(infra) as client:
        created = await create_on_record(client, draft, people.headers(representative))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["applicant_id"] == str(applicant) and body["filer_user_id"] == str(representative.user_id)
    assert "legal_representative_proof" in [r["code"] for r in body["required_attachments"]]


async def test_a_complete_form_validates_clean(infra: Infra) -> None:
    people = People(infra)
    me = people.headers(people.applicant())
    expires = today() + timedelta(days=60)
    async with applications_client(infra) as client:
        created = await client.post(
            "/api/applications", json=extension_draft(bureau=random_bureau(), expires=expires), headers=me
        )
        saved = await client.patch(
            f"/api/applications/{created.json()['id']}/forms/extension",
            json=full_extension_form(expires),
            headers=me | etag_of(created),
        )
    assert saved.json()["validation"]["complete"] is True, saved.json()["validation"]
