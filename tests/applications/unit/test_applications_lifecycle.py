"""The Application aggregate: drafts, submission, the state machine of domain.md §6, rounds, fees and events."""

from __future__ import annotations

from datetime import date

import pytest

from applications.domain import events as ev
from applications.domain.application import Application
from applications.domain.clock import FixedClock
from applications.domain.commands import (
    AssignReceiptNumber,
    CompleteReview,
    Context,
    SaveDraft,
    StartReview,
    SubmitApplication,
    handle,
)
from applications.domain.errors import (
    ApplicationNotEligible,
    InvalidFormValues,
    InvalidTransition,
    RequestedDocumentsMissing,
    SubmissionBlocked,
)
from applications.domain.states import TRANSITIONS, Action, ApplicationState
from applications.domain.values import AttachmentState, FilingCase, ProcedureRequest, RequestedDocument
from applications.reference import ReferenceData
from tests.applications.unit.applications_builders import (
    SELF_EXTENSION_ATTACHMENTS,
    TODAY,
    CountingSequence,
    attachments,
    extension_form,
    japan_clock,
    make_case,
)

pytestmark = pytest.mark.unit
S = ApplicationState


def new_draft(reference: ReferenceData, clock: FixedClock, case: FilingCase | None = None) -> Application:
    return Application.create_draft(
        application_id="app-1", case=case or make_case(), actor_id="user-1", reference=reference, clock=clock
    )


def submitted(reference: ReferenceData, clock: FixedClock, case: FilingCase | None = None) -> Application:
    app = new_draft(reference, clock, case)
    app.save_draft("extension", extension_form(), reference=reference, clock=clock)
    for code in app.procedure_codes:
        if code == "reentry":
            app.save_draft(
                code,
                {
                    "planned_departure_date": "2025-07-01",
                    "planned_return_date": "2025-08-01",
                    "destination": "VIET NAM",
                    "purpose_of_travel": "帰省",
                },
                reference=reference,
                clock=clock,
            )
    app.submit(
        actor_id="user-1",
        attachments=attachments(*SELF_EXTENSION_ATTACHMENTS),
        reference=reference,
        clock=clock,
        sequence=CountingSequence(),
    )
    return app


def under_review(reference: ReferenceData, clock: FixedClock, case: FilingCase | None = None) -> Application:
    app = submitted(reference, clock, case)
    app.assign_receipt_number("TKY-20250603-000001", actor_id="batch", clock=clock)
    app.start_review(actor_id="officer-1", clock=clock)
    return app


def test_creates_a_draft_with_the_first_attachment_round_open(
    reference: ReferenceData, clock: FixedClock
) -> None:
    app = new_draft(reference, clock)
    assert app.state == S.DRAFT
    assert [r.number for r in app.rounds] == [1] and app.current_round.is_open
    assert [h.state for h in app.history] == [S.DRAFT]
    assert isinstance(app.pull_events()[0], ev.DraftCreated)
    assert app.events == []


def test_refuses_to_create_a_draft_listing_every_refusal(reference: ReferenceData, clock: FixedClock) -> None:
    case = make_case(born=date(2012, 1, 1), expires=date(2025, 6, 1))
    with pytest.raises(ApplicationNotEligible) as caught:
        new_draft(reference, clock, case)
    assert [r.code for r in caught.value.refusals] == ["applicant.under_15_self", "period.last_day_or_after"]
    assert caught.value.http_status == 422 and caught.value.code == "application.not_eligible"


def test_saves_a_partial_draft_and_only_reports_what_is_missing(
    reference: ReferenceData, clock: FixedClock
) -> None:
    app = new_draft(reference, clock)
    result = app.save_draft("extension", {"nationality": "VIET NAM"}, reference=reference, clock=clock)
    assert app.form_values["extension"] == {"nationality": "VIET NAM"}
    assert result.issues == () and result.missing


