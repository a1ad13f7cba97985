"""HTTP schemas of the applications service (``XCreate`` / ``XUpdate`` / ``XPublic``) and the presenters."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, EmailStr, Field

from applications.config import BUREAU_PATTERN
from applications.domain.application import CaseChangeReport
from applications.domain.eligibility import application_status, required_attachments
from applications.domain.errors import FieldIssue
from applications.domain.form9 import Form9Text
from applications.domain.forms import FormValidation
from applications.domain.states import Audience
from applications.domain.values import ProcedureRequest, StatusSelection
from applications.reference.models import ReferenceSnapshot
from applications.service_layer.services import ApplicationView, CaseUpdate


class Localized(BaseModel):
    """A text in Japanese and English."""

    ja: str
    en: str


class StatusSelectionIn(BaseModel):
    """A status of residence, with the 特定技能 field or the 特定活動 告示 number where it has them."""

    code: str = Field(max_length=60)
    specified_skill_field: str | None = Field(default=None, max_length=60)
    designated_activity_notice: str | None = Field(default=None, max_length=10)

    def to_domain(self) -> StatusSelection:
        """Return the domain value."""
        return StatusSelection(self.code, self.specified_skill_field, self.designated_activity_notice)


class ProcedureIn(BaseModel):
    """One procedure asked for (re-entry with its variant: single or multiple)."""

    code: str = Field(max_length=60)
    variant: str | None = Field(default=None, max_length=30)


class ApplicantIn(BaseModel):
    """Facts about the applicant that eligibility depends on, and their own address for the receipt."""

    date_of_birth: date
    current_status: StatusSelectionIn | None = None
    period_of_stay_expires_on: date | None = None
    period_of_stay_months: int | None = Field(
        default=None, ge=1, le=120, description="The period of stay granted, in months (e.g. 12 for 1 year)."
    )
    email: EmailStr | None = Field(default=None, description="The applicant's own address (receipt e-mail).")
    locale: Literal["ja", "en"] | None = None


class ApplicationCreate(BaseModel):
    """Step 1: the procedures, the statuses and for whom (a representative or relative names the applicant)."""

    procedures: list[ProcedureIn] = Field(min_length=1, max_length=5)
    applicant: ApplicantIn
    applicant_id: uuid.UUID | None = Field(default=None, description="Omitted when filing for yourself.")
    relationship: str | None = Field(
        default=None,
        max_length=40,
        description="Ignored: a representative's relationship comes from the representation on record.",
    )
    illness_declared: bool = Field(
        default=False,
        description="Ignored: a relative's basis (illness) comes from the representation on record.",
    )
    requested_status: StatusSelectionIn | None = None
    bureau: str | None = Field(default=None, pattern=BUREAU_PATTERN)
    filing_from_abroad: bool = Field(
        default=False, description="The applicant is abroad: not possible online (the refusal explains why)."
    )
    address_prefecture: str | None = Field(
        default=None,
        max_length=20,
        description="Prefecture of the address in Japan (name or JIS code): picks the bureau when none is given.",
    )

    def procedures_domain(self) -> tuple[ProcedureRequest, ...]:
        """Return the procedures as domain values."""
        return tuple(ProcedureRequest(p.code, p.variant) for p in self.procedures)


class ApplicantUpdate(BaseModel):
    """Applicant facts of step 1 to change; a field left out keeps its value, null clears it."""

    current_status: StatusSelectionIn | None = None
    period_of_stay_expires_on: date | None = None
    email: EmailStr | None = Field(default=None, description="The applicant's own address (receipt e-mail).")
    locale: Literal["ja", "en"] | None = None


class CaseUpdateIn(BaseModel):
    """Step-1 facts to change on a draft (PATCH semantics: only the fields sent change)."""

    procedures: list[ProcedureIn] | None = Field(default=None, min_length=1, max_length=5)
    applicant: ApplicantUpdate | None = None
    requested_status: StatusSelectionIn | None = None
    bureau: str | None = Field(default=None, pattern=BUREAU_PATTERN)

    def to_domain(self) -> CaseUpdate:
        """Return the change, telling fields left out (unchanged) from fields sent as null (cleared)."""
        unset = CaseUpdate.unset()
        applicant = self.applicant
        sent = applicant.model_fields_set if applicant else set()

        def pick(name: str, value: Any) -> Any:
            return value if name in sent else unset

        return CaseUpdate(
            procedures=tuple(ProcedureRequest(p.code, p.variant) for p in self.procedures)
            if self.procedures
            else None,
            current_status=pick(
                "current_status",
                applicant.current_status.to_domain() if applicant and applicant.current_status else None,
            ),
            period_of_stay_expires_on=pick(
                "period_of_stay_expires_on", applicant.period_of_stay_expires_on if applicant else None
            ),
            requested_status=(
                (self.requested_status.to_domain() if self.requested_status else None)
                if "requested_status" in self.model_fields_set
                else unset
            ),
            applicant_email=pick("email", str(applicant.email) if applicant and applicant.email else None),
            applicant_locale=pick("locale", applicant.locale if applicant else None),
            bureau=self.bureau,
        )


class SubmissionCreate(BaseModel):
    """Submission: optionally the 参考様式9 declaration that the data exceeds 10 MB and more follows."""

    over_10mb_declared: bool = False


class WithdrawalCreate(BaseModel):
    """Withdrawal by the filer."""

    reason: str | None = Field(default=None, max_length=500)


class RequestedDocumentIn(BaseModel):
    """A document the bureau asks for."""

    description: str = Field(max_length=300)
    kind: str | None = Field(default=None, max_length=60)


class ReturnCreate(BaseModel):
    """Return for documents (返却): the named documents, the date they are due and a message to the applicant."""

    requested_documents: list[RequestedDocumentIn] = Field(max_length=20)
    message: str | None = Field(default=None, max_length=1000)
    deadline: date | None = Field(
        default=None, description="Due date (Japan), after today and at most 90 days ahead; default 14 days."
    )


class DocumentsReceivedCreate(BaseModel):
    """Documents of a returned application that reached the bureau outside the system."""

    channel: Literal["post", "counter"]
    note: str | None = Field(default=None, max_length=1000)


class RefusalCreate(BaseModel):
    """Refusal by the bureau."""

    reason: str | None = Field(default=None, max_length=1000)


class DispatchCreate(BaseModel):
    """Card dispatch record."""

    tracking_number: str | None = Field(default=None, max_length=40)


class IssuePublic(BaseModel):
    """One problem with one field, and what to enter instead."""

    path: str
    code: str
    message_ja: str
    message_en: str


class FormReportPublic(BaseModel):
    """The validation report of one form: wrong values and still-missing required values."""

    procedure: str
    form_code: str
    complete: bool
    issues: list[IssuePublic]
    missing: list[IssuePublic]


class ValidationPublic(BaseModel):
    """The validation report of every form of an application."""

    complete: bool
    forms: list[FormReportPublic]


class FindingPublic(BaseModel):
    """A reason or warning of an attachment verdict."""

    code: str
    message_ja: str = ""
    message_en: str = ""


class AttachmentPublic(BaseModel):
    """One attachment and the verdict of its checks."""

    attachment_id: uuid.UUID
    round_number: int
    kind: str
    kind_name: Localized | None
    state: str
    filename: str | None
    reasons: list[FindingPublic]
    warnings: list[FindingPublic]


class RequestedDocumentPublic(BaseModel):
    """A document the bureau asked for."""

    description: str
    kind: str | None


class Form9Public(BaseModel):
    """The 参考様式9 box a round needs ticked: its code and its text (ja verbatim, en)."""

    tick: str
    text_ja: str
    text_en: str


class RoundPublic(BaseModel):
    """An attachment round: 1 with the draft, one more each time the bureau asks for documents."""

    number: int
    opened_at: datetime
    closed_at: datetime | None
    open: bool
    requested_documents: list[RequestedDocumentPublic]
    deadline: date | None = None
    declaration_form9: Form9Public | None = Field(
        default=None,
        description="The 参考様式9 box this round needs ticked (round 1: once over 10 MB is declared at submission).",
    )


class HistoryPublic(BaseModel):
    """One step of the application's life, with who did it."""

    state: str
    label: Localized
    at: datetime
    actor_id: str
    note: str | None
    channel: str | None = Field(
        default=None, description="How returned documents arrived: online, post or counter."
    )


