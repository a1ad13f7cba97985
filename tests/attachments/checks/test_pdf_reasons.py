"""Issue 15 §2-8, 11: refusals only for reasons the rules give, each with its true reason (docs/pdf-checks.md)."""

from __future__ import annotations

import io
import re
import zlib

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name

from attachments.checks import (
    CheckPolicy,
    Code,
    DamagedFileHandling,
    PdfFacts,
    PdfPolicy,
    Severity,
    check_pdf,
)
from tests.attachments.checks.attachment_check_factories import Files

pytestmark = pytest.mark.unit

LENIENT = CheckPolicy(pdf=PdfPolicy(damaged=DamagedFileHandling.LENIENT))


def _same_length(data: bytes, old: bytes, new: bytes) -> bytes:
    """Replace ``old`` by ``new`` padded with spaces, so every xref offset stays right."""
    assert len(new) <= len(old) and old in data, (old, new)
    return data.replace(old, new.ljust(len(old)), 1)


def _unused(data: bytes, like: int) -> int:
    """An object number with as many digits as ``like`` that no object in ``data`` has."""
    existing = {int(n) for n in re.findall(rb"(\d+) 0 obj", data)}
    digits = len(str(like))
    return next(n for n in range(10**digits - 1, 10 ** (digits - 1) - 1, -1) if n not in existing)


# -- §2 references to objects that do not exist ------------------------------------------------------------------


def test_a_dangling_outlines_reference_is_a_remark_not_a_refusal(files: Files) -> None:
    pdf = files.text_pdf(1)
    pdf.Root.Outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, Count=0))
    data = files.plain_bytes(pdf)
    number = int(re.search(rb"/Outlines (\d+) 0 R", data).group(1))  # type: ignore[union-attr]
    unused = _unused(data, number)
    data = _same_length(data, b"/Outlines %d 0 R" % number, b"/Outlines %d 0 R" % unused)
    verdict = check_pdf(files.write("outlines.pdf", data))
    assert verdict.accepted, verdict.reasons
    assert verdict.codes == [Code.PDF_UNRESOLVED_REFERENCE]
    assert verdict.warnings[0].severity is Severity.INFO
    assert verdict.warnings[0].params == {"count": 1, "example": f"{unused} 0 R"}


def test_a_stale_generation_after_an_object_was_deleted_and_reused_is_a_remark(files: Files) -> None:
    pdf = files.text_pdf(1)
    pdf.Root.Extra = pdf.make_indirect(Dictionary(X=1))
    data = files.plain_bytes(pdf)
    number = int(re.search(rb"/Extra (\d+) 0 R", data).group(1))  # type: ignore[union-attr]
    data = _same_length(data, b"/Extra %d 0 R" % number, b"/Extra %d 3 R" % number)
    verdict = check_pdf(files.write("reused.pdf", data))
    assert verdict.accepted, verdict.reasons
    assert verdict.codes == [Code.PDF_UNRESOLVED_REFERENCE]


def test_a_missing_page_is_refused(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf(2))
    kids = re.search(rb"/Kids \[ (\d+) 0 R (\d+) 0 R \]", data)
    assert kids
    unused = _unused(data, int(kids.group(2)))
    data = _same_length(data, kids.group(0), b"/Kids [ %s 0 R %d 0 R ]" % (kids.group(1), unused))
    verdict = check_pdf(files.write("nopage.pdf", data))
    assert not verdict.accepted
    assert Code.PDF_DAMAGED_MISSING_OBJECT in verdict.codes
    assert not check_pdf(files.path("nopage.pdf"), LENIENT).accepted


def test_missing_page_content_is_refused_even_when_lenient(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf(1))
    contents = re.search(rb"/Contents (\d+) 0 R", data)
    assert contents
    unused = _unused(data, int(contents.group(1)))
    data = _same_length(data, contents.group(0), b"/Contents %d 0 R" % unused)
    assert Code.PDF_DAMAGED_MISSING_OBJECT in check_pdf(files.write("nocontent.pdf", data), LENIENT).codes


# -- §5 references are read as tokens --------------------------------------------------------------------------------


def test_a_reference_written_in_a_comment_is_not_a_reference(files: Files) -> None:
    pdf = files.text_pdf(1)
    pdf.Root.Note = pikepdf.String("x" * 16)
    data = files.plain_bytes(pdf)
    unused = _unused(data, 10)
    data = _same_length(data, b"/Note (" + b"x" * 16 + b")", b"/Note 1 %%%d 0 R\n" % unused)
    verdict = check_pdf(files.write("comment.pdf", data))
    assert verdict.accepted, verdict.reasons
    assert verdict.codes == []


