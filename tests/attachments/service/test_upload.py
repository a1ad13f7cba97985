"""Upload intake over HTTP: streamed, size-capped before it is read whole, type-checked at once, authorised."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from attachments.checks.models import MB
from shared.events import AttachmentUploaded
from tests.attachments.checks.attachment_check_factories import Files
from tests.attachments.service.support import AttachmentsStack, applicant, events_for, officer, padded_pdf

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
    application_id = uuid.uuid4()
    data = small_pdf(files)
    response = await stack.upload(
        person, application_id, data, document_type="supporting_documents_pdf", email="me@example.jp"
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

    response = await stack.upload(applicant(), uuid.uuid4(), body(), headers={"Content-Length": str(11 * MB)})
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

    response = await stack.upload(applicant(), uuid.uuid4(), body())
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "attachments.round_limit_exceeded"
    assert pulled <= 11 * MB, f"read {pulled} bytes of a 30 MB body before refusing it"
    assert blob_files(blob_dir) == before, "a partial upload stayed in the blob store"


async def test_counts_what_the_round_already_holds_against_its_limit(
    stack: AttachmentsStack, files: Files
) -> None:
    person = applicant()
    application_id = uuid.uuid4()
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
    before = blob_files(blob_dir)
    response = await stack.upload(applicant(), uuid.uuid4(), content, kind=kind, filename=filename)
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["code"] == code
    assert problem["message_ja"] and problem["message_en"]
    assert blob_files(blob_dir) == before


async def test_a_round_takes_one_face_photo_and_rejected_ones_do_not_count(
    stack: AttachmentsStack, files: Files
) -> None:
    person = applicant()
    application_id = uuid.uuid4()
    bad = await stack.upload(
        person, application_id, files.jpeg((400, 300)), kind="photo", filename="wide.jpg"
    )
    assert bad.status_code == 202
    assert (await stack.verdict(person, bad.json()["attachment_id"]))["state"] == "rejected"
    good = await stack.upload(
        person, application_id, files.jpeg((300, 400)), kind="photo", filename="face.jpg"
    )
    assert good.status_code == 202, good.text
    again = await stack.upload(
        person, application_id, files.jpeg((300, 400)), kind="photo", filename="face2.jpg"
    )
    assert again.status_code == 409
    assert again.json()["code"] == "attachments.too_many_files"


async def test_only_the_recorded_applicant_and_those_acting_for_them_may_attach(
    stack: AttachmentsStack, files: Files
) -> None:
    owner = applicant()
    application_id = uuid.uuid4()
    assert (await stack.upload(owner, application_id, small_pdf(files))).status_code == 202
    stranger = await stack.upload(applicant(), application_id, small_pdf(files))
    assert stranger.status_code == 403
    assert stranger.json()["code"] == "attachments.not_owner"
    representative = applicant("legal_representative", acts_for=frozenset({owner.user_id}))
    assert (await stack.upload(representative, application_id, small_pdf(files))).status_code == 202
    clerk = await stack.upload(officer(), application_id, small_pdf(files))
    assert clerk.status_code == 403
    assert clerk.json()["code"] == "attachments.applicants_only"


async def test_a_representative_records_the_applicant_they_act_for_at_the_first_upload(
    stack: AttachmentsStack, files: Files
) -> None:
    child = uuid.uuid4()
    parent = applicant("legal_representative", acts_for=frozenset({child}))
    application_id = uuid.uuid4()
    response = await stack.upload(parent, application_id, small_pdf(files), applicant_id=str(child))
    assert response.status_code == 202, response.text
    assert (await stack.application(parent, application_id))["applicant_id"] == str(child)
    other = await stack.upload(applicant(), uuid.uuid4(), small_pdf(files), applicant_id=str(child))
    assert other.status_code == 403
    assert other.json()["code"] == "attachments.cannot_act_for"


async def test_officers_read_an_application_and_strangers_do_not(
    stack: AttachmentsStack, files: Files
) -> None:
    owner = applicant()
    application_id = uuid.uuid4()
    data = small_pdf(files)
    uploaded = (await stack.upload(owner, application_id, data)).json()
    seen = await stack.application(officer(), application_id)
    assert [a["attachment_id"] for a in seen["rounds"][0]["attachments"]] == [uploaded["attachment_id"]]
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
        f"/api/attachments/attachments/{uploaded['attachment_id']}/content", headers=stack.auth(officer())
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
