"""Upload intake over HTTP: streamed, size-capped before it is read whole, type-checked at once, authorised."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from attachments.checks.models import MB
from shared.events import ApplicationDraftCreated, ApplicationSubmitted, AttachmentUploaded
from tests.attachments.checks.attachment_check_factories import Files
from tests.attachments.service.support import (
    AttachmentsStack,
    applicant,
    events_for,
    officer,
    padded_pdf,
    publish,
)

pytestmark = pytest.mark.integration


def blob_files(blob_dir: Path) -> set[Path]:
    """Every file in the blob store, temporary ones included."""
    return {p for p in blob_dir.rglob("*") if p.is_file()}


def small_pdf(files: Files) -> bytes:
    """A valid two-page text PDF."""
    return files.plain_bytes(files.text_pdf())


async def test_an_upload_is_stored_content_addressed_and_announced_while_it_is_checking(
    stack: AttachmentsStack, files: Files, blob_dir: Path
) -> None:
    person = applicant()
    application_id = await stack.draft(person)
    data = small_pdf(files)
    response = await stack.upload(
        person,
        application_id,
        data,
        document_type="supporting_documents_pdf",
        headers={"Content-Type": "image/png"},
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["state"] in ("checking", "accepted")
    assert body["round_number"] == 1 and body["kind"] == "document"
    assert body["size_bytes"] == len(data)
    digest = hashlib.sha256(data).hexdigest()
    assert body["sha256"] == digest
    assert (blob_dir / "sha256" / digest[:2] / digest).read_bytes() == data
    assert not list((blob_dir / "tmp").iterdir()), "no temporary file stays behind"
    uploaded = await events_for(stack.bootstrap, AttachmentUploaded, body["attachment_id"])
    assert len(uploaded) == 1
    event = uploaded[0]
    assert event["application_id"] == str(application_id)
    assert event["sha256"] == digest and event["size_bytes"] == len(data)
    assert event["uploaded_by"] == str(person.user_id)
    assert event["document_type"] == "supporting_documents_pdf"
    stored = await stack.client.get(
        f"/api/attachments/attachments/{body['attachment_id']}/content", headers=stack.auth(person)
    )
    assert stored.headers["content-type"] == "application/pdf", "served as what it is, not what was declared"


async def test_refuses_an_announced_length_over_the_round_limit_before_reading_the_body(
    stack: AttachmentsStack, blob_dir: Path
) -> None:
    before = blob_files(blob_dir)
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(11):
            pulled += MB
            yield b"%PDF-1.7\n" + b"0" * (MB - 9)

    person = applicant()
    response = await stack.upload(
        person, await stack.draft(person), body(), headers={"Content-Length": str(11 * MB)}
    )
    assert response.status_code == 413, response.text
    problem = response.json()
    assert problem["code"] == "attachments.round_limit_exceeded"
    assert "10 MB" in problem["message_en"] and "参考様式9" in problem["message_ja"]
    assert problem["remaining_bytes"] == 10 * MB
    assert pulled <= MB, "the body was read although its announced length was already too large"
    assert blob_files(blob_dir) == before


async def test_refuses_a_chunked_body_with_413_as_soon_as_it_passes_the_limit_and_keeps_no_partial_file(
    stack: AttachmentsStack, blob_dir: Path
) -> None:
    before = blob_files(blob_dir)
    pulled = 0
    chunk = b"%PDF-1.7\n" + b"0" * (MB - 9)

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(30):
            pulled += len(chunk)
            yield chunk

    person = applicant()
    response = await stack.upload(person, await stack.draft(person), body())
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "attachments.round_limit_exceeded"
    assert pulled <= 11 * MB, f"read {pulled} bytes of a 30 MB body before refusing it"
    assert blob_files(blob_dir) == before, "a partial upload stayed in the blob store"


async def test_counts_what_the_round_already_holds_against_its_limit(
    stack: AttachmentsStack, files: Files
) -> None:
    person = applicant()
    application_id = await stack.draft(person)
    first = padded_pdf(files, 6 * MB)
    assert (await stack.upload(person, application_id, first)).status_code == 202
    response = await stack.upload(person, application_id, padded_pdf(files, 5 * MB))
    assert response.status_code == 413
    assert response.json()["used_bytes"] == len(first)


@pytest.mark.parametrize(
    ("kind", "filename", "content", "code", "status"),
    [
        ("document", "scan.docx", b"%PDF-1.7\n", "attachments.wrong_extension", 415),
        ("document", "scan.pdf", b"PK\x03\x04 a zip file renamed", "attachments.not_pdf", 415),
        ("photo", "face.png", b"\xff\xd8\xff\xe0", "attachments.wrong_extension", 415),
        ("photo", "face.jpg", b"\x89PNG\r\n\x1a\n and then a png", "attachments.not_jpeg", 415),
        ("document", "empty.pdf", b"", "attachments.empty_file", 400),
    ],
)
async def test_refuses_a_file_of_the_wrong_type_at_once_with_a_clear_code(
    stack: AttachmentsStack, blob_dir: Path, kind: str, filename: str, content: bytes, code: str, status: int
) -> None:
    person = applicant()
    application_id = await stack.draft(person)
    before = blob_files(blob_dir)
    response = await stack.upload(person, application_id, content, kind=kind, filename=filename)
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["code"] == code
    assert problem["message_ja"] and problem["message_en"]
    assert blob_files(blob_dir) == before


@pytest.mark.parametrize(
    ("document_type", "filename", "content", "declared", "code", "status"),
    [
        (
            "supporting_documents_pdf",
            "scan.pdf",
            b"\xff\xd8\xff\xe0 a photo",
            "application/pdf",
            "attachments.not_pdf",
            415,
        ),
        (
            "host_organisation_form",
            "form.pdf",
            b"\xff\xd8\xff\xe0 a photo",
            "application/pdf",
            "attachments.not_pdf",
            415,
        ),
        ("face_photo", "face.jpg", b"%PDF-1.7\n a document", "image/jpeg", "attachments.not_jpeg", 415),
        ("no_photo_placeholder", "none.jpg", b"%PDF-1.7\n", "image/jpeg", "attachments.not_jpeg", 415),
        (
            "passport_scan",
            "scan.pdf",
            b"%PDF-1.7\n",
            "application/pdf",
            "attachments.unknown_document_type",
            422,
        ),
        (
            "tax_information",
            "tax.pdf",
            b"%PDF-1.7\n",
            "application/pdf",
            "attachments.document_type_not_uploadable",
            422,
        ),
    ],
)
async def test_each_slot_takes_only_the_types_it_accepts_whatever_the_client_declares(
    stack: AttachmentsStack,
    blob_dir: Path,
    document_type: str,
    filename: str,
    content: bytes,
    declared: str,
    code: str,
    status: int,
) -> None:
    """Issue 11.4: the type is what the content is; the slot names what it accepts."""
    person = applicant()
    application_id = await stack.draft(person)
    before = blob_files(blob_dir)
    response = await stack.client.post(
        f"/api/attachments/applications/{application_id}/attachments",
        params={"document_type": document_type, "filename": filename},
        content=content,
        headers={**stack.auth(person), "Content-Type": declared},
    )
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["code"] == code and problem["document_type"] == document_type
    assert problem["message_ja"] and problem["message_en"]
    assert blob_files(blob_dir) == before
    assert (await stack.application(person, application_id))["rounds"][0]["attachments"] == []


async def test_only_the_filers_announced_by_applications_may_attach(
    stack: AttachmentsStack, files: Files
) -> None:
    owner = applicant()
    application_id = await stack.draft(owner)
    assert (await stack.upload(owner, application_id, small_pdf(files))).status_code == 202
    stranger = await stack.upload(applicant(), application_id, small_pdf(files))
    assert stranger.status_code == 403
    assert stranger.json()["code"] == "attachments.not_owner"
    representative = applicant("legal_representative", acts_for=frozenset({owner.user_id}))
    assert (await stack.upload(representative, application_id, small_pdf(files))).status_code == 202
    clerk = await stack.upload(officer(), application_id, small_pdf(files))
    assert clerk.status_code == 403
    assert clerk.json()["code"] == "attachments.applicants_only"


async def test_a_draft_cannot_be_taken_over_by_uploading_to_its_id_first(
    stack: AttachmentsStack, files: Files
) -> None:
    """Issue 12.1: the first uploader used to become the owner; now only applications' announcement decides."""
    victim = applicant()
    attacker = applicant()
    application_id = uuid.uuid4()  # the attacker learned the id before attachments heard of the draft
    early = await stack.upload(attacker, application_id, small_pdf(files), applicant_id=str(attacker.user_id))
    assert early.status_code == 404, early.text
    assert early.json()["code"] == "attachments.application_not_found"
    await publish(
        stack.bootstrap,
        ApplicationDraftCreated(
            application_id=application_id,
            applicant_id=victim.user_id,
            filer_user_id=victim.user_id,
            filers=[victim.user_id],
            bureau="tokyo",
        ),
    )
    await stack.known(victim, application_id)
    view = await stack.application(victim, application_id)
    assert view["applicant_id"] == str(victim.user_id) and view["rounds"][0]["attachments"] == []
    assert (await stack.upload(victim, application_id, small_pdf(files))).status_code == 202
    late = await stack.upload(attacker, application_id, small_pdf(files))
    assert late.status_code == 403 and late.json()["code"] == "attachments.not_owner"


