"""Rules of attachment rounds and uploads: kinds, type sniffing, limits, recipients (参考様式9 is the applications
service's: its rule and texts arrive with application-submitted and application-returned, ADR 0014)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from attachments.domain import errors

Kind = Literal["document", "photo", "tax_info"]
UploadKind = Literal["document", "photo"]

PDF_EXTENSIONS = (".pdf",)
JPEG_EXTENSIONS = (".jpg", ".jpeg")
SNIFF_BYTES = 1024  # %PDF- may follow a few stray bytes; the checker rejects those with a precise code


class AttachmentState(StrEnum):
    """Where an attachment stands: the applicant sees "checking" until the verdict."""

    CHECKING = "checking"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


def check_kind(kind: UploadKind) -> Literal["pdf", "photo"]:
    """The check that decides an upload of this kind."""
    return "pdf" if kind == "document" else "photo"


def clean_filename(filename: str, *, max_chars: int) -> str:
    """Return the file's base name, normalised (NFC), or refuse a name that cannot be used."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or len(name) > max_chars or any(unicodedata.category(c) == "Cc" for c in name):
        raise errors.bad_filename()
    return name


def check_extension(kind: UploadKind, filename: str) -> None:
    """Refuse a file whose extension does not fit the kind (`.pdf` for documents, `.jpg`/`.jpeg` for the photo)."""
    lowered = filename.lower()
    if kind == "document" and not lowered.endswith(PDF_EXTENSIONS):
        raise errors.wrong_extension(kind=kind, filename=filename, expected="PDF (.pdf)")
    if kind == "photo" and not lowered.endswith(JPEG_EXTENSIONS):
        raise errors.wrong_extension(kind=kind, filename=filename, expected="JPEG (.jpg, .jpeg)")


def detect_type(head: bytes) -> str:
    """A short description of what the first bytes look like (for refusal messages)."""
    signatures = (
        (b"%PDF-", "PDF"),
        (b"\xff\xd8\xff", "JPEG"),
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"GIF8", "GIF"),
        (b"PK\x03\x04", "ZIP / Office document"),
        (b"\xd0\xcf\x11\xe0", "old Office document"),
        (b"II*\x00", "TIFF"),
        (b"MM\x00*", "TIFF"),
        (b"BM", "BMP"),
        (b"RIFF", "RIFF (WebP, …)"),
    )
    for magic, name in signatures:
        if head.startswith(magic):
            return name
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "HEIC"
    if not head:
        return "empty file"
    return "unknown content"


def check_content(kind: UploadKind, head: bytes) -> None:
    """Refuse at once a body whose first bytes are not what the kind needs (PDF header, JPEG SOI)."""
    if kind == "document" and b"%PDF-" not in head[:SNIFF_BYTES]:
        raise errors.not_pdf(detected=detect_type(head))
    if kind == "photo" and not head.startswith(b"\xff\xd8\xff"):
        raise errors.not_jpeg(detected=detect_type(head))


@dataclass(frozen=True)
class RoundUsage:
    """What a round already holds (rejected files do not count)."""

    bytes_by_kind: Mapping[str, int]
    files_by_kind: Mapping[str, int]

    def counted_bytes(self, kinds: Iterable[str]) -> int:
        """Bytes of the kinds that count against the round's limit."""
        return sum(self.bytes_by_kind.get(k, 0) for k in kinds)


@dataclass(frozen=True)
class Budget:
    """How many bytes one upload may still take, and which refusal applies when it takes more."""

    max_bytes: int
    round_limited: bool
    round_limit: int
    used: int
    file_limit: int | None

    def refusal(self, *, kind: str, round_number: int, incoming: int | None) -> errors.Refusal:
        """The refusal for a file that does not fit."""
        if self.round_limited and (
            self.file_limit is None or self.round_limit - self.used <= self.file_limit
        ):
            return errors.round_too_large(
                round_number=round_number, limit=self.round_limit, used=self.used, incoming=incoming
            )
        return errors.file_too_large(kind=kind, limit=self.file_limit or self.max_bytes, incoming=incoming)


def upload_budget(
    *,
    kind: UploadKind,
    round_number: int,
    usage: RoundUsage,
    round_max_bytes: int,
    round_limit_kinds: Iterable[str],
    photo_max_bytes: int,
    max_files: Mapping[str, int],
) -> Budget:
    """Check the file count and return the byte budget of the next upload of ``kind`` in the round."""
    limit = max_files.get(kind)
    if limit is not None and usage.files_by_kind.get(kind, 0) >= limit:
        raise errors.too_many_files(kind=kind, limit=limit, round_number=round_number)
    kinds = tuple(round_limit_kinds)
    used = usage.counted_bytes(kinds)
    file_limit = photo_max_bytes if kind == "photo" else None
    candidates: list[int] = []
    if kind in kinds:
        candidates.append(max(0, round_max_bytes - used))
    if file_limit is not None:
        candidates.append(file_limit)
    return Budget(
        max_bytes=min(candidates) if candidates else round_max_bytes,
        round_limited=kind in kinds,
        round_limit=round_max_bytes,
        used=used,
        file_limit=file_limit,
    )


def merge_recipients(*groups: Iterable[Mapping[str, object]]) -> list[dict[str, object]]:
    """Concatenate recipient dicts, first occurrence of an address wins (the applicant comes first)."""
    seen: set[str] = set()
    merged: list[dict[str, object]] = []
    for group in groups:
        for recipient in group:
            address = str(recipient.get("email") or "").strip().lower()
            if address and address not in seen:
                seen.add(address)
                merged.append(dict(recipient))
    return merged