def test_keeps_wrong_values_of_a_draft_and_reports_them(reference: ReferenceData, clock: FixedClock) -> None:
    app = new_draft(reference, clock)
    result = app.save_draft("extension", {"residence_card_number": "ab"}, reference=reference, clock=clock)
    assert app.form_values["extension"]["residence_card_number"] == "ab"
    assert [i.path for i in result.issues] == ["extension.residence_card_number"]


def test_merges_steps_and_clears_a_field_given_as_none(reference: ReferenceData, clock: FixedClock) -> None:
    app = new_draft(reference, clock)
    app.save_draft(
        "extension", {"nationality": "VIET NAM", "occupation": "会社員"}, reference=reference, clock=clock
    )
    app.save_draft("extension", {"occupation": None, "sex": "female"}, reference=reference, clock=clock)
    assert app.form_values["extension"] == {"nationality": "VIET NAM", "sex": "female"}


def test_refuses_to_save_a_form_for_a_procedure_not_in_the_application(
    reference: ReferenceData, clock: FixedClock
) -> None:
    with pytest.raises(InvalidFormValues):
        new_draft(reference, clock).save_draft("coe", {}, reference=reference, clock=clock)


def test_submits_with_a_provisional_receipt_number_of_the_japan_date(reference: ReferenceData) -> None:
    late = japan_clock(TODAY, hour=23, minute=30)
    app = submitted(reference, late)
    assert app.state == S.SUBMITTED
    assert app.provisional_receipt_number == "T20250602000001"
    assert not app.rounds[0].is_open
    event = app.pull_events()[-1]
    assert isinstance(event, ev.ApplicationSubmitted)
    assert (
        event.provisional_receipt_number == "T20250602000001"
        and event.applicant_email == "applicant@example.org"
    )


def test_blocks_submission_listing_refusals_and_field_issues_together(
    reference: ReferenceData, clock: FixedClock
) -> None:
    app = new_draft(reference, clock)
    app.save_draft("extension", extension_form(criminal_record="yes"), reference=reference, clock=clock)
    with pytest.raises(SubmissionBlocked) as caught:
        app.submit(
            actor_id="user-1",
            attachments=attachments("face_photo"),
            reference=reference,
            clock=clock,
            sequence=CountingSequence(),
        )
    assert {r.code for r in caught.value.refusals} == {
        "attachments.missing",
        "attachments.host_organisation_form_missing",
        "attachments.form19_missing",
    }
    assert [i.path for i in caught.value.field_issues] == ["extension.criminal_record_details"]
    assert app.state == S.DRAFT and app.provisional_receipt_number is None


def test_refuses_submission_on_the_last_day_of_stay(reference: ReferenceData, clock: FixedClock) -> None:
    app = new_draft(reference, clock, make_case(expires=date(2025, 6, 5)))
    app.save_draft(
        "extension", extension_form(period_of_stay_expiry="2025-06-05"), reference=reference, clock=clock
    )
    with pytest.raises(SubmissionBlocked) as caught:
        app.submit(
            actor_id="user-1",
            attachments=attachments(*SELF_EXTENSION_ATTACHMENTS),
            reference=reference,
            clock=japan_clock(date(2025, 6, 5), hour=9),
            sequence=CountingSequence(),
        )
    assert [r.code for r in caught.value.refusals] == ["period.last_day_or_after"]


def test_blocks_submission_when_the_form_contradicts_the_first_step(
    reference: ReferenceData, clock: FixedClock
) -> None:
    app = new_draft(reference, clock)
    app.save_draft(
        "extension", extension_form(period_of_stay_expiry="2026-09-30"), reference=reference, clock=clock
    )
    with pytest.raises(SubmissionBlocked) as caught:
        app.submit(
            actor_id="user-1",
            attachments=attachments(*SELF_EXTENSION_ATTACHMENTS),
            reference=reference,
            clock=clock,
            sequence=CountingSequence(),
        )
    assert [(i.path, i.code) for i in caught.value.field_issues] == [
        ("extension.period_of_stay_expiry", "field.mismatch")
    ]


