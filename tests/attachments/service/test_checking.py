"""The checker end to end: upload over HTTP, sandboxed check, verdict on the API and as an event with reasons."""

from __future__ import annotations

import os
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from pikepdf import Name

from shared.events import AttachmentAccepted, AttachmentRejected, AttachmentUploaded
from tests.attachments.checks.attachment_check_factories import Files
from tests.attachments.service.support import AttachmentsStack, applicant, events_for
from tests.support.kafka import produce, settle

pytestmark = pytest.mark.integration


def cpu_hog(files: Files, megabytes: int = 120) -> bytes:
    """A small PDF whose page content takes many CPU seconds to parse (little memory)."""
    compressor = zlib.compressobj(9)
    unit = b"0 0 m\n" * 100_000
    data = b"".join(compressor.compress(unit) for _ in range(megabytes * 10 // 6)) + compressor.flush()
    pdf = pikepdf.new()
    pdf.add_blank_page()
    stream = pikepdf.Stream(pdf, data)
    stream.Filter = Name.FlateDecode
    pdf.pages[0].Contents = stream
    return files.save(pdf, "cpu-hog.pdf").read_bytes()


async def upload_and_wait(
    stack: AttachmentsStack, data: bytes, *, kind: str = "document", filename: str = "documents.pdf"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Upload a file as a new applicant and wait for its verdict; return (attachment, verdict event)."""
    person = applicant()
    application_id = await stack.draft(person, email="a@example.jp")
    response = await stack.upload(person, application_id, data, kind=kind, filename=filename)
    assert response.status_code == 202, response.text
    attachment = await stack.verdict(person, response.json()["attachment_id"])
    event_type = AttachmentAccepted if attachment["state"] == "accepted" else AttachmentRejected
    events = await events_for(stack.bootstrap, event_type, attachment["attachment_id"])
    return attachment, events[0]


async def test_a_clean_pdf_is_accepted_and_the_acceptance_is_published(
    stack: AttachmentsStack, files: Files
) -> None:
    attachment, event = await upload_and_wait(stack, files.plain_bytes(files.text_pdf()))
    assert attachment["state"] == "accepted"
    assert attachment["reasons"] == [] and attachment["warnings"] == []
    assert event["event_type"] == "AttachmentAccepted"
    assert event["facts"]["page_count"] == 2
    assert event["filename"] == "documents.pdf"


async def test_a_low_resolution_scan_is_accepted_with_a_warning(
    stack: AttachmentsStack, files: Files
) -> None:
    pdf = files.image_pdf(["q 144 0 0 72 0 0 cm /Im0 Do Q"], image_size=(200, 100))
    attachment, event = await upload_and_wait(stack, files.plain_bytes(pdf))
    assert attachment["state"] == "accepted"
    assert [w["code"] for w in attachment["warnings"]] == ["pdf.low_resolution"]
    assert [w["code"] for w in event["warnings"]] == ["pdf.low_resolution"]
    assert "dpi" in event["warnings"][0]["message_en"]


async def test_a_pdf_with_security_settings_is_rejected_with_every_reason_and_the_recorded_applicant_as_recipient(
    stack: AttachmentsStack, files: Files
) -> None:
    encryption = pikepdf.Encryption(
        user="", owner="secret", allow=pikepdf.Permissions(print_lowres=False, print_highres=False)
    )
    data = files.save(files.text_pdf(), "locked.pdf", encryption=encryption).read_bytes()
    attachment, event = await upload_and_wait(stack, data)
    assert attachment["state"] == "rejected"
    codes = [r["code"] for r in event["reasons"]]
    assert "pdf.encrypted.owner_password" in codes
    assert all(r["message_ja"] and r["message_en"] for r in event["reasons"])
    assert [r["code"] for r in attachment["reasons"]] == codes
    assert event["recipients"] == [
        {"email": "a@example.jp", "locale": "ja", "role": "applicant", "name": None}
    ]
    assert event["filename"] == "documents.pdf"


async def test_a_photo_of_the_wrong_shape_is_rejected_with_its_code(
    stack: AttachmentsStack, files: Files
) -> None:
    attachment, event = await upload_and_wait(
        stack, files.jpeg((600, 450)), kind="photo", filename="face.jpg"
    )
    assert attachment["state"] == "rejected"
    assert [r["code"] for r in event["reasons"]] == ["photo.wrong_proportions"]
    assert event["kind"] == "photo"


async def test_a_photo_hiding_a_zip_after_the_image_is_rejected(
    stack: AttachmentsStack, files: Files
) -> None:
    attachment, _ = await upload_and_wait(
        stack, files.jpeg((300, 400)) + b"PK\x03\x04" + os.urandom(64), kind="photo", filename="face.jpeg"
    )
    assert [r["code"] for r in attachment["reasons"]] == ["photo.trailing_data"]


async def test_a_flate_bomb_is_rejected_and_the_next_upload_behind_it_is_still_checked(
    stack: AttachmentsStack, files: Files, flate_bomb: Callable[[int], Path]
) -> None:
    person = applicant()
    application_id = await stack.draft(person)  # one application: one partition, the second waits behind
    bomb = await stack.upload(person, application_id, flate_bomb(512 * 1024 * 1024).read_bytes())
    good = await stack.upload(person, application_id, files.plain_bytes(files.text_pdf()))
    assert bomb.status_code == good.status_code == 202
    rejected = await stack.verdict(person, bomb.json()["attachment_id"])
    assert rejected["state"] == "rejected"
    assert "pdf.too_complex" in [r["code"] for r in rejected["reasons"]]
    events = await events_for(stack.bootstrap, AttachmentRejected, rejected["attachment_id"])
    assert "pdf.too_complex" in [r["code"] for r in events[0]["reasons"]]
    assert (await stack.verdict(person, good.json()["attachment_id"]))["state"] == "accepted"


async def test_garbage_behind_a_pdf_header_is_rejected_as_unreadable(stack: AttachmentsStack) -> None:
    attachment, event = await upload_and_wait(stack, b"%PDF-1.7\n" + os.urandom(50_000))
    assert attachment["state"] == "rejected"
    assert "pdf.damaged.unreadable" in [r["code"] for r in event["reasons"]]


async def test_a_check_that_runs_too_long_ends_as_a_rejection_and_the_checker_goes_on(
    stack: AttachmentsStack, files: Files
) -> None:
    person = applicant()
    application_id = await stack.draft(person)
    hog = await stack.upload(person, application_id, cpu_hog(files))
    after = await stack.upload(person, application_id, files.plain_bytes(files.text_pdf(pages=1)))
    rejected = await stack.verdict(person, hog.json()["attachment_id"])
    assert [r["code"] for r in rejected["reasons"]] == ["check.timeout"]
    assert (await stack.verdict(person, after.json()["attachment_id"]))["state"] == "accepted"


async def test_a_redelivered_upload_event_gives_no_second_verdict(
    stack: AttachmentsStack, files: Files
) -> None:
    person = applicant()
    response = await stack.upload(person, await stack.draft(person), files.plain_bytes(files.text_pdf()))
    attachment_id = response.json()["attachment_id"]
    await stack.verdict(person, attachment_id)
    uploaded = (await events_for(stack.bootstrap, AttachmentUploaded, attachment_id))[0]
    event = AttachmentUploaded.model_validate(uploaded)
    await produce(stack.bootstrap, event.topic(), event.model_dump_json().encode(), key=event.key().encode())
    copy = event.model_copy(
        update={"event_id": uuid.uuid4()}
    )  # a new event for an attachment already decided
    await produce(stack.bootstrap, copy.topic(), copy.model_dump_json().encode(), key=copy.key().encode())
    marker = await stack.upload(person, event.application_id, files.plain_bytes(files.text_pdf(pages=3)))
    await stack.verdict(
        person, marker.json()["attachment_id"]
    )  # same partition: the copies were handled before
    await settle(0.5)
    assert len(await events_for(stack.bootstrap, AttachmentAccepted, attachment_id)) == 1
