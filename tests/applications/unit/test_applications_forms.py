"""Form validation: per-field messages in Japanese and English, conditional requirements, drafts vs submission."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from applications.domain.forms import FormValidation, validate_form
from applications.reference import ReferenceData
from tests.applications.unit.applications_builders import TODAY, extension_form

pytestmark = pytest.mark.unit


def validate(
    reference: ReferenceData, values: dict[str, Any], procedure: str = "extension", status: str | None = None
) -> FormValidation:
    snapshot = reference.as_of(TODAY)
    form = snapshot.form_for(procedure, status)
    assert form is not None
    return validate_form(form, values, snapshot=snapshot, today=TODAY)


def issue(result: FormValidation, path: str) -> tuple[str, str, str]:
    found = [i for i in result.all_issues if i.path == path]
    assert len(found) == 1, f"expected one issue at {path}, got {result.all_issues}"
    return found[0].code, found[0].message_ja, found[0].message_en


def test_accepts_a_complete_extension_form(reference: ReferenceData) -> None:
    result = validate(reference, extension_form())
    assert result.complete, result.all_issues


def test_reports_missing_fields_of_an_empty_draft_without_other_issues(reference: ReferenceData) -> None:
    result = validate(reference, {})
    assert result.issues == ()
    assert not result.complete
    assert {i.path for i in result.missing} >= {"nationality", "residence_card_number", "criminal_record"}
    assert all(i.code == "field.required" for i in result.missing)


def test_never_requires_a_field_that_does_not_apply(reference: ReferenceData) -> None:
    result = validate(reference, extension_form())
    paths = {i.path for i in result.all_issues}
    assert "criminal_record_details" not in paths and "relatives" not in paths and "given_name" not in paths


def test_requires_criminal_record_details_only_when_the_answer_is_yes(reference: ReferenceData) -> None:
    code, ja, en = issue(
        validate(reference, extension_form(criminal_record="yes")), "criminal_record_details"
    )
    assert code == "field.required"
    assert "「有」を選んだ場合" in ja and "Yes" in en
    assert validate(
        reference, extension_form(criminal_record="yes", criminal_record_details="2019 罰金")
    ).complete


def test_explains_the_residence_card_number_format(reference: ReferenceData) -> None:
    code, ja, en = issue(
        validate(reference, extension_form(residence_card_number="AB1234567CD")), "residence_card_number"
    )
    assert code == "field.residence_card_number"
    assert ja == "在留カード番号は英字2文字・数字8桁・英字2文字で入力してください（例: AB12345678CD）。"
    assert en == "Enter the residence card number as 2 letters, 8 digits and 2 letters (e.g. AB12345678CD)."


@pytest.mark.parametrize(
    ("value", "hint"),
    [("ＡＢ１２３４５６７８ＣＤ", "全角文字"), ("ab12345678cd", "大文字"), ("AB 1234 5678 CD", "スペース")],
)
def test_says_why_a_residence_card_number_was_not_accepted(
    reference: ReferenceData, value: str, hint: str
) -> None:
    _, ja, _ = issue(
        validate(reference, extension_form(residence_card_number=value)), "residence_card_number"
    )
    assert hint in ja and "（例: AB12345678CD）" in ja


def test_explains_that_names_are_latin_capitals_when_full_width_letters_are_entered(
    reference: ReferenceData,
) -> None:
    code, ja, en = issue(validate(reference, extension_form(family_name="ＮＧＵＹＥＮ")), "family_name")
    assert code == "field.full_width"
    assert "全角文字" in ja and "半角の英大文字" in ja
    assert "full-width" in en and "capital letters" in en


def test_explains_that_names_are_capitals_when_lower_case_is_entered(reference: ReferenceData) -> None:
    code, ja, _ = issue(validate(reference, extension_form(family_name="Nguyen")), "family_name")
    assert code == "field.lowercase" and "英小文字" in ja


def test_explains_that_kanji_are_not_allowed_in_the_latin_name(reference: ReferenceData) -> None:
    code, ja, _ = issue(validate(reference, extension_form(family_name="田中")), "family_name")
    assert code == "field.characters" and "漢字・かな・数字は使えません" in ja


def test_accepts_a_hyphenated_latin_name_with_spaces(reference: ReferenceData) -> None:
    assert validate(reference, extension_form(family_name="GARCIA-LOPEZ", given_name="MARIA JOSE")).complete


def test_rejects_half_width_katakana_in_free_text(reference: ReferenceData) -> None:
    code, ja, _ = issue(validate(reference, extension_form(occupation="ｶｲｼｬｲﾝ")), "occupation")
    assert code == "field.half_width_kana" and "全角カタカナ" in ja


def test_explains_phone_numbers_in_half_width_digits(reference: ReferenceData) -> None:
    code, ja, en = issue(validate(reference, extension_form(mobile="０９０-１２３４-５６７８")), "mobile")
    assert code == "field.full_width" and "半角数字" in ja and "03-1234-5678" in en


def test_reports_the_length_limit_and_the_current_length(reference: ReferenceData) -> None:
    code, ja, en = issue(validate(reference, extension_form(reason="あ" * 401)), "reason")
    assert code == "field.too_long" and "400文字以内" in ja and "(now 401)" in en


@pytest.mark.parametrize("value", ["1995/05/01", "1995-02-30", "01-05-1995", 19950501])
def test_explains_the_date_format(reference: ReferenceData, value: object) -> None:
    code, ja, en = issue(validate(reference, extension_form(date_of_birth=value)), "date_of_birth")
    assert code == "field.invalid_date" and "1990-04-01" in ja and "year-month-day" in en


def test_accepts_a_date_object(reference: ReferenceData) -> None:
    assert validate(reference, extension_form(date_of_birth=date(1995, 5, 1))).complete


def test_refuses_a_date_of_birth_in_the_future(reference: ReferenceData) -> None:
    code, _, _ = issue(validate(reference, extension_form(date_of_birth="2030-01-01")), "date_of_birth")
    assert code == "field.date_in_future"


def test_lists_the_choices_of_a_short_enumeration(reference: ReferenceData) -> None:
    code, ja, en = issue(validate(reference, extension_form(sex="x")), "sex")
    assert code == "field.not_an_option" and "男、女" in ja and "Male, Female" in en


def test_takes_status_choices_from_the_reference_data(reference: ReferenceData) -> None:
    assert (
        issue(validate(reference, extension_form(current_status="diplomat")), "current_status")[0]
        == "field.not_an_option"
    )


def test_treats_relatives_rows_as_optional(reference: ReferenceData) -> None:
    assert validate(reference, extension_form(relatives=[])).complete
    assert validate(reference, extension_form(relatives=[{"name": "", "relationship": None}])).complete


def test_requires_the_fields_of_a_relatives_row_once_it_is_started(reference: ReferenceData) -> None:
    result = validate(reference, extension_form(relatives=[{"relationship": "妻", "name": "NGUYEN THI B"}]))
    assert {i.path for i in result.missing} == {
        "relatives[0].date_of_birth",
        "relatives[0].nationality",
        "relatives[0].living_together",
    }


def test_validates_the_card_number_inside_a_relatives_row(reference: ReferenceData) -> None:
    row = {
        "relationship": "妻",
        "name": "B",
        "date_of_birth": "1996-01-01",
        "nationality": "VIET NAM",
        "living_together": "yes",
        "residence_card_number": "XX",
    }
    assert (
        issue(validate(reference, extension_form(relatives=[row])), "relatives[0].residence_card_number")[0]
        == "field.residence_card_number"
    )


def test_limits_relatives_to_six_rows(reference: ReferenceData) -> None:
    row = {
        "relationship": "子",
        "name": "C",
        "date_of_birth": "2020-01-01",
        "nationality": "VIET NAM",
        "living_together": "yes",
    }
    code, ja, _ = issue(validate(reference, extension_form(relatives=[row] * 7)), "relatives")
    assert code == "field.too_many_rows" and "6行まで" in ja


def test_reports_a_field_that_is_not_on_the_form(reference: ReferenceData) -> None:
    assert (
        issue(validate(reference, extension_form(my_number="123456789012")), "my_number")[0]
        == "field.unknown"
    )


def test_adds_place_of_birth_requested_status_and_reason_for_change_to_the_change_form(
    reference: ReferenceData,
) -> None:
    result = validate(reference, {}, procedure="change")
    assert {"place_of_birth", "requested_status", "reason_for_change"} <= {i.path for i in result.missing}


def test_requires_past_entry_details_on_a_coe_form_only_after_yes(reference: ReferenceData) -> None:
    no = validate(reference, {"past_entries": "no"}, procedure="coe")
    yes = validate(reference, {"past_entries": "yes"}, procedure="coe")
    assert "past_entries_count" not in {i.path for i in no.missing}
    assert {"past_entries_count", "latest_entry_from", "latest_entry_to"} <= {i.path for i in yes.missing}


def test_explains_whole_numbers_in_half_width_digits(reference: ReferenceData) -> None:
    result = validate(reference, {"weekly_hours": "２８"}, procedure="outside_activity")
    code, ja, _ = issue(result, "weekly_hours")
    assert code == "field.not_integer" and "全角数字は使えません" in ja
    assert (
        issue(validate(reference, {"weekly_hours": 200}, procedure="outside_activity"), "weekly_hours")[0]
        == "field.out_of_range"
    )
