"""The Application aggregate: a filing from draft to closed, its history, attachment rounds and receipt numbers.

Every change goes through a method named for its command; a method checks the state machine
(:mod:`applications.domain.states`), changes the aggregate, appends a history entry and records a domain event
in ``events`` for the unit of work to collect. Nothing here touches a clock, database or broker directly: the
clock, the reference data and the provisional sequence are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from applications.domain import errors as e
from applications.domain.clock import JAPAN, Clock, japan_today
from applications.domain.eligibility import (
    application_status,
    attachment_refusals,
    attachment_state_refusals,
    check_eligibility,
    eligibility_refusals,
)
from applications.domain.errors import (
    ApplicationNotEligible,
    FieldIssue,
    InvalidFormValues,
    InvalidTransition,
    RequestedDocumentsMissing,
    SubmissionBlocked,
)
from applications.domain.events import (
    ApplicationClosed,
    ApplicationRefused,
    ApplicationReturned,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CardDispatched,
    DocumentsResubmitted,
    DomainEvent,
    DraftCreated,
    ReceiptNumberAssigned,
    ReviewCompleted,
    ReviewStarted,
)
from applications.domain.fees import FeeAssessment, SendItemDue, assess_fee, items_to_send
from applications.domain.forms import FormValidation, parse_date, validate_form
from applications.domain.receipt_numbers import ProvisionalSequence, format_provisional_receipt_number
from applications.domain.states import TRANSITIONS, Action, ApplicationState, allowed_actions
from applications.domain.values import (
    AttachmentSummaryItem,
    FilingCase,
    RequestedDocument,
)
from applications.reference.loader import ReferenceData
from applications.reference.models import ReferenceSnapshot


@dataclass(frozen=True)
class HistoryEntry:
    """One step of the application's life: the state reached, when, by whom, and an optional note."""

    state: ApplicationState
    at: datetime
    actor_id: str
    note: str | None = None


@dataclass
class AttachmentRound:
    """One round of attachments: round 1 with the draft, one more each time the bureau asks for documents."""

    number: int
    opened_at: datetime
    closed_at: datetime | None = None
    requested_documents: tuple[RequestedDocument, ...] = ()

    @property
    def is_open(self) -> bool:
        """Tell whether attachments may still be added to this round."""
        return self.closed_at is None


@dataclass
class ReviewOutcome:
    """What review completion fixed: the fee due and the items to send."""

    fee: FeeAssessment
    items_to_send: tuple[SendItemDue, ...]


# Form fields that repeat facts of the filing case; at submission they must agree with it.
_CASE_FIELDS: dict[str, str] = {
    "date_of_birth": "date_of_birth",
    "current_status": "current_status",
    "period_of_stay_expiry": "period_of_stay_expires_on",
    "requested_status": "requested_status",
    "purpose_of_entry": "requested_status",
}