# -- §3 repairs qpdf makes at open -----------------------------------------------------------------------------------


def test_a_page_without_resources_that_uses_none_is_accepted_with_a_remark(files: Files) -> None:
    pdf = files.text_pdf(1)
    pdf.pages[0].Contents = pdf.make_stream(b"0 0 m 100 100 l S")
    data = files.plain_bytes(pdf)
    resources = re.search(rb"/Resources << /Font << /F1 \d+ 0 R >> >>", data)
    assert resources
    verdict = check_pdf(files.write("nores.pdf", _same_length(data, resources.group(0), b"")))
    assert verdict.accepted, verdict.reasons
    assert verdict.codes == [Code.PDF_REPAIRED_MINOR]


def test_a_page_without_resources_that_draws_text_is_refused_with_its_true_reason(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf(1))
    resources = re.search(rb"/Resources << /Font << /F1 \d+ 0 R >> >>", data)
    assert resources
    verdict = check_pdf(files.write("nores-text.pdf", _same_length(data, resources.group(0), b"")))
    assert Code.PDF_DAMAGED_PAGE_RESOURCES in verdict.codes
    assert Code.PDF_DAMAGED_XREF_REPAIRED not in verdict.codes
    assert verdict.reasons[0].params == {"page": 1}
    assert check_pdf(files.path("nores-text.pdf"), LENIENT).accepted


def test_a_page_without_a_media_box_is_refused_as_having_no_page_size(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf(2))
    box = re.search(rb"/MediaBox \[ [^\]]* \]", data)
    assert box
    verdict = check_pdf(files.write("nobox.pdf", _same_length(data, box.group(0), b"")))
    assert verdict.codes == [Code.PDF_DAMAGED_PAGE_SIZE]
    assert verdict.reasons[0].params == {"page": 1}
    lenient = check_pdf(files.path("nobox.pdf"), LENIENT)
    assert lenient.accepted and lenient.warnings[0].code == Code.PDF_DAMAGED_PAGE_SIZE


def test_a_catalog_without_its_type_is_accepted_with_a_remark(files: Files) -> None:
    data = _same_length(files.plain_bytes(files.text_pdf(1)), b"/Type /Catalog", b"")
    verdict = check_pdf(files.write("notype.pdf", data))
    assert verdict.accepted, verdict.reasons
    assert verdict.codes == [Code.PDF_REPAIRED_MINOR]


# -- §4 the writer quirks qpdf calls "a common error handled correctly by qpdf and most other applications" -------


def test_an_xref_entry_at_offset_zero_is_accepted(files: Files) -> None:
    pdf = files.text_pdf(1)
    pdf.Root.Spare = pdf.make_indirect(Dictionary(X=1))
    data = files.plain_bytes(pdf)
    number = int(re.search(rb"/Spare (\d+) 0 R", data).group(1))  # type: ignore[union-attr]
    offset = re.search(rb"\n%d 0 obj" % number, data).start() + 1  # type: ignore[union-attr]
    data = data.replace(b"%010d 00000 n" % offset, b"0000000000 00000 n", 1)
    verdict = check_pdf(files.write("offset0.pdf", data))
    assert verdict.accepted, verdict.reasons
    facts = verdict.facts
    assert isinstance(facts, PdfFacts)
    assert any("common error" in m for m in facts.qpdf_messages)


def test_the_missing_xref_stream_self_entry_warning_is_not_damage() -> None:
    from attachments.checks.pdf import _BENIGN

    message = (
        "file: xref entry for the xref stream itself is missing - a common error handled correctly by qpdf and "
        "most other applications"
    )
    assert any(benign in message for benign in _BENIGN)


# -- §6 forms and outlines --------------------------------------------------------------------------------------------


def test_a_widget_not_reachable_from_acroform_is_accepted(files: Files) -> None:
    pdf = files.text_pdf(1)
    widget = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot, Subtype=Name.Widget, Rect=[0, 0, 10, 10], FT=Name.Tx, T=pikepdf.String("a")
        )
    )
    pdf.pages[0].Annots = Array([widget])
    pdf.Root.AcroForm = Dictionary(Fields=Array([]))
    with pytest.warns(UserWarning, match="not reachable from /AcroForm"):
        data = files.plain_bytes(pdf)
    verdict = check_pdf(files.write("widget.pdf", data))
    assert verdict.accepted, verdict.reasons
    assert verdict.codes == [Code.PDF_INTERACTIVE_IRREGULAR]


