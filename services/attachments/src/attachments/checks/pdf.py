"""PDF checks: security settings, ISO 32000-1 structure (with the gaps qpdf leaves), page count and resolution.

Run inside the sandbox (``attachments.checks.sandbox``) for untrusted files: qpdf's C++ code cannot be interrupted
from Python, and the qpdf limits set here are process-wide. Which finding each observation becomes, and why, is the
decision table in docs/pdf-checks.md.

The structure check does what ``check_pdf_syntax()`` does, in one pass and without decoding image data: every
stream is decoded except images in a codec of their own (JPEG, JPEG 2000, JBIG2, CCITT), whose bytes are the
image's business and not the PDF's (a JPEG's frame size and end marker are still compared with the image
dictionary, without decoding); the same pass reads every object's tokens for references to objects that do not
exist, encryption entries and active content; every page's content stream is parsed once, which is both its syntax
check and the walk that measures each image's resolution.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import mmap
import os
import re
import resource
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pikepdf
from pikepdf import settings as qpdf_settings

from attachments.checks._report import Report
from attachments.checks._tokens import TokenScan
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

Data = bytes | mmap.mmap  # the file's bytes, mapped read-only
HEADER_WINDOW = 1024  # readers accept the header within the first 1024 bytes (ISO 32000-1 wants it at byte 0)
ENCRYPT_WINDOW = 4096  # bounded raw-byte search for the /Encrypt dictionary
OBJECT_WINDOW = 65536
FLATE_CHUNK = 1 << 16  # compressed bytes fed to zlib at a time
FLATE_STEP = (
    1 << 24
)  # most bytes zlib may produce per step (decoded image data is never kept)  # bytes of one object's dictionary read for the token scan
TRAILER_WINDOW = 4096
MAX_TRAILERS = 32
MAX_MESSAGES = 20
_FOLLOW_UP = "will be re-processed without filtering"  # qpdf's second warning about the same stream
# qpdf's own words for writer quirks it and "most other applications" read the same way (docs/pdf-checks.md).
_BENIGN = ("a common error handled correctly by qpdf and most other applications",)
_FLATE_COMPLETE = "input stream is complete but output may still be valid"
_RESOURCES_REPAIRED = "Resources is missing or invalid; repairing"
_MEDIABOX_MISSING = "MediaBox is undefined"
_CATALOG_TYPE = "setting missing or invalid /Type entry to /Catalog"
_XREF_WORDS = ("xref", "startxref", "reconstruct", "file is damaged", "trailer")
# Image codecs whose data is left encoded by the structure check (ISO 32000-1 §7.4.8-7.4.10, JPX §7.4.9).
_IMAGE_CODECS = {"/DCTDecode", "/DCT", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode", "/CCF"}
_DCT = {"/DCTDecode", "/DCT"}
_COMPONENTS = {
    "/DeviceGray": 1,
    "/CalGray": 1,
    "/DeviceRGB": 3,
    "/CalRGB": 3,
    "/DeviceCMYK": 4,
    "/Indexed": 1,
}
_OBJECT_LOCATION = re.compile(r"object (\d+) (\d+)")
_RESOURCE_OPERATORS = "Tf Do gs sh BDC DP"

_HEADER = re.compile(rb"%PDF-(\d+\.\d+)?")
_VERSION = re.compile(r"(\d+)\.(\d+)")
_ENCRYPT_REF = re.compile(rb"/Encrypt\s*(\d{1,10})\s+(\d{1,5})\s+R")
_ENCRYPT_DIRECT = re.compile(rb"/Encrypt\s*<<")
_TRAILER = re.compile(rb"trailer\s*<<")
_OBJSTM = re.compile(
    rb"<<(?=[^>]{0,512}/Type\s*/ObjStm)(?=[^>]{0,512}/FlateDecode)[^>]{0,512}?/Length\s+(\d{1,10})[^>]{0,512}>>\s*stream\r?\n"
)
_STARTXREF = re.compile(rb"startxref\s+(\d{1,12})")
_OBJ_HEADER = re.compile(rb"\d{1,10}\s+\d{1,5}\s+obj\b")
_NAME_VALUE = r"/{key}\s*/([^\s/<>\[\]()%{{}}]+)"
_INT_VALUE = r"/{key}\s+(-?\d{{1,12}})"
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


def iso_32000_part(version: str) -> int | None:
    """The part of ISO 32000 a PDF version belongs to: 1 for 1.0-1.7, 2 for 2.0, None for any other version."""
    match = _VERSION.fullmatch(version)
    if match is None:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    if major == 1 and minor <= 7:
        return 1
    if major == 2 and minor == 0:
        return 2
    return None


def exact_bytes(value: int) -> str:
    """A byte count with thousands separators, as the limit messages show it (10,485,760)."""
    return f"{value:,}"


def check_pdf(path: Path | str, policy: CheckPolicy | None = None) -> Verdict:
    """Check one PDF file in this process and return its verdict (use the sandbox for untrusted files)."""
    path = Path(path)
    with path.open("rb") as handle:
        return check_pdf_file(handle, path, policy)


def check_pdf_file(handle: BinaryIO, path: Path, policy: CheckPolicy | None = None) -> Verdict:
    """Check the PDF open as ``handle`` (named ``path`` in messages, never reopened): it is mapped once, read by
    our scans and by qpdf through the same mapping."""
    pdf_policy = (policy or CheckPolicy()).pdf
    report = Report("pdf", pdf_policy.damaged)
    size = os.fstat(handle.fileno()).st_size
    facts: dict[str, Any] = {"size_bytes": size, "sha256": ""}
    if size > pdf_policy.max_bytes:
        report.add(
            Code.PDF_TOO_LARGE,
            size_mb=round(size / MB, 1),
            max_mb=round(pdf_policy.max_bytes / MB, 1),
            size_bytes=exact_bytes(size),
            max_bytes=exact_bytes(pdf_policy.max_bytes),
        )
        return report.verdict(PdfFacts(**facts))
    data: Data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    try:
        facts["sha256"] = hashlib.sha256(data).hexdigest()
        state = _PdfCheck(path, data, pdf_policy, report, facts, handle=handle)
        state.run()
    finally:
        if isinstance(data, mmap.mmap):
            with contextlib.suppress(BufferError):
                data.close()
    return report.verdict(PdfFacts(**facts))


def configure_qpdf_limits(policy: PdfPolicy) -> None:
    """Set qpdf's process-wide decoding limits from ``policy`` (guards against decompression bombs).

    The structure check never decodes JPEG data, so the DCT limits only matter to code that does; they are set to
    the same per-stream budget, which holds an A3 page scanned at 600 dpi in colour (about 209 MB decoded).
    """
    limit = policy.max_decoded_stream_bytes
    qpdf_settings.set_qpdf_limits(
        flate_max_memory=limit,
        dct_max_memory=min(limit * 20, 2**32 - 1),
        png_max_memory=limit,
        tiff_max_memory=limit,
        run_length_max_memory=limit,
        dct_max_progressive_scans=policy.max_progressive_scans,
        doc_max_warnings=10_000,
    )


@dataclass
class _PdfCheck:
    path: Path
    data: Data
    policy: PdfPolicy
    report: Report
    facts: dict[str, Any]
    messages: list[str] = field(default_factory=list)
    scan: TokenScan = field(default_factory=TokenScan)
    page_numbers: dict[tuple[int, int], int] = field(default_factory=dict)
    tree_nodes: set[int] = field(default_factory=set)
    resources_repaired: set[tuple[int, int]] = field(default_factory=set)
    mediabox_missing: set[tuple[int, int]] = field(default_factory=set)
    limit_errors: int = 0
    end: int = 0  # length of the PDF proper (up to %%EOF and its end-of-line)
    trailer_encrypt: bool = False
    present: set[tuple[int, int]] | None = None
    handle: BinaryIO | None = None
    compressed: dict[int, int | None] = field(default_factory=dict)  # object number -> its object stream

    def run(self) -> None:
        if not self._check_header():
            return
        self.end = self._check_eof()
        configure_qpdf_limits(self.policy)
        self.limit_errors = qpdf_settings.qpdf_limit_errors()
        source: Path | BinaryIO = self.handle or self.path
        if self.end < len(self.data):
            source = io.BytesIO(self.data[: self.end])  # padding after %%EOF: read the PDF without it
        try:
            pdf = pikepdf.open(
                source, attempt_recovery=True, suppress_warnings=True, access_mode=pikepdf.AccessMode.mmap
            )
        except pikepdf.PasswordError:
            self.facts["encryption"] = self._raw_encryption(needs_user_password=True)
            self.report.add(Code.PDF_ENCRYPTED_USER_PASSWORD)
            return
        except (pikepdf.PdfError, RuntimeError, ValueError, OSError) as exc:
            self._open_failed(exc)
            return
        with pdf:
            self._classify_warnings(pdf.get_warnings(), at_open=True)
            self._check_encryption(pdf)
            self._check_embedded_files(pdf)
            self._check_catalog_version(pdf)
            self.facts["linearized"] = linearized = bool(pdf.is_linearized)
            pages_ok = self._check_page_tree(pdf)
            self._scan_objects(pdf)  # first, so that damaged objects are classified as damage
            self._check_interactive(pdf, linearized)
            self._check_trailer_encryption(pdf)
            self._report_references()
            if pages_ok:
                self._check_pages(pdf)
            self._report_active_content()
        self.facts["qpdf_messages"] = self.messages[:MAX_MESSAGES]

    # -- bytes ------------------------------------------------------------------------------------------------------

    def _check_header(self) -> bool:
        head = self.data[:HEADER_WINDOW]
        match = _HEADER.search(head)
        if match is None:
            self.report.add(Code.PDF_NOT_PDF, detected=_detect_type(head))
            return False
        offset = match.start()
        self.facts["header_offset"] = offset
        if offset:
            self.report.add(Code.PDF_DAMAGED_HEADER_OFFSET, offset=offset)
        version = (match.group(1) or b"").decode("ascii")
        self.facts["header_version"] = version or None
        following = head[match.end() : match.end() + 1]
        if not version or (following and following not in b"\r\n \t%"):
            shown = head[match.start() : match.start() + 12].split(b"\n")[0].split(b"\r")[0]
            self.report.add(Code.PDF_DAMAGED_HEADER_VERSION, version=shown.decode("latin-1"))
        elif iso_32000_part(version) != 1:
            self.report.add(Code.PDF_VERSION_NOT_ISO32000_1, version=version)
        return True

    def _check_eof(self) -> int:
        """Find the last %%EOF; return the length of the PDF proper (blank padding after it is cut off)."""
        data = self.data
        at = data.rfind(b"%%EOF")
        if at < 0:
            self.report.add(Code.PDF_NO_EOF)
            return len(data)
        end = at + 5
        for eol in (b"\r\n", b"\n", b"\r"):
            if data[end : end + len(eol)] == eol:
                end += len(eol)
                break
        rest = data[end:]
        if not rest:
            return len(data)
        if not rest.strip(b"\x00\t\n\f\r "):
            self.report.add(Code.PDF_PADDING_AFTER_EOF, bytes=len(rest))
            return end
        if re.search(rb"\d+\s+\d+\s+obj\b|\bxref\b|\bstartxref\b", rest[:OBJECT_WINDOW]):
            self.report.add(Code.PDF_NO_EOF)  # an update appended after %%EOF and cut off before its own
            self.report.add(Code.PDF_TRUNCATED)
            return len(data)
        self.report.add(Code.PDF_DATA_AFTER_EOF, bytes=len(rest))
        return end

    # -- opening and security -----------------------------------------------------------------------------------------

    def _limits_hit(self) -> bool:
        return qpdf_settings.qpdf_limit_errors() > self.limit_errors

    def _open_failed(self, exc: Exception) -> None:
        text = self._clean(str(exc))
        lowered = text.lower()
        if "encrypt" in lowered or self._encrypt_window() is not None:
            encryption = self._raw_encryption(needs_user_password=None)
            self.facts["encryption"] = encryption
            if encryption.filter not in (None, "Standard"):
                self.report.add(Code.PDF_DRM_NETWORK_AUTH, handler=encryption.filter)
                return
            detail = (
                f"{encryption.filter or 'unknown'} handler, V {encryption.version}, R {encryption.revision}"
            )
            self.report.add(Code.PDF_ENCRYPTED_UNREADABLE, detail=detail)
            return
        if self._limits_hit() or "limit" in lowered:
            self.report.add(Code.PDF_TOO_COMPLEX, detail=_short(text))
            return
        over = _object_stream_over_limit(self.data, self.policy.max_decoded_stream_bytes)
        if over is not None:
            self.report.add(Code.PDF_TOO_COMPLEX, detail=over)
            return
        if "no pages found" in lowered or "unable to find any pages" in lowered:
            self.report.add(Code.PDF_NO_PAGES)
            return
        if "/Pages" in text or "page tree" in lowered:
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

    def _check_trailer_encryption(self, pdf: pikepdf.Pdf) -> None:
        """An /Encrypt entry of any kind is a security setting, even one qpdf reads as null (ISO 32000-1 §7.6.1)."""
        if pdf.is_encrypted or not self.trailer_encrypt:
            return
        raw = self._raw_encryption(needs_user_password=None)
        self.facts["encryption"] = raw
        target = _ENCRYPT_REF.findall(self.data[-OBJECT_WINDOW:]) or _ENCRYPT_REF.findall(self.data)
        detail = (
            f"/Encrypt {target[-1][0].decode()} {target[-1][1].decode()} R does not exist"
            if target
            else "/Encrypt entry that cannot be read"
        )
        self.report.add(Code.PDF_ENCRYPTED_UNREADABLE, detail=detail)

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

    def _check_file_attachment(self, annotation: pikepdf.Object) -> None:
        """A file-attachment annotation (ISO 32000-1 §12.5.6.15) is an embedded file like the name tree's."""
        spec = annotation.get("/FS")
        if not isinstance(spec, pikepdf.Dictionary):
            return
        name = spec.get("/UF") or spec.get("/F") or "attachment"
        text = str(name)
        embedded = self.facts.setdefault("embedded_files", [])
        if len(embedded) < MAX_MESSAGES:
            embedded.append(text)
        if self._is_protected_payload(text, spec):
            self.report.add(Code.PDF_DRM_EMBEDDED_PROTECTED, name=text)

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

    def _classify_warnings(self, warnings: list[str], *, at_open: bool = False) -> None:
        """Give each qpdf warning its true reason (docs/pdf-checks.md); only real damage becomes a refusal."""
        damage: list[str] = []
        for raw in warnings:
            text = self._clean(raw)
            self.messages.append(text)
            lowered = text.lower()
            if _FOLLOW_UP in lowered:
                continue
            location = _OBJECT_LOCATION.search(text)
            objgen = (int(location.group(1)), int(location.group(2))) if location else (0, 0)
            if any(benign in text for benign in _BENIGN):
                continue
            if _FLATE_COMPLETE in text:
                self.report.add(
                    Code.PDF_REPAIRED_MINOR, detail="a compressed stream ends without its checksum"
                )
            elif _RESOURCES_REPAIRED in text:
                self.resources_repaired.add(objgen)
            elif _MEDIABOX_MISSING in text:
                self.mediabox_missing.add(objgen)
            elif _CATALOG_TYPE in text:
                self.report.add(Code.PDF_REPAIRED_MINOR, detail="the document catalog lacks /Type /Catalog")
            elif _is_out_of_memory(lowered):
                self.report.add(Code.CHECK_MEMORY, limit_mb=_memory_limit_mb())
            elif "limit exceeded" in lowered or (self._limits_hit() and "limit" in lowered):
                self.report.add(Code.PDF_TOO_COMPLEX, detail=_short(text))
            else:
                damage.append(text)
        if not damage:
            return
        self.facts["repaired"] = True
        if at_open and any(word in _strip_location(w).lower() for w in damage for word in _XREF_WORDS):
            if self.report.has(Code.PDF_NO_EOF) and any("startxref" in w or "EOF" in w for w in damage):
                self.report.add(Code.PDF_TRUNCATED)
            self.report.add(Code.PDF_DAMAGED_XREF_REPAIRED, detail=_short(damage[0]))
        elif any("decod" in w.lower() or "stream" in w.lower() for w in damage):
            self.report.add(Code.PDF_DAMAGED_STREAM, detail=_short(damage[0]))
        else:
            self.report.add(Code.PDF_DAMAGED_SYNTAX, detail=_short(damage[0]))

    def _check_catalog_version(self, pdf: pikepdf.Pdf) -> None:
        """The catalog's /Version overrides an older header version (ISO 32000-1 §7.2.2): the same rule applies."""
        version = _name_text(pdf.Root.get("/Version"))
        self.facts["catalog_version"] = version
        if version and _VERSION.fullmatch(version) and iso_32000_part(version) != 1:
            header = self.facts.get("header_version")
            if header is None or _version_key(version) > _version_key(header):
                self.report.add(Code.PDF_VERSION_NOT_ISO32000_1, version=version)

    def _check_page_tree(self, pdf: pikepdf.Pdf) -> bool:
        root = pdf.Root.get("/Pages")
        if not isinstance(root, pikepdf.Dictionary):
            self._no_pages()
            return False
        declared = _int_or(root.get("/Count"), -1)
        self.facts["declared_page_count"] = declared
        walk = _PageTreeWalk(limit=self.policy.max_pages)
        walk.visit(root, depth=0)
        self.tree_nodes = {objgen[0] for objgen in walk.seen}
        if walk.over_limit:
            self.facts["page_count"] = walk.leaves
            self.report.add(
                Code.PDF_TOO_MANY_PAGES, pages=f"> {self.policy.max_pages}", max_pages=self.policy.max_pages
            )
            return False
        if walk.problem:
            self.report.add(Code.PDF_DAMAGED_PAGE_TREE, detail=walk.problem)
        try:
            pages = pdf.pages
            actual = len(pages)
            self.page_numbers = {page.obj.objgen: number for number, page in enumerate(pages, start=1)}
        except (pikepdf.PdfError, RuntimeError) as exc:
            self.report.add(Code.PDF_DAMAGED_PAGE_TREE, detail=_short(self._clean(str(exc))))
            return False
        self.facts["page_count"] = actual
        self._classify_warnings(pdf.get_warnings())
        if actual == 0:
            self._no_pages()
            return False
        if actual > self.policy.max_pages:
            self.report.add(Code.PDF_TOO_MANY_PAGES, pages=actual, max_pages=self.policy.max_pages)
            return False
        if declared != actual or walk.count_mismatch:
            self.report.add(Code.PDF_DAMAGED_PAGE_COUNT, declared=declared, actual=actual)
        for objgen in sorted(self.mediabox_missing):
            self.report.add(Code.PDF_DAMAGED_PAGE_SIZE, page=self.page_numbers.get(objgen, "?"))
        return True

    def _no_pages(self) -> None:
        """No pages, unless a decoding limit hid them (an object-stream bomb holding the page tree)."""
        if self._limits_hit():
            self.report.add(Code.PDF_TOO_COMPLEX, detail="a compressed object stream holding the pages")
        else:
            self.report.add(Code.PDF_NO_PAGES)

    def _check_interactive(self, pdf: pikepdf.Pdf, linearized: bool) -> None:
        """Forms, outlines, page labels and linearization hints: irregularities readers ignore are remarks."""
        remarks: list[str] = []
        try:
            if linearized:
                pdf.check_linearization(io.StringIO())
                remarks.extend(self._clean(w) for w in pdf.get_warnings())
            pdf._check_document_structures()
        except (pikepdf.PdfError, RuntimeError, ValueError) as exc:
            remarks.append(self._clean(str(exc)))
        remarks.extend(self._clean(w) for w in pdf.get_warnings())
        if remarks:
            self.messages.extend(remarks)
            self.report.add(Code.PDF_INTERACTIVE_IRREGULAR, detail=_short(_strip_location(remarks[0])))

    def _scan_objects(self, pdf: pikepdf.Pdf) -> None:
        """One pass over the objects: decode each stream (not image codecs) and read every object's tokens."""
        try:
            table = pdf.get_xref_table()
        except (pikepdf.PdfError, RuntimeError) as exc:
            self._message(f"xref table not readable: {exc}")
            return
        self.present = {key for key, entry in table.items() if entry.type != 0}
        self.compressed = {key[0]: entry.obj_stream_number for key, entry in table.items() if entry.type == 2}
        base = int(self.facts.get("header_offset") or 0)
        data, end = self.data, self.end
        scan = self.scan
        self._scan_trailers()
        budget = 4 * self.policy.max_bytes
        for objgen, entry in table.items():
            if entry.type == 1 and entry.offset is not None:
                start = entry.offset + base
                scan.scan(data, start, min(end, start + OBJECT_WINDOW), objgen[0], stop_at_end=True)
            elif entry.type != 2:
                continue
            try:
                obj = pdf.get_object(objgen)
            except (pikepdf.PdfError, RuntimeError, ValueError) as exc:
                self._message(f"object {objgen[0]} {objgen[1]}: {exc}")
                continue
            if not isinstance(obj, pikepdf.Stream):
                continue
            budget = self._check_stream(obj, objgen, budget)
        self._classify_warnings(pdf.get_warnings())

    def _scan_trailers(self) -> None:
        """Trailer dictionaries: classic ones, and the xref streams that startxref points to (holder 0)."""
        data, end = self.data, self.end
        base = int(self.facts.get("header_offset") or 0)
        before = self.scan.encrypt_keys
        for match in list(_TRAILER.finditer(data, 0, end))[-MAX_TRAILERS:]:
            start = match.start()
            stop = data.find(b"startxref", start, min(end, start + TRAILER_WINDOW))
            self.scan.scan(
                data, start, stop if stop > 0 else min(end, start + TRAILER_WINDOW), 0, stop_at_end=True
            )
        for match in list(_STARTXREF.finditer(data, 0, end))[-MAX_TRAILERS:]:
            start = int(match.group(1)) + base
            if _OBJ_HEADER.match(data, start, min(end, start + 32)):
                self.scan.scan(data, start, min(end, start + TRAILER_WINDOW), 0, stop_at_end=True)
        if self.scan.encrypt_keys > before:
            self.trailer_encrypt = True

    def _check_stream(self, stream: pikepdf.Stream, objgen: tuple[int, int], budget: int) -> int:
        filters = _filters(stream)
        stream_type = stream.get("/Type")
        if filters and filters[-1] in _IMAGE_CODECS:
            needs = image_bytes(stream)
            limit = self.policy.max_decoded_stream_bytes
            if limit and needs > limit:
                detail = f"image object {objgen[0]} needs {needs // MB} MB decoded, over {limit // MB} MB"
                self.report.add(Code.PDF_TOO_COMPLEX, detail=detail)
            elif filters == [filters[-1]] and filters[-1] in _DCT:
                problem = _jpeg_problem(stream)
                if problem:
                    self.report.add(Code.PDF_DAMAGED_STREAM, detail=f"image object {objgen[0]}: {problem}")
            return budget
        if filters == ["/FlateDecode"] and stream.get("/Subtype") == pikepdf.Name.Image:
            flate = _flate_image_problem(stream, self.policy.max_decoded_stream_bytes)
            if flate is not None:
                self.report.add(flate[0], detail=f"image object {objgen[0]}: {flate[1]}")
            return budget
        try:
            decoded = stream.read_bytes()
        except pikepdf.PdfError as exc:
            self._stream_failed(objgen, str(exc))
            return budget
        if stream_type == pikepdf.Name.ObjStm and budget > 0:
            budget -= len(decoded)
            self._scan_object_stream(stream, decoded, objgen[0])
        return budget

    def _scan_object_stream(self, stream: pikepdf.Stream, decoded: bytes, number_of_stream: int) -> None:
        """Objects of one object stream; versions a later update replaced are not the document's and are skipped."""
        count = _int_or(stream.get("/N"), 0)
        first = _int_or(stream.get("/First"), 0)
        header = decoded[:first].split()
        pairs = [(_int(header[i]), _int(header[i + 1])) for i in range(0, min(len(header) - 1, 2 * count), 2)]
        for index, (number, offset) in enumerate(pairs):
            if self.compressed.get(number) != number_of_stream:
                continue
            start = first + offset
            stop = first + pairs[index + 1][1] if index + 1 < len(pairs) else len(decoded)
            if 0 <= start <= stop <= len(decoded):
                self.scan.scan(decoded, start, stop, number, stop_at_end=False)

    def _stream_failed(self, objgen: tuple[int, int], message: str) -> None:
        text = self._clean(message)
        lowered = text.lower()
        if _is_out_of_memory(lowered):
            self.report.add(Code.CHECK_MEMORY, limit_mb=_memory_limit_mb())
        elif self._limits_hit() or "limit" in lowered or "too many" in lowered:
            self.report.add(Code.PDF_TOO_COMPLEX, detail=_short(text))
        elif "unsupported" in lowered or "unfilterable" in lowered or "not filterable" in lowered:
            self._message(f"object {objgen[0]} {objgen[1]}: not decoded ({text})")
        else:
            self.report.add(Code.PDF_DAMAGED_STREAM, detail=_short(text))

    def _report_references(self) -> None:
        """References to objects that do not exist are null (ISO 32000-1 §7.3.10) unless the document needs them."""
        present = self.present
        if present is None:
            return
        needed: set[tuple[int, int]] = set()
        dangling: set[tuple[int, int]] = set()
        pages = {objgen[0] for objgen in self.page_numbers}
        for objgen, (holder, key) in self.scan.references.items():
            if objgen[0] <= 0 or objgen in present:
                continue
            if (
                (key == "Contents" and holder in pages)
                or (key == "Kids" and holder in self.tree_nodes)
                or (key in ("Root", "Pages") and holder == 0)
            ):
                needed.add(objgen)
            else:
                dangling.add(objgen)
        if needed:
            first = min(needed)
            self.report.add(
                Code.PDF_DAMAGED_MISSING_OBJECT, count=len(needed), example=f"{first[0]} {first[1]} R"
            )
        if dangling:
            first = min(dangling)
            self.report.add(
                Code.PDF_UNRESOLVED_REFERENCE, count=len(dangling), example=f"{first[0]} {first[1]} R"
            )

    def _check_pages(self, pdf: pikepdf.Pdf) -> None:
        """One parse of each page: its syntax, its images' resolution, its attachments and its resources."""
        walker = ResolutionWalker(self.policy.max_content_instructions, self.policy.max_form_depth)
        placements: list[ImagePlacement] = []
        count = 0
        lowest: ImagePlacement | None = None
        lowest_considered: ImagePlacement | None = None
        ignore = self.policy.dpi_ignore_below_pt
        budget_hit = False
        for number, page in enumerate(pdf.pages, start=1):
            obj = page.obj
            annotations = obj.get("/Annots")
            if isinstance(annotations, pikepdf.Array):
                for annotation in annotations:
                    if (
                        isinstance(annotation, pikepdf.Dictionary)
                        and annotation.get("/Subtype") == pikepdf.Name.FileAttachment
                    ):
                        self._check_file_attachment(annotation)
            if obj.objgen in self.resources_repaired:
                self._check_resources_repair(page, number)
            if budget_hit:
                continue
            try:
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
                budget_hit = True
                self.report.add(Code.PDF_RESOLUTION_INCOMPLETE, detail="too many drawing instructions")
            except (pikepdf.PdfError, RuntimeError, ValueError) as exc:
                self.report.add(Code.PDF_DAMAGED_STREAM, detail=_short(self._clean(str(exc))))
        self._classify_warnings(pdf.get_warnings())
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

    def _check_resources_repair(self, page: pikepdf.Page, number: int) -> None:
        """qpdf gave a page without /Resources an empty one: content lost if the page draws named resources."""
        try:
            uses = pikepdf.parse_content_stream(page, _RESOURCE_OPERATORS)
        except (pikepdf.PdfError, ValueError, TypeError):
            uses = []
        if uses:
            self.report.add(Code.PDF_DAMAGED_PAGE_RESOURCES, page=number)
        else:
            self.report.add(Code.PDF_REPAIRED_MINOR, detail=f"page {number} lacks /Resources and uses none")

    def _report_active_content(self) -> None:
        """JavaScript and launch actions: accepted, flagged for the officer, never run (docs/adr/0007)."""
        kinds = sorted(self.scan.active)
        self.facts["active_content"] = kinds
        if kinds:
            self.report.add(Code.PDF_ACTIVE_CONTENT, kinds=", ".join(kinds))

    # -- helpers ------------------------------------------------------------------------------------------------------

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


