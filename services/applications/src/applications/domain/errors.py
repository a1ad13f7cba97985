"""Every error of the applications domain: exceptions (code, ja/en messages, HTTP status) and refusal codes.

Exceptions derive from :class:`DomainError`; the HTTP layer maps ``http_status`` and renders ``code``,
``message_ja``, ``message_en`` and ``details`` as problem details. Eligibility refusals and form field issues are
values (:class:`Refusal`, :class:`FieldIssue`) collected in full and carried by :class:`ApplicationNotEligible` and
:class:`SubmissionBlocked`; their codes are stable and listed in :data:`REFUSAL_CODES`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, ClassVar

from applications.domain.states import Action, ApplicationState


@dataclass(frozen=True)
class Refusal:
    """One reason why an application may not be created or submitted online."""

    code: str
    message_ja: str
    message_en: str
    details: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class FieldIssue:
    """One problem with one form field, with what to enter instead."""

    path: str
    code: str
    message_ja: str
    message_en: str


class DomainError(Exception):
    """Base of every domain error: a stable code, messages in Japanese and English, and an HTTP status."""

    code: ClassVar[str] = "domain.error"
    http_status: ClassVar[int] = 400

    def __init__(self, message_ja: str, message_en: str, details: Mapping[str, Any] | None = None) -> None:
        """Keep the messages and structured details."""
        super().__init__(message_en)
        self.message_ja = message_ja
        self.message_en = message_en
        self.details: Mapping[str, Any] = dict(details or {})

    def __repr__(self) -> str:
        """Show the code and the English message."""
        return f"{type(self).__name__}(code={self.code!r}, message_en={self.message_en!r})"


class ReferenceDataInvalid(DomainError):
    """The reference data files are missing, unreadable or inconsistent (raised at start)."""

    code = "reference.invalid"
    http_status = 500

    def __init__(self, *, source: str, detail: str) -> None:
        """Name the file and what is wrong with it."""
        super().__init__(
            f"参照データ {source} が不正です: {detail}",
            f"Reference data {source} is invalid: {detail}",
            {"source": source, "detail": detail},
        )


class ReferenceDataNotInForce(DomainError):
    """No version of the reference data is in force on the day asked for."""

    code = "reference.not_in_force"
    http_status = 500

    def __init__(self, *, day: date, first: date) -> None:
        """Name the day and the first effective date."""
        super().__init__(
            f"{day.isoformat()} 時点で有効な参照データがありません（最初の版は {first.isoformat()} から有効）。",
            f"No reference data is in force on {day.isoformat()} (the first version is in force from {first.isoformat()}).",
            {"day": day.isoformat(), "first": first.isoformat()},
        )


class ApplicationNotEligible(DomainError):
    """The application cannot be created online; carries every refusal, not only the first."""

    code = "application.not_eligible"
    http_status = 422

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        """Keep all refusals; the messages join theirs."""
        self.refusals = tuple(refusals)
        super().__init__(
            "オンラインで申請できません。" + " ".join(r.message_ja for r in self.refusals),
            "This application cannot be filed online. " + " ".join(r.message_en for r in self.refusals),
            {"refusals": [r.code for r in self.refusals]},
        )


class SubmissionBlocked(DomainError):
    """The draft cannot be submitted yet: every eligibility refusal and every form issue is listed."""

    code = "application.submission_blocked"
    http_status = 422

    def __init__(self, refusals: Sequence[Refusal], field_issues: Sequence[FieldIssue]) -> None:
        """Keep the refusals and the field issues."""
        self.refusals = tuple(refusals)
        self.field_issues = tuple(field_issues)
        parts_ja = [r.message_ja for r in self.refusals]
        parts_en = [r.message_en for r in self.refusals]
        if self.field_issues:
            parts_ja.append(f"入力内容に{len(self.field_issues)}件の不備があります。")
            parts_en.append(f"{len(self.field_issues)} field(s) need attention.")
        super().__init__(
            "まだ申請できません。" + " ".join(parts_ja),
            "The application cannot be submitted yet. " + " ".join(parts_en),
            {"refusals": [r.code for r in self.refusals], "fields": [i.path for i in self.field_issues]},
        )


class InvalidTransition(DomainError):
    """The action is not allowed in the application's current state."""

    code = "application.invalid_transition"
    http_status = 409

    def __init__(self, *, current: ApplicationState, action: Action, allowed: Sequence[Action]) -> None:
        """Name the current state, the refused action and the actions allowed now."""
        self.current = current
        self.action = action
        self.allowed = tuple(allowed)
        allowed_ja = "、".join(a.label_ja for a in self.allowed) or "なし"
        allowed_en = ", ".join(a.label_en for a in self.allowed) or "none"
        super().__init__(
            f"現在の状態は「{current.label_ja}」のため「{action.label_ja}」はできません。現在できる操作: {allowed_ja}。",
            f"The application is {current.label_en}, so '{action.label_en}' is not possible. Allowed now: {allowed_en}.",
            {"current": current.value, "action": action.value, "allowed": [a.value for a in self.allowed]},
        )