def test_unsorted_page_label_keys_are_accepted(files: Files) -> None:
    pdf = files.text_pdf(3)
    pdf.Root.PageLabels = Dictionary(Nums=Array([2, Dictionary(S=Name.D), 0, Dictionary(S=Name.r)]))
    verdict = check_pdf(files.save(pdf, "labels.pdf"))
    assert verdict.accepted, verdict.reasons
    assert verdict.codes == [Code.PDF_INTERACTIVE_IRREGULAR]


def test_an_outline_loop_is_accepted(files: Files) -> None:
    pdf = files.text_pdf(1)
    outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines))
    a = pdf.make_indirect(Dictionary(Title=pikepdf.String("A"), Parent=outlines))
    b = pdf.make_indirect(Dictionary(Title=pikepdf.String("B"), Parent=outlines))
    a.Next, b.Prev, b.Next, a.Prev = b, a, a, b
    outlines.First, outlines.Last, outlines.Count = a, b, 2
    pdf.Root.Outlines = outlines
    verdict = check_pdf(files.save(pdf, "outline-loop.pdf"))
    assert verdict.accepted, verdict.reasons
    assert verdict.codes == [Code.PDF_INTERACTIVE_IRREGULAR]


def test_a_page_tree_loop_that_could_hang_a_viewer_is_still_refused(files: Files) -> None:
    pdf = files.text_pdf(2)
    pdf.Root.Pages.Kids.append(pdf.Root.Pages)
    assert Code.PDF_DAMAGED_PAGE_TREE in check_pdf(files.save(pdf, "tree-loop.pdf")).codes


def test_a_flate_stream_without_its_checksum_is_accepted(files: Files) -> None:
    pdf = files.text_pdf(1)
    content = zlib.compress(b"BT /F1 12 Tf 72 720 Td (Filled in) Tj ET")[:-4]
    stream = pikepdf.Stream(pdf, content)
    stream.Filter = Name.FlateDecode
    pdf.pages[0].Contents = stream
    verdict = check_pdf(files.save(pdf, "acrobat-form.pdf", compress_streams=False))
    assert verdict.accepted, verdict.reasons
    assert verdict.codes == [Code.PDF_REPAIRED_MINOR]


# -- §7 header versions ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0", "1.4", "1.7"])
def test_iso_32000_1_versions_are_accepted(files: Files, version: str) -> None:
    data = files.plain_bytes(files.text_pdf(1)).replace(b"%PDF-1.3", b"%PDF-" + version.encode(), 1)
    assert check_pdf(files.write("v.pdf", data)).accepted


@pytest.mark.parametrize("version", ["2.0", "2.9", "1.8", "9.3"])
def test_other_versions_are_refused_the_same_way_with_how_to_save_as_1_7(files: Files, version: str) -> None:
    data = files.plain_bytes(files.text_pdf(1)).replace(b"%PDF-1.3", b"%PDF-" + version.encode(), 1)
    verdict = check_pdf(files.write("v.pdf", data))
    assert verdict.codes == [Code.PDF_VERSION_NOT_ISO32000_1]
    assert verdict.reasons[0].params == {"version": version}
    assert "PDF 1.7" in verdict.reasons[0].message_en and "PDF/A" in verdict.reasons[0].message_en
    assert not check_pdf(files.path("v.pdf"), LENIENT).accepted


def test_a_catalog_version_2_0_is_refused_like_a_header_2_0(files: Files) -> None:
    pdf = files.text_pdf(1)
    pdf.Root.Version = Name("/2.0")
    verdict = check_pdf(files.save(pdf, "catalog-2.0.pdf"))
    assert verdict.codes == [Code.PDF_VERSION_NOT_ISO32000_1]
    assert verdict.reasons[0].params == {"version": "2.0"}


# -- §8 true reasons ---------------------------------------------------------------------------------------------------


def test_padding_after_the_end_marker_is_not_truncation(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf(2)) + b"\x00" * 4096
    verdict = check_pdf(files.write("padded.pdf", data))
    assert verdict.accepted, verdict.reasons
    assert verdict.codes == [Code.PDF_PADDING_AFTER_EOF]
    assert verdict.warnings[0].params == {"bytes": 4096}


def test_other_data_after_the_end_marker_is_named_as_such(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf(1)) + b"PK\x03\x04" + b"zipped" * 100
    verdict = check_pdf(files.write("appended.pdf", data))
    assert verdict.codes == [Code.PDF_DATA_AFTER_EOF]
    assert Code.PDF_TRUNCATED not in verdict.codes