class FeeLinePublic(BaseModel):
    """The fee of one procedure (online rate, yen)."""

    procedure: str
    variant: str | None
    amount_yen: int
    name: Localized


class ReviewOutcomePublic(BaseModel):
    """What review completion fixed: the fee due and what to send."""

    fee_total_yen: int
    fee_lines: list[FeeLinePublic]
    fee_table_effective_from: date
    items_to_send: list[dict[str, Any]]


class RequirementPublic(BaseModel):
    """One attachment this application needs: any one of the kinds."""

    code: str
    any_of: list[str]
    names: list[Localized]
    max_count: int | None


class ProcedurePublic(BaseModel):
    """A procedure of the application."""

    code: str
    variant: str | None
    name: Localized | None


class ApplicationPublic(BaseModel):
    """An application as its filer, applicant or an officer sees it."""

    id: uuid.UUID
    version: int
    state: str
    state_label: Localized
    allowed_actions: list[str]
    bureau: str
    applicant_id: uuid.UUID
    filer_user_id: uuid.UUID
    filer_category: str
    procedures: list[ProcedurePublic]
    status_of_residence: str | None
    provisional_receipt_number: str | None
    receipt_number: str | None
    over_10mb_declared: bool
    created_at: datetime
    updated_at: datetime | None
    submitted_at: datetime | None
    form_values: dict[str, dict[str, Any]]
    rounds: list[RoundPublic]
    attachments: list[AttachmentPublic]
    required_attachments: list[RequirementPublic]
    history: list[HistoryPublic]
    review_outcome: ReviewOutcomePublic | None


