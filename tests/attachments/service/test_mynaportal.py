"""Mynaportal tax data through the SIMULATOR over real HTTP: fetch, review, register; and each refusal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from shared.auth import Principal
from shared.events import TaxInfoRegistered
from tests.attachments.service.support import AttachmentsStack, applicant, events_for

pytestmark = pytest.mark.integration

LAST_YEAR = datetime.now(UTC).year - 1


async def fetch(
    stack: AttachmentsStack, principal: Principal, application_id: uuid.UUID, name: str, year: int = LAST_YEAR
) -> httpx.Response:
    """POST a fetch request."""
    return await stack.client.post(
        f"/api/attachments/applications/{application_id}/tax-info/fetches",
        json={"person_name": name, "fiscal_year": year},
        headers=stack.auth(principal),
    )


async def test_a_foreign_national_fetches_reviews_and_registers_tax_data_as_an_electronic_attachment(
    stack: AttachmentsStack,
) -> None:
    person = applicant("foreign_national")
    application_id = await stack.draft(person)
    fetched = await fetch(stack, person, application_id, "NGUYEN VAN AN")
    assert fetched.status_code == 201, fetched.text
    review = fetched.json()
    assert review["fiscal_year"] == LAST_YEAR
    data = review["data"]
    assert data["simulated"] is True
    assert data["resident_tax_yen"] == data["municipal_tax_yen"] + data["prefectural_tax_yen"]
    assert data["total_income_yen"] > 0
    registered = await stack.client.post(
        f"/api/attachments/applications/{application_id}/tax-info",
        json={"fetch_id": review["fetch_id"]},
        headers=stack.auth(person),
    )
    assert registered.status_code == 201, registered.text
    attachment = registered.json()
    assert attachment["kind"] == "tax_info" and attachment["state"] == "accepted"
    assert attachment["document_type"] == "tax_information"
    again = await stack.client.post(
        f"/api/attachments/applications/{application_id}/tax-info",
        json={"fetch_id": review["fetch_id"]},
        headers=stack.auth(person),
    )
    assert again.json()["attachment_id"] == attachment["attachment_id"], (
        "registering twice gives one attachment"
    )
    events = await events_for(stack.bootstrap, TaxInfoRegistered, attachment["attachment_id"])
    assert len(events) == 1
    assert events[0]["fiscal_year"] == LAST_YEAR and events[0]["person_name"] == "NGUYEN VAN AN"
    assert events[0]["round_number"] == 1
    view = await stack.application(person, application_id)
    assert [a["kind"] for a in view["rounds"][0]["attachments"]] == ["tax_info"]


async def test_only_a_foreign_national_may_fetch_tax_data(stack: AttachmentsStack) -> None:
    parent = applicant("legal_representative")
    response = await fetch(stack, parent, await stack.draft(parent), "NGUYEN VAN AN")
    assert response.status_code == 403
    assert response.json()["code"] == "mynaportal.not_foreign_national"


@pytest.mark.parametrize(
    ("name", "year", "code"),
    [
        ("UNKNOWN PERSON", LAST_YEAR, "mynaportal.person_not_found"),
        ("NGUYEN VAN AN", LAST_YEAR - 20, "mynaportal.year_not_available"),
    ],
)
async def test_an_unknown_person_or_year_at_the_provider_is_refused_with_its_code(
    stack: AttachmentsStack, name: str, year: int, code: str
) -> None:
    person = applicant()
    response = await fetch(stack, person, await stack.draft(person), name, year)
    assert response.status_code == 404
    problem = response.json()
    assert problem["code"] == code
    assert problem["message_ja"] and problem["message_en"]


async def test_an_unavailable_provider_gives_503_with_retry_advice(
    stack: AttachmentsStack, mynaportal_simulator: str, http_client: httpx.AsyncClient
) -> None:
    person = applicant()
    application_id = await stack.draft(person)
    switched = await http_client.post(f"{mynaportal_simulator}/simulator/outage", json={"down": True})
    assert switched.status_code == 200
    try:
        response = await fetch(stack, person, application_id, "NGUYEN VAN AN")
    finally:
        await http_client.post(f"{mynaportal_simulator}/simulator/outage", json={"down": False})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    problem = response.json()
    assert problem["code"] == "mynaportal.unavailable"
    assert problem["retry_after_s"] == 30
    assert "try again" in problem["message_en"]


async def test_someone_else_cannot_register_a_fetched_record(stack: AttachmentsStack) -> None:
    person = applicant()
    application_id = await stack.draft(person)
    review = (await fetch(stack, person, application_id, "LI MEI")).json()
    response = await stack.client.post(
        f"/api/attachments/applications/{application_id}/tax-info",
        json={"fetch_id": review["fetch_id"]},
        headers=stack.auth(applicant()),
    )
    assert response.status_code == 404
    assert response.json()["code"] == "mynaportal.fetch_not_found"


async def test_tax_data_is_only_about_the_person_who_registered_their_own_before(
    stack: AttachmentsStack,
) -> None:
    person = applicant("foreign_national")
    application_id = await stack.draft(person)
    review = (await fetch(stack, person, application_id, "NGUYEN VAN AN")).json()
    registered = await stack.client.post(
        f"/api/attachments/applications/{application_id}/tax-info",
        json={"fetch_id": review["fetch_id"]},
        headers=stack.auth(person),
    )
    assert registered.status_code == 201, registered.text
    same = await fetch(stack, person, application_id, "ｎｇｕｙｅｎ  van an", LAST_YEAR - 1)
    spouse = await fetch(stack, person, application_id, "TRAN THI BINH")
    assert same.status_code == 201, same.text
    assert spouse.status_code == 403 and spouse.json()["code"] == "mynaportal.not_self"
    assert "NGUYEN VAN AN" in spouse.json()["message_en"]