def _filters(stream: pikepdf.Stream) -> list[str]:
    value = stream.get("/Filter")
    if isinstance(value, pikepdf.Name):
        return [str(value)]
    if isinstance(value, pikepdf.Array):
        return [str(item) for item in value if isinstance(item, pikepdf.Name)]
    return []


def image_bytes(stream: pikepdf.Stream) -> int:
    """Bytes an image needs once decoded, from its dictionary alone (width × height × components × bits)."""
    width, height = _int_or(stream.get("/Width"), 0), _int_or(stream.get("/Height"), 0)
    bits = _int_or(stream.get("/BitsPerComponent"), 8) or 8
    space = stream.get("/ColorSpace")
    components = _COMPONENTS.get(str(space), 3) if isinstance(space, pikepdf.Name) else 3
    if bool(stream.get("/ImageMask", False)):
        components, bits = 1, 1
    return max(width, 0) * max(height, 0) * components * bits // 8


def _jpeg_problem(stream: pikepdf.Stream) -> str | None:
    """Compare a JPEG's frame header and end marker with its image dictionary, without decoding the image."""
    from attachments.checks.photo import parse_jpeg_layout

    try:
        raw = stream.read_raw_bytes()
    except pikepdf.PdfError as exc:
        return f"JPEG data not readable ({exc})"
    layout = parse_jpeg_layout(raw)
    width, height = _int_or(stream.get("/Width"), 0), _int_or(stream.get("/Height"), 0)
    if layout.width is None or layout.height is None:
        return "JPEG data has no image frame"
    if layout.end is None:
        return "JPEG data is cut off (no end-of-image marker)"
    if (width and layout.width != width) or (height and layout.height not in (0, height)):
        return f"JPEG frame is {layout.width}×{layout.height}, the image dictionary says {width}×{height}"
    # Every 8×8 block of the luminance takes at least half a bit of coded data, even in a blank page.
    blocks = ((layout.width + 7) // 8) * ((layout.height + 7) // 8)
    if len(raw) < blocks // 16:
        return f"JPEG data ({len(raw)} bytes) is too short for a {layout.width}×{layout.height} frame"
    return None


def _flate_image_problem(stream: pikepdf.Stream, limit: int) -> tuple[Code, str] | None:
    """Inflate a Flate image's data to nowhere, in bounded steps: corrupt, cut off, or larger than it says."""
    try:
        raw = stream.read_raw_bytes()
    except pikepdf.PdfError as exc:
        return Code.PDF_DAMAGED_STREAM, f"image data not readable ({exc})"
    expected = image_bytes(stream)
    parms = stream.get("/DecodeParms")
    if isinstance(parms, pikepdf.Dictionary) and _int_or(parms.get("/Predictor"), 1) >= 10:
        expected += _int_or(stream.get("/Height"), 0)  # one predictor byte per row
    bound = min(limit or expected + MB, expected + MB) if expected else (limit or 1 << 40)
    inflater = zlib.decompressobj()
    total = 0
    try:
        for start in range(0, len(raw), FLATE_CHUNK):
            pending = raw[start : start + FLATE_CHUNK]
            while pending and not inflater.eof:
                total += len(inflater.decompress(pending, FLATE_STEP))
                pending = inflater.unconsumed_tail
                if total > bound:
                    return Code.PDF_TOO_COMPLEX, f"image data inflates beyond {bound // MB} MB"
            if inflater.eof:
                break
    except zlib.error as exc:
        return Code.PDF_DAMAGED_STREAM, f"image data is corrupt ({exc})"
    if not inflater.eof and total < expected:
        return Code.PDF_DAMAGED_STREAM, f"image data is cut off ({total} of {expected} bytes)"
    return None


def _object_stream_over_limit(data: Data, limit: int) -> str | None:
    """When a file cannot be opened: is it because an object stream inflates past the limit (a bomb)?"""
    if not limit:
        return None
    for match in list(_OBJSTM.finditer(data))[:MAX_TRAILERS]:
        start = match.end()
        length = _int(match.group(1))
        raw = data[start : start + length] if length > 0 else data[start : start + OBJECT_WINDOW]
        inflater = zlib.decompressobj()
        total = 0
        try:
            for begin in range(0, len(raw), FLATE_CHUNK):
                pending = raw[begin : begin + FLATE_CHUNK]
                while pending and not inflater.eof:
                    total += len(inflater.decompress(pending, FLATE_STEP))
                    pending = inflater.unconsumed_tail
                    if total > limit:
                        return f"an object stream inflates beyond {limit // MB} MB"
        except zlib.error:
            continue
    return None


def _int(value: bytes) -> int:
    try:
        return int(value)
    except ValueError:
        return -1


def _version_key(version: str) -> tuple[int, int]:
    match = _VERSION.fullmatch(version)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _strip_location(text: str) -> str:
    """qpdf's message without its 'file, object N G at offset M:' prefix."""
    return text.rsplit(": ", 1)[-1] if ": " in text else text


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