class ApplicationSummaryPublic(BaseModel):
    """A line of a list: state, receipt numbers and the attachment verdicts at a glance."""

    id: uuid.UUID
    version: int
    state: str
    state_label: Localized
    bureau: str
    applicant_id: uuid.UUID
    procedures: list[str]
    provisional_receipt_number: str | None
    receipt_number: str | None
    submitted_at: datetime | None
    created_at: datetime
    attachments_accepted: int
    attachments_rejected: int
    attachments_checking: int


class ApplicationPage(BaseModel):
    """A page of applications."""

    items: list[ApplicationSummaryPublic]
    total: int
    page: int
    page_size: int


class DraftSavedPublic(BaseModel):
    """The draft as saved and the report of the form just saved (saving never fails on missing fields)."""

    application: ApplicationPublic
    validation: FormReportPublic


class FactChangePublic(BaseModel):
    """A step-1 fact that changed."""

    fact: str
    before: Any
    after: Any


class DroppedFieldPublic(BaseModel):
    """A later-step value removed because its field is no longer on the application's forms."""

    path: str
    value: Any
    message_ja: str
    message_en: str


class CaseChangedPublic(BaseModel):
    """The draft after a step-1 change: what changed, what was dropped and which later fields are now invalid."""

    application: ApplicationPublic
    changed: list[FactChangePublic]
    dropped: list[DroppedFieldPublic]
    invalid: list[IssuePublic]


def case_changed_public(application: ApplicationPublic, report: CaseChangeReport) -> CaseChangedPublic:
    """Return the answer to a step-1 change."""
    return CaseChangedPublic(
        application=application,
        changed=[FactChangePublic(fact=c.fact, before=c.before, after=c.after) for c in report.changed],
        dropped=[
            DroppedFieldPublic(path=d.path, value=d.value, message_ja=d.message_ja, message_en=d.message_en)
            for d in report.dropped
        ],
        invalid=[issue_public(i) for i in report.invalid],
    )


class ReceiptJobPublic(BaseModel):
    """What a run of the receipt-number job did."""

    assigned: int
    receipt_numbers: dict[str, str]


def _form9(text: Form9Text | None) -> Form9Public | None:
    return Form9Public(tick=text.tick.value, text_ja=text.ja, text_en=text.en) if text else None


def _localized(ja: str, en: str) -> Localized:
    return Localized(ja=ja, en=en)


def issue_public(issue: FieldIssue) -> IssuePublic:
    """Return a field issue for the wire."""
    return IssuePublic(
        path=issue.path, code=issue.code, message_ja=issue.message_ja, message_en=issue.message_en
    )


def form_report(procedure: str, result: FormValidation) -> FormReportPublic:
    """Return one form's validation report."""
    return FormReportPublic(
        procedure=procedure,
        form_code=result.form_code,
        complete=result.complete,
        issues=[issue_public(i) for i in result.issues],
        missing=[issue_public(i) for i in result.missing],
    )


def validation_public(results: dict[str, FormValidation]) -> ValidationPublic:
    """Return the report of every form."""
    return ValidationPublic(
        complete=all(r.complete for r in results.values()),
        forms=[form_report(p, r) for p, r in results.items()],
    )


