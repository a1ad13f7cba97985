"""The Application aggregate: a filing from draft to closed, its history, attachment rounds and receipt numbers.

Every change goes through a method named for its command; a method checks the state machine
(:mod:`applications.domain.states`), changes the aggregate, appends a history entry and records a domain event
in ``events`` for the unit of work to collect. Nothing here touches a clock, database or broker directly: the
clock, the reference data and the provisional sequence are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
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
    InvalidReceiptChannel,
    InvalidReturnDeadline,
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
    DraftDeleted,
    FilersChanged,
    ReceiptNumberAssigned,
    ReviewCompleted,
    ReviewStarted,
)
from applications.domain.fees import FeeAssessment, SendItemDue, assess_fee, items_to_send
from applications.domain.form9 import DECLARATION_KIND, Form9Text, required_form9
from applications.domain.forms import FormValidation, parse_date, validate_form
from applications.domain.receipt_numbers import ProvisionalSequence, format_provisional_receipt_number
from applications.domain.states import TRANSITIONS, Action, ApplicationState, Audience, allowed_actions
from applications.domain.values import (
    AttachmentSummaryItem,
    FilingCase,
    RequestedDocument,
)
from applications.reference.loader import ReferenceData
from applications.reference.models import ReferenceSnapshot

PAPER_CHANNELS = ("post", "counter")
"""How documents of a returned application may reach the bureau outside the system."""

MAX_RETURN_DAYS = 90
"""The latest deadline an officer may give for requested documents, in days from today *(policy)*."""


@dataclass(frozen=True)
class HistoryEntry:
    """One step of the application's life: the state reached, when, by whom, and an optional note."""

    state: ApplicationState
    at: datetime
    actor_id: str
    note: str | None = None
    channel: str | None = None


@dataclass
class AttachmentRound:
    """One round of attachments: round 1 with the draft, one more each time the bureau asks for documents."""

    number: int
    opened_at: datetime
    closed_at: datetime | None = None
    requested_documents: tuple[RequestedDocument, ...] = ()
    deadline: date | None = None

    @property
    def is_open(self) -> bool:
        """Tell whether attachments may still be added to this round."""
        return self.closed_at is None


@dataclass
class ReviewOutcome:
    """What review completion fixed: the fee due and the items to send."""

    fee: FeeAssessment
    items_to_send: tuple[SendItemDue, ...]


@dataclass(frozen=True)
class FactChange:
    """One step-1 fact that changed: its name and the values before and after (as plain JSON values)."""

    fact: str
    before: Any
    after: Any


@dataclass(frozen=True)
class DroppedField:
    """A later-step value removed because the field is no longer on the application's forms."""

    path: str
    value: Any
    message_ja: str
    message_en: str


@dataclass(frozen=True)
class CaseChangeReport:
    """What a change of step-1 facts did: the facts changed, the values dropped and the fields now invalid."""

    changed: tuple[FactChange, ...]
    dropped: tuple[DroppedField, ...]
    invalid: tuple[FieldIssue, ...]


