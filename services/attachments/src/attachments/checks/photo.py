"""Face-photo checks: a complete JPEG with nothing appended, sane pixel and byte sizes, portrait 3:4 after EXIF
orientation, or exactly the "no photo needed" placeholder image."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from attachments.checks._report import Report
from attachments.checks.codes import Code
from attachments.checks.models import MB, CheckPolicy, PhotoFacts, PhotoPolicy, Verdict

_ORIENTATION_TAG = 0x0112
_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE_MARKERS = {0x01, *range(0xD0, 0xD8)}
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "PNG"),
    (b"GIF8", "GIF"),
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "ZIP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"RIFF", "WebP/RIFF"),
)


def no_photo_placeholder_bytes() -> bytes:
    """The shipped "no photo needed" JPEG, for the UI to offer for download."""
    return resources.files("attachments.checks").joinpath("data/no_photo_placeholder.jpg").read_bytes()


@dataclass(frozen=True, slots=True)
class JpegLayout:
    """What the JPEG marker structure says: where the image ends and the frame size."""

    end: int | None  # offset just after the EOI marker; None when the structure ends early or is broken
    width: int | None
    height: int | None


def parse_jpeg_layout(data: bytes) -> JpegLayout:
    """Walk the JPEG marker segments (skipping entropy-coded data) to find the frame size and the EOI marker."""
    width = height = None
    n = len(data)
    if not data.startswith(b"\xff\xd8"):
        return JpegLayout(None, None, None)
    i = 2
    while i < n:
        if data[i] != 0xFF:
            return JpegLayout(None, width, height)
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            break
        marker = data[i]
        i += 1
        if marker == 0xD9:
            return JpegLayout(i, width, height)
        if marker in _STANDALONE_MARKERS:
            continue
        if i + 2 > n:
            break
        length = int.from_bytes(data[i : i + 2], "big")
        if length < 2:
            return JpegLayout(None, width, height)
        if marker in _SOF_MARKERS and i + 7 <= n:
            height = int.from_bytes(data[i + 3 : i + 5], "big")
            width = int.from_bytes(data[i + 5 : i + 7], "big")
        i += length
        if marker == 0xDA:
            i = _skip_entropy_coded(data, i)
            if i < 0:
                break
    return JpegLayout(None, width, height)


def _skip_entropy_coded(data: bytes, i: int) -> int:
    n = len(data)
    while True:
        j = data.find(b"\xff", i)
        if j < 0 or j + 1 >= n:
            return -1
        following = data[j + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            i = j + 2
        elif following == 0xFF:
            i = j + 1
        else:
            return j


def check_photo(path: Path | str, policy: CheckPolicy | None = None) -> Verdict:
    """Check one face photo (JPEG) in this process and return its verdict."""
    photo_policy = (policy or CheckPolicy()).photo
    report = Report("photo")
    path = Path(path)
    size = path.stat().st_size
    facts: dict[str, Any] = {"size_bytes": size, "sha256": ""}
    if size > photo_policy.max_bytes:
        report.add(
            Code.PHOTO_TOO_LARGE, size_mb=round(size / MB, 1), max_mb=round(photo_policy.max_bytes / MB, 1)
        )
        return report.verdict(PhotoFacts(**facts))
    data = path.read_bytes()
    facts["sha256"] = sha256 = hashlib.sha256(data).hexdigest()
    if sha256 in {h.lower() for h in photo_policy.no_photo_placeholder_sha256}:
        facts.update(no_photo_placeholder=True, format="JPEG")
        report.add(Code.PHOTO_NO_PHOTO_PLACEHOLDER)
        return report.verdict(PhotoFacts(**facts))
    if not data.startswith(b"\xff\xd8\xff"):
        report.add(Code.PHOTO_NOT_JPEG, detected=_detect_type(data))
        return report.verdict(PhotoFacts(**facts))
    _check_jpeg(data, photo_policy, report, facts)
    return report.verdict(PhotoFacts(**facts))


def _check_jpeg(data: bytes, policy: PhotoPolicy, report: Report, facts: dict[str, Any]) -> None:
    layout = parse_jpeg_layout(data)
    facts["format"] = "JPEG"
    if layout.width is None or layout.height is None:
        report.add(
            Code.PHOTO_TRUNCATED if layout.end is None else Code.PHOTO_DAMAGED, detail="no image frame"
        )
        return
    facts.update(width_px=layout.width, height_px=layout.height)
    if _too_many_pixels(layout.width, layout.height, policy, report):
        return
    max_pixels = int(policy.max_megapixels * 1_000_000)
    previous = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = max_pixels
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
                facts.update(width_px=image.width, height_px=image.height, mode=image.mode)
                if _too_many_pixels(image.width, image.height, policy, report):
                    return
                orientation = image.getexif().get(_ORIENTATION_TAG)
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _too_many_pixels(layout.width, layout.height, policy, report, force=True)
        return
    except UnidentifiedImageError as exc:
        report.add(Code.PHOTO_DAMAGED, detail=_short(str(exc)))
        return
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if "truncated" in str(exc) or layout.end is None:
            report.add(Code.PHOTO_TRUNCATED)
        else:
            report.add(Code.PHOTO_DAMAGED, detail=_short(str(exc)))
        return
    finally:
        Image.MAX_IMAGE_PIXELS = previous
    if layout.end is None:
        report.add(Code.PHOTO_TRUNCATED)
    elif layout.end < len(data):
        report.add(Code.PHOTO_TRAILING_DATA, bytes=len(data) - layout.end)
    orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else None
    width, height = int(facts["width_px"]), int(facts["height_px"])
    if orientation in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    facts.update(exif_orientation=orientation, oriented_width_px=width, oriented_height_px=height)
    if width < policy.min_width_px or height < policy.min_height_px:
        report.add(
            Code.PHOTO_TOO_FEW_PIXELS,
            width=width,
            height=height,
            min_width=policy.min_width_px,
            min_height=policy.min_height_px,
        )
    target = policy.aspect_height / policy.aspect_width
    if abs((height / width) / target - 1.0) > policy.aspect_tolerance:
        report.add(Code.PHOTO_WRONG_PROPORTIONS, width=width, height=height)


def _too_many_pixels(
    width: int, height: int, policy: PhotoPolicy, report: Report, *, force: bool = False
) -> bool:
    over = width * height > policy.max_megapixels * 1_000_000
    if force or over or width > policy.max_width_px or height > policy.max_height_px:
        report.add(
            Code.PHOTO_TOO_MANY_PIXELS,
            width=width,
            height=height,
            max_width=policy.max_width_px,
            max_height=policy.max_height_px,
            max_megapixels=policy.max_megapixels,
        )
        return True
    return False


def _detect_type(data: bytes) -> str:
    if not data:
        return "empty file"
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return name
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "HEIC/AVIF"
    return "unknown format"


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