def test_walks_the_happy_path_to_closed_with_history_and_events(
    reference: ReferenceData, clock: FixedClock
) -> None:
    app = under_review(reference, clock)
    app.complete_review(actor_id="officer-1", reference=reference, clock=clock)
    app.record_card_dispatch(actor_id="officer-1", clock=clock, tracking_number="JP123")
    app.close(actor_id="officer-1", clock=clock)
    assert [h.state for h in app.history] == [
        S.DRAFT,
        S.SUBMITTED,
        S.RECEIVED,
        S.UNDER_REVIEW,
        S.REVIEW_COMPLETED,
        S.CARD_DISPATCHED,
        S.CLOSED,
    ]
    assert app.receipt_number == "TKY-20250603-000001"
    assert [type(e).__name__ for e in app.pull_events()] == [
        "DraftCreated",
        "ApplicationSubmitted",
        "ReceiptNumberAssigned",
        "ReviewStarted",
        "ReviewCompleted",
        "CardDispatched",
        "ApplicationClosed",
    ]
    assert app.history[-2].note == "JP123" and app.history[-1].actor_id == "officer-1"


def test_returning_opens_a_new_round_with_the_requested_documents(
    reference: ReferenceData, clock: FixedClock
) -> None:
    app = under_review(reference, clock)
    wanted = (RequestedDocument("在職証明書", kind="supporting_documents_pdf"),)
    opened = app.return_for_documents(wanted, actor_id="officer-1", clock=clock, note="追加資料")
    assert app.state == S.RETURNED and opened.number == 2 and opened.requested_documents == wanted
    event = app.events[-1]
    assert isinstance(event, ev.ApplicationReturned) and event.round_number == 2

    app.resubmit_documents(
        actor_id="user-1",
        attachments=attachments("supporting_documents_pdf", "declaration_form9"),
        reference=reference,
        clock=clock,
    )
    app.return_for_documents((RequestedDocument("課税証明書"),), actor_id="officer-1", clock=clock)
    assert [r.number for r in app.rounds] == [1, 2, 3] and not app.rounds[1].is_open and app.rounds[2].is_open


def test_refuses_a_return_without_requested_documents(reference: ReferenceData, clock: FixedClock) -> None:
    with pytest.raises(RequestedDocumentsMissing):
        under_review(reference, clock).return_for_documents(
            (RequestedDocument("  "),), actor_id="officer-1", clock=clock
        )


def test_refuses_to_finish_a_round_while_a_file_is_rejected_or_nothing_is_attached(
    reference: ReferenceData, clock: FixedClock
) -> None:
    app = under_review(reference, clock)
    app.return_for_documents((RequestedDocument("在職証明書"),), actor_id="officer-1", clock=clock)
    with pytest.raises(SubmissionBlocked) as rejected:
        app.resubmit_documents(
            actor_id="user-1",
            attachments=attachments("supporting_documents_pdf", state=AttachmentState.REJECTED),
            reference=reference,
            clock=clock,
        )
    with pytest.raises(SubmissionBlocked) as empty:
        app.resubmit_documents(actor_id="user-1", attachments=[], reference=reference, clock=clock)
    assert [r.code for r in rejected.value.refusals] == ["attachments.rejected"]
    assert [r.code for r in empty.value.refusals] == ["attachments.missing"]
    assert app.state == S.RETURNED


