"""Issue 15 §8: the 10 MB rule is one number of bytes, named exactly, in the upload, the checker and the messages."""

from __future__ import annotations

import pytest

from attachments.checks import CheckPolicy, Code, make_finding
from attachments.checks.models import PDF_MAX_BYTES, PdfPolicy
from attachments.config import CheckerSettings, UploadPolicy, check_limits_agree
from attachments.domain.errors import file_too_large, round_too_large

pytestmark = pytest.mark.unit


def test_the_upload_and_the_checker_default_to_the_same_number_of_bytes() -> None:
    assert PDF_MAX_BYTES == 10_485_760
    assert UploadPolicy().round_max_bytes == CheckPolicy().pdf.max_bytes == PDF_MAX_BYTES
    check_limits_agree(UploadPolicy(), CheckerSettings())


def test_settings_whose_limits_disagree_are_refused() -> None:
    checker = CheckerSettings(policy=CheckPolicy(pdf=PdfPolicy(max_bytes=10_000_000)))
    with pytest.raises(ValueError, match=r"10,485,760.*10,000,000"):
        check_limits_agree(UploadPolicy(), checker)


def test_every_message_names_the_exact_number_of_bytes() -> None:
    finding = make_finding(
        Code.PDF_TOO_LARGE, size_mb=10.5, max_mb=10.0, size_bytes="11,000,000", max_bytes=f"{PDF_MAX_BYTES:,}"
    )
    round_refusal = round_too_large(round_number=1, limit=PDF_MAX_BYTES, used=0, incoming=11_000_000)
    file_refusal = file_too_large(kind="photo", limit=PDF_MAX_BYTES, incoming=11_000_000)
    for text in (
        finding.message_en,
        finding.message_ja,
        round_refusal.message_en,
        round_refusal.message_ja,
        file_refusal.message_en,
        file_refusal.message_ja,
    ):
        assert "10,485,760" in text
