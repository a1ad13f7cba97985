"""User categories and the representation a legal representative or relative records for the applicant.

Rules (``docs/domain.md`` §1):

- 外国人本人 (``foreign_national``) files for themself and records no representation;
- 法定代理人 (``legal_representative``) acts under ``parental_authority`` (relationship ``parent``, applicant under 18)
  or ``guardianship`` (relationship ``guardian``: 未成年後見人 or 成年後見人);
- 親族 (``relative``: ``spouse``, ``child`` or ``parent``, never the legal representative) may file only when the
  applicant is under 16 (``applicant_under_16``, checked against the date of birth) or cannot file because of
  ``illness`` or a similar reason.

The residence card number (``^[A-Z]{2}[0-9]{8}[A-Z]{2}$``) is optional: an applicant for a Certificate of Eligibility is
still abroad and has none. Nationality is an ISO 3166-1 alpha-3 code (``XXA`` etc. for stateless persons, ICAO 9303).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from identity.domain.errors import IdentityRefusal, Reason
from shared.vocabulary import ADULT_AGE, RELATIVE_AGE_LIMIT, Relationship, RepresentationBasis
from shared.vocabulary import age_on as age_on

__all__ = [
    "ADULT_AGE",
    "RELATIVE_AGE_LIMIT",
    "RESIDENCE_CARD_NUMBER",
    "Relationship",
    "Representation",
    "RepresentationBasis",
    "RepresentationRejected",
    "UserCategory",
    "age_on",
    "normalize_residence_card_number",
    "require_valid_representation",
    "validate_representation",
]

RESIDENCE_CARD_NUMBER = re.compile(r"^[A-Z]{2}[0-9]{8}[A-Z]{2}$")
NATIONALITY_CODE = re.compile(r"^[A-Z]{3}$")
MAX_NAME_LENGTH = 100


class UserCategory(StrEnum):
    """Self-registering user categories (外国人本人, 法定代理人, 親族)."""

    FOREIGN_NATIONAL = "foreign_national"
    LEGAL_REPRESENTATIVE = "legal_representative"
    RELATIVE = "relative"


ALLOWED_BASES: Mapping[UserCategory, frozenset[RepresentationBasis]] = {
    UserCategory.FOREIGN_NATIONAL: frozenset(),
    UserCategory.LEGAL_REPRESENTATIVE: frozenset(
        {RepresentationBasis.PARENTAL_AUTHORITY, RepresentationBasis.GUARDIANSHIP}
    ),
    UserCategory.RELATIVE: frozenset({RepresentationBasis.APPLICANT_UNDER_16, RepresentationBasis.ILLNESS}),
}
ALLOWED_RELATIONSHIPS: Mapping[UserCategory, frozenset[Relationship]] = {
    UserCategory.FOREIGN_NATIONAL: frozenset(),
    UserCategory.LEGAL_REPRESENTATIVE: frozenset({Relationship.PARENT, Relationship.GUARDIAN}),
    UserCategory.RELATIVE: frozenset({Relationship.SPOUSE, Relationship.CHILD, Relationship.PARENT}),
}
REQUIRED_RELATIONSHIP: Mapping[RepresentationBasis, Relationship] = {
    RepresentationBasis.PARENTAL_AUTHORITY: Relationship.PARENT,
    RepresentationBasis.GUARDIANSHIP: Relationship.GUARDIAN,
}


@dataclass(frozen=True)
class Representation:
    """The applicant a legal representative or relative files for, and on what basis."""

    name: str
    date_of_birth: date
    nationality: str
    residence_card_number: str | None
    relationship: Relationship
    basis: RepresentationBasis
    without_parental_authority: bool = False
    """A parent registering as 親族 declares they do not hold parental authority (else: register as 法定代理人)."""


class RepresentationRejected(IdentityRefusal):
    """A representation broke one or more rules; ``reasons`` lists all (each with its ``field``)."""

    def __init__(self, reasons: list[Reason]) -> None:
        super().__init__(reasons[0])
        self.reasons = reasons


def normalize_residence_card_number(text: str) -> str:
    """Return a residence card number in canonical form (half-width, upper case, no spaces or hyphens)."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(folded.split()).replace("-", "").upper()


_CATEGORY_JA = {
    UserCategory.FOREIGN_NATIONAL: "外国人本人",
    UserCategory.LEGAL_REPRESENTATIVE: "法定代理人",
    UserCategory.RELATIVE: "親族",
}