@dataclass(eq=False)
class Application:
    """A residence application and everything that happened to it."""

    id: str
    case: FilingCase
    state: ApplicationState
    created_at: datetime
    form_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    provisional_receipt_number: str | None = None
    receipt_number: str | None = None
    submitted_at: datetime | None = None
    over_10mb_declared: bool = False
    review_outcome: ReviewOutcome | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    rounds: list[AttachmentRound] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list, repr=False)

    # -- creation -----------------------------------------------------------------------------------------
    @classmethod
    def create_draft(
        cls, *, application_id: str, case: FilingCase, actor_id: str, reference: ReferenceData, clock: Clock
    ) -> Application:
        """Create a draft if the case may be filed online; raise ApplicationNotEligible with every refusal."""
        refusals = check_eligibility(case, reference=reference, clock=clock)
        if refusals:
            raise ApplicationNotEligible(refusals)
        now = clock.now()
        app = cls(id=application_id, case=case, state=ApplicationState.DRAFT, created_at=now)
        app.rounds.append(AttachmentRound(number=1, opened_at=now))
        app.history.append(HistoryEntry(state=ApplicationState.DRAFT, at=now, actor_id=actor_id))
        app.events.append(
            DraftCreated(
                application_id=app.id, occurred_at=now, actor_id=actor_id, procedures=case.procedures
            )
        )
        return app

    # -- queries ------------------------------------------------------------------------------------------
    @property
    def procedure_codes(self) -> tuple[str, ...]:
        """Return the codes of the procedures of this application."""
        return self.case.procedure_codes

    @property
    def current_round(self) -> AttachmentRound:
        """Return the latest attachment round."""
        return self.rounds[-1]

    def allowed_actions(self) -> tuple[Action, ...]:
        """Return what can be done to the application now."""
        return allowed_actions(self.state)

    def pull_events(self) -> list[DomainEvent]:
        """Return the recorded events and forget them (the unit of work calls this after commit)."""
        pulled, self.events = self.events, []
        return pulled

    def validate_forms(self, *, reference: ReferenceData, clock: Clock) -> dict[str, FormValidation]:
        """Validate the form of every procedure as it stands (nothing is changed)."""
        today = japan_today(clock)
        return self._validate_forms(reference.as_of(today), today)

    # -- draft --------------------------------------------------------------------------------------------
    def save_draft(
        self, procedure: str, values: Mapping[str, Any], *, reference: ReferenceData, clock: Clock
    ) -> FormValidation:
        """Merge a step's values into the draft (a None value clears a field) and report what is wrong or missing.

        Saving never fails because of the content; it fails only when the application is no longer a draft, or the
        procedure is not part of it.
        """
        self._next_state(Action.EDIT_DRAFT)
        if procedure not in self.procedure_codes:
            raise InvalidFormValues(
                f"この申請に「{procedure}」の申請書はありません。",
                f"This application has no form for procedure {procedure!r}.",
            )
        merged = {**self.form_values.get(procedure, {}), **values}
        self.form_values[procedure] = {k: v for k, v in merged.items() if v is not None}
        today = japan_today(clock)
        return self._validate_forms(reference.as_of(today), today)[procedure]

    # -- transitions --------------------------------------------------------------------------------------
    def submit(
        self,
        *,
        actor_id: str,
        attachments: Sequence[AttachmentSummaryItem],
        reference: ReferenceData,
        clock: Clock,
        sequence: ProvisionalSequence,
        over_10mb_declared: bool = False,
    ) -> str:
        """Check eligibility, attachments and forms again, then submit and return the provisional receipt number.

        ``over_10mb_declared`` is the 参考様式9 route of domain.md §5: the data exceeds 10 MB and more follows in a
        later round; the declaration itself must then be among the attachments.
        """
        target = self._next_state(Action.SUBMIT)
        today = japan_today(clock)
        snapshot = reference.as_of(today)
        refusals = (
            *eligibility_refusals(self.case, snapshot, today),
            *attachment_refusals(self.case, attachments, snapshot),
            *_declaration_refusals(over_10mb_declared, attachments),
            *self._contact_refusals(),
        )
        issues = [i for v in self._validate_forms(snapshot, today).values() for i in v.all_issues]
        issues += self._case_mismatches()
        if refusals or issues:
            raise SubmissionBlocked(refusals, issues)
        now = clock.now()
        number = format_provisional_receipt_number(today, sequence.next_value(today))
        self.provisional_receipt_number = number
        self.submitted_at = now
        self.over_10mb_declared = over_10mb_declared
        self.current_round.closed_at = now
        self._enter(target, now, actor_id, None)
        applicant = self.case.applicant
        self.events.append(
            ApplicationSubmitted(
                application_id=self.id,
                occurred_at=now,
                actor_id=actor_id,
                provisional_receipt_number=number,
                procedures=self.case.procedures,
                filer_user_id=self.case.filer.user_id,
                applicant_person_id=applicant.person_id,
                applicant_email=applicant.email,
                over_10mb_declared=over_10mb_declared,
            )
        )
        return number

    def assign_receipt_number(self, receipt_number: str, *, actor_id: str, clock: Clock) -> None:
        """Record the official receipt number (the nightly job): submitted → received."""
        target = self._next_state(Action.ASSIGN_RECEIPT_NUMBER)
        now = clock.now()
        self.receipt_number = receipt_number
        self._enter(target, now, actor_id, receipt_number)
        self.events.append(
            ReceiptNumberAssigned(
                application_id=self.id, occurred_at=now, actor_id=actor_id, receipt_number=receipt_number
            )
        )

    def start_review(self, *, actor_id: str, clock: Clock) -> None:
        """An officer starts the review: received → under review."""
        target = self._next_state(Action.START_REVIEW)
        now = clock.now()
        self._enter(target, now, actor_id, None)
        self.events.append(ReviewStarted(application_id=self.id, occurred_at=now, actor_id=actor_id))

    def return_for_documents(
        self,
        requested_documents: Sequence[RequestedDocument],
        *,
        actor_id: str,
        clock: Clock,
        note: str | None = None,
    ) -> AttachmentRound:
        """Ask for documents: under review → returned, opening the next attachment round, which is returned."""
        target = self._next_state(Action.RETURN_FOR_DOCUMENTS)
        documents = tuple(d for d in requested_documents if d.description.strip())
        if not documents:
            raise RequestedDocumentsMissing()
        now = clock.now()
        opened = AttachmentRound(
            number=self.current_round.number + 1, opened_at=now, requested_documents=documents
        )
        self.rounds.append(opened)
        self._enter(target, now, actor_id, note)
        self.events.append(
            ApplicationReturned(
                application_id=self.id,
                occurred_at=now,
                actor_id=actor_id,
                round_number=opened.number,
                requested_documents=documents,
                note=note,
            )
        )
        return opened

    def resubmit_documents(
        self,
        *,
        actor_id: str,
        attachments: Sequence[AttachmentSummaryItem],
        reference: ReferenceData,
        clock: Clock,
    ) -> None:
        """The requested documents are attached: close the round, returned → under review.

        Refused (SubmissionBlocked) while an attachment of the round is rejected or still being checked, or when
        nothing was attached.
        """
        target = self._next_state(Action.RESUBMIT_DOCUMENTS)
        # A re-attachment round is checked for the state of its files; the requirements were met at submission.
        refusals = list(attachment_state_refusals(attachments, reference.as_of(japan_today(clock))))
        refusals += _declaration_refusals(self.over_10mb_declared, attachments)
        if not attachments:
            refusals.insert(
                0,
                e.refusal(
                    e.ATTACHMENTS_MISSING,
                    "依頼された資料を添付してから完了してください。",
                    "Attach the requested documents before finishing.",
                    requirement="requested_documents",
                ),
            )
        if refusals:
            raise SubmissionBlocked(refusals, ())
        now = clock.now()
        closing = self.current_round
        closing.closed_at = now
        self._enter(target, now, actor_id, None)
        self.events.append(
            DocumentsResubmitted(
                application_id=self.id, occurred_at=now, actor_id=actor_id, round_number=closing.number
            )
        )

    def complete_review(self, *, actor_id: str, reference: ReferenceData, clock: Clock) -> ReviewOutcome:
        """Complete the review: the online fee due (fee table of the filing date) and what to send."""
        target = self._next_state(Action.COMPLETE_REVIEW)
        # The fee table in force on the filing date, not today: a later revision never changes what is due.
        filed_on = self.submitted_at.astimezone(JAPAN).date() if self.submitted_at else japan_today(clock)
        snapshot = reference.as_of(filed_on)
        fee = assess_fee(self.case.procedures, snapshot=snapshot)
        outcome = ReviewOutcome(
            fee=fee, items_to_send=items_to_send(self.case.procedures, fee, snapshot=snapshot)
        )
        now = clock.now()
        self.review_outcome = outcome
        self._enter(target, now, actor_id, None)
        self.events.append(
            ReviewCompleted(
                application_id=self.id,
                occurred_at=now,
                actor_id=actor_id,
                fee_lines=fee.lines,
                fee_total=fee.total,
                items_to_send=outcome.items_to_send,
            )
        )
        return outcome

    def record_card_dispatch(
        self, *, actor_id: str, clock: Clock, tracking_number: str | None = None
    ) -> None:
        """Record that the card was sent: review completed → card dispatched."""
        target = self._next_state(Action.RECORD_CARD_DISPATCH)
        now = clock.now()
        self._enter(target, now, actor_id, tracking_number)
        self.events.append(
            CardDispatched(
                application_id=self.id, occurred_at=now, actor_id=actor_id, tracking_number=tracking_number
            )
        )

    def close(self, *, actor_id: str, clock: Clock) -> None:
        """Close the application: card dispatched → closed."""
        target = self._next_state(Action.CLOSE)
        now = clock.now()
        self._enter(target, now, actor_id, None)
        self.events.append(ApplicationClosed(application_id=self.id, occurred_at=now, actor_id=actor_id))

    def withdraw(self, *, actor_id: str, clock: Clock, reason: str | None = None) -> None:
        """The filer withdraws a submitted application (until review is completed)."""
        target = self._next_state(Action.WITHDRAW)
        now = clock.now()
        self._close_open_round(now)
        self._enter(target, now, actor_id, reason)
        self.events.append(
            ApplicationWithdrawn(application_id=self.id, occurred_at=now, actor_id=actor_id, reason=reason)
        )

    def refuse(self, *, actor_id: str, clock: Clock, reason: str | None = None) -> None:
        """The bureau refuses the application (under review or returned)."""
        target = self._next_state(Action.REFUSE)
        now = clock.now()
        self._close_open_round(now)
        self._enter(target, now, actor_id, reason)
        self.events.append(
            ApplicationRefused(application_id=self.id, occurred_at=now, actor_id=actor_id, reason=reason)
        )

    # -- internals ----------------------------------------------------------------------------------------
    def _contact_refusals(self) -> list[e.Refusal]:
        if self.case.applicant.email:
            return []
        return [
            e.refusal(
                e.APPLICANT_EMAIL_MISSING,
                "申請人本人のメールアドレスを入力してください。受付のお知らせは、申請中であることの証明として申請人本人にも送られます。",
                "Enter the applicant's own e-mail address: the receipt e-mail is the applicant's proof that an "
                "application is pending, so it goes to the applicant too.",
            )
        ]

    def _next_state(self, action: Action) -> ApplicationState:
        target = TRANSITIONS.get((self.state, action))
        if target is None:
            raise InvalidTransition(current=self.state, action=action, allowed=allowed_actions(self.state))
        return target

    def _enter(self, state: ApplicationState, at: datetime, actor_id: str, note: str | None) -> None:
        self.state = state
        self.history.append(HistoryEntry(state=state, at=at, actor_id=actor_id, note=note))

    def _close_open_round(self, at: datetime) -> None:
        if self.rounds and self.current_round.is_open:
            self.current_round.closed_at = at

    def _validate_forms(self, snapshot: ReferenceSnapshot, today: date) -> dict[str, FormValidation]:
        status = application_status(self.case, snapshot)
        results: dict[str, FormValidation] = {}
        for code in self.procedure_codes:
            form = snapshot.form_for(code, status.code if status else None)
            if form is None:
                continue  # not an online procedure: eligibility refuses it
            results[code] = validate_form(
                form, self.form_values.get(code, {}), snapshot=snapshot, today=today, prefix=f"{code}."
            )
        return results

    def _case_mismatches(self) -> list[FieldIssue]:
        applicant = self.case.applicant
        facts: dict[str, object] = {
            "date_of_birth": applicant.date_of_birth,
            "current_status": applicant.current_status.code if applicant.current_status else None,
            "period_of_stay_expires_on": applicant.period_of_stay_expires_on,
            "requested_status": self.case.requested_status.code if self.case.requested_status else None,
        }
        issues = []
        for procedure, values in self.form_values.items():
            for name, fact_name in _CASE_FIELDS.items():
                if name not in values or facts[fact_name] is None:
                    continue
                entered: object = values[name]
                if isinstance(facts[fact_name], date):
                    entered = parse_date(entered)
                if entered is not None and entered != facts[fact_name]:
                    issues.append(
                        FieldIssue(
                            path=f"{procedure}.{name}",
                            code="field.mismatch",
                            message_ja="この項目が最初の手順で入力した内容と一致しません。どちらかを訂正してください。",
                            message_en="This field does not match what was entered in the first step. Correct one of them.",
                        )
                    )
        return issues


DECLARATION_KIND = "declaration_form9"
"""The attachment kind of 参考様式9 (資料添付に係る申告書)."""


def _declaration_refusals(declared: bool, attachments: Sequence[AttachmentSummaryItem]) -> list[e.Refusal]:
    """Return the refusal when over 10 MB is declared but 参考様式9 is not attached."""
    if not declared or any(a.kind == DECLARATION_KIND for a in attachments):
        return []
    return [
        e.refusal(
            e.ATTACHMENTS_DECLARATION_MISSING,
            "資料が10MBを超える場合は「資料添付に係る申告書（参考様式9）」を添付してください。",
            "When the documents exceed 10 MB, attach the Declaration on attached documents (Reference Form 9).",
            requirement="declaration_form9",
            kinds=DECLARATION_KIND,
        )
    ]
