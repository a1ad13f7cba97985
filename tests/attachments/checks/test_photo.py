"""Face photo: a complete JPEG, nothing appended, sane sizes, portrait 3:4 after EXIF orientation, or the placeholder."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from attachments.checks import (
    CheckPolicy,
    Code,
    PhotoFacts,
    PhotoPolicy,
    Severity,
    check_photo,
    no_photo_placeholder_bytes,
)
from attachments.checks.photo import parse_jpeg_layout
from tests.attachments.checks.attachment_check_factories import Files

pytestmark = pytest.mark.unit


def _facts(verdict: object) -> PhotoFacts:
    facts = getattr(verdict, "facts", None)
    assert isinstance(facts, PhotoFacts)
    return facts


def test_accepts_a_portrait_3_by_4_jpeg(files: Files) -> None:
    verdict = check_photo(files.write("ok.jpg", files.jpeg((600, 800))))
    assert verdict.accepted, verdict.reasons
    assert verdict.warnings == []
    facts = _facts(verdict)
    assert (facts.width_px, facts.height_px) == (600, 800)
    assert facts.format == "JPEG"
    assert not facts.no_photo_placeholder


def test_accepts_a_progressive_jpeg(files: Files) -> None:
    assert check_photo(files.write("prog.jpg", files.jpeg((300, 400), progressive=True))).accepted


def test_rejects_a_truncated_jpeg(files: Files) -> None:
    data = files.jpeg((600, 800))
    verdict = check_photo(files.write("cut.jpg", data[: len(data) * 2 // 3]))
    assert verdict.codes == [Code.PHOTO_TRUNCATED]


def test_rejects_a_jpeg_that_only_lacks_its_end_marker(files: Files) -> None:
    verdict = check_photo(files.write("noeoi.jpg", files.jpeg((300, 400))[:-2]))
    assert verdict.codes == [Code.PHOTO_TRUNCATED]


def test_rejects_a_zip_appended_to_a_jpeg(files: Files) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("secret.txt", "hidden payload")
    payload = archive.getvalue()
    verdict = check_photo(files.write("polyglot.jpg", files.jpeg((300, 400)) + payload))
    assert verdict.codes == [Code.PHOTO_TRAILING_DATA]
    assert verdict.reasons[0].params["bytes"] == len(payload)


def test_skips_an_embedded_thumbnail_when_looking_for_the_end(files: Files) -> None:
    data = files.jpeg((300, 400), thumbnail=True)
    assert data.count(b"\xff\xd9") >= 2
    assert parse_jpeg_layout(data).end == len(data)
    assert check_photo(files.write("thumb.jpg", data)).accepted


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (Files.png(), "PNG"),
        (b"%PDF-1.7\n", "PDF"),
        (b"", "empty file"),
        (b"\x00\x00\x00\x18ftypheic", "HEIC/AVIF"),
    ],
    ids=["png", "pdf", "empty", "heic"],
)
def test_rejects_other_formats_renamed_to_jpg(files: Files, data: bytes, detected: str) -> None:
    verdict = check_photo(files.write("renamed.jpg", data))
    assert verdict.codes == [Code.PHOTO_NOT_JPEG]
    assert verdict.reasons[0].params["detected"] == detected


def test_rejects_garbage_after_the_start_marker(files: Files) -> None:
    verdict = check_photo(files.write("garbage.jpg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8))
    assert not verdict.accepted
    assert verdict.codes[0] in {Code.PHOTO_TRUNCATED, Code.PHOTO_DAMAGED}


def test_rejects_a_tiny_file_claiming_a_huge_frame_without_decoding_it(files: Files) -> None:
    data = files.with_sof_size(files.jpeg((300, 400)), 30000, 40000)
    verdict = check_photo(files.write("bomb.jpg", data))
    assert verdict.codes == [Code.PHOTO_TOO_MANY_PIXELS]
    assert verdict.reasons[0].params["width"] == 30000


def test_turns_pillows_decompression_bomb_warning_into_a_rejection(files: Files) -> None:
    policy = CheckPolicy(photo=PhotoPolicy(max_megapixels=0.1, max_width_px=10**6, max_height_px=10**6))
    data = files.jpeg((300, 400))
    verdict = check_photo(files.write("many.jpg", data), policy)
    assert verdict.codes == [Code.PHOTO_TOO_MANY_PIXELS]


def test_rejects_a_photo_over_the_byte_limit(files: Files) -> None:
    policy = CheckPolicy(photo=PhotoPolicy(max_bytes=1000))
    verdict = check_photo(files.write("heavy.jpg", files.jpeg((600, 800))), policy)
    assert verdict.codes == [Code.PHOTO_TOO_LARGE]


def test_rejects_a_photo_with_too_few_pixels(files: Files) -> None:
    verdict = check_photo(files.write("small.jpg", files.jpeg((120, 160))))
    assert verdict.codes == [Code.PHOTO_TOO_FEW_PIXELS]


def test_rejects_a_landscape_photo(files: Files) -> None:
    verdict = check_photo(files.write("wide.jpg", files.jpeg((800, 600))))
    assert verdict.codes == [Code.PHOTO_WRONG_PROPORTIONS]
    assert verdict.reasons[0].params == {"width": 800, "height": 600}


def test_rejects_a_square_photo(files: Files) -> None:
    assert check_photo(files.write("square.jpg", files.jpeg((600, 600)))).codes == [
        Code.PHOTO_WRONG_PROPORTIONS
    ]


def test_accepts_a_small_deviation_from_3_by_4(files: Files) -> None:
    assert check_photo(files.write("nearly.jpg", files.jpeg((600, 790)))).accepted


def test_applies_exif_orientation_before_checking_proportions(files: Files) -> None:
    stored_landscape = check_photo(files.write("rot6.jpg", files.jpeg((800, 600), orientation=6)))
    assert stored_landscape.accepted, stored_landscape.reasons
    facts = _facts(stored_landscape)
    assert (facts.oriented_width_px, facts.oriented_height_px, facts.exif_orientation) == (600, 800, 6)
    stored_portrait = check_photo(files.write("rot8.jpg", files.jpeg((600, 800), orientation=8)))
    assert stored_portrait.codes == [Code.PHOTO_WRONG_PROPORTIONS]
    upright = check_photo(files.write("rot1.jpg", files.jpeg((600, 800), orientation=1)))
    assert upright.accepted


def test_recognises_the_no_photo_placeholder(files: Files) -> None:
    verdict = check_photo(files.write("placeholder.jpg", no_photo_placeholder_bytes()))
    assert verdict.accepted
    assert verdict.codes == [Code.PHOTO_NO_PHOTO_PLACEHOLDER]
    assert verdict.warnings[0].severity is Severity.INFO
    assert _facts(verdict).no_photo_placeholder


def test_recognises_a_configured_placeholder(files: Files) -> None:
    data = files.jpeg((100, 100))  # would be rejected as too small and square
    policy = CheckPolicy(
        photo=PhotoPolicy(no_photo_placeholder_sha256=[hashlib.sha256(data).hexdigest().upper()])
    )
    assert check_photo(files.write("isa.jpg", data), policy).accepted
    assert not check_photo(files.path("isa.jpg")).accepted


def test_the_shipped_placeholder_is_also_a_valid_photo_by_itself(files: Files) -> None:
    policy = CheckPolicy(photo=PhotoPolicy(no_photo_placeholder_sha256=[]))
    verdict = check_photo(files.write("placeholder.jpg", no_photo_placeholder_bytes()), policy)
    assert verdict.accepted, verdict.reasons
