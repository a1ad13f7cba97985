"""Form saves are bounded by the form definition over HTTP: refused saves store nothing; huge bodies never land."""

from __future__ import annotations

import json

import pytest

from tests.applications.integration.applications_support import (
    People,
    applications_client,
    etag_of,
    extension_draft,
    random_bureau,
)
from tests.support.apps import Infra

pytestmark = pytest.mark.integration


async def test_a_save_outside_the_form_definition_is_refused_and_nothing_is_stored(infra: Infra) -> None:
    people = People(infra)
    me = people.headers(people.applicant())
    async with applications_client(infra) as client:
        created = await client.post(
            "/api/applications", json=extension_draft(bureau=random_bureau()), headers=me
        )
        path = f"/api/applications/{created.json()['id']}"
        unknown = await client.patch(
            f"{path}/forms/extension",
            json={"nationality": "NEPAL", "shoe_size": "28"},
            headers=me | etag_of(created),
        )
        too_long = await client.patch(
            f"{path}/forms/extension", json={"nationality": "N" * 41}, headers=me | etag_of(created)
        )
        step = await client.put(f"{path}/forms/extension/steps/7-7", json={}, headers=me | etag_of(created))
        rows = await client.patch(
            f"{path}/forms/extension", json={"relatives": [{}] * 7}, headers=me | etag_of(created)
        )
        after = await client.get(path, headers=me)
    for response, code, field in (
        (unknown, "form.unknown_field", "shoe_size"),
        (too_long, "form.value_too_long", "nationality"),
        (step, "form.unknown_step", "steps/7-7"),
        (rows, "form.too_many_rows", "relatives"),
    ):
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "application.form_input_refused"
        assert problem["details"]["fields"][0]["code"] == code
        assert problem["details"]["fields"][0]["path"] == field
        assert problem["message_ja"] and problem["message_en"]
    assert after.headers["ETag"] == created.headers["ETag"]  # nothing was saved
    assert after.json()["form_values"].get("extension", {}) == {}


async def test_the_three_hundred_thousand_key_save_is_refused_before_it_is_read(infra: Infra) -> None:
    people = People(infra)
    me = people.headers(people.applicant())
    async with applications_client(infra) as client:
        created = await client.post(
            "/api/applications", json=extension_draft(bureau=random_bureau()), headers=me
        )
        body = json.dumps({f"k{i}": "x" for i in range(300_000)}).encode()
        response = await client.patch(
            f"/api/applications/{created.json()['id']}/forms/extension",
            content=body,
            headers=me | etag_of(created) | {"Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert response.json()["code"] == "request.too_large"
