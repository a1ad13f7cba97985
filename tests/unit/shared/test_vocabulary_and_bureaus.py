"""The shared vocabulary of representation and the shared bureau list."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shared.bureaus import load_bureaus
from shared.vocabulary import RepresentationBasis, basis_ends_on, basis_in_force

pytestmark = pytest.mark.unit


def test_a_relatives_basis_ends_on_the_16th_birthday_and_parental_authority_on_the_18th() -> None:
    born = date(2010, 6, 3)
    assert basis_in_force(RepresentationBasis.APPLICANT_UNDER_16, born, date(2026, 6, 2))
    assert not basis_in_force(RepresentationBasis.APPLICANT_UNDER_16, born, date(2026, 6, 3))
    assert basis_in_force("parental_authority", born, date(2028, 6, 2))
    assert not basis_in_force("parental_authority", born, date(2028, 6, 3))
    assert basis_in_force(RepresentationBasis.GUARDIANSHIP, born, date(2090, 1, 1))
    assert basis_ends_on(RepresentationBasis.ILLNESS, born) is None


def test_a_29_february_birthday_counts_from_1_march() -> None:
    assert basis_ends_on(RepresentationBasis.PARENTAL_AUTHORITY, date(2008, 2, 29)) == date(2026, 3, 1)


def test_every_prefecture_is_served_by_exactly_one_bureau_of_the_shipped_list() -> None:
    directory = load_bureaus(extra=None)
    for prefecture in directory.prefectures:
        assert len(directory.serving(prefecture)) == 1, prefecture
    assert directory.prefecture("京都")
    assert directory.prefecture("京都").code == "26"  # type: ignore[union-attr]
    assert directory.prefecture("okinawa").code == "47"  # type: ignore[union-attr]
    assert directory.prefecture("1").code == "01"  # type: ignore[union-attr]
    assert all(b.verify for b in directory.bureaus)


def test_an_extra_file_adds_test_desks_by_code_pattern(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "code_patterns:\n"
        "  - pattern: '^Q[A-Z0-9]{5}$'\n"
        "    name: {ja: テスト, en: Test}\n"
        "    address: {ja: テスト, en: Test}\n"
        "    phone: '00-0000-0000'\n",
        encoding="utf-8",
    )
    directory = load_bureaus(extra=extra)
    desk = directory.get("QAB12C")
    assert desk is not None and desk.kind == "test_desk"
    assert directory.get("ZZZ") is None and directory.get("TKY") is not None