def _plain(value: Any) -> Any:
    """Return a step-1 fact as a JSON value (dates as ISO text, selections and procedures as objects)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    return value


def _case_facts(case: FilingCase) -> dict[str, Any]:
    applicant = case.applicant
    return {
        "procedures": case.procedures,
        "current_status": applicant.current_status,
        "requested_status": case.requested_status,
        "period_of_stay_expires_on": applicant.period_of_stay_expires_on,
        "applicant_email": applicant.email,
        "applicant_locale": applicant.locale,
    }


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
    filers: list[str] = field(default_factory=list)
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
        app.filers = app.filer_set()
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

    def filer_set(self) -> list[str]:
        """Return who may file for the application: the applicant, the filer and anyone who joined them."""
        people = [self.case.applicant.person_id, self.case.filer.user_id, *self.filers]
        return list(dict.fromkeys(p for p in people if p))

    def allowed_actions(self, audience: Audience | None = None) -> tuple[Action, ...]:
        """Return what can be done to the application now (by the audience, when one is named)."""
        return allowed_actions(self.state, audience)

    def form9_for_round(self, round_number: int) -> Form9Text | None:
        """Return the 参考様式9 checkbox a later round needs (None when it needs none)."""
        return required_form9(round_number, over_10mb_declared=self.over_10mb_declared)

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

    def join_filers(self, user_id: str, *, clock: Clock) -> bool:
        """Record that someone acting for the applicant files for the application too; True when new."""
        current = self.filer_set()
        if user_id in current:
            return False
        self.filers = [*current, user_id]
        self.events.append(
            FilersChanged(
                application_id=self.id, occurred_at=clock.now(), actor_id=user_id, filers=tuple(self.filers)
            )
        )
        return True

    def announce_filers(self, *, actor_id: str, clock: Clock) -> None:
        """Announce the filer set again, e.g. after the applicant's address or the bureau changed in step 1."""
        self.events.append(
            FilersChanged(
                application_id=self.id,
                occurred_at=clock.now(),
                actor_id=actor_id,
                filers=tuple(self.filer_set()),
            )
        )

    def delete_draft(self, *, actor_id: str, clock: Clock) -> None:
        """Delete a draft that was never submitted (the record goes; attachments drops its files)."""
        self._next_state(Action.DELETE_DRAFT)
        self.events.append(DraftDeleted(application_id=self.id, occurred_at=clock.now(), actor_id=actor_id))

    def change_case(self, case: FilingCase, *, reference: ReferenceData, clock: Clock) -> CaseChangeReport:
        """Replace the step-1 facts of a draft: eligibility runs again and the later steps are checked against them.

        An ineligible case is refused (ApplicationNotEligible) and nothing changes. Form values of a procedure no
        longer asked for, and of fields not on the form the new status uses, are dropped; the report lists them,
        the changed facts, and the fields that became wrong or missing.
        """
        self._next_state(Action.EDIT_DRAFT)
        refusals = check_eligibility(case, reference=reference, clock=clock)
        if refusals:
            raise ApplicationNotEligible(refusals)
        today = japan_today(clock)
        snapshot = reference.as_of(today)
        before = {(i.path, i.code) for v in self._validate_forms(snapshot, today).values() for i in v.issues}
        before |= {(i.path, i.code) for i in self._case_mismatches()}
        old, new = _case_facts(self.case), _case_facts(case)
        changed = tuple(
            FactChange(name, _plain(old[name]), _plain(new[name])) for name in old if old[name] != new[name]
        )
        self.case = case
        dropped: list[DroppedField] = []
        status = application_status(case, snapshot)
        for procedure in list(self.form_values):
            values = self.form_values[procedure]
            form = snapshot.form_for(procedure, status.code if status else None)
            if procedure not in case.procedure_codes or form is None:
                dropped += [
                    DroppedField(
                        f"{procedure}.{name}",
                        value,
                        f"申請種別から外れたため「{procedure}」の申請書の入力内容を削除しました。",
                        f"The {procedure} form is no longer part of the application, so its values were removed.",
                    )
                    for name, value in values.items()
                ]
                del self.form_values[procedure]
                continue
            names = {f.name for f in form.fields}
            for name in [n for n in values if n not in names]:
                dropped.append(
                    DroppedField(
                        f"{procedure}.{name}",
                        values.pop(name),
                        "変更後の在留資格の申請書にはこの項目がないため、入力内容を削除しました。",
                        "The form for the new status has no such field, so the value was removed.",
                    )
                )
        after = [i for v in self._validate_forms(snapshot, today).values() for i in v.issues]
        after += self._case_mismatches()
        invalid = tuple(i for i in after if (i.path, i.code) not in before)
        return CaseChangeReport(changed=changed, dropped=tuple(dropped), invalid=invalid)

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
            *_declaration_refusals(required_form9(1, over_10mb_declared=over_10mb_declared), attachments),
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
        deadline: date | None = None,
        default_days: int = 14,
    ) -> AttachmentRound:
        """Ask for documents by a deadline: under review → returned, opening the next attachment round (returned).

        Without a deadline the documents are due ``default_days`` from today (Japan); a deadline must be after today
        and at most ``MAX_RETURN_DAYS`` ahead.
        """
        target = self._next_state(Action.RETURN_FOR_DOCUMENTS)
        documents = tuple(d for d in requested_documents if d.description.strip())
        if not documents:
            raise RequestedDocumentsMissing()
        today = japan_today(clock)
        due = deadline or today + timedelta(days=default_days)
        if not today < due <= today + timedelta(days=MAX_RETURN_DAYS):
            raise InvalidReturnDeadline(deadline=due, today=today, max_days=MAX_RETURN_DAYS)
        now = clock.now()
        opened = AttachmentRound(
            number=self.current_round.number + 1,
            opened_at=now,
            requested_documents=documents,
            deadline=due,
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
                deadline=due,
                form9=self.form9_for_round(opened.number),
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
        refusals += _declaration_refusals(self.form9_for_round(self.current_round.number), attachments)
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
        self._enter(target, now, actor_id, None, channel="online")
        self.events.append(
            DocumentsResubmitted(
                application_id=self.id, occurred_at=now, actor_id=actor_id, round_number=closing.number
            )
        )

    def record_documents_received(
        self, channel: str, *, actor_id: str, clock: Clock, note: str | None = None
    ) -> None:
        """An officer records documents that came by post or at the counter: the round closes, review resumes."""
        target = self._next_state(Action.RECORD_DOCUMENTS_RECEIVED)
        if channel not in PAPER_CHANNELS:
            raise InvalidReceiptChannel(channel)
        now = clock.now()
        closing = self.current_round
        closing.closed_at = now
        self._enter(target, now, actor_id, note, channel=channel)
        self.events.append(
            DocumentsResubmitted(
                application_id=self.id,
                occurred_at=now,
                actor_id=actor_id,
                round_number=closing.number,
                channel=channel,
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

    def _enter(
        self,
        state: ApplicationState,
        at: datetime,
        actor_id: str,
        note: str | None,
        *,
        channel: str | None = None,
    ) -> None:
        self.state = state
        self.history.append(HistoryEntry(state=state, at=at, actor_id=actor_id, note=note, channel=channel))

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


def _declaration_refusals(
    form9: Form9Text | None, attachments: Sequence[AttachmentSummaryItem]
) -> list[e.Refusal]:
    """Return the refusal when the round needs 参考様式9 (``form9``: the box to tick) and it is not attached."""
    if form9 is None or any(a.kind == DECLARATION_KIND for a in attachments):
        return []
    return [
        e.refusal(
            e.ATTACHMENTS_DECLARATION_MISSING,
            f"「資料添付に係る申告書（参考様式9）」の「{form9.ja}」にチェックして添付してください。",
            f'Attach the Declaration on attached documents (Reference Form 9) with the box "{form9.en}" ticked.',
            requirement="declaration_form9",
            kinds=DECLARATION_KIND,
            tick=form9.tick.value,
        )
    ]
