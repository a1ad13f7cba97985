"""Pydantic models of the versioned reference data: procedures, statuses, who may file, forms, attachments, fees.

A version file holds ``effective_from`` and any subset of the sections below; a :class:`ReferenceSnapshot` is the
set of sections in force on one day, checked as a whole (every code it mentions must exist).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CODE_PATTERN = r"^[a-z][a-z0-9_]*$"

FilingRule = Literal["allowed", "conditional", "not_allowed"]
"""○ allowed, △ only when the applicant is under the relative age or illness is declared, × never."""

AttachmentRefusal = Literal[
    "attachments.missing",
    "attachments.photo_missing",
    "attachments.host_organisation_form_missing",
    "attachments.form19_missing",
]

FieldType = Literal["text", "date", "enum", "boolean", "integer", "residence_card_number", "group"]
Charset = Literal["any", "latin_capitals", "half_width_alphanumeric", "phone", "digits"]
DateRule = Literal["any", "past", "future", "today_or_future"]
OptionsSource = Literal["statuses_in_scope", "specified_skill_fields", "designated_activity_notices"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(_Frozen):
    """A text shown to users, in Japanese and English."""

    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)


class CodeName(_Frozen):
    """A code with its names (an option of an enumeration, a 特定技能 field, a relationship)."""

    code: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    name: Text


class Policy(_Frozen):
    """Numeric policy values: ages and attachment size limits (file counts are ``max_count`` of requirements)."""

    self_filing_min_age: int = Field(ge=0, le=120)
    relative_filing_applicant_under_age: int = Field(ge=0, le=120)
    supporting_pdf_max_bytes: int = Field(gt=0)
    attachments_total_max_bytes: int | None = Field(default=None, gt=0)
    mid_to_long_term_min_period_months: int | None = Field(
        default=None,
        ge=0,
        description="A period of stay of this many months or less is not a mid-to-long-term resident's.",
    )
    filing_from_abroad: Text | None = Field(
        default=None, description="Why an application cannot be filed from abroad, and where to go instead."
    )


class Variant(_Frozen):
    """A variant of a procedure that changes its fee (re-entry: single or multiple)."""

    code: str = Field(pattern=CODE_PATTERN)
    name: Text


class Procedure(_Frozen):
    """A procedure (申請種別); those not online carry the explanation shown to users."""

    code: str = Field(pattern=CODE_PATTERN)
    name: Text
    online: bool
    explanation: Text | None = None
    uses_current_status: bool = False
    uses_requested_status: bool = False
    checks_period_of_stay: bool = False
    variants: tuple[Variant, ...] = ()
    window_opens_months_before_expiry: int | None = Field(
        default=None,
        ge=1,
        le=12,
        description="Filing opens this many months before the period of stay expires.",
    )
    window_min_period_months: int | None = Field(
        default=None, ge=1, description="The window applies to periods of stay of at least this many months."
    )

    @model_validator(mode="after")
    def _explained_when_not_online(self) -> Self:
        if not self.online and self.explanation is None:
            raise ValueError(f"procedure {self.code!r} is not online and needs an explanation")
        return self


class Notice(_Frozen):
    """A 告示 number of 特定活動 that is in scope."""

    number: str = Field(pattern=r"^[0-9]+(の[0-9]+)?$")
    name: Text
    excluded_procedures: tuple[str, ...] = ()
    family_member: bool = False


class StatusOfResidence(_Frozen):
    """A status of residence (在留資格); those out of scope carry the explanation shown to users."""

    code: str = Field(pattern=CODE_PATTERN)
    name: Text
    in_scope: bool
    explanation: Text | None = None
    specified_skill_fields: tuple[CodeName, ...] | None = None
    designated_activity_notices: tuple[Notice, ...] | None = None

    @model_validator(mode="after")
    def _explained_when_out_of_scope(self) -> Self:
        if not self.in_scope and self.explanation is None:
            raise ValueError(f"status {self.code!r} is out of scope and needs an explanation")
        return self


class FilerCategory(_Frozen):
    """A user category that may file (外国人本人, 法定代理人, 親族 …) and the relationships it covers."""

    code: str = Field(pattern=CODE_PATTERN)
    name: Text
    relationships: tuple[CodeName, ...] = ()


class Filing(_Frozen):
    """Who may file what: the categories and the matrix category → procedure → rule."""

    categories: tuple[FilerCategory, ...]
    matrix: dict[str, dict[str, FilingRule]]

    @model_validator(mode="after")
    def _matrix_names_known_categories(self) -> Self:
        known = {c.code for c in self.categories}
        unknown = set(self.matrix) - known
        if unknown:
            raise ValueError(f"matrix names unknown categories {sorted(unknown)}")
        missing = known - set(self.matrix)
        if missing:
            raise ValueError(f"matrix has no row for categories {sorted(missing)}")
        return self


class Combinations(_Frozen):
    """An application has exactly one main procedure; add-ons only with the mains listed for them."""

    main: tuple[str, ...]
    addons: dict[str, tuple[str, ...]]


class Condition(_Frozen):
    """When a requirement applies; every given list must match (an empty condition always applies)."""

    filer_categories: tuple[str, ...] | None = None
    procedures: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None


class AttachmentKind(_Frozen):
    """A kind of attachment (face photo, supporting PDF, proof of representation …)."""

    code: str = Field(pattern=CODE_PATTERN)
    name: Text


class AttachmentRequirement(_Frozen):
    """One attachment that must be present: any one of ``any_of``, at most ``max_count`` files of those kinds."""

    code: str = Field(pattern=CODE_PATTERN)
    any_of: tuple[str, ...] = Field(min_length=1)
    when: Condition = Condition()
    refusal: AttachmentRefusal = "attachments.missing"
    max_count: int | None = Field(default=None, gt=0)
    not_accepted: tuple[str, ...] = ()


class Attachments(_Frozen):
    """Attachment kinds and the requirements per case."""

    kinds: tuple[AttachmentKind, ...]
    requirements: tuple[AttachmentRequirement, ...]


class Fee(_Frozen):
    """The fee of one procedure (and variant), paid when the permit is issued, in yen."""

    procedure: str = Field(pattern=CODE_PATTERN)
    variant: str | None = None
    online: int = Field(ge=0)
    counter: int = Field(ge=0)


class SendItem(_Frozen):
    """Something the applicant sends once review is completed (fee form, return envelope, card)."""

    code: str = Field(pattern=CODE_PATTERN)
    name: Text
    procedures: tuple[str, ...] | None = None
    only_if_fee_due: bool = False


class RequiredWhen(_Frozen):
    """A conditional requirement: the field is required when ``field`` (a sibling) equals ``equals``."""

    field: str
    equals: str | bool | int


class Option(_Frozen):
    """An allowed value of an enumeration field."""

    value: str
    label: Text


class FieldDef(_Frozen):
    """One field of a form: its type, length, character rule and when it is required."""

    name: str = Field(pattern=CODE_PATTERN)
    label: Text
    type: FieldType
    step: str | None = None
    required: bool = False
    required_when: RequiredWhen | None = None
    min_length: int | None = Field(default=None, ge=1)
    max_length: int | None = Field(default=None, ge=1)
    charset: Charset = "any"
    options: tuple[Option, ...] | None = None
    options_from: OptionsSource | None = None
    minimum: int | None = None
    maximum: int | None = None
    date_rule: DateRule = "any"
    max_rows: int | None = Field(default=None, ge=1)
    fields: tuple[FieldDef, ...] | None = None
    hint: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.required and self.required_when is not None:
            raise ValueError(f"field {self.name!r}: 'required' and 'required_when' exclude each other")
        if self.type == "enum" and (self.options is None) == (self.options_from is None):
            raise ValueError(
                f"field {self.name!r}: an enum needs exactly one of 'options' and 'options_from'"
            )
        if self.type != "enum" and (self.options is not None or self.options_from is not None):
            raise ValueError(f"field {self.name!r}: only an enum has options")
        if self.type == "group":
            if not self.fields or self.max_rows is None:
                raise ValueError(f"field {self.name!r}: a group needs 'fields' and 'max_rows'")
            _check_sibling_references(self.fields, where=f"group {self.name!r}")
        elif self.fields is not None or self.max_rows is not None:
            raise ValueError(f"field {self.name!r}: only a group has 'fields' and 'max_rows'")
        if self.type == "text" and self.max_length is None:
            raise ValueError(
                f"field {self.name!r}: a text field needs 'max_length' (every saved value is bounded)"
            )
        if self.charset != "any" and self.type != "text":
            raise ValueError(f"field {self.name!r}: a character rule applies to text fields only")
        return self


def _check_sibling_references(fields: tuple[FieldDef, ...], *, where: str) -> None:
    names = [f.name for f in fields]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{where}: duplicate fields {duplicates}")
    for f in fields:
        if f.required_when is not None and f.required_when.field not in names:
            raise ValueError(f"{where}: field {f.name!r} depends on unknown field {f.required_when.field!r}")


class FormDef(_Frozen):
    """The form of one procedure, optionally only for some statuses (a status-specific form wins)."""

    code: str = Field(pattern=CODE_PATTERN)
    name: Text
    procedure: str = Field(pattern=CODE_PATTERN)
    statuses: tuple[str, ...] | None = None
    fields: tuple[FieldDef, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _fields_consistent(self) -> Self:
        _check_sibling_references(self.fields, where=f"form {self.code!r}")
        return self


SECTIONS: tuple[str, ...] = (
    "policy",
    "procedures",
    "statuses",
    "filing",
    "combinations",
    "attachments",
    "fees",
    "send_items",
    "forms",
)


class VersionFile(_Frozen):
    """The content of one version file: an effective date and the sections it replaces from that date."""

    effective_from: date
    description: str = Field(min_length=1)
    policy: Policy | None = None
    procedures: tuple[Procedure, ...] | None = None
    statuses: tuple[StatusOfResidence, ...] | None = None
    filing: Filing | None = None
    combinations: Combinations | None = None
    attachments: Attachments | None = None
    fees: tuple[Fee, ...] | None = None
    send_items: tuple[SendItem, ...] | None = None
    forms: tuple[FormDef, ...] | None = None

    def sections(self) -> tuple[str, ...]:
        """Return the names of the sections this file defines."""
        return tuple(s for s in SECTIONS if getattr(self, s) is not None)


def _unique(codes: list[str], what: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"duplicate {what} {code!r}")
        seen.add(code)


class ReferenceSnapshot(_Frozen):
    """The reference data in force on one day, checked as a whole."""

    effective_from: date
    sources: tuple[str, ...]
    policy: Policy
    procedures: tuple[Procedure, ...]
    statuses: tuple[StatusOfResidence, ...]
    filing: Filing
    combinations: Combinations
    attachments: Attachments
    fees: tuple[Fee, ...]
    send_items: tuple[SendItem, ...]
    forms: tuple[FormDef, ...]

    @field_validator("sources")
    @classmethod
    def _sources_named(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("a snapshot needs at least one source file")
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> Self:
        procedures = {p.code: p for p in self.procedures}
        statuses = {s.code: s for s in self.statuses}
        categories = {c.code for c in self.filing.categories}
        kinds = {k.code for k in self.attachments.kinds}
        _unique([p.code for p in self.procedures], "procedure")
        _unique([s.code for s in self.statuses], "status")
        _unique([k.code for k in self.attachments.kinds], "attachment kind")
        _unique([r.code for r in self.attachments.requirements], "attachment requirement")
        _unique([f.code for f in self.forms], "form")
        _unique([i.code for i in self.send_items], "send item")
        online = {code for code, p in procedures.items() if p.online}

        def known(codes: tuple[str, ...] | None, pool: Collection[str], what: str) -> None:
            for code in codes or ():
                if code not in pool:
                    raise ValueError(f"{what} names unknown code {code!r}")

        for category, row in self.filing.matrix.items():
            known(tuple(row), online, f"filing matrix row {category!r}")
            missing = online - set(row)
            if missing:
                raise ValueError(f"filing matrix row {category!r} has no rule for {sorted(missing)}")
        known(self.combinations.main, online, "combinations.main")
        for addon, mains in self.combinations.addons.items():
            known((addon,), online, "combinations.addons")
            known(mains, set(self.combinations.main), f"combinations.addons.{addon}")
        overlap = set(self.combinations.main) & set(self.combinations.addons)
        if overlap:
            raise ValueError(f"procedures {sorted(overlap)} are both main and add-on")
        uncovered = online - set(self.combinations.main) - set(self.combinations.addons)
        if uncovered:
            raise ValueError(f"online procedures {sorted(uncovered)} are neither main nor add-on")
        for req in self.attachments.requirements:
            where = f"attachment requirement {req.code!r}"
            known(req.any_of, kinds, where)
            known(req.not_accepted, kinds, where)
            known(req.when.filer_categories, categories, where)
            known(req.when.procedures, procedures, where)
            known(req.when.statuses, statuses, where)
        fee_keys: set[tuple[str, str | None]] = set()
        for fee in self.fees:
            key = (fee.procedure, fee.variant)
            if key in fee_keys:
                raise ValueError(f"duplicate fee for {key}")
            fee_keys.add(key)
        for code in sorted(online):
            p = procedures[code]
            expected = {(code, v.code) for v in p.variants} if p.variants else {(code, None)}
            missing_fees = expected - fee_keys
            if missing_fees:
                raise ValueError(f"no fee for {sorted(missing_fees, key=str)}")
        known(tuple(f[0] for f in fee_keys), online, "fees")
        for item in self.send_items:
            known(item.procedures, online, f"send item {item.code!r}")
        for form in self.forms:
            known((form.procedure,), online, f"form {form.code!r}")
            known(form.statuses, statuses, f"form {form.code!r}")
        for code in sorted(online):
            if not any(f.procedure == code and f.statuses is None for f in self.forms):
                raise ValueError(f"online procedure {code!r} has no general form")
        for status in self.statuses:
            if status.specified_skill_fields is not None:
                _unique([f.code for f in status.specified_skill_fields], f"{status.code} field")
            if status.designated_activity_notices is not None:
                _unique([n.number for n in status.designated_activity_notices], f"{status.code} notice")
                for notice in status.designated_activity_notices:
                    known(notice.excluded_procedures, online, f"{status.code} notice {notice.number}")
        return self

    def procedure(self, code: str) -> Procedure | None:
        """Return the procedure with this code, or None."""
        return next((p for p in self.procedures if p.code == code), None)

    def status(self, code: str) -> StatusOfResidence | None:
        """Return the status of residence with this code, or None."""
        return next((s for s in self.statuses if s.code == code), None)

    def attachment_kind(self, code: str) -> AttachmentKind | None:
        """Return the attachment kind with this code, or None."""
        return next((k for k in self.attachments.kinds if k.code == code), None)

    def category(self, code: str) -> FilerCategory | None:
        """Return the filer category with this code, or None."""
        return next((c for c in self.filing.categories if c.code == code), None)

    def fee(self, procedure: str, variant: str | None = None) -> Fee | None:
        """Return the fee of a procedure (and variant), or None."""
        return next((f for f in self.fees if f.procedure == procedure and f.variant == variant), None)

    def form_for(self, procedure: str, status: str | None) -> FormDef | None:
        """Return the form of a procedure for a status: a status-specific form wins over the general one."""
        specific = [f for f in self.forms if f.procedure == procedure and f.statuses and status in f.statuses]
        if specific:
            return specific[0]
        return next((f for f in self.forms if f.procedure == procedure and f.statuses is None), None)


_FILE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}[-.][A-Za-z0-9_.-]+\.ya?ml$")


def valid_file_name(name: str) -> bool:
    """Tell whether a version file is named ``<effective date>.<topic>.yaml``."""
    return bool(_FILE_NAME.match(name))
