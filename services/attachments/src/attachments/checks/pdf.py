"""PDF checks: security settings, ISO 32000-1 structure (with the gaps qpdf leaves), page count and resolution.

Run inside the sandbox (``attachments.checks.sandbox``) for untrusted files: qpdf's C++ code cannot be interrupted
from Python, and the qpdf limits set here are process-wide.
"""

from __future__ import annotations

import hashlib
import re
import resource
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import settings as qpdf_settings

from attachments.checks._report import Report
from attachments.checks.codes import Code
from attachments.checks.models import (
    MB,
    CheckPolicy,
    EncryptionFacts,
    ImagePlacement,
    PdfFacts,
    PdfPolicy,
    Verdict,
)
from attachments.checks.resolution import ResolutionBudgetExceeded, ResolutionWalker

HEADER_WINDOW = 1024  # readers accept the header within the first 1024 bytes (ISO 32000-1 wants it at byte 0)
EOF_WINDOW = 1024  # %%EOF must be within the last 1024 bytes
ENCRYPT_WINDOW = 4096  # bounded raw-byte search for the /Encrypt dictionary
MAX_MESSAGES = 20
_FOLLOW_UP = "will be re-processed without filtering"  # qpdf's second warning about the same stream

_HEADER = re.compile(rb"%PDF-(\d+\.\d+)?")
_ENCRYPT_REF = re.compile(rb"/Encrypt\s*(\d{1,10})\s+(\d{1,5})\s+R")
_ENCRYPT_DIRECT = re.compile(rb"/Encrypt\s*<<")
_NAME_VALUE = r"/{key}\s*/([^\s/<>\[\]()%{{}}]+)"
_INT_VALUE = r"/{key}\s+(-?\d{{1,12}})"
_REFERENCE = re.compile(rb"(?<![\d.+-])(\d{1,10})\s+(\d{1,5})\s+R(?![^\s/\[\]<>(){}%])")
_LITERAL_STRING = re.compile(rb"\((?:\\.|[^\\()])*\)", re.DOTALL)
_HEX_STRING = re.compile(rb"<[0-9A-Fa-f\s]*>")
_OBJ_END = re.compile(rb"\bstream\b|\bendobj\b")
_PROTECTED_NAME = re.compile(r"MicrosoftIRMServices|Protected PDF", re.IGNORECASE)
_DRM_HANDLERS = ("Adobe.APS", "FOPN_", "MicrosoftIRMServices", "Adobe.PubSec", "Microsoft")
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"PK\x03\x04", "ZIP archive or Office document"),
    (b"\xd0\xcf\x11\xe0", "old Office document"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"{\\rtf", "RTF document"),
)


def check_pdf(path: Path | str, policy: CheckPolicy | None = None) -> Verdict:
    """Check one PDF file in this process and return its verdict (use the sandbox for untrusted files)."""
    pdf_policy = (policy or CheckPolicy()).pdf
    report = Report("pdf", pdf_policy.damaged)
    path = Path(path)
    size = path.stat().st_size
    facts: dict[str, Any] = {"size_bytes": size, "sha256": ""}
    if size > pdf_policy.max_bytes:
        report.add(
            Code.PDF_TOO_LARGE, size_mb=round(size / MB, 1), max_mb=round(pdf_policy.max_bytes / MB, 1)
        )
        return report.verdict(PdfFacts(**facts))
    data = path.read_bytes()
    facts["sha256"] = hashlib.sha256(data).hexdigest()
    state = _PdfCheck(path, data, pdf_policy, report, facts)
    state.run()
    return report.verdict(PdfFacts(**facts))


def configure_qpdf_limits(policy: PdfPolicy) -> None:
    """Set qpdf's process-wide decoding limits from ``policy`` (guards against decompression bombs)."""
    limit = policy.max_decoded_stream_bytes
    qpdf_settings.set_qpdf_limits(
        flate_max_memory=limit,
        dct_max_memory=limit,
        png_max_memory=limit,
        tiff_max_memory=limit,
        run_length_max_memory=limit,
        dct_max_progressive_scans=policy.max_progressive_scans,
        doc_max_warnings=10_000,
    )