class RequestedDocumentsMissing(DomainError):
    """A return for documents must say which documents are requested."""

    code = "application.requested_documents_missing"
    http_status = 422

    def __init__(self) -> None:
        """Explain what the officer must enter."""
        super().__init__(
            "返却する場合は、追加で提出を求める資料を1件以上入力してください。",
            "To return the application, name at least one document to be submitted.",
        )


class InvalidReturnDeadline(DomainError):
    """The deadline of a return for documents is not after today or too far ahead."""

    code = "application.return_deadline_invalid"
    http_status = 422

    def __init__(self, *, deadline: date, today: date, max_days: int) -> None:
        """Name the deadline given and the days allowed."""
        super().__init__(
            f"提出期限 {deadline.isoformat()} は指定できません。明日から{max_days}日以内の日付を指定してください。",
            f"The deadline {deadline.isoformat()} cannot be used. Give a date from tomorrow to {max_days} days ahead.",
            {"deadline": deadline.isoformat(), "today": today.isoformat(), "max_days": max_days},
        )


class InvalidReceiptChannel(DomainError):
    """Documents received outside the system came by post or at the counter; nothing else can be recorded."""

    code = "application.receipt_channel_invalid"
    http_status = 422

    def __init__(self, channel: str) -> None:
        """Name the channel given and those allowed."""
        super().__init__(
            f"受領方法「{channel}」は指定できません。郵送（post）または窓口（counter）を指定してください。",
            f"Receipt channel {channel!r} is not possible: give post or counter.",
            {"channel": channel, "allowed": ["post", "counter"]},
        )


class InvalidReceiptNumberInput(DomainError):
    """A receipt number cannot be formatted from the given bureau code, date or sequence."""

    code = "receipt_number.invalid_input"
    http_status = 500

    def __init__(self, detail_ja: str, detail_en: str) -> None:
        """Say which input is wrong."""
        super().__init__(detail_ja, detail_en)


class InvalidFormValues(DomainError):
    """The values of a draft cannot be read at all (not a mapping, unknown procedure)."""

    code = "application.form_unreadable"
    http_status = 422

    def __init__(self, detail_ja: str, detail_en: str) -> None:
        """Say what is wrong with the payload."""
        super().__init__(detail_ja, detail_en)


class FormInputRefused(DomainError):
    """A form save is outside what the form definition allows (unknown step or field, too long, too many rows).

    Nothing is saved. The message names the first field; ``details.fields`` lists the first problems found.
    """

    code = "application.form_input_refused"
    http_status = 422

    def __init__(self, problems: Sequence[FieldIssue]) -> None:
        """Keep the problems (at least one); the message is the first one's."""
        first = problems[0]
        self.problems = tuple(problems)
        super().__init__(
            f"保存できません。{first.message_ja}",
            f"Not saved. {first.message_en}",
            {
                "fields": [
                    {"path": i.path, "code": i.code, "message_ja": i.message_ja, "message_en": i.message_en}
                    for i in self.problems
                ]
            },
        )


