"""Hard bounds of a form save, from the form definition: unknown steps and fields, lengths, rows (nothing saved)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from applications.domain.errors import FormInputRefused
from applications.domain.forms import MAX_LISTED_PROBLEMS, MAX_SCALAR_CHARS, check_input
from applications.reference import ReferenceData
from applications.reference.models import FieldDef, FormDef, Text
from shared.http import HttpLimits
from tests.applications.unit.applications_builders import TODAY, extension_form

pytestmark = pytest.mark.unit


@pytest.fixture
def form(reference: ReferenceData) -> FormDef:
    """The general extension form."""
    found = reference.as_of(TODAY).form_for("extension", None)
    assert found is not None
    return found


def refused(form: FormDef, values: dict[str, Any], step: str | None = None) -> FormInputRefused:
    with pytest.raises(FormInputRefused) as caught:
        check_input(form, values, step=step)
    assert caught.value.code == "application.form_input_refused" and caught.value.http_status == 422
    return caught.value


def test_a_complete_form_and_each_of_its_steps_pass(form: FormDef) -> None:
    values = extension_form()
    check_input(form, values)
    for step in {f.step for f in form.fields if f.step}:
        check_input(
            form,
            {f.name: values[f.name] for f in form.fields if f.step == step and f.name in values},
            step=step,
        )


def test_an_unknown_field_is_refused_naming_it(form: FormDef) -> None:
    error = refused(form, {"nationality": "NEPAL", "favourite_colour": "blue"})
    problem = error.problems[0]
    assert (problem.path, problem.code) == ("favourite_colour", "form.unknown_field")
    assert "favourite_colour" in error.message_ja and "favourite_colour" in error.message_en


def test_three_hundred_thousand_unknown_keys_are_refused_listing_only_the_first_few(form: FormDef) -> None:
    error = refused(form, {f"k{i}": "x" for i in range(300_000)})
    assert len(error.problems) == MAX_LISTED_PROBLEMS
    assert len(error.details["fields"]) == MAX_LISTED_PROBLEMS


def test_an_unknown_step_is_refused_listing_the_steps(form: FormDef) -> None:
    error = refused(form, {}, step="9-9")
    assert error.problems[0].code == "form.unknown_step"
    assert "2-1" in error.message_en and "9-9" in error.message_ja


def test_a_field_of_another_step_is_refused_in_a_step_save(form: FormDef) -> None:
    other = next(f for f in form.fields if f.step == "2-2")
    error = refused(form, {other.name: "x"}, step="2-1")
    assert error.problems[0].code == "form.unknown_field" and "2-1" in error.message_en


def test_a_text_over_its_maximum_length_is_refused_naming_the_field_and_the_maximum(form: FormDef) -> None:
    field = next(f for f in form.fields if f.name == "nationality")
    assert field.max_length is not None
    check_input(form, {"nationality": "N" * field.max_length})
    error = refused(form, {"nationality": "N" * (field.max_length + 1)})
    assert error.problems[0].code == "form.value_too_long"
    assert field.label.ja in error.message_ja and str(field.max_length) in error.message_en


def test_a_non_text_value_is_bounded_too(form: FormDef) -> None:
    assert (
        refused(form, {"date_of_birth": "1" * (MAX_SCALAR_CHARS + 1)}).problems[0].code
        == "form.value_too_long"
    )
    assert refused(form, {"sex": {"nested": ["deep"]}}).problems[0].code == "form.value_type"
    assert refused(form, {"date_of_birth": 10**30}).problems[0].code == "form.value_too_long"


def test_repeated_rows_are_bounded_and_checked_field_by_field(form: FormDef) -> None:
    group = next(f for f in form.fields if f.type == "group")
    assert group.max_rows is not None and group.fields is not None
    inner = next(f for f in group.fields if f.type == "text" and f.max_length is not None)
    assert inner.max_length is not None
    check_input(form, {group.name: [{inner.name: "x"}] * group.max_rows})
    rows = refused(form, {group.name: [{inner.name: "x"}] * (group.max_rows + 1)})
    assert rows.problems[0].code == "form.too_many_rows" and str(group.max_rows) in rows.message_en
    long = refused(form, {group.name: [{inner.name: "x" * (inner.max_length + 1)}]})
    assert long.problems[0].path == f"{group.name}[0].{inner.name}"
    unknown = refused(form, {group.name: [{"nope": "x"}]})
    assert unknown.problems[0].code == "form.unknown_field"
    assert refused(form, {group.name: {"not": "rows"}}).problems[0].code == "form.value_type"


def test_a_text_field_without_a_maximum_length_is_refused_in_the_reference_data() -> None:
    with pytest.raises(ValidationError, match="max_length"):
        FieldDef(name="note", label=Text(ja="備考", en="Note"), type="text")


def largest(fields: Any) -> dict[str, Any]:
    """Return the largest values a form allows: every text at its maximum in kanji, every group full."""
    values: dict[str, Any] = {}
    for f in fields:
        if f.type == "text":
            values[f.name] = "漢" * f.max_length
        elif f.type == "group":
            values[f.name] = [largest(f.fields)] * f.max_rows
        else:
            values[f.name] = "x" * MAX_SCALAR_CHARS
    return values


def test_the_largest_save_of_every_form_fits_the_json_body_limit(reference: ReferenceData) -> None:
    for form in reference.as_of(TODAY).forms:
        values = largest(form.fields)
        check_input(form, values)
        escaped = json.dumps(values, ensure_ascii=True).encode()  # every kanji as \uXXXX: the worst case
        assert len(escaped) < HttpLimits().json_max_bytes, form.code