def application_public(
    view: ApplicationView, snapshot: ReferenceSnapshot, audience: Audience = "applicant"
) -> ApplicationPublic:
    """Return the full view of an application, offering only the actions of the audience looking at it."""
    record, app = view.record, view.record.application
    status = application_status(app.case, snapshot)

    def kind_name(code: str) -> Localized | None:
        kind = snapshot.attachment_kind(code)
        return _localized(kind.name.ja, kind.name.en) if kind else None

    def proc_name(code: str) -> Localized | None:
        proc = snapshot.procedure(code)
        return _localized(proc.name.ja, proc.name.en) if proc else None

    outcome = app.review_outcome
    return ApplicationPublic(
        id=record.id,
        version=record.version,
        state=app.state.value,
        state_label=_localized(app.state.label_ja, app.state.label_en),
        allowed_actions=[a.value for a in app.allowed_actions(audience)],
        bureau=record.bureau,
        applicant_id=record.applicant_id,
        filer_user_id=record.filer_user_id,
        filer_category=app.case.filer.category,
        procedures=[
            ProcedurePublic(code=p.code, variant=p.variant, name=proc_name(p.code))
            for p in app.case.procedures
        ],
        status_of_residence=status.code if status else None,
        provisional_receipt_number=app.provisional_receipt_number,
        receipt_number=app.receipt_number,
        over_10mb_declared=app.over_10mb_declared,
        created_at=app.created_at,
        updated_at=record.updated_at,
        submitted_at=app.submitted_at,
        form_values=app.form_values,
        rounds=[
            RoundPublic(
                number=r.number,
                opened_at=r.opened_at,
                closed_at=r.closed_at,
                open=r.is_open,
                requested_documents=[
                    RequestedDocumentPublic(description=d.description, kind=d.kind)
                    for d in r.requested_documents
                ],
                deadline=r.deadline,
                declaration_form9=_form9(app.form9_for_round(r.number)),
            )
            for r in app.rounds
        ],
        attachments=[
            AttachmentPublic(
                attachment_id=a.attachment_id,
                round_number=a.round_number,
                kind=a.kind,
                kind_name=kind_name(a.kind),
                state=a.state.value,
                filename=a.filename,
                reasons=[FindingPublic(**r) for r in a.reasons],
                warnings=[FindingPublic(**w) for w in a.warnings],
            )
            for a in view.attachments
        ],
        required_attachments=[
            RequirementPublic(
                code=r.code,
                any_of=list(r.any_of),
                names=[n for n in (kind_name(k) for k in r.any_of) if n is not None],
                max_count=r.max_count,
            )
            for r in required_attachments(app.case, snapshot)
        ],
        history=[
            HistoryPublic(
                state=h.state.value,
                label=_localized(h.state.label_ja, h.state.label_en),
                at=h.at,
                actor_id=h.actor_id,
                note=h.note,
                channel=h.channel,
            )
            for h in app.history
        ],
        review_outcome=(
            ReviewOutcomePublic(
                fee_total_yen=outcome.fee.total,
                fee_lines=[
                    FeeLinePublic(
                        procedure=x.procedure,
                        variant=x.variant,
                        amount_yen=x.amount,
                        name=_localized(x.name.ja, x.name.en),
                    )
                    for x in outcome.fee.lines
                ],
                fee_table_effective_from=outcome.fee.table_effective_from,
                items_to_send=[
                    {"code": i.code, "name": {"ja": i.name.ja, "en": i.name.en}}
                    for i in outcome.items_to_send
                ],
            )
            if outcome is not None
            else None
        ),
    )


def summary_public(view: ApplicationView) -> ApplicationSummaryPublic:
    """Return the list line of an application."""
    record, app = view.record, view.record.application
    states = [a.state.value for a in view.attachments]
    return ApplicationSummaryPublic(
        id=record.id,
        version=record.version,
        state=app.state.value,
        state_label=_localized(app.state.label_ja, app.state.label_en),
        bureau=record.bureau,
        applicant_id=record.applicant_id,
        procedures=list(app.procedure_codes),
        provisional_receipt_number=app.provisional_receipt_number,
        receipt_number=app.receipt_number,
        submitted_at=app.submitted_at,
        created_at=app.created_at,
        attachments_accepted=states.count("accepted"),
        attachments_rejected=states.count("rejected"),
        attachments_checking=states.count("checking"),
    )