@dataclass
class _PdfCheck:
    path: Path
    data: bytes
    policy: PdfPolicy
    report: Report
    facts: dict[str, Any]
    messages: list[str] = field(default_factory=list)

    def run(self) -> None:
        if not self._check_header():
            return
        self._check_eof()
        configure_qpdf_limits(self.policy)
        try:
            pdf = pikepdf.open(self.path, attempt_recovery=True, suppress_warnings=True)
        except pikepdf.PasswordError:
            self.facts["encryption"] = self._raw_encryption(needs_user_password=True)
            self.report.add(Code.PDF_ENCRYPTED_USER_PASSWORD)
            return
        except (pikepdf.PdfError, RuntimeError, ValueError, OSError) as exc:
            self._open_failed(exc)
            return
        with pdf:
            self._check_open_warnings(pdf)
            self._check_encryption(pdf)
            self._check_embedded_files(pdf)
            self.facts["catalog_version"] = _name_text(pdf.Root.get("/Version"))
            self.facts["linearized"] = bool(pdf.is_linearized)
            pages_ok = self._check_page_tree(pdf)
            self._check_missing_objects(pdf)
            if pages_ok:
                self._check_syntax(pdf)
                self._check_resolution(pdf)
        self.facts["qpdf_messages"] = self.messages[:MAX_MESSAGES]

    # -- bytes ------------------------------------------------------------------------------------------------------

    def _check_header(self) -> bool:
        head = self.data[:HEADER_WINDOW]
        match = _HEADER.search(head)
        if match is None:
            self.report.add(Code.PDF_NOT_PDF, detected=_detect_type(self.data))
            return False
        offset = match.start()
        self.facts["header_offset"] = offset
        if offset:
            self.report.add(Code.PDF_DAMAGED_HEADER_OFFSET, offset=offset)
        version = (match.group(1) or b"").decode("ascii")
        self.facts["header_version"] = version or None
        major, _, minor = version.partition(".")
        if not version or not ((major == "1" and minor.isdigit() and int(minor) <= 7) or version == "2.0"):
            shown = head[match.start() : match.start() + 12].split(b"\n")[0].split(b"\r")[0]
            self.report.add(Code.PDF_DAMAGED_HEADER_VERSION, version=shown.decode("latin-1"))
        return True

    def _check_eof(self) -> None:
        if b"%%EOF" not in self.data[-EOF_WINDOW:]:
            self.report.add(Code.PDF_NO_EOF)

    # -- opening and security -----------------------------------------------------------------------------------------

    def _open_failed(self, exc: Exception) -> None:
        text = self._clean(str(exc))
        if "encryption" in text.lower() or self._encrypt_window() is not None:
            encryption = self._raw_encryption(needs_user_password=None)
            self.facts["encryption"] = encryption
            if encryption.filter != "Standard":
                self.report.add(Code.PDF_DRM_NETWORK_AUTH, handler=encryption.filter or "unknown")
                return
        if "no pages found" in text:
            self.report.add(Code.PDF_NO_PAGES)
            return
        if "/Pages" in text or "page tree" in text.lower():
            self.report.add(Code.PDF_DAMAGED_PAGE_TREE, detail=_short(text))
            return
        if self.report.has(Code.PDF_NO_EOF):
            self.report.add(Code.PDF_TRUNCATED)
        self.report.add(Code.PDF_DAMAGED_UNREADABLE, detail=_short(text))

    def _encrypt_window(self) -> bytes | None:
        """The raw bytes of the /Encrypt dictionary, found by a bounded search (it is never in an object stream)."""
        data = self.data
        refs = list(_ENCRYPT_REF.finditer(data))
        for ref in reversed(refs[-8:]):
            num, gen = ref.group(1), ref.group(2)
            header = re.compile(rb"(?<!\d)" + num + rb"\s+" + gen + rb"\s+obj\b")
            found = list(header.finditer(data))
            if found:
                start = found[-1].start()
                window = data[start : start + ENCRYPT_WINDOW]
                return window.split(b"endobj", 1)[0]
        direct = list(_ENCRYPT_DIRECT.finditer(data))
        if direct:
            start = direct[-1].start()
            return data[start : start + ENCRYPT_WINDOW]
        return None

    def _raw_encryption(self, *, needs_user_password: bool | None) -> EncryptionFacts:
        window = self._encrypt_window() or b""
        text = window.decode("latin-1")
        filter_name = _raw_name(text, "Filter")
        if filter_name is None:
            filter_name = next((h for h in _DRM_HANDLERS if h in text), None)
        method = _raw_name(text, "CFM")
        return EncryptionFacts(
            filter=filter_name,
            sub_filter=_raw_name(text, "SubFilter"),
            version=_raw_int(text, "V"),
            revision=_raw_int(text, "R"),
            key_bits=_raw_int(text, "Length"),
            method=method,
            permissions=_raw_int(text, "P"),
            needs_user_password=needs_user_password,
        )

    def _check_encryption(self, pdf: pikepdf.Pdf) -> None:
        if not pdf.is_encrypted:
            return
        allow = pdf.allow
        restrictions: list[str] = []
        if not (allow.print_lowres and allow.print_highres):
            restrictions.append("print")
        if not allow.extract:
            restrictions.append("copy")
        if not (
            allow.modify_other and allow.modify_annotation and allow.modify_form and allow.modify_assembly
        ):
            restrictions.append("modify")
        info = pdf.encryption
        raw = self._raw_encryption(needs_user_password=False)
        self.facts["encryption"] = EncryptionFacts(
            filter=raw.filter or "Standard",
            sub_filter=raw.sub_filter,
            version=int(info.V),
            revision=int(info.R),
            key_bits=int(info.bits),
            method=str(info.stream_method.name),
            permissions=int(info.P),
            needs_user_password=False,
            restrictions=restrictions,
        )
        self.report.add(Code.PDF_ENCRYPTED_OWNER_PASSWORD, restrictions=", ".join(restrictions) or "none")
        for name, code in (
            ("print", Code.PDF_RESTRICTED_PRINT),
            ("copy", Code.PDF_RESTRICTED_COPY),
            ("modify", Code.PDF_RESTRICTED_MODIFY),
        ):
            if name in restrictions:
                self.report.add(code)

    def _check_embedded_files(self, pdf: pikepdf.Pdf) -> None:
        names: list[str] = []
        try:
            attachments = dict(pdf.attachments.items())
        except (pikepdf.PdfError, ValueError, TypeError, KeyError, AttributeError) as exc:
            self._message(f"embedded files not readable: {exc}")
            return
        for name, spec in attachments.items():
            names.append(str(name))
            if self._is_protected_payload(str(name), spec.obj):
                self.report.add(Code.PDF_DRM_EMBEDDED_PROTECTED, name=str(name))
        self.facts["embedded_files"] = names[:MAX_MESSAGES]

    def _is_protected_payload(self, name: str, spec: pikepdf.Object) -> bool:
        if _PROTECTED_NAME.search(name):
            return True
        if not isinstance(spec, pikepdf.Dictionary):
            return False
        if spec.get("/AFRelationship") == pikepdf.Name("/EncryptedPayload"):
            return True
        files = spec.get("/EF")
        if not isinstance(files, pikepdf.Dictionary):
            return False
        for _, stream in files.items():
            if not isinstance(stream, pikepdf.Stream):
                continue
            if "/EP" in stream:
                return True
            length = _int_or(stream.get("/Length"), 0)
            if length > self.policy.max_embedded_file_bytes:
                continue
            try:
                payload = stream.read_bytes()
            except pikepdf.PdfError:
                continue
            if payload[:HEADER_WINDOW].find(b"%PDF-") >= 0 and b"/Encrypt" in payload:
                return True
        return False

    # -- structure ----------------------------------------------------------------------------------------------------

    def _check_open_warnings(self, pdf: pikepdf.Pdf) -> None:
        warnings = [self._clean(w) for w in pdf.get_warnings()]
        if not warnings:
            return
        self.messages.extend(warnings)
        self.facts["repaired"] = True
        if self.report.has(Code.PDF_NO_EOF) and any("startxref" in w or "EOF" in w for w in warnings):
            self.report.add(Code.PDF_TRUNCATED)
        self.report.add(Code.PDF_DAMAGED_XREF_REPAIRED, detail=_short(warnings[0]))

    def _check_page_tree(self, pdf: pikepdf.Pdf) -> bool:
        root = pdf.Root.get("/Pages")
        if not isinstance(root, pikepdf.Dictionary):
            self.report.add(Code.PDF_NO_PAGES)
            return False
        declared = _int_or(root.get("/Count"), -1)
        self.facts["declared_page_count"] = declared
        walk = _PageTreeWalk(limit=self.policy.max_pages)
        walk.visit(root, depth=0)
        if walk.over_limit:
            self.facts["page_count"] = walk.leaves
            self.report.add(
                Code.PDF_TOO_MANY_PAGES, pages=f"> {self.policy.max_pages}", max_pages=self.policy.max_pages
            )
            return False
        if walk.problem:
            self.report.add(Code.PDF_DAMAGED_PAGE_TREE, detail=walk.problem)
        try:
            actual = len(pdf.pages)
        except (pikepdf.PdfError, RuntimeError) as exc:
            self.report.add(Code.PDF_DAMAGED_PAGE_TREE, detail=_short(self._clean(str(exc))))
            return False
        self.facts["page_count"] = actual
        self._drain(pdf)
        if actual == 0:
            self.report.add(Code.PDF_NO_PAGES)
            return False
        if actual > self.policy.max_pages:
            self.report.add(Code.PDF_TOO_MANY_PAGES, pages=actual, max_pages=self.policy.max_pages)
            return False
        if declared != actual or walk.count_mismatch:
            self.report.add(Code.PDF_DAMAGED_PAGE_COUNT, declared=declared, actual=actual)
        return True

    def _check_missing_objects(self, pdf: pikepdf.Pdf) -> None:
        try:
            table = pdf.get_xref_table()
        except (pikepdf.PdfError, RuntimeError) as exc:
            self._message(f"xref table not readable: {exc}")
            return
        present = {key for key, entry in table.items() if entry.type != 0}
        base = int(self.facts.get("header_offset") or 0)
        chunks: list[bytes] = []
        object_streams: set[int] = set()
        for entry in table.values():
            if entry.type == 1 and entry.offset is not None:
                start = entry.offset + base
                window = self.data[start : start + 65536]
                end = _OBJ_END.search(window)
                chunks.append(window[: end.start()] if end else window)
            elif entry.type == 2 and entry.obj_stream_number is not None:
                object_streams.add(entry.obj_stream_number)
        trailer_at = self.data.rfind(b"trailer")
        if trailer_at >= 0:
            chunks.append(self.data[trailer_at : trailer_at + 4096].split(b"startxref")[0])
        budget = 4 * self.policy.max_bytes
        for number in sorted(object_streams):
            try:
                stream = pdf.get_object((number, 0))
                if not isinstance(stream, pikepdf.Stream):
                    continue
                decoded = stream.read_bytes()
            except (pikepdf.PdfError, RuntimeError):
                continue
            budget -= len(decoded)
            if budget < 0:
                self._message("object streams too large to scan for missing objects")
                break
            chunks.append(decoded[_int_or(stream.get("/First"), 0) :])
        missing: set[tuple[int, int]] = set()
        for chunk in chunks:
            stripped = _HEX_STRING.sub(b" ", _LITERAL_STRING.sub(b" ", chunk))
            for match in _REFERENCE.finditer(stripped):
                key = (int(match.group(1)), int(match.group(2)))
                if key[0] > 0 and key not in present:
                    missing.add(key)
        self._drain(pdf)
        if missing:
            first = min(missing)
            self.report.add(
                Code.PDF_DAMAGED_MISSING_OBJECT, count=len(missing), example=f"{first[0]} {first[1]} R"
            )

    def _check_syntax(self, pdf: pikepdf.Pdf) -> None:
        limit_errors = qpdf_settings.qpdf_limit_errors()
        try:
            problems = [self._clean(p) for p in pdf.check_pdf_syntax()]
        except pikepdf.DependencyError as exc:
            self.report.add(Code.CHECK_UNAVAILABLE, detail=_short(str(exc)))
            return
        except (pikepdf.PdfError, RuntimeError, ValueError) as exc:
            problems = [f"ERROR: {self._clean(str(exc))}"]
        self.messages.extend(problems)
        limits_hit = qpdf_settings.qpdf_limit_errors() > limit_errors
        for problem in problems:
            lowered = problem.lower()
            if _FOLLOW_UP in lowered:
                continue
            if _is_out_of_memory(lowered):
                self.report.add(Code.CHECK_MEMORY, limit_mb=_memory_limit_mb())
            elif "limit exceeded" in lowered or "too many" in lowered or (limits_hit and "limit" in lowered):
                self.report.add(Code.PDF_TOO_COMPLEX, detail=_short(problem))
            elif "does not contain any pages" in lowered:
                self.report.add(Code.PDF_NO_PAGES)
            elif "jbig2" in lowered and "dependency" in lowered:
                self.report.add(Code.CHECK_UNAVAILABLE, detail=_short(problem))
            elif (
                problem.startswith("ERROR")
                or "decoding stream" in lowered
                or "unable to recover stream" in lowered
                or "data error" in lowered
            ):
                self.report.add(Code.PDF_DAMAGED_STREAM, detail=_short(problem))
            else:
                self.report.add(Code.PDF_DAMAGED_SYNTAX, detail=_short(problem))

    def _check_resolution(self, pdf: pikepdf.Pdf) -> None:
        walker = ResolutionWalker(self.policy.max_content_instructions, self.policy.max_form_depth)
        placements: list[ImagePlacement] = []
        count = 0
        lowest: ImagePlacement | None = None
        lowest_considered: ImagePlacement | None = None
        ignore = self.policy.dpi_ignore_below_pt
        try:
            for number, page in enumerate(pdf.pages, start=1):
                for placed in walker.page_placements(page, number):
                    count += 1
                    if len(placements) < self.policy.max_images_reported:
                        placements.append(placed)
                    if lowest is None or placed.dpi < lowest.dpi:
                        lowest = placed
                    big_enough = max(placed.placed_width_pt, placed.placed_height_pt) >= ignore
                    if big_enough and (lowest_considered is None or placed.dpi < lowest_considered.dpi):
                        lowest_considered = placed
        except ResolutionBudgetExceeded:
            self.report.add(Code.PDF_RESOLUTION_INCOMPLETE, detail="too many drawing instructions")
        except (pikepdf.PdfError, RuntimeError, ValueError) as exc:
            self.report.add(Code.PDF_RESOLUTION_INCOMPLETE, detail=_short(self._clean(str(exc))))
        self._drain(pdf)
        self.messages.extend(walker.notes[:MAX_MESSAGES])
        self.facts["images"] = placements
        self.facts["image_count"] = count
        self.facts["images_truncated"] = count > len(placements)
        self.facts["min_dpi"] = round(lowest.dpi, 1) if lowest else None
        minimum = self.policy.min_recommended_dpi
        if lowest_considered is not None and lowest_considered.dpi < minimum:
            self.report.add(
                Code.PDF_LOW_RESOLUTION,
                page=lowest_considered.page,
                dpi=int(lowest_considered.dpi),
                min_dpi=int(minimum),
            )

    # -- helpers ------------------------------------------------------------------------------------------------------

    def _drain(self, pdf: pikepdf.Pdf) -> None:
        """Classify warnings qpdf issued while objects were resolved lazily."""
        for warning in pdf.get_warnings():
            text = self._clean(warning)
            self.messages.append(text)
            if _FOLLOW_UP in text.lower():
                continue
            if _is_out_of_memory(text.lower()):
                self.report.add(Code.CHECK_MEMORY, limit_mb=_memory_limit_mb())
            elif "limit exceeded" in text:
                self.report.add(Code.PDF_TOO_COMPLEX, detail=_short(text))
            else:
                self.report.add(Code.PDF_DAMAGED_SYNTAX, detail=_short(text))

    def _message(self, text: str) -> None:
        self.messages.append(self._clean(text))

    def _clean(self, text: str) -> str:
        """Strip the server-side path from qpdf's messages."""
        return text.replace(str(self.path), "file").replace(self.path.name, "file")


