"""Effective image resolution: CTM tracking through q/Q/cm, form XObjects, inline images and /UserUnit."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import pytest

from attachments.checks import CheckPolicy, Code, PdfFacts, PdfPolicy, check_pdf
from attachments.checks.resolution import multiply, placement_size
from tests.attachments.checks.attachment_check_factories import Files

IMAGE = (200, 100)  # pixels; placed at 48 × 24 pt it is 300 dpi, at 144 × 72 pt 100 dpi

# name -> (content stream, forms, expected [(dpi_x, dpi_y)] in drawing order); all axis-aligned, so pdfimages agrees
AXIS_ALIGNED: dict[str, tuple[list[str], dict[str, tuple[str, str]], list[tuple[float, float]]]] = {
    "100dpi": (["q 144 0 0 72 100 100 cm /Im0 Do Q"], {}, [(100, 100)]),
    "300dpi": (["q 48 0 0 24 100 100 cm /Im0 Do Q"], {}, [(300, 300)]),
    "uneven": (["q 48 0 0 72 100 100 cm /Im0 Do Q"], {}, [(300, 100)]),
    "nested-cm": (["q 2 0 0 2 10 10 cm q 24 0 0 12 5 5 cm /Im0 Do Q Q"], {}, [(300, 300)]),
    "restored": (["q 2 0 0 2 0 0 cm Q q 48 0 0 24 100 100 cm /Im0 Do Q"], {}, [(300, 300)]),
    "flipped": (["q -48 0 0 -24 300 300 cm /Im0 Do Q"], {}, [(300, 300)]),
    "two-placements": (
        ["q 48 0 0 24 100 100 cm /Im0 Do Q", "q 288 0 0 144 100 300 cm /Im0 Do Q"],
        {},
        [(300, 300), (50, 50)],
    ),
    "form": (
        ["q 1 0 0 1 100 100 cm /Fm0 Do Q"],
        {"Fm0": ("0.5 0 0 0.5 0 0", "q 96 0 0 48 0 0 cm /Im0 Do Q")},
        [(300, 300)],
    ),
    "form-scaled-outside": (
        ["q 3 0 0 3 0 0 cm /Fm0 Do Q"],
        {"Fm0": ("0.5 0 0 0.5 0 0", "q 96 0 0 48 0 0 cm /Im0 Do Q")},
        [(100, 100)],
    ),
    "inline": ([f"q 72 0 0 36 100 100 cm {Files.inline_image(40, 20)} Q"], {}, [(40, 40)]),
}


def _dpis(facts: object) -> list[float]:
    """dpi_x, dpi_y of each placement, flattened (pytest.approx compares flat sequences)."""
    assert isinstance(facts, PdfFacts)
    return [value for p in facts.images for value in (p.dpi_x, p.dpi_y)]


def _flat(pairs: list[tuple[float, float]]) -> list[float]:
    return [value for pair in pairs for value in pair]


@pytest.mark.unit
def test_matrices_compose_in_pdf_order() -> None:
    scale = (2.0, 0.0, 0.0, 3.0, 0.0, 0.0)
    rotate = (0.0, 1.0, -1.0, 0.0, 0.0, 0.0)
    # scale the image first, then rotate it: the width vector (2, 0) becomes (0, 2)
    assert multiply(scale, rotate) == (0.0, 2.0, -3.0, 0.0, 0.0, 0.0)
    assert placement_size(multiply(scale, rotate)) == (2.0, 3.0)


@pytest.mark.unit
@pytest.mark.parametrize("case", list(AXIS_ALIGNED))
def test_measures_the_effective_resolution_of_each_placement(files: Files, case: str) -> None:
    content, forms, expected = AXIS_ALIGNED[case]
    verdict = check_pdf(files.save(files.image_pdf(content, image_size=IMAGE, forms=forms), f"{case}.pdf"))
    assert verdict.accepted, verdict.reasons
    assert _dpis(verdict.facts) == pytest.approx(_flat(expected), abs=0.01)
    facts = verdict.facts
    assert isinstance(facts, PdfFacts)
    assert facts.min_dpi == pytest.approx(min(min(e) for e in expected), abs=0.1)
    assert facts.image_count == len(expected)


@pytest.mark.unit
def test_warns_below_200_dpi_without_rejecting(files: Files) -> None:
    content, _, _ = AXIS_ALIGNED["100dpi"]
    verdict = check_pdf(files.save(files.image_pdf(content, image_size=IMAGE), "low.pdf"))
    assert verdict.accepted
    assert [w.code for w in verdict.warnings] == [Code.PDF_LOW_RESOLUTION]
    assert verdict.warnings[0].params == {"page": 1, "dpi": 100, "min_dpi": 200}


@pytest.mark.unit
def test_does_not_warn_at_300_dpi(files: Files) -> None:
    content, _, _ = AXIS_ALIGNED["300dpi"]
    verdict = check_pdf(files.save(files.image_pdf(content, image_size=IMAGE), "fine.pdf"))
    assert verdict.warnings == []


@pytest.mark.unit
def test_ignores_small_placements_such_as_logos_for_the_warning(files: Files) -> None:
    content = ["q 60 0 0 30 100 100 cm /Im0 Do Q"]  # 20 × 10 px at under an inch: 24 dpi
    verdict = check_pdf(files.save(files.image_pdf(content, image_size=(20, 10)), "logo.pdf"))
    assert verdict.warnings == []
    facts = verdict.facts
    assert isinstance(facts, PdfFacts)
    assert facts.min_dpi == 24.0
    strict = CheckPolicy(pdf=PdfPolicy(dpi_ignore_below_pt=0))
    assert [w.code for w in check_pdf(files.path("logo.pdf"), strict).warnings] == [Code.PDF_LOW_RESOLUTION]


@pytest.mark.unit
def test_measures_rotated_unevenly_scaled_placements(files: Files) -> None:
    content = [
        "q 0 48 -72 0 300 100 cm /Im0 Do Q"
    ]  # turned 90°: width along y (48 pt), height along -x (72 pt)
    verdict = check_pdf(files.save(files.image_pdf(content, image_size=IMAGE), "rot90.pdf"))
    assert _dpis(verdict.facts) == pytest.approx(_flat([(300, 100)]))


@pytest.mark.unit
def test_measures_placements_rotated_by_an_arbitrary_angle(files: Files) -> None:
    angle = math.radians(30)
    width, height = 48.0, 72.0
    a, b = width * math.cos(angle), width * math.sin(angle)
    c, d = -height * math.sin(angle), height * math.cos(angle)
    content = [f"q {a:.6f} {b:.6f} {c:.6f} {d:.6f} 300 100 cm /Im0 Do Q"]
    verdict = check_pdf(files.save(files.image_pdf(content, image_size=IMAGE), "rot30.pdf"))
    assert _dpis(verdict.facts) == pytest.approx(_flat([(300, 100)]), abs=0.01)


@pytest.mark.unit
def test_measures_skewed_forms_inside_rotated_content(files: Files) -> None:
    forms = {"Fm0": ("0 1 -1 0 0 0", "q 24 0 0 72 0 0 cm /Im0 Do Q")}  # form turns its content by 90°
    content = [
        "q 2 0 0 1 0 0 cm /Fm0 Do Q"
    ]  # page stretches x by 2 after the turn: height axis becomes 144 pt
    verdict = check_pdf(files.save(files.image_pdf(content, image_size=IMAGE, forms=forms), "skew.pdf"))
    assert _dpis(verdict.facts) == pytest.approx(_flat([(200 * 72 / 24, 100 * 72 / 144)]), abs=0.01)


@pytest.mark.unit
def test_applies_the_user_unit(files: Files) -> None:
    content, _, _ = AXIS_ALIGNED["300dpi"]
    verdict = check_pdf(files.save(files.image_pdf(content, image_size=IMAGE, user_unit=2.0), "uu.pdf"))
    assert _dpis(verdict.facts) == pytest.approx(_flat([(150, 150)]))


@pytest.mark.unit
def test_stops_at_recursive_forms(files: Files) -> None:
    forms = {"Fm0": ("1 0 0 1 0 0", "q 48 0 0 24 0 0 cm /Im0 Do Q /Fm0 Do")}
    pdf = files.image_pdf(["/Fm0 Do"], image_size=IMAGE, forms=forms)
    form = pdf.pages[0].Resources.XObject.Fm0
    form.Resources.XObject.Fm0 = form
    verdict = check_pdf(files.save(pdf, "recursive.pdf"))
    assert _dpis(verdict.facts) == pytest.approx(_flat([(300, 300)]))


def _pdfimages(path: Path) -> list[tuple[float, float]]:
    listing = subprocess.run(
        ["pdfimages", "-list", str(path)], check=True, capture_output=True, text=True
    ).stdout
    rows = listing.splitlines()[2:]
    # columns from the right: ... x-ppi y-ppi size ratio (the object column is "[inline]" or "num gen")
    return [(float(row.split()[-4]), float(row.split()[-3])) for row in rows if row.strip()]


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("pdfimages") is None, reason="needs poppler-utils (pdfimages)")
@pytest.mark.parametrize("case", list(AXIS_ALIGNED))
def test_agrees_with_pdfimages_on_axis_aligned_placements(files: Files, case: str) -> None:
    content, forms, _ = AXIS_ALIGNED[case]
    path = files.save(files.image_pdf(content, image_size=IMAGE, forms=forms), f"{case}.pdf")
    ours = _dpis(check_pdf(path).facts)
    theirs = _flat(_pdfimages(path))
    assert ours == pytest.approx(theirs, abs=1.0)


ROTATED = {
    "rot90-uneven": ["q 0 48 -72 0 300 100 cm /Im0 Do Q"],
    "rot30-uneven": ["q 41.569219 24 -36 62.353829 300 100 cm /Im0 Do Q"],
    "skewed-form": ["q 2 0 0 1 0 0 cm /Fm0 Do Q"],
}


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("pdfimages") is None, reason="needs poppler-utils (pdfimages)")
@pytest.mark.parametrize("case", list(ROTATED))
def test_agrees_with_pdfimages_on_rotated_and_skewed_placements(files: Files, case: str) -> None:
    forms = {"Fm0": ("0 1 -1 0 0 0", "q 24 0 0 72 0 0 cm /Im0 Do Q")}
    path = files.save(files.image_pdf(ROTATED[case], image_size=IMAGE, forms=forms), f"{case}.pdf")
    assert _dpis(check_pdf(path).facts) == pytest.approx(_flat(_pdfimages(path)), abs=1.0)
