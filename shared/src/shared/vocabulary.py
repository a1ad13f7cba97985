"""One vocabulary of representation, used by identity (which records it) and applications (which relies on it).

Relationships (the filer's relationship to the applicant): 配偶者 ``spouse``, 子 ``child``, 父又は母 ``parent``, and
後見人 ``guardian`` for a legal representative by guardianship. Bases (why someone else files): 親権
``parental_authority``, 未成年後見 / 成年後見 ``guardianship``, 16歳未満 ``applicant_under_16``, 疾病その他
``illness``. The rules of when a basis is in force live here too, so both services read them the same way
(``docs/representation.md``).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

__all__ = [
    "ADULT_AGE",
    "BASIS_NAMES",
    "RELATIONSHIP_NAMES",
    "RELATIVE_AGE_LIMIT",
    "Relationship",
    "RepresentationBasis",
    "age_on",
    "basis_ends_on",
    "basis_in_force",
]

RELATIVE_AGE_LIMIT = 16
"""A relative may file for an applicant under this age (policy: domain.md §1)."""
ADULT_AGE = 18
"""Age of majority in Japan since 2022-04-01: parental authority ends on the 18th birthday."""


class Relationship(StrEnum):
    """The filer's relationship to the applicant."""

    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    GUARDIAN = "guardian"


class RepresentationBasis(StrEnum):
    """Why someone other than the applicant files."""

    PARENTAL_AUTHORITY = "parental_authority"
    GUARDIANSHIP = "guardianship"
    APPLICANT_UNDER_16 = "applicant_under_16"
    ILLNESS = "illness"


RELATIONSHIP_NAMES: dict[Relationship, tuple[str, str]] = {
    Relationship.SPOUSE: ("配偶者", "Spouse"),
    Relationship.CHILD: ("子", "Child"),
    Relationship.PARENT: ("父又は母", "Father or mother"),
    Relationship.GUARDIAN: ("後見人（未成年後見人・成年後見人）", "Guardian (of a minor or an adult)"),
}
"""Japanese and English names of each relationship."""

BASIS_NAMES: dict[RepresentationBasis, tuple[str, str]] = {
    RepresentationBasis.PARENTAL_AUTHORITY: ("親権", "Parental authority"),
    RepresentationBasis.GUARDIANSHIP: ("未成年後見・成年後見", "Guardianship"),
    RepresentationBasis.APPLICANT_UNDER_16: ("申請人が16歳未満", "Applicant under 16"),
    RepresentationBasis.ILLNESS: ("疾病その他の事由", "Illness or a similar reason"),
}
"""Japanese and English names of each basis."""


def age_on(date_of_birth: date, day: date) -> int:
    """Return the age in completed years on ``day`` (a 29 February birthday counts from 1 March)."""
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def _birthday(date_of_birth: date, age: int) -> date:
    """Return the day the person reaches ``age`` (29 February → 1 March in other years)."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + age)
    except ValueError:
        return date(date_of_birth.year + age, 3, 1)


def basis_ends_on(basis: RepresentationBasis | str, date_of_birth: date) -> date | None:
    """Return the first day the basis no longer holds (16th or 18th birthday), or None when it does not end by age."""
    if basis == RepresentationBasis.APPLICANT_UNDER_16:
        return _birthday(date_of_birth, RELATIVE_AGE_LIMIT)
    if basis == RepresentationBasis.PARENTAL_AUTHORITY:
        return _birthday(date_of_birth, ADULT_AGE)
    return None


def basis_in_force(basis: RepresentationBasis | str, date_of_birth: date, day: date) -> bool:
    """Return whether a representation on ``basis`` for someone born on ``date_of_birth`` holds on ``day``."""
    ends = basis_ends_on(basis, date_of_birth)
    return ends is None or day < ends
