"""Upload rules without infrastructure: type sniffing, budgets, recipients, file names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from attachments.domain import errors
from attachments.domain.model import (
    RoundUsage,
    clean_filename,
    merge_recipients,
    upload_budget,
)
from attachments.domain.slots import accepted_type, slot_table
from attachments.service_layer.uploads import check_extension

pytestmark = pytest.mark.unit

REFERENCE = next(
    (Path(__file__).parents[3] / "services/applications/src/applications/reference/data").glob("*.core.yaml")
)

MB = 1024 * 1024


def budget(kind: str = "document", **usage: int) -> object:
    """The budget of the next upload with the default policy."""
    return upload_budget(
        kind=kind,  # type: ignore[arg-type]
        round_number=1,
        usage=RoundUsage(
            bytes_by_kind={"document": usage.get("bytes", 0)}, files_by_kind={"photo": usage.get("photos", 0)}
        ),
        round_max_bytes=10 * MB,
        round_limit_kinds=("document",),
        photo_max_bytes=5 * MB,
        max_files={"photo": 1},
    )


def test_a_document_may_take_what_the_round_has_left() -> None:
    result = upload_budget(
        kind="document",
        round_number=2,
        usage=RoundUsage(bytes_by_kind={"document": 4 * MB, "photo": MB}, files_by_kind={}),
        round_max_bytes=10 * MB,
        round_limit_kinds=("document",),
        photo_max_bytes=5 * MB,
        max_files={},
    )
    assert result.max_bytes == 6 * MB
    refusal = result.refusal(kind="document", round_number=2, incoming=7 * MB)
    assert refusal.status == 413 and refusal.code == "attachments.round_limit_exceeded"
    assert refusal.extra == {"limit_bytes": 10 * MB, "used_bytes": 4 * MB, "remaining_bytes": 6 * MB}


def test_a_photo_is_held_to_its_own_limit_and_count() -> None:
    result = upload_budget(
        kind="photo",
        round_number=1,
        usage=RoundUsage(bytes_by_kind={"document": 9 * MB}, files_by_kind={}),
        round_max_bytes=10 * MB,
        round_limit_kinds=("document",),
        photo_max_bytes=5 * MB,
        max_files={"photo": 1},
    )
    assert result.max_bytes == 5 * MB
    assert result.refusal(kind="photo", round_number=1, incoming=None).code == "attachments.file_too_large"
    with pytest.raises(errors.Refusal) as refused:
        upload_budget(
            kind="photo",
            round_number=1,
            usage=RoundUsage(bytes_by_kind={}, files_by_kind={"photo": 1}),
            round_max_bytes=10 * MB,
            round_limit_kinds=("document",),
            photo_max_bytes=5 * MB,
            max_files={"photo": 1},
        )
    assert refused.value.code == "attachments.too_many_files"


def test_the_2026_policy_counts_the_photo_against_the_round() -> None:
    result = upload_budget(
        kind="photo",
        round_number=1,
        usage=RoundUsage(bytes_by_kind={"document": 24 * MB}, files_by_kind={}),
        round_max_bytes=25 * MB,
        round_limit_kinds=("document", "photo"),
        photo_max_bytes=5 * MB,
        max_files={},
    )
    assert result.max_bytes == MB
    assert (
        result.refusal(kind="photo", round_number=1, incoming=2 * MB).code
        == "attachments.round_limit_exceeded"
    )


@pytest.mark.parametrize(
    ("slot", "head", "code"),
    [
        ("supporting_documents_pdf", b"PK\x03\x04", "attachments.not_pdf"),
        ("supporting_documents_pdf", b"\xff\xd8\xff\xe0", "attachments.not_pdf"),
        ("host_organisation_form", b"\xff\xd8\xff\xe0", "attachments.not_pdf"),
        ("face_photo", b"%PDF-1.7", "attachments.not_jpeg"),
        ("no_photo_placeholder", b"\x89PNG\r\n\x1a\n", "attachments.not_jpeg"),
        ("face_photo", b"\x00\x00\x00\x18ftypheic", "attachments.not_jpeg"),
    ],
)
def test_the_first_bytes_decide_the_type_against_the_slot(slot: str, head: bytes, code: str) -> None:
    with pytest.raises(errors.Refusal) as refused:
        accepted_type(slot_table().slot(slot), head)
    assert refused.value.code == code
    assert refused.value.status == 415
    assert refused.value.extra["document_type"] == slot


def test_a_pdf_header_after_a_few_stray_bytes_is_left_to_the_checker() -> None:
    assert (
        accepted_type(slot_table().slot("supporting_documents_pdf"), b"\xef\xbb\xbf%PDF-1.7\n").code == "pdf"
    )
    assert accepted_type(slot_table().slot("face_photo"), b"\xff\xd8\xff\xdb").media_type == "image/jpeg"


@pytest.mark.parametrize(
    ("document_type", "kind", "code"),
    [
        ("passport_scan", None, "attachments.unknown_document_type"),
        ("tax_information", None, "attachments.document_type_not_uploadable"),
        ("face_photo", "document", "attachments.kind_mismatch"),
    ],
)
def test_unknown_and_unuploadable_document_types_and_a_kind_that_does_not_fit_are_refused(
    document_type: str, kind: str | None, code: str
) -> None:
    with pytest.raises(errors.Refusal) as refused:
        slot_table().resolve(document_type, kind)  # type: ignore[arg-type]
    assert refused.value.code == code and refused.value.status == 422


def test_a_client_naming_only_the_kind_gets_its_usual_slot() -> None:
    assert slot_table().resolve(None, "photo").code == "face_photo"
    assert slot_table().resolve(None, None).code == "supporting_documents_pdf"


def test_the_slots_are_the_attachment_kinds_of_the_reference_data_with_the_types_the_rules_name() -> None:
    reference = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    assert set(slot_table().slots) == {k["code"] for k in reference["attachments"]["kinds"]}
    accepts = {code: [t.code for t in slot.accepts] for code, slot in slot_table().slots.items()}
    assert accepts == {
        "face_photo": ["jpeg"],
        "no_photo_placeholder": ["jpeg"],
        "supporting_documents_pdf": ["pdf"],
        "legal_representative_proof": ["pdf"],
        "relationship_proof": ["pdf"],
        "host_organisation_form": ["pdf"],
        "form19_supplementary": ["pdf"],
        "declaration_form9": ["pdf"],
        "tax_information": [],
    }


def test_extensions_are_checked_case_insensitively() -> None:
    check_extension(slot_table().slot("supporting_documents_pdf"), "在留資料.PDF")
    check_extension(slot_table().slot("face_photo"), "face.JPEG")
    with pytest.raises(errors.Refusal) as refused:
        check_extension(slot_table().slot("face_photo"), "face.heic")
    assert refused.value.code == "attachments.wrong_extension"


def test_a_file_name_keeps_only_its_base_name_and_refuses_control_characters() -> None:
    assert clean_filename("C:\\Users\\me\\書類.pdf", max_chars=255) == "書類.pdf"
    assert clean_filename("../../etc/passwd.pdf", max_chars=255) == "passwd.pdf"
    with pytest.raises(errors.Refusal):
        clean_filename("a\x00b.pdf", max_chars=255)
    with pytest.raises(errors.Refusal):
        clean_filename("dir/", max_chars=255)


def test_recipients_are_merged_without_duplicate_addresses_applicant_first() -> None:
    merged = merge_recipients(
        [{"email": "App@Example.jp", "role": "applicant"}],
        [
            {"email": "app@example.jp", "role": "filer"},
            {"email": "rep@example.jp", "role": "filer"},
            {"email": ""},
        ],
    )
    assert merged == [
        {"email": "App@Example.jp", "role": "applicant"},
        {"email": "rep@example.jp", "role": "filer"},
    ]
