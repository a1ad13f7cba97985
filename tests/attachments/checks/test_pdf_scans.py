"""Issue 15 §1: what people really scan is accepted — A4 grey and colour, 150-600 dpi, JPEG and Flate, one and ten
pages, up to 10 MB — with only the low-resolution warning below 200 dpi. The files are generated once per session."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from attachments.checks import Code, PdfFacts, check_pdf
from attachments.checks.models import PdfPolicy
from tests.attachments.checks.attachment_check_factories import scan_pdf, scan_stream_data

pytestmark = pytest.mark.unit

DPIS = [150, 200, 220, 250, 300, 400, 600]
TEN_PAGE_DPIS = [150, 300, 600]
CASES = [
    *[(dpi, mode, codec, 1) for dpi in DPIS for mode in ("L", "RGB") for codec in ("jpeg", "flate")],
    *[
        (dpi, mode, codec, 10)
        for dpi in TEN_PAGE_DPIS
        for mode in ("L", "RGB")
        for codec in ("jpeg", "flate")
    ],
]


@cache
def _data(dpi: int, mode: str, codec: str) -> bytes:
    return scan_stream_data(dpi, mode, codec)


@pytest.fixture(scope="session")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[int, str, str, int], Path]:
    """Paths of generated scans, written on first use (one encoded page reused for every page of a file)."""
    root = tmp_path_factory.mktemp("scans")
    made: dict[tuple[int, str, str, int], Path] = {}

    class _Lazy(dict[tuple[int, str, str, int], Path]):
        def __missing__(self, key: tuple[int, str, str, int]) -> Path:
            dpi, mode, codec, pages = key
            path = root / f"scan-{dpi}-{mode}-{codec}-{pages}p.pdf"
            path.write_bytes(scan_pdf(dpi, mode, codec, pages, _data(dpi, mode, codec)))
            self[key] = path
            return path

    return _Lazy(made)


@pytest.mark.parametrize(
    ("dpi", "mode", "codec", "pages"), CASES, ids=[f"{d}dpi-{m}-{c}-{p}p" for d, m, c, p in CASES]
)
def test_accepts_an_ordinary_scan(
    scans: dict[tuple[int, str, str, int], Path], dpi: int, mode: str, codec: str, pages: int
) -> None:
    path = scans[(dpi, mode, codec, pages)]
    assert path.stat().st_size <= PdfPolicy().max_bytes, "the generated scan must fit the 10 MB rule"
    verdict = check_pdf(path)
    assert verdict.accepted, verdict.reasons
    expected = [Code.PDF_LOW_RESOLUTION] if dpi < 200 else []
    assert [w.code for w in verdict.warnings] == expected
    facts = verdict.facts
    assert isinstance(facts, PdfFacts)
    assert facts.page_count == pages
    assert facts.min_dpi is not None and abs(facts.min_dpi - dpi) < 1


def test_a_600_dpi_colour_jpeg_is_over_the_old_dct_limit() -> None:
    """The case that used to fail: width × height × components above dct_max_memory / 20 with 256 MiB."""
    width, height = round(210 / 25.4 * 600), round(297 / 25.4 * 600)
    assert width * height * 3 > 256 * 1024 * 1024 // 20


def test_a_corrupt_flate_scan_is_still_refused(tmp_path: Path) -> None:
    data = bytearray(_data(300, "L", "flate"))
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(range(64))
    path = tmp_path / "corrupt-scan.pdf"
    path.write_bytes(scan_pdf(300, "L", "flate", 1, bytes(data)))
    verdict = check_pdf(path)
    assert not verdict.accepted
    assert verdict.codes == [Code.PDF_DAMAGED_STREAM]


def test_a_cut_off_jpeg_scan_is_still_refused(tmp_path: Path) -> None:
    data = _data(300, "L", "jpeg")
    path = tmp_path / "cut-scan.pdf"
    path.write_bytes(scan_pdf(300, "L", "jpeg", 1, data[: len(data) // 2]))
    verdict = check_pdf(path)
    assert verdict.codes == [Code.PDF_DAMAGED_STREAM]
    assert "cut off" in verdict.reasons[0].message_en
