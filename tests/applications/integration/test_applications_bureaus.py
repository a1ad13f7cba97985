"""Bureaus as reference data: the list by prefecture, unknown bureaus refused, and the bureau named in events."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from shared.events import ApplicationSubmitted
from tests.applications.integration.applications_support import (
    People,
    accept,
    applications_client,
    etag_of,
    events_of,
    extension_draft,
    today,
    wait_for_attachments,
)
from tests.applications.unit.applications_builders import extension_form
from tests.support.apps import Infra

pytestmark = pytest.mark.integration


async def test_the_bureau_list_suggests_the_bureau_of_the_prefecture_with_its_address_and_phone(
    infra: Infra,
) -> None:
    async with applications_client(infra) as client:
        okinawa = (await client.get("/api/applications/reference/bureaus?prefecture=沖縄県")).json()
        by_code = (await client.get("/api/applications/reference/bureaus?prefecture=27")).json()
        everything = (await client.get("/api/applications/reference/bureaus")).json()
        unknown = await client.get("/api/applications/reference/bureaus?prefecture=Atlantis")
    assert okinawa["suggested"] == "NAH"
    (naha,) = okinawa["bureaus"]
    assert naha["name"]["ja"] == "福岡出入国在留管理局那覇支局" and naha["phone"] == "098-832-4185"
    assert "那覇市" in naha["address"]["ja"] and naha["verify"] is True
    assert by_code["suggested"] == "OSK" and by_code["prefecture"]["ja"] == "大阪府"
    codes = {b["code"] for b in everything["bureaus"]}
    assert {"SPR", "SND", "TKY", "NGY", "OSK", "HRS", "TKM", "FKO", "NAH"} <= codes
    assert len(everything["prefectures"]) == 47
    assert unknown.status_code == 422 and unknown.json()["code"] == "reference.prefecture_unknown"


async def test_an_unknown_bureau_is_refused_and_the_prefecture_picks_the_bureau(infra: Infra) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    async with applications_client(infra) as client:
        unknown = await client.post("/api/applications", json=extension_draft(bureau="ZZZ"), headers=headers)
        body = extension_draft(bureau="TKY")
        del body["bureau"]
        body["address_prefecture"] = "大阪府"
        picked = await client.post("/api/applications", json=body, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["code"] == "application.bureau_unknown"
    assert "/api/applications/reference/bureaus" in unknown.json()["message_en"]
    assert picked.status_code == 201, picked.text
    assert picked.json()["bureau"] == "OSK"


async def test_the_submitted_event_names_the_bureau_with_its_address_and_phone(infra: Infra) -> None:
    people = People(infra)
    headers = people.headers(people.applicant())
    expires = today() + timedelta(days=60)
    async with applications_client(infra) as client:
        created = await client.post(
            "/api/applications", json=extension_draft(bureau="HRS", expires=expires), headers=headers
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
        submitted = await client.post(f"{path}/submit", headers=headers)
        assert submitted.status_code == 200, submitted.text
    (event,) = await events_of(infra, ApplicationSubmitted, application_id)
    contact = event["bureau_contact"]
    assert contact["code"] == "HRS" and contact["name_ja"] == "広島出入国在留管理局"
    assert "広島市中区上八丁堀" in contact["address_ja"] and contact["phone"] == "082-221-4411"
