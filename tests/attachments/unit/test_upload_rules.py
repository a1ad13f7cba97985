"""Upload rules without infrastructure: type sniffing, budgets, recipients, file names."""

from __future__ import annotations

import pytest

from attachments.domain import errors
from attachments.domain.model import (
    RoundUsage,
    check_content,
    check_extension,
    clean_filename,
    merge_recipients,
    upload_budget,
)

pytestmark = pytest.mark.unit

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
    ("kind", "head", "code"),
    [
        ("document", b"PK\x03\x04", "attachments.not_pdf"),
        ("document", b"\xff\xd8\xff\xe0", "attachments.not_pdf"),
        ("photo", b"%PDF-1.7", "attachments.not_jpeg"),
        ("photo", b"\x00\x00\x00\x18ftypheic", "attachments.not_jpeg"),
    ],
)
def test_the_first_bytes_decide_the_type_at_once(kind: str, head: bytes, code: str) -> None:
    with pytest.raises(errors.Refusal) as refused:
        check_content(kind, head)  # type: ignore[arg-type]
    assert refused.value.code == code
    assert refused.value.status == 415


def test_a_pdf_header_after_a_few_stray_bytes_is_left_to_the_checker() -> None:
    check_content("document", b"\xef\xbb\xbf%PDF-1.7\n")
    check_content("photo", b"\xff\xd8\xff\xdb")


def test_extensions_are_checked_case_insensitively() -> None:
    check_extension("document", "在留資料.PDF")
    check_extension("photo", "face.JPEG")
    with pytest.raises(errors.Refusal) as refused:
        check_extension("photo", "face.heic")
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
