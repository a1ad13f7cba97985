"""Eligibility at draft creation and submission: every refusal has its own code and ja/en message."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from applications.domain.clock import FixedClock
from applications.domain.eligibility import check_eligibility, check_submission, required_attachments
from applications.domain.errors import REFUSAL_CODES
from applications.domain.values import (
    AttachmentState,
    AttachmentSummaryItem,
    FilingCase,
    ProcedureRequest,
    StatusSelection,
)
from applications.reference import ReferenceData
from tests.applications.unit.applications_builders import (
    SELF_EXTENSION_ATTACHMENTS,
    TODAY,
    attachments,
    japan_clock,
    make_case,
)

pytestmark = pytest.mark.unit


def codes(case: FilingCase, reference: ReferenceData, clock: FixedClock) -> list[str]:
    return [r.code for r in check_eligibility(case, reference=reference, clock=clock)]


def test_accepts_an_adult_extending_their_own_stay(reference: ReferenceData, clock: FixedClock) -> None:
    assert check_eligibility(make_case(), reference=reference, clock=clock) == ()


@pytest.mark.parametrize(
    "procedure", ["permanent_residence", "residence_card_entry_change", "residence_card_renewal"]
)
def test_refuses_procedures_that_are_not_online_and_says_where_to_go(
    reference: ReferenceData, clock: FixedClock, procedure: str
) -> None:
    (refusal,) = check_eligibility(
        make_case(procedures=(ProcedureRequest(procedure),)), reference=reference, clock=clock
    )[:1]
    assert refusal.code == "procedure.not_online"
    assert "窓口" in refusal.message_ja and "counter" in refusal.message_en


@pytest.mark.parametrize(
    "status", ["diplomat", "temporary_visitor", "designated_activities_departure_preparation"]
)
def test_refuses_statuses_out_of_scope(reference: ReferenceData, clock: FixedClock, status: str) -> None:
    assert codes(make_case(current=StatusSelection(status)), reference, clock) == ["status.out_of_scope"]


def test_refuses_a_requested_status_out_of_scope_for_a_change(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(procedures=(ProcedureRequest("change"),), requested=StatusSelection("temporary_visitor"))
    assert codes(case, reference, clock) == ["status.out_of_scope"]


def test_refuses_a_designated_activity_notice_that_is_not_listed(
    reference: ReferenceData, clock: FixedClock
) -> None:
    listed = make_case(current=StatusSelection("designated_activities", designated_activity_notice="46"))
    unlisted = make_case(current=StatusSelection("designated_activities", designated_activity_notice="999"))
    assert codes(listed, reference, clock) == []
    (refusal,) = check_eligibility(unlisted, reference=reference, clock=clock)
    assert refusal.code == "status.out_of_scope" and "告示999号" in refusal.message_ja


def test_refuses_a_specified_skilled_worker_without_a_listed_field(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(
        current=StatusSelection("specified_skilled_worker", specified_skill_field="space_travel")
    )
    assert codes(case, reference, clock) == ["status.out_of_scope"]


def test_refuses_a_relative_filing_for_an_adult_who_declared_no_illness(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(category="relative", relationship="spouse")
    (refusal,) = check_eligibility(case, reference=reference, clock=clock)
    assert refusal.code == "category.not_allowed"
    assert "16歳未満" in refusal.message_ja and "under 16" in refusal.message_en


def test_lets_a_relative_file_for_an_applicant_under_16(reference: ReferenceData, clock: FixedClock) -> None:
    case = make_case(category="relative", relationship="parent", born=date(2010, 6, 3))
    assert codes(case, reference, clock) == []


def test_refuses_a_relative_once_the_applicant_turns_16_that_day(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(category="relative", relationship="parent", born=date(2009, 6, 2))
    assert codes(case, reference, clock) == ["category.not_allowed"]


def test_lets_a_relative_file_when_illness_is_declared(reference: ReferenceData, clock: FixedClock) -> None:
    case = make_case(category="relative", relationship="child", illness_declared=True, born=date(1950, 1, 1))
    assert codes(case, reference, clock) == []


@pytest.mark.parametrize("procedure", ["work_certificate"])
def test_never_lets_a_relative_file_a_work_certificate(
    reference: ReferenceData, clock: FixedClock, procedure: str
) -> None:
    case = make_case(
        category="relative",
        relationship="parent",
        born=date(2015, 1, 1),
        procedures=(ProcedureRequest(procedure),),
    )
    (refusal,) = check_eligibility(case, reference=reference, clock=clock)
    assert refusal.code == "category.not_allowed" and "就労資格証明書" in refusal.message_ja


def test_never_lets_a_relative_file_outside_activity_even_with_an_extension(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(
        category="relative",
        relationship="parent",
        born=date(2015, 1, 1),
        procedures=(ProcedureRequest("extension"), ProcedureRequest("outside_activity")),
    )
    assert codes(case, reference, clock) == ["category.not_allowed"]


def test_refuses_a_relative_of_a_relationship_not_covered(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(category="relative", relationship="sibling", born=date(2015, 1, 1))
    assert codes(case, reference, clock) == ["category.not_allowed"]


def test_refuses_an_unknown_user_category(reference: ReferenceData, clock: FixedClock) -> None:
    assert codes(make_case(category="travel_agent"), reference, clock) == ["category.not_allowed"]


def test_lets_a_legal_representative_file_for_a_child(reference: ReferenceData, clock: FixedClock) -> None:
    case = make_case(category="legal_representative", relationship="parent", born=date(2012, 1, 1))
    assert codes(case, reference, clock) == []


@pytest.mark.parametrize("addon", ["reentry", "outside_activity"])
def test_refuses_an_add_on_procedure_filed_alone(
    reference: ReferenceData, clock: FixedClock, addon: str
) -> None:
    variant = "single" if addon == "reentry" else None
    (refusal,) = check_eligibility(
        make_case(procedures=(ProcedureRequest(addon, variant),)), reference=reference, clock=clock
    )
    assert refusal.code == "combination.not_allowed"
    assert "在留資格変更許可申請" in refusal.message_ja and "together with" in refusal.message_en


def test_refuses_an_add_on_with_a_certificate_of_eligibility(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(
        current=None,
        expires=None,
        procedures=(ProcedureRequest("coe"), ProcedureRequest("outside_activity")),
        requested=StatusSelection("student"),
    )
    assert "combination.not_allowed" in codes(case, reference, clock)


def test_accepts_re_entry_and_outside_activity_with_an_extension(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(
        procedures=(
            ProcedureRequest("extension"),
            ProcedureRequest("reentry", "multiple"),
            ProcedureRequest("outside_activity"),
        )
    )
    assert codes(case, reference, clock) == []


def test_refuses_two_main_procedures_at_once(reference: ReferenceData, clock: FixedClock) -> None:
    case = make_case(procedures=(ProcedureRequest("extension"), ProcedureRequest("work_certificate")))
    assert codes(case, reference, clock) == ["combination.not_allowed"]


def test_refuses_re_entry_without_choosing_single_or_multiple(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(procedures=(ProcedureRequest("extension"), ProcedureRequest("reentry")))
    assert codes(case, reference, clock) == ["procedure.variant_invalid"]


def test_refuses_submission_on_the_last_day_of_stay(reference: ReferenceData) -> None:
    case = make_case(expires=TODAY)
    (refusal,) = check_eligibility(case, reference=reference, clock=japan_clock(TODAY, hour=0, minute=1))
    assert refusal.code == "period.last_day_or_after"
    assert "当日" in refusal.message_ja and "地方出入国在留管理官署" in refusal.message_ja


def test_refuses_after_the_period_of_stay_has_expired(reference: ReferenceData, clock: FixedClock) -> None:
    assert codes(make_case(expires=date(2025, 6, 1)), reference, clock) == ["period.last_day_or_after"]


def test_accepts_the_day_before_the_last_day_until_midnight_in_japan(reference: ReferenceData) -> None:
    case = make_case(expires=TODAY)
    late_evening = japan_clock(date(2025, 6, 1), hour=23, minute=59)
    assert codes(case, reference, late_evening) == []


def test_counts_the_last_day_in_japan_time_even_when_it_is_still_the_day_before_in_utc(
    reference: ReferenceData,
) -> None:
    case = make_case(expires=TODAY)
    utc_evening_before = FixedClock(datetime(2025, 6, 1, 15, 30, tzinfo=UTC))  # 00:30 on 2 June in Tokyo
    assert codes(case, reference, utc_evening_before) == ["period.last_day_or_after"]


def test_does_not_apply_the_last_day_rule_to_a_certificate_of_eligibility(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(
        current=None,
        expires=date(2000, 1, 1),
        procedures=(ProcedureRequest("coe"),),
        requested=StatusSelection("student"),
    )
    assert codes(case, reference, clock) == []


def test_refuses_an_applicant_under_15_filing_themself(reference: ReferenceData, clock: FixedClock) -> None:
    (refusal,) = check_eligibility(make_case(born=date(2010, 6, 3)), reference=reference, clock=clock)
    assert refusal.code == "applicant.under_15_self"
    assert "15歳未満" in refusal.message_ja and "under 15" in refusal.message_en


def test_lets_an_applicant_file_themself_on_their_15th_birthday(
    reference: ReferenceData, clock: FixedClock
) -> None:
    assert codes(make_case(born=date(2010, 6, 2)), reference, clock) == []


def test_asks_for_the_current_status_and_expiry_when_a_procedure_needs_them(
    reference: ReferenceData, clock: FixedClock
) -> None:
    refusals = check_eligibility(make_case(current=None, expires=None), reference=reference, clock=clock)
    assert [r.code for r in refusals] == ["status.missing", "status.missing"]
    assert {r.details["which"] for r in refusals} == {"current", "period_of_stay_expires_on"}


def test_returns_every_refusal_not_just_the_first(reference: ReferenceData) -> None:
    case = make_case(
        category="self",
        born=date(2012, 1, 1),
        current=StatusSelection("temporary_visitor"),
        expires=TODAY,
        procedures=(ProcedureRequest("outside_activity"),),
    )
    found = codes(case, reference, japan_clock(TODAY))
    assert set(found) == {
        "combination.not_allowed",
        "status.out_of_scope",
        "applicant.under_15_self",
        "period.last_day_or_after",
    }


def test_gives_every_refusal_a_registered_code_and_both_languages(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(
        category="relative",
        relationship="sibling",
        procedures=(ProcedureRequest("work_certificate"), ProcedureRequest("reentry")),
    )
    refusals = check_eligibility(case, reference=reference, clock=clock)
    assert refusals
    for refusal in refusals:
        assert refusal.code in REFUSAL_CODES
        assert refusal.message_ja and refusal.message_en and refusal.message_ja != refusal.message_en


# -- attachments ----------------------------------------------------------------------------------------------


def submission_codes(
    case: FilingCase, items: list[AttachmentSummaryItem], reference: ReferenceData, clock: FixedClock
) -> list[str]:
    return [r.code for r in check_submission(case, items, reference=reference, clock=clock)]


def test_accepts_submission_with_every_required_attachment_accepted(
    reference: ReferenceData, clock: FixedClock
) -> None:
    assert submission_codes(make_case(), attachments(*SELF_EXTENSION_ATTACHMENTS), reference, clock) == []


def test_requires_a_face_photo_and_refuses_the_no_photo_placeholder_for_an_extension(
    reference: ReferenceData, clock: FixedClock
) -> None:
    without = [k for k in SELF_EXTENSION_ATTACHMENTS if k != "face_photo"]
    assert submission_codes(make_case(), attachments(*without), reference, clock) == [
        "attachments.photo_missing"
    ]
    assert submission_codes(make_case(), attachments(*without, "no_photo_placeholder"), reference, clock) == [
        "attachments.photo_missing",
        "attachments.photo_placeholder_not_allowed",
    ]


def test_requires_exactly_one_supporting_pdf(reference: ReferenceData, clock: FixedClock) -> None:
    without = [k for k in SELF_EXTENSION_ATTACHMENTS if k != "supporting_documents_pdf"]
    assert submission_codes(make_case(), attachments(*without), reference, clock) == ["attachments.missing"]
    two = attachments(*SELF_EXTENSION_ATTACHMENTS, "supporting_documents_pdf")
    assert submission_codes(make_case(), two, reference, clock) == ["attachments.too_many"]


def test_requires_the_host_organisation_form_and_form_19_from_a_foreign_national_filing_an_extension(
    reference: ReferenceData, clock: FixedClock
) -> None:
    found = submission_codes(
        make_case(), attachments("face_photo", "supporting_documents_pdf"), reference, clock
    )
    assert found == ["attachments.host_organisation_form_missing", "attachments.form19_missing"]


def test_requires_form_19_but_no_host_organisation_form_for_an_entertainer(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(current=StatusSelection("entertainer"))
    found = submission_codes(case, attachments("face_photo", "supporting_documents_pdf"), reference, clock)
    assert found == ["attachments.form19_missing"]


def test_requires_neither_form_for_a_spouse_of_a_japanese_national(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(current=StatusSelection("spouse_or_child_of_japanese_national"))
    assert (
        submission_codes(case, attachments("face_photo", "supporting_documents_pdf"), reference, clock) == []
    )


def test_takes_the_requested_status_for_the_host_organisation_rule_of_a_change(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(
        current=StatusSelection("student"),
        procedures=(ProcedureRequest("change"),),
        requested=StatusSelection("entertainer"),
    )
    assert [r.code for r in required_attachments(case, reference.as_of(TODAY))] == [
        "photo",
        "supporting_documents",
        "form19",
    ]


def test_requires_neither_form_when_a_legal_representative_files(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(category="legal_representative", relationship="parent", born=date(2012, 1, 1))
    found = submission_codes(case, attachments("face_photo", "supporting_documents_pdf"), reference, clock)
    assert found == ["attachments.missing"]
    (refusal,) = check_submission(
        case, attachments("face_photo", "supporting_documents_pdf"), reference=reference, clock=clock
    )
    assert "法定代理人" in refusal.message_ja


def test_requires_proof_of_the_relationship_from_a_relative(
    reference: ReferenceData, clock: FixedClock
) -> None:
    case = make_case(category="relative", relationship="parent", born=date(2012, 1, 1))
    base = ["face_photo", "supporting_documents_pdf"]
    assert submission_codes(case, attachments(*base), reference, clock) == ["attachments.missing"]
    assert submission_codes(case, attachments(*base, "relationship_proof"), reference, clock) == []


def test_refuses_submission_while_an_attachment_is_rejected(
    reference: ReferenceData, clock: FixedClock
) -> None:
    items = [
        *attachments(*SELF_EXTENSION_ATTACHMENTS[:-1]),
        AttachmentSummaryItem("form19_supplementary", AttachmentState.REJECTED, "att-x", ("pdf.encrypted",)),
    ]
    (refusal,) = check_submission(make_case(), items, reference=reference, clock=clock)
    assert refusal.code == "attachments.rejected"
    assert refusal.details["reasons"] == "pdf.encrypted" and refusal.details["attachment_ids"] == "att-x"


def test_refuses_submission_while_an_attachment_is_still_being_checked(
    reference: ReferenceData, clock: FixedClock
) -> None:
    items = [
        *attachments(*SELF_EXTENSION_ATTACHMENTS[1:]),
        *attachments("face_photo", state=AttachmentState.CHECKING),
    ]
    assert submission_codes(make_case(), items, reference, clock) == ["attachments.not_checked"]


def test_checks_eligibility_again_at_submission(reference: ReferenceData) -> None:
    case = make_case(expires=TODAY)
    found = submission_codes(case, attachments(*SELF_EXTENSION_ATTACHMENTS), reference, japan_clock(TODAY))
    assert found == ["period.last_day_or_after"]