@dataclass
class _PageTreeWalk:
    """Counts leaves under each /Pages node, compares with /Count, detects loops; bounded by ``limit`` leaves."""

    limit: int
    leaves: int = 0
    over_limit: bool = False
    count_mismatch: bool = False
    problem: str | None = None
    seen: set[tuple[int, int]] = field(default_factory=set)
    max_depth: int = 64

    def visit(self, node: pikepdf.Object, depth: int) -> int:
        if self.over_limit or self.problem:
            return 0
        if depth > self.max_depth:
            self.problem = "page tree nested too deeply"
            return 0
        if node.is_indirect:
            if node.objgen in self.seen:
                self.problem = f"page tree loop at object {node.objgen[0]}"
                return 0
            self.seen.add(node.objgen)
        kids = node.get("/Kids") if isinstance(node, pikepdf.Dictionary) else None
        if not isinstance(kids, pikepdf.Array):
            if node.get("/Type") == pikepdf.Name.Pages:
                self.problem = "page tree node without /Kids"
                return 0
            self.leaves += 1
            if self.leaves > self.limit:
                self.over_limit = True
            return 1
        below = 0
        for kid in kids:
            if isinstance(kid, pikepdf.Dictionary):
                below += self.visit(kid, depth + 1)
        declared = _int_or(node.get("/Count"), -1)
        if declared != below and not self.over_limit and not self.problem:
            self.count_mismatch = True
        return below


def _is_out_of_memory(lowered: str) -> bool:
    return "bad_alloc" in lowered or "out of memory" in lowered or "cannot allocate memory" in lowered


def _memory_limit_mb() -> int | str:
    """The address-space limit of this process in MB (set by the sandbox), for the check.memory message."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return "-" if soft == resource.RLIM_INFINITY else soft // MB


def _detect_type(data: bytes) -> str:
    if not data:
        return "empty file"
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return name
    sample = data[:512]
    if sample and all(32 <= b < 127 or b in b"\r\n\t" for b in sample):
        return "text file"
    return "unknown format"


def _raw_name(text: str, key: str) -> str | None:
    match = re.search(_NAME_VALUE.format(key=key), text)
    return match.group(1) if match else None


def _raw_int(text: str, key: str) -> int | None:
    match = re.search(_INT_VALUE.format(key=key), text)
    return int(match.group(1)) if match else None


def _int_or(value: object, default: int) -> int:
    if isinstance(value, int | float | pikepdf.Object):
        try:
            return int(value)
        except (TypeError, ValueError, OverflowError):
            return default
    return default


def _name_text(value: object) -> str | None:
    return str(value).lstrip("/") if value is not None else None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