def test_computes_the_online_fee_and_what_to_send_at_review_completion(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(procedures=(ProcedureRequest("extension"), ProcedureRequest("reentry", "multiple")))
    app = under_review(reference, clock, case)
    outcome = app.complete_review(actor_id="officer-1", reference=reference, clock=clock)
    assert [(line.procedure, line.amount) for line in outcome.fee.lines] == [
        ("extension", 5500),
        ("reentry", 6500),
    ]
    assert outcome.fee.total == 12000
    assert [i.code for i in outcome.items_to_send] == [
        "fee_payment_form",
        "return_envelope",
        "current_residence_card",
    ]
    event = app.events[-1]
    assert isinstance(event, ev.ReviewCompleted) and event.fee_total == 12000


def test_asks_for_no_fee_form_when_nothing_is_due(reference: ReferenceData, clock: FixedClock) -> None:
    from applications.domain.fees import assess_fee, items_to_send

    snapshot = reference.as_of(TODAY)
    fee = assess_fee([ProcedureRequest("coe")], snapshot=snapshot)
    assert fee.total == 0
    assert [i.code for i in items_to_send([ProcedureRequest("coe")], fee, snapshot=snapshot)] == [
        "return_envelope"
    ]


@pytest.mark.parametrize("state", [S.SUBMITTED, S.RECEIVED, S.UNDER_REVIEW, S.RETURNED])
def test_lets_the_filer_withdraw_until_review_is_completed(
    reference: ReferenceData, clock: FixedClock, state: ApplicationState
) -> None:
    app = under_review(reference, clock)
    app.state = state
    app.withdraw(actor_id="user-1", clock=clock, reason="帰国のため")
    assert app.state == S.WITHDRAWN and isinstance(app.events[-1], ev.ApplicationWithdrawn)


def test_lets_the_bureau_refuse_during_review(reference: ReferenceData, clock: FixedClock) -> None:
    app = under_review(reference, clock)
    app.refuse(actor_id="officer-1", clock=clock, reason="要件不適合")
    assert app.state == S.REFUSED and app.history[-1].note == "要件不適合"


def test_refuses_to_review_a_draft_naming_the_state_and_what_is_allowed(
    reference: ReferenceData, clock: FixedClock
) -> None:
    app = new_draft(reference, clock)
    with pytest.raises(InvalidTransition) as caught:
        app.complete_review(actor_id="officer-1", reference=reference, clock=clock)
    error = caught.value
    assert error.code == "application.invalid_transition" and error.http_status == 409
    assert (
        "「作成中」" in error.message_ja
        and "「審査完了」はできません" in error.message_ja
        and "申請" in error.message_ja
    )
    assert (
        "is draft" in error.message_en
        and "Allowed now: edit the draft, delete the draft, submit." in error.message_en
    )
    assert error.details["allowed"] == ["edit_draft", "delete_draft", "submit"]


def test_refuses_to_edit_a_submitted_application(reference: ReferenceData, clock: FixedClock) -> None:
    app = submitted(reference, clock)
    with pytest.raises(InvalidTransition):
        app.save_draft("extension", {"nationality": "X"}, reference=reference, clock=clock)


@pytest.mark.parametrize("state", list(ApplicationState))
@pytest.mark.parametrize("action", list(Action))
def test_allows_exactly_the_transitions_of_the_table(state: ApplicationState, action: Action) -> None:
    from applications.domain.states import allowed_actions

    assert (action in allowed_actions(state)) == ((state, action) in TRANSITIONS)


@pytest.mark.parametrize("state", [S.CLOSED, S.WITHDRAWN, S.REFUSED])
def test_allows_nothing_after_a_final_state(state: ApplicationState) -> None:
    from applications.domain.states import allowed_actions

    assert allowed_actions(state) == ()


def test_handles_commands_through_one_entry_point(reference: ReferenceData, clock: FixedClock) -> None:
    app = new_draft(reference, clock)
    context = Context(reference=reference, clock=clock, sequence=CountingSequence())
    handle(
        app,
        SaveDraft(application_id="app-1", actor_id="user-1", procedure="extension", values=extension_form()),
        context,
    )
    number = handle(
        app,
        SubmitApplication(
            application_id="app-1", actor_id="user-1", attachments=attachments(*SELF_EXTENSION_ATTACHMENTS)
        ),
        context,
    )
    handle(
        app,
        AssignReceiptNumber(application_id="app-1", actor_id="batch", receipt_number="TKY-20250603-000001"),
        context,
    )
    handle(app, StartReview(application_id="app-1", actor_id="officer-1"), context)
    handle(app, CompleteReview(application_id="app-1", actor_id="officer-1"), context)
    assert number == "T20250602000001" and app.state == S.REVIEW_COMPLETED