def validate_representation(
    category: UserCategory, representation: Representation | None, *, today: date
) -> list[Reason]:
    """Return every rule a category's representation breaks (empty when acceptable)."""
    if category is UserCategory.FOREIGN_NATIONAL:
        if representation is None:
            return []
        return [
            Reason(
                "representation.not_allowed",
                "外国人本人として登録する場合は、代理する申請人の情報は入力できません。",
                "A foreign national files for themself: do not enter a person you represent.",
                "representation",
            )
        ]
    if representation is None:
        return [
            Reason(
                "representation.required",
                f"{_CATEGORY_JA[category]}として登録する場合は、申請人の情報を入力してください。",
                "Enter the applicant you file for.",
                "representation",
            )
        ]
    rep = representation
    reasons: list[Reason] = []
    if not rep.name.strip():
        reasons.append(
            Reason(
                "representation.name_required",
                "申請人の氏名を入力してください。",
                "Enter the applicant's name.",
                "name",
            )
        )
    elif len(rep.name) > MAX_NAME_LENGTH:
        reasons.append(
            Reason(
                "representation.name_too_long",
                f"申請人の氏名は{MAX_NAME_LENGTH}文字以内で入力してください。",
                f"The applicant's name must be at most {MAX_NAME_LENGTH} characters.",
                "name",
            )
        )
    if rep.date_of_birth > today:
        reasons.append(
            Reason(
                "representation.date_of_birth_in_future",
                "申請人の生年月日が未来の日付になっています。",
                "The applicant's date of birth is in the future.",
                "date_of_birth",
            )
        )
    if not NATIONALITY_CODE.match(rep.nationality):
        reasons.append(
            Reason(
                "representation.nationality_invalid",
                "国籍・地域を一覧から選択してください（ISO 3166-1 の3文字コード）。",
                "Choose the nationality or region from the list (ISO 3166-1 three-letter code).",
                "nationality",
            )
        )
    if rep.residence_card_number is not None and not RESIDENCE_CARD_NUMBER.match(rep.residence_card_number):
        reasons.append(
            Reason(
                "representation.residence_card_number_invalid",
                "在留カード番号は英字2文字・数字8文字・英字2文字の12文字です（例：AB12345678CD）。",
                "A residence card number is 2 letters, 8 digits and 2 letters (for example AB12345678CD).",
                "residence_card_number",
            )
        )
    reasons.extend(_basis_reasons(category, rep, today))
    return reasons


def _basis_reasons(category: UserCategory, rep: Representation, today: date) -> list[Reason]:
    """Return the reasons the basis and relationship do not fit the category or the applicant's age."""
    reasons: list[Reason] = []
    if rep.basis not in ALLOWED_BASES[category]:
        if category is UserCategory.RELATIVE:
            ja = "親族が申請できるのは、申請人が16歳未満の場合、または病気等で申請人本人が申請できない場合に限られます。"
            en = "A relative may file only when the applicant is under 16 or cannot file because of illness or similar."
        else:
            ja = "法定代理人として登録する場合は、根拠として親権または後見を選択してください。"
            en = "A legal representative acts under parental authority or guardianship: choose one of those."
        reasons.append(Reason("representation.basis_not_allowed", ja, en, "basis"))
    if rep.relationship not in ALLOWED_RELATIONSHIPS[category]:
        if category is UserCategory.RELATIVE:
            ja = "親族として申請できるのは、配偶者、子、父又は母です。法定代理人の方は法定代理人として登録してください。"
            en = "Relatives who may file are the spouse, a child, or a parent. Legal representatives register as such."
        else:
            ja = "法定代理人の続柄は、親（親権者）または後見人を選択してください。"
            en = "A legal representative is a parent with parental authority or a guardian."
        reasons.append(Reason("representation.relationship_not_allowed", ja, en, "relationship"))
    required = REQUIRED_RELATIONSHIP.get(rep.basis)
    if (
        required is not None
        and rep.relationship is not required
        and rep.relationship in ALLOWED_RELATIONSHIPS[category]
    ):
        reasons.append(
            Reason(
                "representation.relationship_basis_mismatch",
                "親権に基づく場合の続柄は「親」、後見に基づく場合は「後見人」を選択してください。",
                "Parental authority goes with the relationship parent; guardianship with guardian.",
                "relationship",
            )
        )
    if rep.date_of_birth <= today:
        age = age_on(rep.date_of_birth, today)
        if (
            category is UserCategory.RELATIVE
            and rep.relationship is Relationship.PARENT
            and age < ADULT_AGE
            and not rep.without_parental_authority
        ):
            reasons.append(
                Reason(
                    "representation.register_as_legal_representative",
                    "未成年のお子様の親権者の方は、利用者区分「配偶者、子、父又は母等（法定代理人を除く）」ではなく、"
                    "利用者区分「法定代理人」として利用者情報登録してください。親権をお持ちでない父又は母の方は、その旨を申告してください。",
                    "A parent with parental authority over a minor child registers in the category legal "
                    "representative (法定代理人), not as a relative. If you do not hold parental authority, declare it.",
                    "category",
                )
            )
        if rep.basis is RepresentationBasis.APPLICANT_UNDER_16 and age >= RELATIVE_AGE_LIMIT:
            reasons.append(
                Reason(
                    "representation.applicant_not_under_16",
                    f"生年月日によると申請人は{age}歳です。16歳未満の場合に限り、この根拠で申請できます。",
                    f"By the date of birth the applicant is {age}; this basis applies only under 16.",
                    "basis",
                )
            )
        if rep.basis is RepresentationBasis.PARENTAL_AUTHORITY and age >= ADULT_AGE:
            reasons.append(
                Reason(
                    "representation.applicant_not_minor",
                    f"生年月日によると申請人は{age}歳で成年のため、親権に基づく代理はできません。",
                    f"By the date of birth the applicant is {age}, an adult: parental authority no longer applies.",
                    "basis",
                )
            )
    return reasons


def require_valid_representation(
    category: UserCategory, representation: Representation | None, *, today: date
) -> None:
    """Raise :class:`RepresentationRejected` listing every broken rule, or return."""
    reasons = validate_representation(category, representation, today=today)
    if reasons:
        raise RepresentationRejected(reasons)
