"""The domain rules behind issue 11 points 3 and 17–19: step-1 changes, audiences, paper receipts, deadlines,
参考様式9."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from applications.adapters.serialization import dump_application, load_application
from applications.domain.clock import FixedClock
from applications.domain.errors import (
    ApplicationNotEligible,
    InvalidReceiptChannel,
    InvalidReturnDeadline,
)
from applications.domain.events import ApplicationReturned, DocumentsResubmitted
from applications.domain.form9 import FORM9_TEXTS, Form9Tick, required_form9
from applications.domain.states import ACTIONS_OF, TRANSITIONS, Action, ApplicationState, allowed_actions
from applications.domain.values import ProcedureRequest, RequestedDocument, StatusSelection
from applications.reference import ReferenceData
from tests.applications.unit.applications_builders import TODAY, extension_form, make_case
from tests.applications.unit.test_applications_lifecycle import new_draft, under_review

pytestmark = pytest.mark.unit


def test_every_action_belongs_to_exactly_one_audience_except_the_nightly_receipt_number() -> None:
    applicant, officer = ACTIONS_OF["applicant"], ACTIONS_OF["officer"]
    assert not applicant & officer
    assert set(Action) - applicant - officer == {Action.ASSIGN_RECEIPT_NUMBER}
    for state in ApplicationState:
        assert Action.REFUSE not in allowed_actions(state, "applicant")
        assert Action.WITHDRAW not in allowed_actions(state, "officer")
    assert (ApplicationState.RETURNED, Action.RECORD_DOCUMENTS_RECEIVED) in TRANSITIONS


def test_a_step_1_change_drops_values_of_a_removed_procedure_and_reports_fields_now_wrong(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(procedures=(ProcedureRequest("extension"), ProcedureRequest("reentry", "single")))
    app = new_draft(reference, clock, case)
    app.save_draft("extension", extension_form(), reference=reference, clock=clock)
    app.save_draft("reentry", {"destination": "VIET NAM"}, reference=reference, clock=clock)
    expires = case.applicant.period_of_stay_expires_on
    assert expires is not None
    later = expires - timedelta(days=10)  # still inside the 3-month filing window
    new = dataclasses.replace(
        case,
        procedures=(ProcedureRequest("extension"),),
        applicant=dataclasses.replace(case.applicant, period_of_stay_expires_on=later, locale="en"),
    )
    report = app.change_case(new, reference=reference, clock=clock)
    assert {c.fact for c in report.changed} == {"procedures", "period_of_stay_expires_on", "applicant_locale"}
    assert [(d.path, d.value) for d in report.dropped] == [("reentry.destination", "VIET NAM")]
    assert [(i.path, i.code) for i in report.invalid] == [
        ("extension.period_of_stay_expiry", "field.mismatch")
    ]
    assert app.case == new and "reentry" not in app.form_values


def test_an_ineligible_step_1_change_is_refused_and_nothing_changes(
    reference: ReferenceData, clock: FixedClock
) -> None:
    app = new_draft(reference, clock)
    before = app.case
    with pytest.raises(ApplicationNotEligible):
        app.change_case(
            dataclasses.replace(
                before,
                applicant=dataclasses.replace(before.applicant, current_status=StatusSelection("diplomat")),
            ),
            reference=reference,
            clock=clock,
        )
    assert app.case == before


def test_documents_received_on_paper_resume_review_and_are_kept_in_the_history(
    reference: ReferenceData, clock: FixedClock
) -> None:
    app = under_review(reference, clock)
    app.return_for_documents([RequestedDocument("在職証明書")], actor_id="officer-1", clock=clock)
    with pytest.raises(InvalidReceiptChannel):
        app.record_documents_received("fax", actor_id="officer-1", clock=clock)
    app.pull_events()
    app.record_documents_received("post", actor_id="officer-2", clock=clock, note="簡易書留")
    assert app.state is ApplicationState.UNDER_REVIEW and not app.current_round.is_open
    last = app.history[-1]
    assert (last.channel, last.actor_id, last.note) == ("post", "officer-2", "簡易書留")
    (event,) = app.pull_events()
    assert isinstance(event, DocumentsResubmitted) and event.channel == "post"
    again = load_application(dump_application(app))
    assert again.history[-1].channel == "post"


def test_a_return_is_due_by_a_deadline_after_today_and_at_most_90_days_ahead(
    reference: ReferenceData, clock: FixedClock
) -> None:
    app = under_review(reference, clock)
    docs = [RequestedDocument("在職証明書")]
    for wrong in (TODAY, TODAY + timedelta(days=91)):
        with pytest.raises(InvalidReturnDeadline):
            app.return_for_documents(docs, actor_id="officer-1", clock=clock, deadline=wrong)
    opened = app.return_for_documents(docs, actor_id="officer-1", clock=clock)
    assert opened.deadline == TODAY + timedelta(days=14)
    event = app.pull_events()[-1]
    assert isinstance(event, ApplicationReturned) and event.deadline == opened.deadline
    assert event.form9 is None  # filed under 10 MB
    assert load_application(dump_application(app)).current_round.deadline == opened.deadline


def test_form_9_is_required_only_on_the_over_10mb_route_with_the_tick_of_the_round() -> None:
    assert required_form9(1, over_10mb_declared=False) is None
    assert required_form9(2, over_10mb_declared=False) is None
    assert required_form9(1, over_10mb_declared=True) is FORM9_TEXTS[Form9Tick.MORE_LATER]
    assert required_form9(3, over_10mb_declared=True) is FORM9_TEXTS[Form9Tick.BUREAU_REQUESTED]
    assert all(t.en and "10" in FORM9_TEXTS[Form9Tick.MORE_LATER].en for t in FORM9_TEXTS.values())
