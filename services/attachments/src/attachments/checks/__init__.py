"""Checking attachments before submission (domain.md §5): one PDF and a face photo.

Owns the verdict codes and their bilingual messages (``codes``), the check policy, the PDF checks (security
settings, ISO 32000-1 structure, page count, image resolution), the face-photo checks and the sandbox that runs them
in limited child processes. Pure library: no I/O besides reading the file; the HTTP upload, the consumer and the
events call ``check_file_sandboxed`` (or a ``SandboxPool``) and store or publish the ``Verdict``.
"""

from attachments.checks.codes import CODES, Code, CodeSpec, Severity
from attachments.checks.models import (
    CheckPolicy,
    DamagedFileHandling,
    EncryptionFacts,
    Finding,
    ImagePlacement,
    Kind,
    PdfFacts,
    PdfPolicy,
    PhotoFacts,
    PhotoPolicy,
    SandboxLimits,
    Verdict,
    make_finding,
)
from attachments.checks.pdf import check_pdf
from attachments.checks.photo import check_photo, no_photo_placeholder_bytes
from attachments.checks.sandbox import SandboxPool, check_file, check_file_sandboxed

__all__ = [
    "CODES",
    "CheckPolicy",
    "Code",
    "CodeSpec",
    "DamagedFileHandling",
    "EncryptionFacts",
    "Finding",
    "ImagePlacement",
    "Kind",
    "PdfFacts",
    "PdfPolicy",
    "PhotoFacts",
    "PhotoPolicy",
    "SandboxLimits",
    "SandboxPool",
    "Severity",
    "Verdict",
    "check_file",
    "check_file_sandboxed",
    "check_pdf",
    "check_photo",
    "make_finding",
    "no_photo_placeholder_bytes",
]