# ---------------------------------------------------------------------------------------------------------------
# Eligibility refusals: stable codes and their messages.

PROCEDURE_UNKNOWN = "procedure.unknown"
PROCEDURE_NOT_ONLINE = "procedure.not_online"
PROCEDURE_VARIANT_INVALID = "procedure.variant_invalid"
STATUS_MISSING = "status.missing"
STATUS_OUT_OF_SCOPE = "status.out_of_scope"
CATEGORY_NOT_ALLOWED = "category.not_allowed"
COMBINATION_NOT_ALLOWED = "combination.not_allowed"
PERIOD_LAST_DAY_OR_AFTER = "period.last_day_or_after"
APPLICANT_UNDER_15_SELF = "applicant.under_15_self"
ATTACHMENTS_MISSING = "attachments.missing"
ATTACHMENTS_TOO_MANY = "attachments.too_many"
ATTACHMENTS_REJECTED = "attachments.rejected"
ATTACHMENTS_NOT_CHECKED = "attachments.not_checked"
ATTACHMENTS_HOST_ORGANISATION_FORM_MISSING = "attachments.host_organisation_form_missing"
ATTACHMENTS_FORM19_MISSING = "attachments.form19_missing"
ATTACHMENTS_PHOTO_MISSING = "attachments.photo_missing"
ATTACHMENTS_DECLARATION_MISSING = "attachments.declaration_form9_missing"
APPLICANT_EMAIL_MISSING = "applicant.email_missing"
# Facts from the record (docs/representation.md) and filing windows as data.
REPRESENTATION_ENDED = "representation.ended"
PERIOD_WINDOW_NOT_OPEN = "period.window_not_open"
PERIOD_NOT_MID_TO_LONG_TERM = "period.not_mid_to_long_term"
ATTACHMENTS_PHOTO_PLACEHOLDER_NOT_ALLOWED = "attachments.photo_placeholder_not_allowed"

REFUSAL_CODES: tuple[str, ...] = (
    PROCEDURE_UNKNOWN,
    PROCEDURE_NOT_ONLINE,
    PROCEDURE_VARIANT_INVALID,
    STATUS_MISSING,
    STATUS_OUT_OF_SCOPE,
    CATEGORY_NOT_ALLOWED,
    COMBINATION_NOT_ALLOWED,
    PERIOD_LAST_DAY_OR_AFTER,
    APPLICANT_UNDER_15_SELF,
    ATTACHMENTS_MISSING,
    ATTACHMENTS_TOO_MANY,
    ATTACHMENTS_REJECTED,
    ATTACHMENTS_NOT_CHECKED,
    ATTACHMENTS_HOST_ORGANISATION_FORM_MISSING,
    ATTACHMENTS_FORM19_MISSING,
    ATTACHMENTS_PHOTO_MISSING,
    ATTACHMENTS_DECLARATION_MISSING,
    APPLICANT_EMAIL_MISSING,
    REPRESENTATION_ENDED,
    PERIOD_WINDOW_NOT_OPEN,
    PERIOD_NOT_MID_TO_LONG_TERM,
    ATTACHMENTS_PHOTO_PLACEHOLDER_NOT_ALLOWED,
)
"""Every refusal code; each is returned with its own ja/en message and the HTTP layer shows them as a list."""


def refusal(code: str, message_ja: str, message_en: str, **details: str) -> Refusal:
    """Build a refusal with a registered code."""
    if code not in REFUSAL_CODES:
        raise ValueError(f"unregistered refusal code {code!r}")
    return Refusal(code=code, message_ja=message_ja, message_en=message_en, details=MappingProxyType(details))