def _object_stream_pdf(padding: int) -> bytes:
    """Catalog, page tree and page in one Flate object stream padded with ``padding`` spaces; xref stream."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [ 3 0 R ] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [ 0 0 595 842 ] /Resources << >> >>",
    }
    header = b" ".join(
        b"%d %d" % (n, sum(len(o) + 1 for o in list(objects.values())[: n - 1])) for n in objects
    )
    header += b" "
    body = b"\n".join(objects.values()) + b"\n"
    compressor = zlib.compressobj(9)
    packed = compressor.compress(header + body)
    chunk = b" " * (1 << 20)
    for _ in range(padding // len(chunk)):
        packed += compressor.compress(chunk)
    packed += compressor.flush()
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offset_4 = len(out)
    out += b"4 0 obj\n<< /Type /ObjStm /N 3 /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (
        len(header),
        len(packed),
    )
    out += packed + b"\nendstream\nendobj\n"
    offset_5 = len(out)
    rows = [b"\x00" + (0).to_bytes(3, "big") + b"\xff"]
    rows += [b"\x02" + (4).to_bytes(3, "big") + bytes([index]) for index in range(3)]
    rows += [b"\x01" + offset.to_bytes(3, "big") + b"\x00" for offset in (offset_4, offset_5)]
    xref = b"".join(rows)
    out += b"5 0 obj\n<< /Type /XRef /Size 6 /W [ 1 3 1 ] /Root 1 0 R /Length %d >>\nstream\n" % len(xref)
    out += xref + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % offset_5
    return bytes(out)


def test_an_object_stream_bomb_holding_the_page_is_too_complex_not_pageless(files: Files) -> None:
    assert check_pdf(files.write("objstm.pdf", _object_stream_pdf(0))).accepted
    path = files.write("objstm-bomb.pdf", _object_stream_pdf(96 << 20))
    assert path.stat().st_size < 1 << 20
    verdict = check_pdf(path, CheckPolicy(pdf=PdfPolicy(max_decoded_stream_bytes=32 << 20)))
    assert not verdict.accepted
    assert Code.PDF_TOO_COMPLEX in verdict.codes
    assert Code.PDF_NO_PAGES not in verdict.codes


def test_an_unknown_standard_handler_revision_is_a_security_setting(files: Files) -> None:
    raw = io.BytesIO()
    files.text_pdf(1).save(raw, encryption=pikepdf.Encryption(owner="o", user="", R=6))
    data = raw.getvalue().replace(b"/R 6", b"/R 7", 1)
    verdict = check_pdf(files.write("r7.pdf", data))
    assert verdict.codes == [Code.PDF_ENCRYPTED_UNREADABLE]
    assert "R 7" in str(verdict.reasons[0].params["detail"])


# -- §11 an encryption entry of any kind is a security setting ----------------------------------------------------


def test_an_encrypt_entry_pointing_to_nothing_is_refused_even_when_lenient(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf(1)).replace(b"trailer << ", b"trailer << /Encrypt 99 0 R ", 1)
    for policy in (None, LENIENT):
        verdict = check_pdf(files.write("encrypt-null.pdf", data), policy)
        assert not verdict.accepted
        assert Code.PDF_ENCRYPTED_UNREADABLE in verdict.codes


def test_an_incremental_update_that_replaced_a_page_in_an_object_stream_is_accepted(files: Files) -> None:
    """The old page version stays in the object stream and names content the update deleted: not the document."""
    buf = io.BytesIO()
    files.text_pdf(1).save(buf, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    data = buf.getvalue()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0].obj
        number = page.objgen[0]
        old_contents = page.Contents.objgen[0]
        size = int(pdf.trailer.Size)
        root = pdf.Root.objgen[0]
        assert pdf.get_xref_table()[(number, 0)].type == 2, "the page must sit in an object stream"
        page_text = page.unparse(resolved=True)
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    content = b"BT /F1 12 Tf 72 700 Td (Updated) Tj ET"
    update = bytearray(b"\n")
    content_at = len(data) + len(update)
    update += b"%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (size, len(content), content)
    page_at = len(data) + len(update)
    new_page = page_text.replace(b"/Contents %d 0 R" % old_contents, b"/Contents %d 0 R" % size)
    update += b"%d 0 obj\n%s\nendobj\n" % (number, new_page)
    xref_at = len(data) + len(update)
    update += b"xref\n0 1\n0000000000 65535 f \n%d 1\n0000000000 00001 f \n" % old_contents
    update += b"%d 1\n%010d 00000 n \n%d 1\n%010d 00000 n \n" % (number, page_at, size, content_at)
    update += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size + 1,
        root,
        prev,
        xref_at,
    )
    verdict = check_pdf(files.write("updated.pdf", data + bytes(update)))
    assert verdict.accepted, verdict.reasons
    assert Code.PDF_DAMAGED_MISSING_OBJECT not in verdict.codes
