"""Structure (ISO 32000-1): damage qpdf repairs silently, the gaps it leaves, page limits, non-PDFs, hostile input."""

from __future__ import annotations

import random
import re
import zlib

import pikepdf
import pytest
from pikepdf import Dictionary, Name

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


def _with_wrong_startxref(data: bytes) -> bytes:
    match = re.search(rb"startxref\s+(\d+)", data)
    assert match
    wrong = str(int(match.group(1)) - 7).encode().rjust(len(match.group(1)))
    return data[: match.start(1)] + wrong + data[match.end(1) :]


def test_rejects_a_silently_repaired_cross_reference_table(files: Files) -> None:
    data = _with_wrong_startxref(files.plain_bytes(files.text_pdf()))
    verdict = check_pdf(files.write("xref.pdf", data))
    assert not verdict.accepted
    assert Code.PDF_DAMAGED_XREF_REPAIRED in verdict.codes
    facts = verdict.facts
    assert isinstance(facts, PdfFacts)
    assert facts.repaired
    assert facts.qpdf_messages
    assert all("xref.pdf" not in m for m in facts.qpdf_messages), "server paths must not leak"


def test_accepts_a_repaired_cross_reference_table_with_a_warning_when_lenient(files: Files) -> None:
    data = _with_wrong_startxref(files.plain_bytes(files.text_pdf()))
    verdict = check_pdf(files.write("xref.pdf", data), LENIENT)
    assert verdict.accepted
    assert [w.code for w in verdict.warnings] == [Code.PDF_DAMAGED_XREF_REPAIRED]
    assert verdict.warnings[0].severity is Severity.WARNING


def test_rejects_bytes_before_the_header(files: Files) -> None:
    data = b"Content-Type: application/pdf\r\n\r\n" + files.plain_bytes(files.text_pdf())
    verdict = check_pdf(files.write("junk.pdf", data))
    assert verdict.codes == [Code.PDF_DAMAGED_HEADER_OFFSET]
    assert verdict.reasons[0].params["offset"] == 33
    assert check_pdf(files.path("junk.pdf"), LENIENT).accepted


def test_rejects_a_malformed_header_version(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf()).replace(b"%PDF-1.3", b"%PDF-1.x", 1)
    verdict = check_pdf(files.write("version.pdf", data))
    assert Code.PDF_DAMAGED_HEADER_VERSION in verdict.codes


def test_rejects_a_missing_end_of_file_marker(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf())
    verdict = check_pdf(files.write("noeof.pdf", data[: data.rindex(b"%%EOF")]))
    assert verdict.codes == [Code.PDF_NO_EOF]


