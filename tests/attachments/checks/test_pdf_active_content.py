"""Issue 15 §10 and docs/adr/0007: JavaScript and launch actions are accepted, flagged for the officer, never run."""

from __future__ import annotations

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name

from attachments.checks import Code, PdfFacts, Severity, Verdict, check_file_sandboxed, check_pdf
from tests.attachments.checks.attachment_check_factories import Files

pytestmark = pytest.mark.unit


def _facts(verdict: Verdict) -> PdfFacts:
    assert isinstance(verdict.facts, PdfFacts)
    return verdict.facts


def _javascript(pdf: pikepdf.Pdf) -> pikepdf.Object:
    return pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=pikepdf.String("app.alert('hi');")))


def test_flags_javascript_in_the_open_action(files: Files) -> None:
    pdf = files.text_pdf(1)
    pdf.Root.OpenAction = _javascript(pdf)
    verdict = check_pdf(files.save(pdf, "open-js.pdf"))
    assert verdict.accepted
    assert verdict.codes == [Code.PDF_ACTIVE_CONTENT]
    assert verdict.warnings[0].severity is Severity.INFO
    assert verdict.warnings[0].params == {"kinds": "JavaScript"}
    assert _facts(verdict).active_content == ["JavaScript"]


def test_flags_a_launch_action_in_an_annotation_inside_an_object_stream(files: Files) -> None:
    pdf = files.text_pdf(1)
    launch = Dictionary(S=Name.Launch, F=pikepdf.String("calc.exe"))
    link = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[0, 0, 50, 50], A=launch))
    pdf.pages[0].Annots = Array([link])
    path = files.save(pdf, "launch.pdf", object_stream_mode=pikepdf.ObjectStreamMode.generate)
    verdict = check_pdf(path)
    assert verdict.accepted
    assert _facts(verdict).active_content == ["Launch"]


def test_flags_document_javascript_and_launch_together(files: Files) -> None:
    pdf = files.text_pdf(1)
    pdf.Root.Names = Dictionary(
        JavaScript=Dictionary(Names=Array([pikepdf.String("init"), _javascript(pdf)]))
    )
    pdf.pages[0].obj.AA = Dictionary(O=Dictionary(S=Name.Launch, F=pikepdf.String("x.exe")))
    verdict = check_pdf(files.save(pdf, "both.pdf"))
    assert verdict.accepted
    assert verdict.warnings[0].params == {"kinds": "JavaScript, Launch"}


def test_does_not_flag_the_words_inside_text(files: Files) -> None:
    pdf = files.text_pdf(1)
    pdf.docinfo.Title = "/JavaScript and /Launch are only words here"
    verdict = check_pdf(files.save(pdf, "words.pdf"))
    assert verdict.codes == []
    assert _facts(verdict).active_content == []


@pytest.mark.integration
def test_the_flag_survives_the_sandbox(files: Files) -> None:
    pdf = files.text_pdf(1)
    pdf.Root.OpenAction = _javascript(pdf)
    verdict = check_file_sandboxed(files.save(pdf, "open-js.pdf"), "pdf")
    assert verdict.accepted
    assert _facts(verdict).active_content == ["JavaScript"]
