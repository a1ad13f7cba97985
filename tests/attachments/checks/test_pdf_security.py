"""Security settings: any password, named restrictions, DRM handlers and protected embedded payloads are rejected."""

from __future__ import annotations

import io

import pikepdf
import pytest
from pikepdf import Dictionary, Name

from attachments.checks import Code, PdfFacts, check_pdf
from tests.attachments.checks.attachment_check_factories import Files

pytestmark = pytest.mark.unit


def _facts(verdict: object) -> PdfFacts:
    facts = getattr(verdict, "facts", None)
    assert isinstance(facts, PdfFacts)
    return facts


def test_accepts_a_plain_pdf(files: Files) -> None:
    verdict = check_pdf(files.save(files.text_pdf(3), "plain.pdf"))
    assert verdict.accepted, verdict.reasons
    assert verdict.reasons == [] and verdict.warnings == []
    facts = _facts(verdict)
    assert facts.page_count == 3
    assert facts.header_version is not None
    assert facts.encryption is None


@pytest.mark.parametrize(
    ("revision", "aes", "bits"),
    [(6, True, 256), (4, True, 128), (4, False, 128), (3, False, 128), (2, False, 40)],
    ids=["R6-AES256", "R4-AES128", "R4-RC4", "R3-RC4", "R2-RC4-40"],
)
def test_rejects_a_pdf_that_needs_a_password_to_open(
    files: Files, revision: int, aes: bool, bits: int
) -> None:
    encryption = pikepdf.Encryption(user="open-me", owner="owner", R=revision, aes=aes, metadata=aes)  # type: ignore[arg-type]
    verdict = check_pdf(files.save(files.text_pdf(), "user.pdf", encryption=encryption))
    assert not verdict.accepted
    assert verdict.codes == [Code.PDF_ENCRYPTED_USER_PASSWORD]
    assert "パスワードを解除" in verdict.reasons[0].message_ja
    encryption_facts = _facts(verdict).encryption
    assert encryption_facts is not None
    assert encryption_facts.filter == "Standard"
    assert encryption_facts.revision == revision
    assert encryption_facts.needs_user_password is True


_ALL = {"accessibility", "extract", "modify_annotation", "modify_assembly", "modify_form", "modify_other"}


@pytest.mark.parametrize(
    ("denied", "expected"),
    [
        ({"print_lowres", "print_highres"}, {Code.PDF_RESTRICTED_PRINT}),
        ({"print_highres"}, {Code.PDF_RESTRICTED_PRINT}),
        ({"extract"}, {Code.PDF_RESTRICTED_COPY}),
        ({"modify_other"}, {Code.PDF_RESTRICTED_MODIFY}),
        ({"modify_assembly", "modify_form"}, {Code.PDF_RESTRICTED_MODIFY}),
        (set(), set()),
    ],
    ids=["print", "print-highres", "copy", "modify", "assembly", "nothing"],
)
def test_rejects_an_owner_password_and_names_each_restriction(
    files: Files, denied: set[str], expected: set[Code]
) -> None:
    flags = {name: name not in denied for name in [*_ALL, "print_lowres", "print_highres"]}
    encryption = pikepdf.Encryption(user="", owner="owner", R=6, allow=pikepdf.Permissions(**flags))
    verdict = check_pdf(files.save(files.text_pdf(), "owner.pdf", encryption=encryption))
    assert not verdict.accepted
    codes = {f.code for f in verdict.reasons}
    assert codes == {Code.PDF_ENCRYPTED_OWNER_PASSWORD, *expected}
    encryption_facts = _facts(verdict).encryption
    assert encryption_facts is not None and encryption_facts.needs_user_password is False
    assert encryption_facts.key_bits == 256
    assert _facts(verdict).page_count == 2


@pytest.mark.parametrize(
    "handler", ["Adobe.APS", "FOPN_foweb", "MicrosoftIRMServices", "Adobe.PubSec", "EBX_HANDLER"]
)
def test_rejects_network_authentication_handlers_by_name(files: Files, handler: str) -> None:
    encryption = pikepdf.Encryption(user="", owner="owner", R=4, aes=True)
    data = io.BytesIO()
    files.text_pdf().save(data, encryption=encryption)
    raw = data.getvalue().replace(b"/Filter /Standard", f"/Filter /{handler}".encode(), 1)
    verdict = check_pdf(files.write("drm.pdf", raw))
    assert not verdict.accepted
    assert verdict.codes == [Code.PDF_DRM_NETWORK_AUTH]
    assert verdict.reasons[0].params["handler"] == handler
    encryption_facts = _facts(verdict).encryption
    assert encryption_facts is not None and encryption_facts.filter == handler


