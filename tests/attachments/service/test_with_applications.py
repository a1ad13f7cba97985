"""Attachments and applications together, in-process on the real broker and databases (issues 11 and 12).

The applications service announces drafts (owner, filers, bureau, addresses on record), deletes them and opens
later rounds; attachments follows, and asks applications synchronously when an upload comes before the event.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pikepdf
import pytest
from sqlalchemy import select

from applications.adapters.orm import user_contact
from shared.db import create_engine, session_factory
from shared.events import (
    ApplicationDraftCreated,
    ApplicationDraftDeleted,
    ApplicationFilersChanged,
    AttachmentRejected,
    AttachmentRemoved,
    UserRegistered,
)
from tests.applications.integration.applications_support import (
    People,
    create_on_record,
    etag_of,
    events_of,
    extension_draft,
    full_extension_form,
    publish,
    random_bureau,
    represent,
    today,
)
from tests.attachments.checks.attachment_check_factories import Files
from tests.attachments.service.support import AttachmentsStack, events_for
from tests.e2e.e2e_support import clean_pdf, face_photo
from tests.support.apps import Infra, eventually

pytestmark = pytest.mark.integration

REQUIRED = {
    "face_photo": ("photo", "face.jpg"),
    "supporting_documents_pdf": ("document", "documents.pdf"),
    "host_organisation_form": ("document", "host.pdf"),
    "form19_supplementary": ("document", "form19.pdf"),
}


def blob_path(blob_dir: Path, data: bytes) -> Path:
    """Where the blob store keeps this content."""
    digest = hashlib.sha256(data).hexdigest()
    return blob_dir / "sha256" / digest[:2] / digest


async def new_draft(
    applications: httpx.AsyncClient, headers: dict[str, str], *, bureau: str | None = None, **draft: Any
) -> tuple[uuid.UUID, str]:
    """Create an extension draft with a complete form at the applications service; return its id and path."""
    expires = today() + timedelta(days=60)
    created = await create_on_record(
        applications, extension_draft(bureau=bureau or random_bureau(), expires=expires, **draft), headers
    )
    assert created.status_code == 201, created.text
    path = f"/api/applications/{created.json()['id']}"
    saved = await applications.patch(
        f"{path}/forms/extension", json=full_extension_form(expires), headers=headers | etag_of(created)
    )
    assert saved.status_code == 200, saved.text
    return uuid.UUID(created.json()["id"]), path


async def attach(
    stack: AttachmentsStack, headers: dict[str, str], application_id: uuid.UUID, slot: str, data: bytes
) -> str:
    """Upload one file into a slot; return the attachment id."""
    kind, filename = REQUIRED.get(slot, ("document", f"{slot}.pdf"))
    response = await stack.client.post(
        f"/api/attachments/applications/{application_id}/attachments",
        params={"document_type": slot, "filename": filename},
        content=data,
        headers=headers,
    )
    assert response.status_code == 202, response.text
    assert response.json()["kind"] == kind
    attachment_id: str = response.json()["attachment_id"]
    return attachment_id


async def shown(
    applications: httpx.AsyncClient, path: str, headers: dict[str, str], ids: set[str]
) -> dict[str, Any]:
    """Wait until the applications view lists exactly these attachments, each with a verdict."""

    async def agreed() -> dict[str, Any] | None:
        body: dict[str, Any] = (await applications.get(path, headers=headers)).json()
        listed = {a["attachment_id"]: a["state"] for a in body["attachments"]}
        done = set(listed) == ids and all(state != "checking" for state in listed.values())
        return body if done else None

    result: dict[str, Any] = await eventually(agreed, timeout=90, interval=0.2)
    return result


async def attach_required(
    stack: AttachmentsStack,
    applications: httpx.AsyncClient,
    headers: dict[str, str],
    application_id: uuid.UUID,
) -> dict[str, str]:
    """Attach a good file in every required slot and wait until applications shows them accepted."""
    ids = {
        slot: await attach(
            stack, headers, application_id, slot, face_photo() if slot == "face_photo" else clean_pdf(slot)
        )
        for slot in REQUIRED
    }
    view = await shown(applications, f"/api/applications/{application_id}", headers, set(ids.values()))
    assert {a["state"] for a in view["attachments"]} == {"accepted"}, view["attachments"]
    return ids


async def test_an_upload_right_after_creating_a_draft_is_taken_and_the_owner_is_the_one_applications_announced(
    stack: AttachmentsStack, applications: httpx.AsyncClient, infra: Infra
) -> None:
    people = People(infra)
    me = people.applicant()
    headers = people.headers(me)
    address = f"own-{uuid.uuid4().hex[:8]}@example.jp"
    application_id, _ = await new_draft(applications, headers, email=address)
    at_once = await stack.client.post(  # no waiting for application-draft-created
        f"/api/attachments/applications/{application_id}/attachments",
        params={"document_type": "supporting_documents_pdf", "filename": "documents.pdf"},
        content=clean_pdf("at once"),
        headers=headers,
    )
    assert at_once.status_code == 202, at_once.text
    (created,) = await events_of(infra, ApplicationDraftCreated, application_id)
    assert created["applicant_id"] == str(me.user_id) and created["filer_user_id"] == str(me.user_id)
    assert created["filers"] == [str(me.user_id)]
    assert [r["email"] for r in created["recipients"]] == [address]
    view = await stack.application(me, application_id)
    assert view["applicant_id"] == str(me.user_id) and view["open_round"] == 1


async def registered(infra: Infra, user_id: uuid.UUID, email: str) -> None:
    """Tell applications a user registered (as identity does) and wait until it has the address."""
    await publish(infra, UserRegistered(user_id=user_id, category="legal_representative", email=email))
    engine = create_engine(infra.db_url("applications"))
    try:
        sessions = session_factory(engine)

        async def kept() -> bool:
            async with sessions() as session:
                found = await session.scalar(
                    select(user_contact.c.email).where(user_contact.c.user_id == user_id)
                )
            return found == email

        await eventually(kept, timeout=60, interval=0.2)
    finally:
        await engine.dispose()


async def test_a_verdict_in_the_draft_stage_goes_to_the_applicant_and_the_filer_on_record_and_nowhere_else(
    stack: AttachmentsStack, applications: httpx.AsyncClient, infra: Infra, files: Files
) -> None:
    """Issue 12.4: a client-named address (X-Notify-Email) is never a recipient of official mail."""
    people = People(infra)
    child = uuid.uuid4()
    parent = people.representative(child)
    parent_mail = f"parent-{uuid.uuid4().hex[:8]}@example.jp"
    child_mail = f"child-{uuid.uuid4().hex[:8]}@example.jp"
    await registered(infra, parent.user_id, parent_mail)
    born = today() - timedelta(days=10 * 366)
    await represent(infra, parent, child, born=born)
    headers = people.headers(parent)
    application_id, _ = await new_draft(
        applications,
        headers,
        applicant_id=child,
        relationship="parental_authority",
        born=born.isoformat(),
        email=child_mail,
    )
    locked = files.save(
        files.text_pdf(),
        "locked.pdf",
        encryption=pikepdf.Encryption(user="", owner="secret", allow=pikepdf.Permissions(extract=False)),
    ).read_bytes()
    response = await stack.client.post(
        f"/api/attachments/applications/{application_id}/attachments",
        params={"document_type": "supporting_documents_pdf", "filename": "locked.pdf"},
        content=locked,
        headers=headers | {"X-Notify-Email": "stranger@example.com", "X-Notify-Locale": "en"},
    )
    assert response.status_code == 202, response.text
    attachment_id = response.json()["attachment_id"]

    async def told() -> list[dict[str, Any]] | None:
        # If the upload came before attachments heard of the draft, the verdict is announced again once it has.
        events = await events_for(stack.bootstrap, AttachmentRejected, attachment_id)
        assert all("stranger" not in str(e["recipients"]) for e in events), events
        return [e for e in events if e["recipients"]] or None

    for verdict in await eventually(told, timeout=90, interval=0.5):
        assert [(r["email"], r["role"]) for r in verdict["recipients"]] == [
            (child_mail, "applicant"),
            (parent_mail, "filer"),
        ]


async def test_a_rescanned_pdf_is_removed_and_replaced_and_the_submission_then_goes_through(
    stack: AttachmentsStack, applications: httpx.AsyncClient, infra: Infra, blob_dir: Path
) -> None:
    """Issue 11.1: two accepted PDFs blocked submission for good; now the extra one is removed."""
    people = People(infra)
    me = people.applicant()
    headers = people.headers(me)
    application_id, path = await new_draft(applications, headers)
    ids = await attach_required(stack, applications, headers, application_id)
    rescan = clean_pdf("rescanned at 300 dpi", pages=3)
    second = await attach(stack, headers, application_id, "supporting_documents_pdf", rescan)
    await shown(applications, path, headers, {*ids.values(), second})
    blocked = await applications.post(f"{path}/submit", headers=headers)
    assert blocked.status_code == 422, blocked.text
    first_pdf = ids["supporting_documents_pdf"]
    digest = (await stack.attachment(me, first_pdf))["sha256"]
    first_blob = blob_dir / "sha256" / digest[:2] / digest
    assert first_blob.exists()
    removed = await stack.client.delete(f"/api/attachments/attachments/{first_pdf}", headers=headers)
    assert removed.status_code == 204, removed.text
    gone = await stack.client.get(f"/api/attachments/attachments/{first_pdf}", headers=headers)
    assert gone.status_code == 404
    (event,) = await events_for(stack.bootstrap, AttachmentRemoved, first_pdf)
    assert event["reason"] == "removed" and event["removed_by"] == str(me.user_id)
    assert not first_blob.exists(), "the removed file's blob is released"
    await shown(applications, path, headers, {*ids.values(), second} - {first_pdf})
    submitted = await applications.post(f"{path}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.text
    closed = await stack.client.delete(f"/api/attachments/attachments/{second}", headers=headers)
    assert closed.status_code == 409 and closed.json()["code"] == "attachments.round_closed"
    not_a_draft = await applications.delete(path, headers=headers)
    assert not_a_draft.status_code == 409 and not_a_draft.json()["code"] == "application.invalid_transition"


async def test_a_new_face_photo_replaces_the_previous_one_in_both_services(
    stack: AttachmentsStack, applications: httpx.AsyncClient, infra: Infra
) -> None:
    """Issue 11.1: the photo is replaced by uploading another one (the round still takes one)."""
    people = People(infra)
    me = people.applicant()
    headers = people.headers(me)
    application_id, path = await new_draft(applications, headers)
    old = await attach(stack, headers, application_id, "face_photo", face_photo())
    await shown(applications, path, headers, {old})
    new = await attach(stack, headers, application_id, "face_photo", face_photo((300, 400)))
    (event,) = await events_for(stack.bootstrap, AttachmentRemoved, old)
    assert event["reason"] == "replaced" and event["document_type"] == "face_photo"
    view = await stack.application(me, application_id)
    assert [a["attachment_id"] for a in view["rounds"][0]["attachments"]] == [new]
    await shown(applications, path, headers, {new})


async def test_deleting_a_draft_drops_its_attachments_and_releases_only_the_blobs_nothing_else_uses(
    stack: AttachmentsStack, applications: httpx.AsyncClient, infra: Infra, blob_dir: Path
) -> None:
    """Issue 11.2: a draft never submitted can be deleted; shared content stays for the other application."""
    people = People(infra)
    me = people.applicant()
    headers = people.headers(me)
    doomed, doomed_path = await new_draft(applications, headers)
    kept, _ = await new_draft(applications, headers)
    shared_pdf, own_pdf = clean_pdf(f"shared {uuid.uuid4()}"), clean_pdf(f"own {uuid.uuid4()}")
    await attach(stack, headers, doomed, "supporting_documents_pdf", shared_pdf)
    await attach(stack, headers, doomed, "host_organisation_form", own_pdf)
    kept_id = await attach(stack, headers, kept, "supporting_documents_pdf", shared_pdf)
    assert blob_path(blob_dir, own_pdf).exists() and blob_path(blob_dir, shared_pdf).exists()

    stranger = await applications.delete(doomed_path, headers=people.headers(people.applicant()))
    assert stranger.status_code == 404
    deleted = await applications.delete(doomed_path, headers=headers)
    assert deleted.status_code == 204, deleted.text
    assert (await applications.get(doomed_path, headers=headers)).status_code == 404
    (event,) = await events_of(infra, ApplicationDraftDeleted, doomed)
    assert event["deleted_by"] == str(me.user_id) and event["applicant_id"] == str(me.user_id)

    async def dropped() -> bool:
        response = await stack.client.get(f"/api/attachments/applications/{doomed}", headers=headers)
        return response.status_code == 404

    await eventually(dropped, timeout=60, interval=0.2)
    assert not blob_path(blob_dir, own_pdf).exists(), "a blob only the deleted draft used is released"
    assert blob_path(blob_dir, shared_pdf).exists(), "a blob another application points at stays"
    content = await stack.client.get(f"/api/attachments/attachments/{kept_id}/content", headers=headers)
    assert content.status_code == 200 and content.content == shared_pdf
    late = await stack.client.post(
        f"/api/attachments/applications/{doomed}/attachments",
        params={"document_type": "supporting_documents_pdf", "filename": "late.pdf"},
        content=clean_pdf("late"),
        headers=headers,
    )
    assert late.status_code == 404 and late.json()["code"] == "attachments.application_not_found"


async def test_an_upload_right_after_the_bureau_returns_the_application_is_taken(
    stack: AttachmentsStack, applications: httpx.AsyncClient, infra: Infra
) -> None:
    """Issue 11.5: the applicant is shown 返却中 at once; attachments must take the upload at once too."""
    people = People(infra)
    me = people.applicant()
    headers = people.headers(me)
    bureau = random_bureau()
    officer = people.headers(people.officer(bureau))
    application_id, path = await new_draft(applications, headers, bureau=bureau)
    await attach_required(stack, applications, headers, application_id)
    assert (await applications.post(f"{path}/submit", headers=headers)).status_code == 200
    job = await applications.post(
        "/api/back-office/jobs/assign-receipt-numbers", headers=people.headers(people.operator())
    )
    assert job.status_code == 200, job.text
    base = f"/api/back-office/applications/{application_id}"
    assert (await applications.post(f"{base}/start-review", headers=officer)).status_code == 200
    returned = await applications.post(
        f"{base}/return", json={"requested_documents": [{"description": "課税証明書"}]}, headers=officer
    )
    assert returned.status_code == 200 and returned.json()["state"] == "returned"
    at_once = await stack.client.post(
        f"/api/attachments/applications/{application_id}/attachments",
        params={"document_type": "supporting_documents_pdf", "filename": "tax.pdf"},
        content=clean_pdf("課税証明書"),
        headers=headers,
    )
    assert at_once.status_code == 202, at_once.text
    assert at_once.json()["round_number"] == 2


async def test_a_representative_who_changes_the_draft_joins_its_filers_and_keeps_filing_for_it(
    stack: AttachmentsStack, applications: httpx.AsyncClient, infra: Infra
) -> None:
    """Issue 12.1: the filer set comes from applications (application-filers-changed), never from an upload."""
    people = People(infra)
    me = people.applicant()
    mine = people.headers(me)
    application_id, path = await new_draft(applications, mine)
    representative = people.representative(me.user_id)
    current = await applications.get(path, headers=mine)
    saved = await applications.patch(
        f"{path}/forms/extension",
        json={"nationality": "VIET NAM"},
        headers=people.headers(representative) | etag_of(current),
    )
    assert saved.status_code == 200, saved.text
    (changed,) = await events_of(infra, ApplicationFilersChanged, application_id)
    assert changed["filers"] == [str(me.user_id), str(representative.user_id)]
    assert changed["applicant_id"] == str(me.user_id)
    # Later the representation lapses at identity (no acts_for in the token): the draft's filer keeps filing for it.
    lapsed = replace(representative, acts_for=frozenset())
    stranger = people.applicant()

    async def recorded() -> bool:
        response = await stack.client.post(
            f"/api/attachments/applications/{application_id}/attachments",
            params={"document_type": "supporting_documents_pdf", "filename": "documents.pdf"},
            content=clean_pdf("by the representative"),
            headers=people.headers(lapsed),
        )
        return response.status_code == 202

    await eventually(recorded, timeout=60, interval=0.3)
    refused = await stack.client.post(
        f"/api/attachments/applications/{application_id}/attachments",
        params={"document_type": "supporting_documents_pdf", "filename": "documents.pdf"},
        content=clean_pdf("by a stranger"),
        headers=people.headers(stranger),
    )
    assert refused.status_code == 403 and refused.json()["code"] == "attachments.not_owner"


async def test_a_corrected_applicant_address_in_step_1_is_where_the_next_verdict_goes(
    stack: AttachmentsStack, applications: httpx.AsyncClient, infra: Infra, files: Files
) -> None:
    """Issue 12.4 with step-1 editing: a mistyped address stops receiving official mail once corrected."""
    people = People(infra)
    me = people.applicant()
    headers = people.headers(me)
    typo, right = f"typo-{uuid.uuid4().hex[:8]}@example.jp", f"right-{uuid.uuid4().hex[:8]}@example.jp"
    application_id, path = await new_draft(applications, headers, email=typo)
    current = await applications.get(path, headers=headers)
    corrected = await applications.patch(
        f"{path}/case", json={"applicant": {"email": right}}, headers=headers | etag_of(current)
    )
    assert corrected.status_code == 200, corrected.text
    (changed,) = await events_of(infra, ApplicationFilersChanged, application_id)
    assert [r["email"] for r in changed["recipients"]] == [right]

    async def verdict_recipients() -> list[str] | None:
        locked = files.save(
            files.text_pdf(),
            f"locked-{uuid.uuid4().hex[:6]}.pdf",
            encryption=pikepdf.Encryption(user="", owner="secret", allow=pikepdf.Permissions(extract=False)),
        ).read_bytes()
        response = await stack.client.post(
            f"/api/attachments/applications/{application_id}/attachments",
            params={"document_type": "supporting_documents_pdf", "filename": "locked.pdf"},
            content=locked,
            headers=headers,
        )
        assert response.status_code == 202, response.text
        (event,) = await events_for(stack.bootstrap, AttachmentRejected, response.json()["attachment_id"])
        emails = [r["email"] for r in event["recipients"]]
        return emails if typo not in emails else None  # until attachments has the correction

    assert await eventually(verdict_recipients, timeout=90, interval=0.5) == [right]
