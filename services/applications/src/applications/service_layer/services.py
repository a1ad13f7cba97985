"""Use cases of the applications service, each one transaction: load (row-locked), authorise, change, save, outbox.

Authorisation follows the architecture's security model: an applicant sees only their own applications, a legal
representative or relative only those of the applicants in ``principal.acts_for``; back-office use cases need the
officer role and see only the officer's bureau. An application the caller may not see is "not found".
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from applications.adapters.repository import (
    ApplicationRecord,
    AttachmentRecord,
    SqlAlchemyApplicationRepository,
    summary_of_round,
)
from applications.domain.application import Application, CaseChangeReport, FactChange
from applications.domain.clock import Clock, FixedClock, japan_today
from applications.domain.eligibility import application_status
from applications.domain.errors import InvalidTransition
from applications.domain.forms import FormValidation, check_input
from applications.domain.receipt_numbers import format_receipt_number
from applications.domain.states import ApplicationState, Audience, allowed_actions
from applications.domain.values import (
    Applicant,
    Filer,
    FilingCase,
    ProcedureRequest,
    RequestedDocument,
    StatusSelection,
)
from applications.reference.loader import ReferenceData
from applications.service_layer import errors
from applications.service_layer.bureaus import bureau_contact, bureau_unknown, choose_bureau
from applications.service_layer.messages import integration_event
from applications.service_layer.representation import filer_from_record, may_see, recorded_representation
from shared.auth import OFFICER_ROLE, OPERATOR_ROLE, Principal, require_role
from shared.bureaus import BureauDirectory, default_bureaus
from shared.events.envelope import Recipient
from shared.messaging.outbox import add_event

log = logging.getLogger(__name__)

RECEIPT_JOB_ACTOR = "system:receipt-number-job"

# Identity's user categories and the filer categories of the reference data.
FILER_CATEGORIES: dict[str, str] = {
    "foreign_national": "self",
    "legal_representative": "legal_representative",
    "relative": "relative",
}


@dataclass(frozen=True)
class NewDraft:
    """What step 1 of the input says: for whom, which procedures and statuses, and the case facts."""

    procedures: tuple[ProcedureRequest, ...]
    date_of_birth: date
    applicant_id: uuid.UUID | None = None
    relationship: str | None = None
    illness_declared: bool = False
    current_status: StatusSelection | None = None
    period_of_stay_expires_on: date | None = None
    requested_status: StatusSelection | None = None
    applicant_email: str | None = None
    applicant_locale: str | None = None
    bureau: str | None = None
    period_of_stay_months: int | None = None
    filing_from_abroad: bool = False
    address_prefecture: str | None = None


_UNSET: Any = object()


@dataclass(frozen=True)
class CaseUpdate:
    """Step-1 facts to change on a draft; a fact left at ``UNSET`` keeps its value, None clears it."""

    procedures: tuple[ProcedureRequest, ...] | None = None
    current_status: StatusSelection | None = _UNSET
    period_of_stay_expires_on: date | None = _UNSET
    requested_status: StatusSelection | None = _UNSET
    applicant_email: str | None = _UNSET
    applicant_locale: str | None = _UNSET
    bureau: str | None = None

    @staticmethod
    def unset() -> Any:
        """Return the marker of a fact left as it is."""
        return _UNSET


@dataclass(frozen=True)
class ApplicationView:
    """An application with its attachment summary, for reading."""

    record: ApplicationRecord
    attachments: list[AttachmentRecord]


class PreallocatedSequence:
    """A provisional sequence whose one number was taken from the database in the same transaction."""

    def __init__(self, day: date, value: int) -> None:
        """Hold the number of a day."""
        self._day = day
        self._value: int | None = value

    def next_value(self, day: date) -> int:
        """Return the number taken for ``day``, once."""
        if day != self._day or self._value is None:
            raise RuntimeError(f"the provisional sequence was taken for {self._day}, not {day}")
        value, self._value = self._value, None
        return value


def parse_if_match(header: str | None) -> int | None:
    """Return the version named by an If-Match header (``"3"``, ``W/"3"`` or ``3``); None for absent or ``*``."""
    if header is None or header.strip() == "*":
        return None
    text = header.strip().removeprefix("W/").strip('"')
    try:
        return int(text)
    except ValueError:
        return -1


def etag(version: int) -> str:
    """Return the ETag of a version."""
    return f'"{version}"'


class ApplicationService:
    """The use cases; one instance per process, holding the session factory, reference data and clock."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        reference: ReferenceData,
        clock: Clock,
        default_bureau: str,
        bureaus: BureauDirectory | None = None,
    ) -> None:
        """Keep what every use case needs."""
        self.sessions = sessions
        self.reference = reference
        self.clock = clock
        self.default_bureau = default_bureau
        self.bureaus = bureaus or default_bureaus()

    # -- helpers ------------------------------------------------------------------------------------------
    async def _recipients(
        self, repo: SqlAlchemyApplicationRepository, record: ApplicationRecord
    ) -> list[Recipient]:
        """Return the applicant's own address first, then the filer's (when it is another address)."""
        applicant = record.application.case.applicant
        recipients: list[Recipient] = []
        email, locale = applicant.email, applicant.locale
        if not email:
            contact = await repo.contact(record.applicant_id)
            if contact is not None:
                email, locale = contact.email, contact.locale
        if email:
            recipients.append(Recipient(email=email, locale=locale, role="applicant"))
        filer = await repo.contact(record.filer_user_id)
        if filer is not None and all(r.email.lower() != filer.email.lower() for r in recipients):
            recipients.append(Recipient(email=filer.email, locale=filer.locale, role="filer"))
        return recipients

    async def _publish(
        self, session: AsyncSession, repo: SqlAlchemyApplicationRepository, record: ApplicationRecord
    ) -> None:
        """Write the aggregate's recorded events to the outbox in this transaction."""
        events = record.application.pull_events()
        if not events:
            return
        recipients = await self._recipients(repo, record)
        snapshot = self.reference.as_of(japan_today(self.clock))
        status = application_status(record.application.case, snapshot)
        bureau = bureau_contact(self.bureaus, record.bureau)
        for event in events:
            message = integration_event(
                record,
                event,
                recipients=recipients,
                status_code=status.code if status else None,
                bureau=bureau,
            )
            if message is not None:
                await add_event(session, message)

    @staticmethod
    def _check_version(record: ApplicationRecord, if_match: int | None, *, required: bool) -> None:
        if if_match is None:
            if required:
                raise errors.precondition_required()
            return
        if if_match != record.version:
            raise errors.version_conflict(expected=if_match, current=record.version)

    @staticmethod
    def _officer_bureau(principal: Principal) -> str:
        require_role(principal, OFFICER_ROLE)
        if not principal.bureau:
            raise errors.no_bureau()
        return principal.bureau

    @staticmethod
    def _officer_sees(record: ApplicationRecord, bureau: str | None) -> bool:
        """Officers see their own bureau's applications, and never a draft (it is private to its filers)."""
        return record.bureau == bureau and record.application.state is not ApplicationState.DRAFT

    async def _change(
        self,
        principal: Principal,
        application_id: uuid.UUID,
        change: Callable[[Application, SqlAlchemyApplicationRepository, list[AttachmentRecord]], Any],
        *,
        officer: bool = False,
        if_match: int | None = None,
        version_required: bool = False,
        on_record: Callable[[ApplicationRecord], None] | None = None,
    ) -> tuple[ApplicationView, Any]:
        """Run one change in one transaction and return the application as it now is, with the change's result."""
        bureau = self._officer_bureau(principal) if officer else None
        async with self.sessions() as session, session.begin():
            repo = SqlAlchemyApplicationRepository(session)
            record = await repo.get(application_id, for_update=True)
            if record is None:
                raise errors.not_found()
            if officer and not self._officer_sees(record, bureau):
                raise errors.not_found()
            if not officer and not may_see(principal, record):
                raise errors.not_found()
            self._check_version(record, if_match, required=version_required)
            if not officer:
                record.application.join_filers(str(principal.user_id), clock=self.clock)
            attachments = await repo.attachments(record.id)
            if on_record is not None:
                on_record(record)
            try:
                result = change(record.application, repo, attachments)
                if inspect.isawaitable(result):
                    result = await result
            except InvalidTransition as exc:  # name only what this caller may do now
                audience: Audience = "officer" if officer else "applicant"
                raise InvalidTransition(
                    current=exc.current, action=exc.action, allowed=allowed_actions(exc.current, audience)
                ) from None
            await repo.save(record)
            await self._publish(session, repo, record)
            return ApplicationView(record, attachments), result

    # -- reading ------------------------------------------------------------------------------------------
    async def read(
        self, principal: Principal, application_id: uuid.UUID, *, officer: bool = False
    ) -> ApplicationView:
        """Return an application the caller may see (404 otherwise)."""
        bureau = self._officer_bureau(principal) if officer else None
        async with self.sessions() as session:
            repo = SqlAlchemyApplicationRepository(session)
            record = await repo.get(application_id)
            if record is None:
                raise errors.not_found()
            visible = self._officer_sees(record, bureau) if officer else may_see(principal, record)
            if not visible:
                raise errors.not_found()
            return ApplicationView(record, await repo.attachments(record.id))

    async def list_own(
        self, principal: Principal, *, state: str | None, limit: int, offset: int
    ) -> tuple[list[ApplicationView], int]:
        """Return the caller's applications and those of the applicants they act for (申請情報検索)."""
        applicants = [principal.user_id, *sorted(principal.acts_for)]
        async with self.sessions() as session:
            repo = SqlAlchemyApplicationRepository(session)
            records, total = await repo.list_for_applicants(
                applicants, state=state, limit=limit, offset=offset, filed_by=principal.user_id
            )
            return [ApplicationView(r, await repo.attachments(r.id)) for r in records], total

    async def queue(
        self,
        principal: Principal,
        *,
        states: Sequence[str],
        procedure: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[ApplicationView], int]:
        """Return a page of the officer's bureau's queue."""
        bureau = self._officer_bureau(principal)
        async with self.sessions() as session:
            repo = SqlAlchemyApplicationRepository(session)
            records, total = await repo.queue(
                bureau=bureau, states=states, procedure=procedure, limit=limit, offset=offset
            )
            return [ApplicationView(r, await repo.attachments(r.id)) for r in records], total

    def validate(self, view: ApplicationView) -> dict[str, FormValidation]:
        """Return the validation report of every form of the application as it stands."""
        return view.record.application.validate_forms(reference=self.reference, clock=self.clock)

    # -- applicant use cases ------------------------------------------------------------------------------
    async def create_draft(self, principal: Principal, new: NewDraft) -> ApplicationView:
        """Check eligibility and create a draft for the caller or an applicant they act for."""
        category = FILER_CATEGORIES.get(principal.category or "")
        if category is None:
            if principal.has_role(OFFICER_ROLE) or principal.has_role(OPERATOR_ROLE):
                raise errors.cannot_file()
            category = principal.category or "self"
        if category == "self":
            applicant_id = new.applicant_id or principal.user_id
            if applicant_id != principal.user_id:
                raise errors.not_linked()
        else:
            if new.applicant_id is None:
                raise errors.applicant_required()
            applicant_id = new.applicant_id
            if applicant_id not in principal.acts_for:
                raise errors.not_linked()
        bureau = choose_bureau(self.bureaus, new.bureau, new.address_prefecture, self.default_bureau)
        async with self.sessions() as session, session.begin():
            repo = SqlAlchemyApplicationRepository(session)
            email, locale = new.applicant_email, new.applicant_locale
            if not email:
                contact = await repo.contact(applicant_id)
                if contact is not None:
                    email, locale = contact.email, locale or contact.locale
            filer = Filer(user_id=str(principal.user_id), category=category)
            born = new.date_of_birth
            if category != "self":
                # Facts from the record: the representation registered at identity, not what the draft says.
                recorded = await recorded_representation(
                    session, filer_user_id=principal.user_id, applicant_id=applicant_id
                )
                filer, born = filer_from_record(principal, category, recorded, new.date_of_birth)
            case = FilingCase(
                filer=filer,
                applicant=Applicant(
                    date_of_birth=born,
                    current_status=new.current_status,
                    period_of_stay_expires_on=new.period_of_stay_expires_on,
                    period_of_stay_months=new.period_of_stay_months,
                    person_id=str(applicant_id),
                    email=email,
                    locale=locale,
                ),
                procedures=new.procedures,
                requested_status=new.requested_status,
                filing_from_abroad=new.filing_from_abroad,
            )
            app = Application.create_draft(
                application_id=str(uuid.uuid4()),
                case=case,
                actor_id=str(principal.user_id),
                reference=self.reference,
                clock=self.clock,
            )
            record = ApplicationRecord(
                application=app,
                version=1,
                bureau=bureau,
                applicant_id=applicant_id,
                filer_user_id=principal.user_id,
            )
            await repo.add(record)
            # Attachments learns the owner, the filers and the addresses on record from this event only.
            await self._publish(session, repo, record)
            return ApplicationView(record, [])

    async def delete_draft(
        self, principal: Principal, application_id: uuid.UUID, *, if_match: int | None
    ) -> None:
        """Delete a draft that was never submitted; attachments drops its files (application-draft-deleted)."""
        async with self.sessions() as session, session.begin():
            repo = SqlAlchemyApplicationRepository(session)
            record = await repo.get(application_id, for_update=True)
            if record is None or not may_see(principal, record):
                raise errors.not_found()
            self._check_version(record, if_match, required=False)
            record.application.delete_draft(actor_id=str(principal.user_id), clock=self.clock)
            await self._publish(session, repo, record)
            await repo.delete(record.id)

    async def save_form(
        self,
        principal: Principal,
        application_id: uuid.UUID,
        procedure: str,
        values: dict[str, Any],
        *,
        if_match: int | None,
        step: str | None = None,
    ) -> tuple[ApplicationView, FormValidation]:
        """Save one form's values (``step``: replace that step's fields; otherwise merge) and validate."""

        def change(app: Application, *_: Any) -> FormValidation:
            merged = dict(values)
            snapshot = self.reference.as_of(japan_today(self.clock))
            status = application_status(app.case, snapshot)
            form = snapshot.form_for(procedure, status.code if status else None)
            if form is not None and procedure in app.procedure_codes:
                # Hard bounds: nothing is stored beyond the form definition.
                check_input(form, values, step=step)
                if step is not None:
                    merged = {f.name: None for f in form.fields if f.step == step} | merged
            return app.save_draft(procedure, merged, reference=self.reference, clock=self.clock)

        view, validation = await self._change(
            principal, application_id, change, if_match=if_match, version_required=True
        )
        return view, validation

    async def submit(
        self,
        principal: Principal,
        application_id: uuid.UUID,
        *,
        over_10mb_declared: bool,
        if_match: int | None,
    ) -> ApplicationView:
        """Check everything again and submit: provisional receipt number and application-submitted at once."""

        async def change(
            app: Application, repo: SqlAlchemyApplicationRepository, attachments: list[AttachmentRecord]
        ) -> str:
            # One instant for the whole submission: a submission that straddles midnight JST takes one day.
            clock = FixedClock(self.clock.now())
            day = japan_today(clock)
            # Taken under a row lock in this transaction: a refused submission rolls it back, leaving no gap.
            sequence = PreallocatedSequence(day, await repo.next_provisional_sequence(day))
            return app.submit(
                actor_id=str(principal.user_id),
                attachments=summary_of_round(attachments, app.current_round.number),
                reference=self.reference,
                clock=clock,
                sequence=sequence,
                over_10mb_declared=over_10mb_declared,
            )

        view, _ = await self._change(principal, application_id, change, if_match=if_match)
        return view

    async def resubmit_documents(
        self, principal: Principal, application_id: uuid.UUID, *, if_match: int | None
    ) -> ApplicationView:
        """Finish the re-attachment round the bureau opened: returned → under review."""

        def change(app: Application, _: Any, attachments: list[AttachmentRecord]) -> None:
            app.resubmit_documents(
                actor_id=str(principal.user_id),
                attachments=summary_of_round(attachments, app.current_round.number),
                reference=self.reference,
                clock=self.clock,
            )

        view, _ = await self._change(principal, application_id, change, if_match=if_match)
        return view

    async def withdraw(
        self, principal: Principal, application_id: uuid.UUID, *, reason: str | None, if_match: int | None
    ) -> ApplicationView:
        """Withdraw a submitted application (until review is completed)."""

        def change(app: Application, *_: Any) -> None:
            app.withdraw(actor_id=str(principal.user_id), clock=self.clock, reason=reason)

        view, _ = await self._change(principal, application_id, change, if_match=if_match)
        return view

    async def change_case(
        self, principal: Principal, application_id: uuid.UUID, update: CaseUpdate, *, if_match: int | None
    ) -> tuple[ApplicationView, CaseChangeReport]:
        """Change step-1 facts of a draft: eligibility again, later fields checked, the change reported."""

        records: list[
            ApplicationRecord
        ] = []  # the locked record, for the bureau it keeps beside the aggregate

        def keep(new: Any, old: Any) -> Any:
            return old if new is _UNSET else new

        async def change(
            app: Application, repo: SqlAlchemyApplicationRepository, _: list[AttachmentRecord]
        ) -> CaseChangeReport:
            case, applicant = app.case, app.case.applicant
            email = keep(update.applicant_email, applicant.email)
            locale = keep(update.applicant_locale, applicant.locale)
            if update.applicant_email is not _UNSET and email is None:
                contact = await repo.contact(uuid.UUID(applicant.person_id)) if applicant.person_id else None
                if contact is not None:
                    email, locale = contact.email, locale or contact.locale
            new_case = dataclasses.replace(
                case,
                procedures=update.procedures or case.procedures,
                requested_status=keep(update.requested_status, case.requested_status),
                applicant=dataclasses.replace(
                    applicant,
                    current_status=keep(update.current_status, applicant.current_status),
                    period_of_stay_expires_on=keep(
                        update.period_of_stay_expires_on, applicant.period_of_stay_expires_on
                    ),
                    email=email,
                    locale=locale,
                ),
            )
            report = app.change_case(new_case, reference=self.reference, clock=self.clock)
            if update.bureau and update.bureau != records[0].bureau:
                if self.bureaus.get(update.bureau) is None:
                    raise bureau_unknown(update.bureau)
                changed = (*report.changed, FactChange("bureau", records[0].bureau, update.bureau))
                records[0].bureau = update.bureau
                report = dataclasses.replace(report, changed=changed)
            # The applicant's address or the bureau may have changed: attachments mails and authorises by them.
            app.announce_filers(actor_id=str(principal.user_id), clock=self.clock)
            return report

        view, report = await self._change(
            principal,
            application_id,
            change,
            if_match=if_match,
            version_required=True,
            on_record=records.append,
        )
        return view, report

    # -- back office --------------------------------------------------------------------------------------
    async def officer_action(
        self,
        principal: Principal,
        application_id: uuid.UUID,
        action: str,
        *,
        if_match: int | None = None,
        requested_documents: Sequence[RequestedDocument] = (),
        note: str | None = None,
        tracking_number: str | None = None,
        deadline: date | None = None,
        channel: str | None = None,
    ) -> ApplicationView:
        """Apply one back-office action (start review, return, documents received, complete review, dispatch,
        refuse, close)."""
        actor = str(principal.user_id)

        def change(app: Application, *_: Any) -> None:
            clock = self.clock
            if action == "start_review":
                app.start_review(actor_id=actor, clock=clock)
            elif action == "return":
                app.return_for_documents(
                    requested_documents, actor_id=actor, clock=clock, note=note, deadline=deadline
                )
            elif action == "documents_received":
                app.record_documents_received(channel or "", actor_id=actor, clock=clock, note=note)
            elif action == "complete_review":
                app.complete_review(actor_id=actor, reference=self.reference, clock=clock)
            elif action == "dispatch_card":
                app.record_card_dispatch(actor_id=actor, clock=clock, tracking_number=tracking_number)
            elif action == "refuse":
                app.refuse(actor_id=actor, clock=clock, reason=note)
            elif action == "close":
                app.close(actor_id=actor, clock=clock)
            else:
                raise ValueError(f"unknown back-office action {action!r}")

        view, _ = await self._change(principal, application_id, change, officer=True, if_match=if_match)
        return view

    # -- the receipt-number job ---------------------------------------------------------------------------
    async def assign_receipt_numbers(self, *, batch_size: int = 200) -> list[tuple[uuid.UUID, str]]:
        """Give every submitted application its official receipt number, exactly once even with several replicas.

        Each batch locks its rows with ``FOR UPDATE SKIP LOCKED`` and commits the numbers with their events, so a
        second replica running at the same time takes other rows or none.
        """
        assigned: list[tuple[uuid.UUID, str]] = []
        while True:
            async with self.sessions() as session, session.begin():
                repo = SqlAlchemyApplicationRepository(session)
                records = await repo.lock_submitted(limit=batch_size)
                if not records:
                    return assigned
                day = japan_today(self.clock)
                for record in records:
                    number = format_receipt_number(
                        record.bureau, day, await repo.next_receipt_sequence(record.bureau, day)
                    )
                    record.application.assign_receipt_number(
                        number, actor_id=RECEIPT_JOB_ACTOR, clock=self.clock
                    )
                    await repo.save(record)
                    await self._publish(session, repo, record)
                    assigned.append((record.id, number))
            log.info("assigned %d receipt numbers so far", len(assigned))
