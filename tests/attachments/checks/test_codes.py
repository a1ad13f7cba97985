"""The finding codes are an API: each has a severity and messages in Japanese and English that fill cleanly."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest

from attachments.checks import (
    CODES,
    CheckPolicy,
    Code,
    DamagedFileHandling,
    Severity,
    Verdict,
    check_pdf,
    make_finding,
    no_photo_placeholder_bytes,
)
from attachments.checks.models import SHIPPED_PLACEHOLDER_SHA256

pytestmark = pytest.mark.unit

_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_every_code_has_a_spec() -> None:
    assert set(CODES) == set(Code)


@pytest.mark.parametrize("code", list(Code), ids=lambda c: c.value)
def test_every_code_has_both_messages_that_fill_from_their_params(code: Code) -> None:
    spec = CODES[code]
    params: dict[str, Any] = {name: f"<{name}>" for name in spec.params}
    finding = make_finding(code, **params)
    assert _JAPANESE.search(finding.message_ja), "Japanese message must be Japanese"
    outside_parentheses = re.sub(r"\([^)]*\)", "", finding.message_en)  # official form names may be quoted
    assert not _JAPANESE.search(outside_parentheses), "English message must be English"
    for message in (finding.message_ja, finding.message_en):
        assert "{" not in message and "}" not in message
        for name in spec.params:
            assert f"<{name}>" in message
    assert finding.message_en.endswith((".", ")"))


def test_every_code_is_namespaced_and_lower_case() -> None:
    for code in Code:
        assert re.fullmatch(r"(pdf|photo|check)(\.[a-z0-9_]+)+", code.value)


def test_a_finding_refuses_missing_message_parameters() -> None:
    with pytest.raises(ValueError, match="missing message parameters"):
        make_finding(Code.PDF_TOO_LARGE, size_mb=11)


def test_only_low_resolution_and_remarks_are_not_errors() -> None:
    not_errors = {code for code, spec in CODES.items() if spec.severity is not Severity.ERROR}
    assert not_errors == {
        Code.PDF_LOW_RESOLUTION,
        Code.PDF_RESOLUTION_INCOMPLETE,
        Code.PHOTO_NO_PHOTO_PLACEHOLDER,
        Code.PDF_PADDING_AFTER_EOF,
        Code.PDF_REPAIRED_MINOR,
        Code.PDF_UNRESOLVED_REFERENCE,
        Code.PDF_INTERACTIVE_IRREGULAR,
        Code.PDF_ACTIVE_CONTENT,
    }


def test_remarks_are_info_and_never_policy_governed() -> None:
    for code in (
        Code.PDF_PADDING_AFTER_EOF,
        Code.PDF_REPAIRED_MINOR,
        Code.PDF_UNRESOLVED_REFERENCE,
        Code.PDF_INTERACTIVE_IRREGULAR,
        Code.PDF_ACTIVE_CONTENT,
    ):
        assert CODES[code].severity is Severity.INFO
        assert not CODES[code].policy_governed


def test_default_policy_follows_the_published_rule() -> None:
    policy = CheckPolicy()
    assert policy.pdf.max_bytes == 10 * 1024 * 1024
    assert policy.pdf.damaged is DamagedFileHandling.STRICT
    assert policy.pdf.min_recommended_dpi == 200
    assert (policy.photo.aspect_width, policy.photo.aspect_height) == (3, 4)


def test_the_shipped_placeholder_is_the_default_placeholder() -> None:
    data = no_photo_placeholder_bytes()
    assert data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")
    assert hashlib.sha256(data).hexdigest() == SHIPPED_PLACEHOLDER_SHA256
    assert SHIPPED_PLACEHOLDER_SHA256 in CheckPolicy().photo.no_photo_placeholder_sha256


def test_a_verdict_survives_a_json_round_trip(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "x.pdf"
    path.write_bytes(b"not a pdf at all")
    verdict = check_pdf(path)
    assert Verdict.model_validate_json(verdict.model_dump_json()) == verdict
    assert verdict.codes == ["pdf.not_pdf"]
