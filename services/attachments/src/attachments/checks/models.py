"""Verdicts, findings, facts, policies and sandbox limits of the attachment checks (all JSON-serialisable)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from attachments.checks.codes import CODES, Code, Severity

ParamValue = str | int | float

# SHA-256 of checks/data/no_photo_placeholder.jpg, the "no photo needed" image we ship (a test keeps them equal).
SHIPPED_PLACEHOLDER_SHA256 = "49b9fdfeef671de4083664de3d6b47550073cb9df013e23932fa3135c4f9cd7f"

MB = 1024 * 1024
# The published rule says "10MB"; the system reads it as 10 MiB. Upload, checker and messages all use this number.
PDF_MAX_BYTES = 10 * MB  # 10,485,760 bytes


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(_Model):
    """One problem or remark about a file: a stable code plus messages that say what is wrong and how to fix it."""

    code: Code
    severity: Severity
    message_ja: str
    message_en: str
    params: dict[str, ParamValue] = Field(default_factory=dict)


def make_finding(code: Code, severity: Severity | None = None, **params: ParamValue) -> Finding:
    """Build a finding for ``code`` with its messages filled from ``params``."""
    spec = CODES[code]
    missing = set(spec.params) - params.keys()
    if missing:
        raise ValueError(f"{code}: missing message parameters {sorted(missing)}")
    return Finding(
        code=code,
        severity=severity or spec.severity,
        message_ja=spec.message_ja.format(**params),
        message_en=spec.message_en.format(**params),
        params=dict(params),
    )


class EncryptionFacts(_Model):
    """What the /Encrypt dictionary says (never the key or passwords)."""

    filter: str | None = None
    sub_filter: str | None = None
    version: int | None = None  # /V
    revision: int | None = None  # /R
    key_bits: int | None = None
    method: str | None = None
    permissions: int | None = None  # /P
    needs_user_password: bool | None = None
    restrictions: list[str] = Field(default_factory=list)


class ImagePlacement(_Model):
    """One placement of an image on a page, with its effective resolution."""

    page: int
    name: str  # XObject resource name, or "inline"
    width_px: int
    height_px: int
    placed_width_pt: float
    placed_height_pt: float
    dpi_x: float
    dpi_y: float
    in_form: bool = False

    @property
    def dpi(self) -> float:
        """The lower of the two resolutions."""
        return min(self.dpi_x, self.dpi_y)


class PdfFacts(_Model):
    """What the PDF check measured."""

    kind: Literal["pdf"] = "pdf"
    size_bytes: int
    sha256: str
    header_version: str | None = None
    header_offset: int | None = None
    catalog_version: str | None = None
    page_count: int | None = None
    declared_page_count: int | None = None
    linearized: bool | None = None
    repaired: bool = False
    encryption: EncryptionFacts | None = None
    embedded_files: list[str] = Field(default_factory=list)
    min_dpi: float | None = None
    images: list[ImagePlacement] = Field(default_factory=list)
    image_count: int = 0
    images_truncated: bool = False
    qpdf_messages: list[str] = Field(default_factory=list)
    # JavaScript / Launch actions found (accepted, never run, shown to the officer: docs/adr/0007).
    active_content: list[str] = Field(default_factory=list)


class PhotoFacts(_Model):
    """What the photo check measured."""

    kind: Literal["photo"] = "photo"
    size_bytes: int
    sha256: str
    format: str | None = None
    width_px: int | None = None
    height_px: int | None = None
    exif_orientation: int | None = None
    oriented_width_px: int | None = None
    oriented_height_px: int | None = None
    mode: str | None = None
    no_photo_placeholder: bool = False


Facts = Annotated[PdfFacts | PhotoFacts, Field(discriminator="kind")]
Kind = Literal["pdf", "photo"]


class Verdict(_Model):
    """The outcome of checking one file."""

    kind: Kind
    accepted: bool
    reasons: list[Finding] = Field(default_factory=list)
    warnings: list[Finding] = Field(default_factory=list)
    facts: Facts | None = None
    elapsed_ms: float | None = None
    # Highest resident memory of the check: the worker and every program it started (sandboxed checks only).
    peak_memory_mb: float | None = None

    @property
    def codes(self) -> list[str]:
        """All finding codes, reasons first."""
        return [f.code.value for f in [*self.reasons, *self.warnings]]


class DamagedFileHandling(StrEnum):
    """What to do with a PDF whose damage the reader can repair."""

    STRICT = "strict"  # reject
    LENIENT = "lenient"  # accept with a warning


class PdfPolicy(_Model):
    """Limits and choices for PDF checks."""

    max_bytes: int = PDF_MAX_BYTES
    damaged: DamagedFileHandling = DamagedFileHandling.STRICT
    max_pages: int = Field(default=2000, ge=1)
    min_recommended_dpi: float = 200.0
    # Placements smaller than this on both sides (logos, stamps, signatures) do not trigger the dpi warning.
    dpi_ignore_below_pt: float = 72.0
    max_images_reported: int = 200
    # Per-stream decoding limit for qpdf (flate, DCT, predictors), in bytes; 0 means no limit (tests only).
    # An A4 page scanned at 600 dpi in colour decodes to about 105 MB.
    max_decoded_stream_bytes: int = Field(default=256 * MB, ge=0)
    max_progressive_scans: int = 200
    # Upper bound on content-stream instructions examined for image placement, per document.
    max_content_instructions: int = 2_000_000
    max_form_depth: int = 16
    max_embedded_file_bytes: int = 20 * MB


class PhotoPolicy(_Model):
    """Limits and choices for face-photo checks."""

    max_bytes: int = 10 * MB
    min_width_px: int = 240
    min_height_px: int = 320
    max_width_px: int = 8000
    max_height_px: int = 8000
    max_megapixels: float = 40.0
    aspect_width: int = 3
    aspect_height: int = 4
    # Allowed relative deviation of height/width from aspect_height/aspect_width.
    aspect_tolerance: float = 0.04
    no_photo_placeholder_sha256: list[str] = Field(default_factory=lambda: [SHIPPED_PLACEHOLDER_SHA256])


class CheckPolicy(_Model):
    """All check policies; defaults follow domain.md §5."""

    pdf: PdfPolicy = Field(default_factory=PdfPolicy)
    photo: PhotoPolicy = Field(default_factory=PhotoPolicy)


class SandboxLimits(_Model):
    """Resource limits for one sandboxed check."""

    memory_bytes: int = 1536 * MB  # RLIMIT_AS (address space) of the worker and of each program it starts
    total_rss_bytes: int = Field(
        default=1024 * MB, gt=0
    )  # resident memory of the worker and all its descendants
    cpu_seconds: int = Field(default=15, ge=1)  # RLIMIT_CPU of the child, on top of its start-up
    wall_seconds: float = Field(default=20.0, gt=0)
    file_size_bytes: int = 128 * MB  # RLIMIT_FSIZE (temporary files, e.g. of jbig2dec)
    open_files: int = 256