async def test_uploads_and_mynaportal_fetches_to_unknown_applications_are_refused(
    stack: AttachmentsStack, files: Files
) -> None:
    """Issue 12.2: an id the applications service never announced is not an application (was 202 and 201)."""
    person = applicant()
    unknown = uuid.uuid4()
    upload = await stack.upload(person, unknown, small_pdf(files))
    assert upload.status_code == 404 and upload.json()["code"] == "attachments.application_not_found"
    fetch = await stack.client.post(
        f"/api/attachments/applications/{unknown}/tax-info/fetches",
        json={"person_name": "Nguyen Van A", "fiscal_year": 2024},
        headers=stack.auth(person),
    )
    assert fetch.status_code == 404, fetch.text
    assert fetch.json()["code"] == "attachments.application_not_found"


async def test_officers_read_only_submitted_applications_of_their_own_bureau(
    stack: AttachmentsStack, files: Files
) -> None:
    """Issue 12.3: no officer sees a draft; an officer of another bureau sees nothing of it."""
    owner = applicant()
    application_id = await stack.draft(owner, bureau="osaka")
    uploaded = (await stack.upload(owner, application_id, small_pdf(files))).json()
    mine, theirs = officer("osaka"), officer("tokyo")
    paths = (
        f"/api/attachments/applications/{application_id}",
        f"/api/attachments/attachments/{uploaded['attachment_id']}",
        f"/api/attachments/attachments/{uploaded['attachment_id']}/content",
    )
    for path in paths:  # a draft: no officer at all
        assert (await stack.client.get(path, headers=stack.auth(mine))).status_code in (403, 404), path
    await publish(
        stack.bootstrap,
        ApplicationSubmitted(
            application_id=application_id,
            provisional_receipt_number="T-0002",
            procedures=["extension"],
            status_of_residence="engineer_humanities_international",
            filer_user_id=owner.user_id,
            applicant_id=owner.user_id,
            bureau="osaka",
        ),
    )
    await stack.known(mine, application_id)
    for path in paths:
        assert (await stack.client.get(path, headers=stack.auth(mine))).status_code == 200, path
        assert (await stack.client.get(path, headers=stack.auth(theirs))).status_code in (403, 404), path


async def test_strangers_do_not_read_an_application(stack: AttachmentsStack, files: Files) -> None:
    owner = applicant()
    application_id = await stack.draft(owner)
    data = small_pdf(files)
    uploaded = (await stack.upload(owner, application_id, data)).json()
    stranger = applicant()
    response = await stack.client.get(
        f"/api/attachments/applications/{application_id}", headers=stack.auth(stranger)
    )
    assert response.status_code == 403
    response = await stack.client.get(
        f"/api/attachments/attachments/{uploaded['attachment_id']}", headers=stack.auth(stranger)
    )
    assert response.status_code == 404
    content = await stack.client.get(
        f"/api/attachments/attachments/{uploaded['attachment_id']}/content", headers=stack.auth(owner)
    )
    assert content.status_code == 200
    assert content.content == data


async def test_an_upload_without_a_token_is_refused(stack: AttachmentsStack) -> None:
    response = await stack.client.post(
        f"/api/attachments/applications/{uuid.uuid4()}/attachments",
        params={"kind": "document", "filename": "a.pdf"},
        content=b"%PDF-1.7",
    )
    assert response.status_code == 401
