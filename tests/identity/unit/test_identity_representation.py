"""Categories and representation: who may act for whom, on which basis, with ja/en errors per field."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from identity.domain.users import (
    Relationship,
    Representation,
    RepresentationBasis,
    RepresentationRejected,
    UserCategory,
    age_on,
    normalize_residence_card_number,
    require_valid_representation,
    validate_representation,
)

pytestmark = pytest.mark.unit

TODAY = date(2026, 3, 1)
CHILD = Representation(
    name="NGUYEN VAN BINH",
    date_of_birth=date(2015, 6, 1),
    nationality="VNM",
    residence_card_number="AB12345678CD",
    relationship=Relationship.PARENT,
    basis=RepresentationBasis.PARENTAL_AUTHORITY,
)


def codes(category: UserCategory, rep: Representation | None) -> set[str]:
    return {r.code for r in validate_representation(category, rep, today=TODAY)}


def test_a_parent_with_parental_authority_is_a_valid_legal_representative() -> None:
    assert codes(UserCategory.LEGAL_REPRESENTATIVE, CHILD) == set()


def test_a_guardian_may_represent_an_adult() -> None:
    adult = replace(
        CHILD,
        date_of_birth=date(1950, 1, 1),
        relationship=Relationship.GUARDIAN,
        basis=RepresentationBasis.GUARDIANSHIP,
    )
    assert codes(UserCategory.LEGAL_REPRESENTATIVE, adult) == set()


def test_a_relative_may_file_for_an_applicant_under_16() -> None:
    rep = replace(CHILD, basis=RepresentationBasis.APPLICANT_UNDER_16, without_parental_authority=True)
    assert codes(UserCategory.RELATIVE, rep) == set()


def test_a_parent_registering_as_a_relative_for_a_minor_is_told_to_register_as_legal_representative() -> None:
    rep = replace(CHILD, basis=RepresentationBasis.APPLICANT_UNDER_16)
    reasons = validate_representation(UserCategory.RELATIVE, rep, today=TODAY)
    assert [r.code for r in reasons] == ["representation.register_as_legal_representative"]
    assert "法定代理人" in reasons[0].ja
    adult_parent = replace(
        CHILD,
        date_of_birth=date(1990, 1, 1),
        relationship=Relationship.PARENT,
        basis=RepresentationBasis.ILLNESS,
    )
    assert codes(UserCategory.RELATIVE, adult_parent) == set()


def test_a_spouse_may_file_because_of_illness() -> None:
    rep = replace(
        CHILD,
        date_of_birth=date(1990, 1, 1),
        relationship=Relationship.SPOUSE,
        basis=RepresentationBasis.ILLNESS,
    )
    assert codes(UserCategory.RELATIVE, rep) == set()


def test_a_relative_cannot_act_under_parental_authority() -> None:
    assert codes(UserCategory.RELATIVE, CHILD) == {
        "representation.basis_not_allowed",
        "representation.register_as_legal_representative",
    }


def test_a_legal_representative_cannot_use_the_relatives_bases() -> None:
    rep = replace(CHILD, basis=RepresentationBasis.ILLNESS)
    assert codes(UserCategory.LEGAL_REPRESENTATIVE, rep) == {"representation.basis_not_allowed"}


def test_a_guardian_is_not_a_relative() -> None:
    rep = replace(CHILD, relationship=Relationship.GUARDIAN, basis=RepresentationBasis.ILLNESS)
    assert codes(UserCategory.RELATIVE, rep) == {"representation.relationship_not_allowed"}


def test_a_spouse_is_not_a_legal_representative() -> None:
    rep = replace(CHILD, relationship=Relationship.SPOUSE)
    assert codes(UserCategory.LEGAL_REPRESENTATIVE, rep) == {"representation.relationship_not_allowed"}


def test_guardianship_goes_with_the_guardian_relationship() -> None:
    rep = replace(CHILD, basis=RepresentationBasis.GUARDIANSHIP)
    assert codes(UserCategory.LEGAL_REPRESENTATIVE, rep) == {"representation.relationship_basis_mismatch"}


def test_under_16_is_checked_against_the_date_of_birth() -> None:
    rep = replace(
        CHILD,
        date_of_birth=date(2010, 3, 1),
        basis=RepresentationBasis.APPLICANT_UNDER_16,
        without_parental_authority=True,
    )
    assert codes(UserCategory.RELATIVE, rep) == {"representation.applicant_not_under_16"}
    day_before_16 = replace(rep, date_of_birth=date(2010, 3, 2))
    assert codes(UserCategory.RELATIVE, day_before_16) == set()


def test_parental_authority_ends_at_18() -> None:
    rep = replace(CHILD, date_of_birth=date(2008, 3, 1))
    assert codes(UserCategory.LEGAL_REPRESENTATIVE, rep) == {"representation.applicant_not_minor"}


def test_field_formats_are_checked() -> None:
    rep = replace(
        CHILD,
        name=" ",
        date_of_birth=date(2027, 1, 1),
        nationality="Vietnam",
        residence_card_number="AB1234567CD",
    )
    reasons = validate_representation(UserCategory.LEGAL_REPRESENTATIVE, rep, today=TODAY)
    by_field = {r.field: r.code for r in reasons}
    assert by_field == {
        "name": "representation.name_required",
        "date_of_birth": "representation.date_of_birth_in_future",
        "nationality": "representation.nationality_invalid",
        "residence_card_number": "representation.residence_card_number_invalid",
    }
    assert all(r.ja and r.en for r in reasons)


def test_a_long_name_is_refused() -> None:
    assert codes(UserCategory.LEGAL_REPRESENTATIVE, replace(CHILD, name="A" * 101)) == {
        "representation.name_too_long"
    }


def test_full_width_digits_are_not_a_residence_card_number_until_normalised() -> None:
    raw = "ａｂ１２３４５６７８ｃｄ"
    assert codes(UserCategory.LEGAL_REPRESENTATIVE, replace(CHILD, residence_card_number=raw)) == {
        "representation.residence_card_number_invalid"
    }
    assert normalize_residence_card_number(raw) == "AB12345678CD"


def test_an_applicant_abroad_may_have_no_residence_card_number() -> None:
    assert codes(UserCategory.LEGAL_REPRESENTATIVE, replace(CHILD, residence_card_number=None)) == set()


def test_a_foreign_national_records_no_representation() -> None:
    assert codes(UserCategory.FOREIGN_NATIONAL, None) == set()
    assert codes(UserCategory.FOREIGN_NATIONAL, CHILD) == {"representation.not_allowed"}


def test_representatives_must_record_whom_they_represent() -> None:
    assert codes(UserCategory.RELATIVE, None) == {"representation.required"}
    with pytest.raises(RepresentationRejected) as caught:
        require_valid_representation(UserCategory.LEGAL_REPRESENTATIVE, None, today=TODAY)
    assert caught.value.code == "representation.required"


def test_age_counts_completed_years() -> None:
    assert age_on(date(2010, 3, 2), TODAY) == 15
    assert age_on(date(2010, 3, 1), TODAY) == 16
