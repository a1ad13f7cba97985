"""Facts from the record, not from what is typed: representation, its end, photos, fees, windows (issue 11)."""

from __future__ import annotations

import shutil
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from applications.domain.clock import JAPAN, FixedClock
from applications.reference.loader import default_data_directory
from shared.auth import Principal
from shared.events import TaxInfoRegistered
from tests.applications.integration.applications_support import (
    People,
    accept,
    applications_client,
    create_on_record,
    etag_of,
    extension_draft,
    publish,
    random_bureau,
    represent,
    today,
    wait_for_attachments,
)
from tests.applications.unit.applications_builders import extension_form
from tests.support.apps import Infra

pytestmark = pytest.mark.integration

REPRESENTATIVE_KINDS = ("face_photo", "supporting_documents_pdf", "legal_representative_proof")


def years_ago(day: date, years: int, *, plus_days: int = 0) -> date:
    """Return the date ``years`` before ``day`` (then ``plus_days`` later)."""
    return day.replace(year=day.year - years) + timedelta(days=plus_days)


def refusal_codes(response: httpx.Response) -> list[str]:
    """Return the codes of a refused request's refusals."""
    return [r["code"] for r in response.json().get("refusals", [])]


async def file_as_representative(
    infra: Infra,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    applicant_id: uuid.UUID,
    born: date,
    bureau: str,
    on: date,
) -> tuple[uuid.UUID, str]:
    """Create, complete and submit an extension for the represented applicant; return its id and path."""
    expires = on + timedelta(days=60)
    body = extension_draft(bureau=bureau, applicant_id=applicant_id, born=born.isoformat(), expires=expires)
    created = await create_on_record(client, body, headers)
    assert created.status_code == 201, created.text
    path = f"/api/applications/{created.json()['id']}"
    form = extension_form(period_of_stay_expiry=expires.isoformat(), date_of_birth=born.isoformat())
    saved = await client.patch(f"{path}/forms/extension", json=form, headers=headers | etag_of(created))
    assert saved.status_code == 200, saved.text
    application_id = uuid.UUID(created.json()["id"])
    await accept(infra, application_id, *REPRESENTATIVE_KINDS)
    await wait_for_attachments(client, path, headers, len(REPRESENTATIVE_KINDS))
    submitted = await client.post(f"{path}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.text
    return application_id, path


# -- 6: eligibility from the registered representation ---------------------------------------------------------
async def test_a_relative_of_an_adult_cannot_file_by_typing_a_childs_birth_date(infra: Infra) -> None:
    people = People(infra)
    applicant = uuid.uuid4()
    relative = people.representative(applicant, category="relative")
    recorded = years_ago(today(), 20)
    await represent(
        infra, relative, applicant, born=recorded, basis="applicant_under_16", relationship="parent"
    )
    typed_child = extension_draft(
        bureau=random_bureau(), applicant_id=applicant, born=years_ago(today(), 10).isoformat()
    )
    as_recorded = extension_draft(bureau=random_bureau(), applicant_id=applicant, born=recorded.isoformat())
    async with applications_client(infra) as client:
        typed = await create_on_record(client, typed_child, people.headers(relative))
        honest = await client.post("/api/applications", json=as_recorded, headers=people.headers(relative))
    assert typed.status_code == 422, typed.text
    assert typed.json()["code"] == "application.date_of_birth_not_as_recorded"
    assert typed.json()["recorded_date_of_birth"] == recorded.isoformat()
    assert honest.status_code == 422, honest.text
    assert "representation.ended" in refusal_codes(honest)
    assert "category.not_allowed" in refusal_codes(honest)


async def test_parental_authority_ends_at_18_by_the_recorded_date_of_birth(infra: Infra) -> None:
    people = People(infra)
    child, adult = uuid.uuid4(), uuid.uuid4()
    parent = people.representative(child, adult)
    minor_born, adult_born = years_ago(today(), 18, plus_days=1), years_ago(today(), 18)
    await represent(infra, parent, child, born=minor_born)
    await represent(infra, parent, adult, born=adult_born)
    async with applications_client(infra) as client:
        minor = await create_on_record(
            client,
            extension_draft(bureau=random_bureau(), applicant_id=child, born=minor_born.isoformat()),
            people.headers(parent),
        )
        grown = await create_on_record(
            client,
            extension_draft(bureau=random_bureau(), applicant_id=adult, born=adult_born.isoformat()),
            people.headers(parent),
        )
    assert minor.status_code == 201, minor.text
    assert grown.status_code == 422, grown.text
    (ended,) = [r for r in grown.json()["refusals"] if r["code"] == "representation.ended"]
    assert ended["details"]["basis"] == "parental_authority"
    assert ended["details"]["ended_on"] == today().isoformat()


# -- 8: one vocabulary --------------------------------------------------------------------------------------------
async def test_a_legal_representative_registered_as_parent_files_with_the_relationship_on_record(
    infra: Infra,
) -> None:
    people = People(infra)
    applicant = uuid.uuid4()
    parent = people.representative(applicant)
    born = years_ago(today(), 9)
    await represent(infra, parent, applicant, born=born, basis="parental_authority", relationship="parent")
    body = extension_draft(
        bureau=random_bureau(), applicant_id=applicant, born=born.isoformat(), relationship="guardian"
    )
    async with applications_client(infra) as client:
        created = await create_on_record(client, body, people.headers(parent))
    assert created.status_code == 201, created.text
    assert "legal_representative_proof" in [r["code"] for r in created.json()["required_attachments"]]


# -- 7: the representation in force at filing governs the application ---------------------------------------------
async def test_a_parent_who_filed_before_the_18th_birthday_answers_sees_and_withdraws_after_it(
    infra: Infra,
) -> None:
    people = People(infra)
    applicant = uuid.uuid4()
    parent = people.representative(applicant)
    day = today()
    born = years_ago(day, 18, plus_days=1)  # 18 tomorrow
    await represent(infra, parent, applicant, born=born)
    bureau = random_bureau()
    officer = people.headers(people.officer(bureau))
    clock = FixedClock(datetime.combine(day, time(10), tzinfo=JAPAN))
    async with applications_client(infra, clock=clock) as client:
        application_id, path = await file_as_representative(
            infra, client, people.headers(parent), applicant_id=applicant, born=born, bureau=bureau, on=day
        )
        clock.set(datetime.combine(day + timedelta(days=2), time(10), tzinfo=JAPAN))
        # After the birthday identity no longer lists the applicant in the parent's token.
        after = people.headers(
            Principal(user_id=parent.user_id, roles=parent.roles, category=parent.category)
        )
        await client.post(
            "/api/back-office/jobs/assign-receipt-numbers", headers=people.headers(people.operator())
        )
        base = f"/api/back-office/applications/{application_id}"
        assert (await client.post(f"{base}/start-review", headers=officer)).status_code == 200
        returned = await client.post(
            f"{base}/return", json={"requested_documents": [{"description": "在学証明書"}]}, headers=officer
        )
        assert returned.status_code == 200, returned.text
        seen = await client.get(path, headers=after)
        listed = await client.get("/api/applications", headers=after)
        await accept(infra, application_id, "supporting_documents_pdf", round_number=2)
        await wait_for_attachments(client, path, after, len(REPRESENTATIVE_KINDS) + 1)
        resubmitted = await client.post(f"{path}/resubmit", headers=after)
        withdrawn = await client.post(f"{path}/withdraw", json={"reason": "帰国"}, headers=after)
        new_draft = await client.post(
            "/api/applications",
            json=extension_draft(bureau=bureau, applicant_id=applicant, born=born.isoformat()),
            headers=people.headers(parent),  # a stale token still listing the applicant
        )
        stranger = await client.get(path, headers=people.headers(people.representative()))
    assert seen.status_code == 200 and seen.json()["state"] == "returned"
    assert [i["id"] for i in listed.json()["items"]] == [str(application_id)]
    assert resubmitted.status_code == 200 and resubmitted.json()["state"] == "under_review", resubmitted.text
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn", withdrawn.text
    assert new_draft.status_code == 422 and "representation.ended" in refusal_codes(new_draft)
    assert stranger.status_code == 404


# -- 10: face photo rule from data --------------------------------------------------------------------------------
async def test_a_mid_to_long_term_residents_extension_needs_a_real_photo_not_the_placeholder(
    infra: Infra,
) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    expires = today() + timedelta(days=60)
    async with applications_client(infra) as client:
        created = await client.post(
            "/api/applications",
            json=extension_draft(bureau=random_bureau(), expires=expires),
            headers=headers,
        )
        path = f"/api/applications/{created.json()['id']}"
        await client.patch(
            f"{path}/forms/extension",
            json=extension_form(period_of_stay_expiry=expires.isoformat()),
            headers=headers | etag_of(created),
        )
        application_id = uuid.UUID(created.json()["id"])
        kinds = (
            "no_photo_placeholder",
            "supporting_documents_pdf",
            "host_organisation_form",
            "form19_supplementary",
        )
        await accept(infra, application_id, *kinds)
        await wait_for_attachments(client, path, headers, 4)
        refused = await client.post(f"{path}/submit", headers=headers)
        work = await client.post(
            "/api/applications",
            json=extension_draft(bureau=random_bureau(), procedures=[{"code": "work_certificate"}]),
            headers=headers,
        )
    assert refused.status_code == 422
    assert refusal_codes(refused) == [
        "attachments.photo_missing",
        "attachments.photo_placeholder_not_allowed",
    ]
    photo = {r["code"]: r["any_of"] for r in created.json()["required_attachments"]}
    assert photo["photo"] == ["face_photo"]
    work_photo = {r["code"]: r["any_of"] for r in work.json()["required_attachments"]}
    assert work_photo["photo_or_placeholder"] == ["face_photo", "no_photo_placeholder"]


# -- 11: fees from the table in force on the filing date -----------------------------------------------------------
async def test_the_fee_is_that_of_the_table_in_force_on_the_filing_date(infra: Infra, tmp_path: Path) -> None:
    day = today()
    revision = day + timedelta(days=10)
    data = tmp_path / "reference"
    shutil.copytree(default_data_directory(), data)
    (data / f"{revision.isoformat()}.fees.yaml").write_text(
        f"""effective_from: {revision.isoformat()}
description: A fee revision (test).
fees:
  - {{procedure: coe, online: 0, counter: 0}}
  - {{procedure: change, online: 9000, counter: 9500}}
  - {{procedure: extension, online: 9000, counter: 9500}}
  - {{procedure: acquisition, online: 0, counter: 0}}
  - {{procedure: work_certificate, online: 1600, counter: 2000}}
  - {{procedure: reentry, variant: single, online: 3500, counter: 4000}}
  - {{procedure: reentry, variant: multiple, online: 6500, counter: 7000}}
  - {{procedure: outside_activity, online: 0, counter: 0}}
""",
        encoding="utf-8",
    )
    people = People(infra)
    headers = people.headers(people.applicant())
    bureau = random_bureau()
    officer = people.headers(people.officer(bureau))
    clock = FixedClock(datetime.combine(day, time(10), tzinfo=JAPAN))
    expires = day + timedelta(days=60)
    async with applications_client(infra, clock=clock, reference_data_dir=data) as client:
        created = await client.post(
            "/api/applications", json=extension_draft(bureau=bureau, expires=expires), headers=headers
        )
        path = f"/api/applications/{created.json()['id']}"
        await client.patch(
            f"{path}/forms/extension",
            json=extension_form(period_of_stay_expiry=expires.isoformat()),
            headers=headers | etag_of(created),
        )
        application_id = uuid.UUID(created.json()["id"])
        await accept(
            infra,
            application_id,
            "face_photo",
            "supporting_documents_pdf",
            "host_organisation_form",
            "form19_supplementary",
        )
        await wait_for_attachments(client, path, headers, 4)
        assert (await client.post(f"{path}/submit", headers=headers)).status_code == 200
        clock.set(datetime.combine(revision + timedelta(days=5), time(10), tzinfo=JAPAN))
        await client.post(
            "/api/back-office/jobs/assign-receipt-numbers", headers=people.headers(people.operator())
        )
        base = f"/api/back-office/applications/{application_id}"
        await client.post(f"{base}/start-review", headers=officer)
        completed = await client.post(f"{base}/complete-review", headers=officer)
    assert completed.status_code == 200, completed.text
    outcome = completed.json()["review_outcome"]
    assert outcome["fee_total_yen"] == 5500
    assert outcome["fee_table_effective_from"] == "2025-04-01"


# -- 12: filing windows and scope as data; midnight ----------------------------------------------------------------
def self_extension(**applicant: Any) -> dict[str, Any]:
    """Return a self-filed extension draft body with applicant fields overridden."""
    body = extension_draft(bureau=random_bureau())
    body["applicant"].update(applicant)
    return body


async def test_an_extension_opens_three_months_before_expiry_for_long_stays_and_short_stays_are_out_of_scope(
    infra: Infra,
) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    far = (today() + timedelta(days=130)).isoformat()
    async with applications_client(infra) as client:
        early = await client.post(
            "/api/applications", json=self_extension(period_of_stay_expires_on=far), headers=headers
        )
        early_known = await client.post(
            "/api/applications",
            json=self_extension(period_of_stay_expires_on=far, period_of_stay_months=12),
            headers=headers,
        )
        short_stay = await client.post(
            "/api/applications",
            json=self_extension(period_of_stay_expires_on=far, period_of_stay_months=4),
            headers=headers,
        )
        three_months = await client.post(
            "/api/applications", json=self_extension(period_of_stay_months=3), headers=headers
        )
        in_window = await client.post(
            "/api/applications", json=self_extension(period_of_stay_months=12), headers=headers
        )
    assert early.status_code == 422 and refusal_codes(early) == ["period.window_not_open"]
    assert "在留期間を入力" in early.json()["refusals"][0]["message_ja"]
    assert refusal_codes(early_known) == ["period.window_not_open"]
    assert early_known.json()["refusals"][0]["details"]["opens_on"] < far
    assert short_stay.status_code == 201, short_stay.text
    assert three_months.status_code == 422 and refusal_codes(three_months) == ["period.not_mid_to_long_term"]
    assert in_window.status_code == 201, in_window.text


async def test_designated_activity_notices_follow_the_data_and_filing_from_abroad_is_explained(
    infra: Infra,
) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())

    def designated(notice: str, procedure: str) -> dict[str, Any]:
        body = self_extension()
        body["procedures"] = [{"code": procedure}]
        selection = {"code": "designated_activities", "designated_activity_notice": notice}
        if procedure == "coe":
            body["applicant"]["current_status"] = None
            body["requested_status"] = selection
        else:
            body["applicant"]["current_status"] = selection
        return body

    async with applications_client(infra) as client:
        exchange_extension = await client.post(
            "/api/applications", json=designated("15", "extension"), headers=headers
        )
        epa_coe = await client.post("/api/applications", json=designated("20", "coe"), headers=headers)
        family_extension = await client.post(
            "/api/applications", json=designated("33の2", "extension"), headers=headers
        )
        abroad_body = self_extension()
        abroad_body["filing_from_abroad"] = True
        abroad = await client.post("/api/applications", json=abroad_body, headers=headers)
    assert exchange_extension.status_code == 422
    assert [(r["code"], r["details"].get("procedure")) for r in exchange_extension.json()["refusals"]] == [
        ("status.out_of_scope", "extension")
    ]
    assert epa_coe.status_code == 422 and refusal_codes(epa_coe) == ["status.out_of_scope"]
    assert family_extension.status_code == 201, family_extension.text
    assert abroad.status_code == 422 and refusal_codes(abroad) == ["procedure.not_online"]
    assert "日本国外" in abroad.json()["refusals"][0]["message_ja"]