def _wrapper_with(files: Files, name: str, payload: bytes, **stream_keys: object) -> pikepdf.Pdf:
    pdf = files.text_pdf(1)
    spec = pikepdf.AttachedFileSpec(pdf, payload, filename=name)
    pdf.attachments[name] = spec
    stream = pdf.attachments[name].obj.EF.F
    for key, value in stream_keys.items():
        stream[Name("/" + key)] = value
    return pdf


def test_rejects_a_microsoft_protected_pdf_wrapper_by_attachment_name(files: Files) -> None:
    pdf = _wrapper_with(files, "MicrosoftIRMServices Protected PDF.pdf", b"opaque encrypted payload")
    verdict = check_pdf(files.save(pdf, "wrapper.pdf"))
    assert verdict.codes == [Code.PDF_DRM_EMBEDDED_PROTECTED]


def test_rejects_an_embedded_encrypted_payload_dictionary(files: Files) -> None:
    ep = Dictionary(Type=Name("/EncryptedPayload"), Subtype=Name("/MicrosoftIRMServices"), Version=2)
    pdf = _wrapper_with(files, "payload.bin", b"opaque", EP=ep)
    verdict = check_pdf(files.save(pdf, "wrapper-ep.pdf"))
    assert verdict.codes == [Code.PDF_DRM_EMBEDDED_PROTECTED]
    assert _facts(verdict).embedded_files == ["payload.bin"]


def test_rejects_an_embedded_password_protected_pdf(files: Files) -> None:
    inner = io.BytesIO()
    files.text_pdf(1).save(inner, encryption=pikepdf.Encryption(user="u", owner="o", R=6))
    pdf = _wrapper_with(files, "document.pdf", inner.getvalue())
    verdict = check_pdf(files.save(pdf, "wrapper-pdf.pdf"))
    assert verdict.codes == [Code.PDF_DRM_EMBEDDED_PROTECTED]


def test_accepts_an_ordinary_attachment(files: Files) -> None:
    pdf = _wrapper_with(files, "notes.txt", b"hello")
    verdict = check_pdf(files.save(pdf, "attached.pdf"))
    assert verdict.accepted, verdict.reasons


def _with_file_attachment_annotation(files: Files, name: str, payload: bytes) -> pikepdf.Pdf:
    """The payload attached through a file-attachment annotation on page 1 (ISO 32000-1 §12.5.6.15)."""
    pdf = files.text_pdf(1)
    spec = pikepdf.AttachedFileSpec(pdf, payload, filename=name)
    annotation = pdf.make_indirect(
        Dictionary(Type=Name.Annot, Subtype=Name.FileAttachment, Rect=[72, 72, 90, 90], FS=spec.obj)
    )
    pdf.pages[0].Annots = pikepdf.Array([annotation])
    return pdf


def test_rejects_a_password_protected_pdf_in_a_file_attachment_annotation(files: Files) -> None:
    inner = io.BytesIO()
    files.text_pdf(1).save(inner, encryption=pikepdf.Encryption(user="u", owner="o", R=6))
    pdf = _with_file_attachment_annotation(files, "document.pdf", inner.getvalue())
    verdict = check_pdf(files.save(pdf, "annotation-pdf.pdf"))
    assert verdict.codes == [Code.PDF_DRM_EMBEDDED_PROTECTED]
    assert verdict.reasons[0].params == {"name": "document.pdf"}
    assert _facts(verdict).embedded_files == ["document.pdf"]


def test_accepts_an_ordinary_file_attachment_annotation(files: Files) -> None:
    pdf = _with_file_attachment_annotation(files, "notes.txt", b"hello")
    verdict = check_pdf(files.save(pdf, "annotation-txt.pdf"))
    assert verdict.accepted, verdict.reasons