def test_rejects_a_truncated_file(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf(5))
    verdict = check_pdf(files.write("half.pdf", data[: len(data) // 2]))
    assert not verdict.accepted
    assert Code.PDF_TRUNCATED in verdict.codes
    assert not check_pdf(files.path("half.pdf"), LENIENT).accepted


def test_rejects_a_corrupt_stream(files: Files) -> None:
    pdf = files.text_pdf(1)
    text = b"".join(b"BT /F1 12 Tf 72 %d Td (Line %d) Tj ET\n" % (700 - i * 14, i) for i in range(40))
    pdf.pages[0].Contents = pikepdf.Stream(pdf, zlib.compress(text))
    pdf.pages[0].Contents.Filter = Name.FlateDecode
    data = bytearray(files.plain_bytes(pdf))
    start = data.index(b"stream\n", data.index(b"/FlateDecode")) + 7 + 20
    data[start : start + 40] = random.Random(7).randbytes(40)
    verdict = check_pdf(files.write("corrupt.pdf", bytes(data)))
    assert not verdict.accepted
    assert Code.PDF_DAMAGED_STREAM in verdict.codes
    assert not check_pdf(files.path("corrupt.pdf"), LENIENT).accepted


def test_rejects_a_page_tree_whose_count_lies(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf(2)).replace(b"/Count 2", b"/Count 9", 1)
    verdict = check_pdf(files.write("count.pdf", data))
    assert verdict.codes == [Code.PDF_DAMAGED_PAGE_COUNT]
    assert verdict.reasons[0].params == {"declared": 9, "actual": 2}


def test_rejects_an_absurd_page_count_that_lies(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf(2)).replace(b"/Count 2", b"/Count 2000000000", 1)
    verdict = check_pdf(files.write("absurd.pdf", data))
    assert Code.PDF_DAMAGED_PAGE_COUNT in verdict.codes


def test_rejects_a_reference_to_a_missing_object(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf(2))
    existing = {int(n) for n in re.findall(rb"(\d+) 0 obj", data)}
    match = re.search(rb"/Contents (\d+) 0 R", data)
    assert match
    digits = len(match.group(1))
    unused = next(n for n in range(10 ** (digits - 1), 10**digits) if n not in existing and n > max(existing))
    data = data[: match.start(1)] + str(unused).encode() + data[match.end(1) :]
    verdict = check_pdf(files.write("missing.pdf", data))
    assert verdict.codes == [Code.PDF_DAMAGED_MISSING_OBJECT]
    assert verdict.reasons[0].params["example"] == f"{unused} 0 R"


def test_does_not_mistake_references_in_object_streams_or_strings_for_missing_objects(files: Files) -> None:
    pdf = files.text_pdf(1)
    pdf.Root.Extra = Dictionary(Ref=pdf.make_indirect(Dictionary(X=1)), Note=pikepdf.String("see 99 0 R"))
    pdf.docinfo.Title = "(12 0 R) <3 0 R>"
    for mode in (pikepdf.ObjectStreamMode.generate, pikepdf.ObjectStreamMode.disable):
        path = files.save(pdf, f"refs-{mode.name}.pdf", object_stream_mode=mode, compress_streams=False)
        verdict = check_pdf(path)
        assert verdict.accepted, verdict.reasons


def test_rejects_files_that_are_not_pdfs(files: Files) -> None:
    for name, data, detected in [
        ("image.pdf", files.png(), "PNG image"),
        ("empty.pdf", b"", "empty file"),
        ("letter.pdf", b"Dear Sir,\nplease find attached\n", "text file"),
        ("archive.pdf", b"PK\x03\x04" + bytes(100), "ZIP archive or Office document"),
    ]:
        verdict = check_pdf(files.write(name, data))
        assert verdict.codes == [Code.PDF_NOT_PDF]
        assert verdict.reasons[0].params["detected"] == detected


def test_rejects_a_file_over_the_size_limit_without_reading_it(files: Files) -> None:
    path = files.path("big.pdf")
    with path.open("wb") as handle:
        handle.truncate(10 * 1024 * 1024 + 1)
    verdict = check_pdf(path)
    assert verdict.codes == [Code.PDF_TOO_LARGE]
    assert verdict.reasons[0].params == {
        "size_mb": 10.0,
        "max_mb": 10.0,
        "size_bytes": "10,485,761",
        "max_bytes": "10,485,760",
    }
    assert "10,485,760 bytes" in verdict.reasons[0].message_en
    assert "10,485,760 バイト" in verdict.reasons[0].message_ja


def test_rejects_too_many_pages(files: Files) -> None:
    path = files.save(files.text_pdf(6), "pages.pdf")
    verdict = check_pdf(path, CheckPolicy(pdf=PdfPolicy(max_pages=5)))
    assert verdict.codes == [Code.PDF_TOO_MANY_PAGES]
    assert check_pdf(path, CheckPolicy(pdf=PdfPolicy(max_pages=6))).accepted


def test_rejects_a_pdf_without_pages(files: Files) -> None:
    verdict = check_pdf(files.save(pikepdf.new(), "nopages.pdf"))
    assert verdict.codes == [Code.PDF_NO_PAGES]


def test_rejects_a_page_tree_loop(files: Files) -> None:
    pdf = files.text_pdf(2)
    pdf.Root.Pages.Kids.append(pdf.Root.Pages)
    verdict = check_pdf(files.save(pdf, "loop.pdf"))
    assert not verdict.accepted
    assert Code.PDF_DAMAGED_PAGE_TREE in verdict.codes


def test_survives_a_cross_reference_chain_that_loops(files: Files) -> None:
    data = files.plain_bytes(files.text_pdf(2))
    xref_at = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    data = data.replace(b"trailer <<", b"trailer << /Prev %d" % xref_at, 1)
    verdict = check_pdf(files.write("prevloop.pdf", data))
    assert verdict.facts is not None  # a verdict, not a crash or a hang


def test_rejects_a_flate_bomb_with_the_qpdf_limit(flate_bomb: object) -> None:
    assert callable(flate_bomb)
    path = flate_bomb(512 * 1024 * 1024)
    assert path.stat().st_size < 1024 * 1024
    verdict = check_pdf(path, CheckPolicy(pdf=PdfPolicy(max_decoded_stream_bytes=64 * 1024 * 1024)))
    assert not verdict.accepted
    assert Code.PDF_TOO_COMPLEX in verdict.codes


def test_rejects_a_jpeg_claiming_an_enormous_frame(files: Files) -> None:
    jpeg = files.with_sof_size(files.jpeg((64, 64)), 60000, 60000)
    pdf = files.image_pdf(["q 595 0 0 842 0 0 cm /Im0 Do Q"])
    image = pdf.pages[0].Resources.XObject.Im0
    image.write(jpeg, filter=Name.DCTDecode)
    image.Width, image.Height, image.ColorSpace = 60000, 60000, Name.DeviceRGB
    verdict = check_pdf(
        files.save(pdf, "dct-bomb.pdf"), CheckPolicy(pdf=PdfPolicy(max_decoded_stream_bytes=64 * 1024 * 1024))
    )
    assert not verdict.accepted
    assert {Code.PDF_TOO_COMPLEX, Code.PDF_DAMAGED_STREAM} & set(verdict.codes)