class MidnightClock:
    """A clock at 23:59:59.999 JST for its first reading once armed, and just past midnight afterwards."""

    def __init__(self, day: date) -> None:
        """Stand at 10:00 of ``day`` until armed."""
        self.day = day
        self.armed = False
        self.readings = 0

    def now(self) -> datetime:
        """Return the time; once armed, the second reading is on the next day."""
        if not self.armed:
            return datetime.combine(self.day, time(10), tzinfo=JAPAN)
        self.readings += 1
        if self.readings == 1:
            return datetime.combine(self.day, time(23, 59, 59, 999000), tzinfo=JAPAN)
        return datetime.combine(self.day + timedelta(days=1), time(0, 0, 0, 1000), tzinfo=JAPAN)


async def test_a_submission_that_straddles_midnight_in_japan_is_numbered_for_one_day_not_a_500(
    infra: Infra,
) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    day = today()
    clock = MidnightClock(day)
    expires = day + timedelta(days=60)
    async with applications_client(infra, clock=clock) as client:
        created = await client.post(
            "/api/applications",
            json=extension_draft(bureau=random_bureau(), expires=expires),
            headers=headers,
        )
        path = f"/api/applications/{created.json()['id']}"
        await client.patch(
            f"{path}/forms/extension",
            json=extension_form(period_of_stay_expiry=expires.isoformat()),
            headers=headers | etag_of(created),
        )
        application_id = uuid.UUID(created.json()["id"])
        await accept(
            infra,
            application_id,
            "face_photo",
            "supporting_documents_pdf",
            "host_organisation_form",
            "form19_supplementary",
        )
        await wait_for_attachments(client, path, headers, 4)
        clock.armed = True
        submitted = await client.post(f"{path}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["provisional_receipt_number"].startswith(f"T{day:%Y%m%d}")


# -- 15: Mynaportal tax data only for the 外国人本人 about themself --------------------------------------------------
async def test_mynaportal_tax_data_counts_only_when_the_applicant_registered_it_for_their_own_filing(
    infra: Infra,
) -> None:
    people = People(infra)
    me = people.applicant()
    headers = people.headers(me)
    child = uuid.uuid4()
    parent = people.representative(child)
    born = years_ago(today(), 9)
    await represent(infra, parent, child, born=born)

    def tax(application_id: uuid.UUID, registered_by: uuid.UUID) -> TaxInfoRegistered:
        return TaxInfoRegistered(
            application_id=application_id,
            attachment_id=uuid.uuid4(),
            round_number=1,
            fiscal_year=2025,
            person_name="NGUYEN VAN AN",
            sha256="0" * 64,
            registered_by=registered_by,
        )

    async with applications_client(infra) as client:
        own = await client.post(
            "/api/applications", json=extension_draft(bureau=random_bureau()), headers=headers
        )
        own_id = uuid.UUID(own.json()["id"])
        childs = await create_on_record(
            client,
            extension_draft(bureau=random_bureau(), applicant_id=child, born=born.isoformat()),
            people.headers(parent),
        )
        child_id = uuid.UUID(childs.json()["id"])
        stranger = uuid.uuid4()
        # Same key, same partition: the refused ones are consumed before the accepted one that follows.
        await publish(infra, tax(own_id, stranger))
        await publish(infra, tax(child_id, parent.user_id))
        await publish(infra, tax(child_id, child))
        accepted = tax(own_id, me.user_id)
        await publish(infra, accepted)
        (photo,) = await accept(
            infra, child_id, "face_photo"
        )  # after the refused ones, on the same partition
        shown = await wait_for_attachments(client, f"/api/applications/{own_id}", headers, 1)
        child_view = await wait_for_attachments(
            client, f"/api/applications/{child_id}", people.headers(parent), 1
        )
    assert [(a["attachment_id"], a["kind"]) for a in shown["attachments"]] == [
        (str(accepted.attachment_id), "tax_information")
    ]
    assert [a["attachment_id"] for a in child_view["attachments"]] == [str(photo)]
