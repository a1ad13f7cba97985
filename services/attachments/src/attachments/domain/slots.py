"""Document slots and the file types each accepts, from ``slots.json`` (data, not code; docs/attachment-slots.md).

A slot is a reference-data attachment kind (face photo, supporting PDF, 別記第19号様式 …). The type of an uploaded
file is decided by its first bytes alone; the client's Content-Type and the file name's extension never decide it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from attachments.domain import errors

UploadKind = Literal["document", "photo"]

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF8", "gif"),
    (b"PK\x03\x04", "zip"),
    (b"\xd0\xcf\x11\xe0", "ole"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
    (b"RIFF", "riff"),
)
PDF_MAGIC = b"%PDF-"
PDF_WINDOW = 1024  # %PDF- may follow a few stray bytes; the checker rejects those with a precise code


@dataclass(frozen=True)
class FileType:
    """A file type a slot may accept: its code, the coarse kind of the events and the media type it is served as."""

    code: str
    kind: UploadKind
    media_type: str
    label: str


@dataclass(frozen=True)
class Slot:
    """One document slot: which types it accepts and whether a new file replaces the round's previous one."""

    code: str
    accepts: tuple[FileType, ...]
    one_per_round: str | None
    name_ja: str
    name_en: str

    @property
    def uploadable(self) -> bool:
        """Tell whether files are uploaded into this slot (tax data is registered from Mynaportal instead)."""
        return bool(self.accepts)

    @property
    def kind(self) -> UploadKind:
        """The coarse kind of the events (document for PDF slots, photo for JPEG slots)."""
        return self.accepts[0].kind


@dataclass(frozen=True)
class SlotTable:
    """Every slot by code, and the default slot of each coarse kind (for clients that name only the kind)."""

    slots: dict[str, Slot]
    types: dict[str, FileType]

    def slot(self, code: str) -> Slot:
        """Return the slot, or refuse an unknown document type (422)."""
        slot = self.slots.get(code)
        if slot is None:
            raise errors.unknown_document_type(document_type=code, known=sorted(self.slots))
        if not slot.uploadable:
            raise errors.document_type_not_uploadable(document_type=code)
        return slot

    def resolve(self, document_type: str | None, kind: UploadKind | None) -> Slot:
        """Return the slot an upload goes into; the kind, when given too, must fit it."""
        if document_type is None:
            document_type = DEFAULT_SLOT[kind or "document"]
        slot = self.slot(document_type)
        if kind is not None and kind != slot.kind:
            raise errors.kind_does_not_fit(kind=kind, document_type=slot.code, expected=slot.kind)
        return slot


DEFAULT_SLOT: dict[str, str] = {"document": "supporting_documents_pdf", "photo": "face_photo"}


@cache
def slot_table() -> SlotTable:
    """Load ``slots.json`` once."""
    raw = json.loads(resources.files("attachments.domain").joinpath("slots.json").read_text("utf-8"))
    types = {
        code: FileType(code=code, kind=t["kind"], media_type=t["media_type"], label=t["label"])
        for code, t in raw["types"].items()
    }
    slots = {
        s["code"]: Slot(
            code=s["code"],
            accepts=tuple(types[t] for t in s["accepts"]),
            one_per_round=s.get("one_per_round"),
            name_ja=s["name"]["ja"],
            name_en=s["name"]["en"],
        )
        for s in raw["slots"]
    }
    return SlotTable(slots=slots, types=types)


def sniff(head: bytes) -> str:
    """Return the type code the first bytes show (pdf, jpeg, png …), ``unknown`` or ``empty``."""
    if not head:
        return "empty"
    if PDF_MAGIC in head[:PDF_WINDOW]:
        return "pdf"
    for magic, code in SIGNATURES:
        if head.startswith(magic):
            return code
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "heic"
    return "unknown"


def accepted_type(slot: Slot, head: bytes) -> FileType:
    """Return the accepted type the content is, or refuse it at once (415) with a code naming what it is."""
    detected = sniff(head)
    for file_type in slot.accepts:
        if file_type.code == detected:
            return file_type
    raise errors.type_not_accepted(
        document_type=slot.code,
        detected=detected,
        accepted=[t.label for t in slot.accepts],
        expected_kind=slot.kind,
    )
