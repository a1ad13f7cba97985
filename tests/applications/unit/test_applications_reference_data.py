"""Reference data: shipped content, effective dates, fail-fast loading, and policy changes as data changes."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from applications.domain.eligibility import check_eligibility
from applications.domain.errors import ReferenceDataInvalid, ReferenceDataNotInForce
from applications.domain.fees import assess_fee
from applications.domain.values import ProcedureRequest, StatusSelection
from applications.reference import ReferenceData, load_reference_data
from tests.applications.unit.applications_builders import japan_clock, make_case

pytestmark = pytest.mark.unit

ONLINE = ("coe", "change", "extension", "acquisition", "work_certificate", "reentry", "outside_activity")


def _write(directory: Path, name: str, content: dict[str, Any]) -> None:
    (directory / name).write_text(
        yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def _load_core(directory: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((directory / "2025-04-01.core.yaml").read_text(encoding="utf-8"))
    return loaded


def test_ships_the_seven_online_procedures_with_japanese_and_english_names(reference: ReferenceData) -> None:
    snapshot = reference.as_of(date(2025, 6, 1))
    for code in ONLINE:
        procedure = snapshot.procedure(code)
        assert procedure is not None and procedure.online
        assert procedure.name.ja and procedure.name.en


def test_explains_every_procedure_that_is_not_online(reference: ReferenceData) -> None:
    snapshot = reference.as_of(date(2025, 6, 1))
    offline = [p for p in snapshot.procedures if not p.online]
    assert {p.code for p in offline} >= {
        "permanent_residence",
        "residence_card_entry_change",
        "residence_card_renewal",
    }
    assert all(p.explanation is not None and "窓口" in p.explanation.ja for p in offline)


def test_keeps_diplomat_temporary_visitor_and_departure_preparation_out_of_scope(
    reference: ReferenceData,
) -> None:
    snapshot = reference.as_of(date(2025, 6, 1))
    for code in ("diplomat", "temporary_visitor", "designated_activities_departure_preparation"):
        status = snapshot.status(code)
        assert status is not None and not status.in_scope and status.explanation is not None


def test_holds_specified_skill_fields_and_designated_activity_notices_as_data(
    reference: ReferenceData,
) -> None:
    snapshot = reference.as_of(date(2025, 6, 1))
    ssw = snapshot.status("specified_skilled_worker")
    designated = snapshot.status("designated_activities")
    assert (
        ssw is not None
        and ssw.specified_skill_fields
        and any(f.code == "nursing_care" for f in ssw.specified_skill_fields)
    )
    assert designated is not None and designated.designated_activity_notices


def test_holds_the_who_may_file_matrix_with_relatives_conditional_and_never_for_work_certificate(
    reference: ReferenceData,
) -> None:
    matrix = reference.as_of(date(2025, 6, 1)).filing.matrix
    assert all(rule == "allowed" for rule in matrix["self"].values())
    assert all(rule == "allowed" for rule in matrix["legal_representative"].values())
    assert matrix["relative"]["work_certificate"] == "not_allowed"
    assert matrix["relative"]["outside_activity"] == "not_allowed"
    assert matrix["relative"]["extension"] == "conditional"


def test_holds_the_policy_ages_and_the_10_mb_limit(reference: ReferenceData) -> None:
    policy = reference.as_of(date(2025, 6, 1)).policy
    assert policy.self_filing_min_age == 15
    assert policy.relative_filing_applicant_under_age == 16
    assert policy.supporting_pdf_max_bytes == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("procedure", "variant", "online", "counter"),
    [
        ("change", None, 5500, 6000),
        ("extension", None, 5500, 6000),
        ("reentry", "single", 3500, 4000),
        ("reentry", "multiple", 6500, 7000),
        ("work_certificate", None, 1600, 2000),
        ("coe", None, 0, 0),
        ("acquisition", None, 0, 0),
        ("outside_activity", None, 0, 0),
    ],
)
def test_holds_the_fees_in_force_from_april_2025(
    reference: ReferenceData, procedure: str, variant: str | None, online: int, counter: int
) -> None:
    fee = reference.as_of(date(2025, 4, 1)).fee(procedure, variant)
    assert fee is not None and (fee.online, fee.counter) == (online, counter)


def test_refuses_to_answer_for_a_day_before_the_first_version(reference: ReferenceData) -> None:
    with pytest.raises(ReferenceDataNotInForce) as caught:
        reference.as_of(date(2025, 3, 31))
    assert caught.value.code == "reference.not_in_force"


def test_applies_a_new_fee_version_from_its_effective_date_only(data_copy: Path) -> None:
    core = _load_core(data_copy)
    fees = [dict(f) for f in core["fees"]]
    for fee in fees:
        if fee["procedure"] == "extension":
            fee.update(online=7000, counter=7500)
    _write(
        data_copy,
        "2026-04-01.fees.yaml",
        {"effective_from": "2026-04-01", "description": "Fee revision", "fees": fees},
    )

    reference = load_reference_data(data_copy)

    assert reference.effective_dates == (date(2025, 4, 1), date(2026, 4, 1))
    before = assess_fee([ProcedureRequest("extension")], snapshot=reference.as_of(date(2026, 3, 31)))
    after = assess_fee([ProcedureRequest("extension")], snapshot=reference.as_of(date(2026, 4, 1)))
    assert (before.total, after.total) == (5500, 7000)
    assert reference.as_of(date(2026, 4, 1)).sources == (
        "2025-04-01.core.yaml",
        "2025-04-01.forms.yaml",
        "2026-04-01.fees.yaml",
    )


def test_applies_a_new_relative_filing_age_from_its_effective_date(data_copy: Path) -> None:
    core = _load_core(data_copy)
    policy = dict(core["policy"], relative_filing_applicant_under_age=18)
    _write(
        data_copy,
        "2026-01-01.policy.yaml",
        {"effective_from": "2026-01-01", "description": "Relatives for under-18s", "policy": policy},
    )
    reference = load_reference_data(data_copy)
    case = make_case(
        category="relative", relationship="parent", born=date(2009, 1, 1), expires=date(2026, 3, 30)
    )

    on_new_years_eve = check_eligibility(case, reference=reference, clock=japan_clock(date(2025, 12, 31)))
    on_new_years_day = check_eligibility(case, reference=reference, clock=japan_clock(date(2026, 1, 1)))

    assert [r.code for r in on_new_years_eve] == ["category.not_allowed"]
    assert on_new_years_day == ()


def test_applies_a_new_specified_skill_field_from_its_effective_date(data_copy: Path) -> None:
    core = _load_core(data_copy)
    statuses = [dict(s) for s in core["statuses"]]
    ssw = next(s for s in statuses if s["code"] == "specified_skilled_worker")
    ssw["specified_skill_fields"] = [
        *ssw["specified_skill_fields"],
        {"code": "linen_supply", "name": {"ja": "リネンサプライ", "en": "Linen supply"}},
    ]
    _write(
        data_copy,
        "2027-04-01.statuses.yaml",
        {"effective_from": "2027-04-01", "description": "New field", "statuses": statuses},
    )
    reference = load_reference_data(data_copy)
    case = make_case(
        current=StatusSelection("specified_skilled_worker", specified_skill_field="linen_supply"),
        expires=date(2027, 6, 1),
    )

    assert [
        r.code for r in check_eligibility(case, reference=reference, clock=japan_clock(date(2027, 3, 31)))
    ] == ["status.out_of_scope"]
    assert check_eligibility(case, reference=reference, clock=japan_clock(date(2027, 4, 1))) == ()


def test_fails_fast_naming_the_file_when_yaml_is_broken(data_copy: Path) -> None:
    (data_copy / "2026-01-01.policy.yaml").write_text(
        "effective_from: 2026-01-01\npolicy: [unclosed\n", encoding="utf-8"
    )
    with pytest.raises(ReferenceDataInvalid, match=r"2026-01-01\.policy\.yaml.*YAML"):
        load_reference_data(data_copy)


def test_fails_fast_naming_the_path_of_a_bad_value(data_copy: Path) -> None:
    core = _load_core(data_copy)
    policy = dict(core["policy"], self_filing_min_age="fifteen")
    _write(
        data_copy,
        "2026-01-01.policy.yaml",
        {"effective_from": "2026-01-01", "description": "Bad", "policy": policy},
    )
    with pytest.raises(ReferenceDataInvalid) as caught:
        load_reference_data(data_copy)
    assert "2026-01-01.policy.yaml" in caught.value.message_en
    assert "policy.self_filing_min_age" in caught.value.message_en
    assert caught.value.code == "reference.invalid" and caught.value.http_status == 500


def test_fails_fast_on_an_unknown_key(data_copy: Path) -> None:
    _write(
        data_copy,
        "2026-01-01.extra.yaml",
        {"effective_from": "2026-01-01", "description": "Typo", "feez": []},
    )
    with pytest.raises(ReferenceDataInvalid, match="feez"):
        load_reference_data(data_copy)


def test_fails_fast_when_the_file_name_and_effective_date_disagree(data_copy: Path) -> None:
    core = _load_core(data_copy)
    _write(
        data_copy,
        "2026-01-01.fees.yaml",
        {"effective_from": "2026-02-01", "description": "Mismatch", "fees": core["fees"]},
    )
    with pytest.raises(ReferenceDataInvalid, match="effective_from is 2026-02-01"):
        load_reference_data(data_copy)


def test_fails_fast_when_a_later_version_breaks_a_cross_reference(data_copy: Path) -> None:
    core = _load_core(data_copy)
    fees = [f for f in core["fees"] if f["procedure"] != "work_certificate"]
    _write(
        data_copy,
        "2026-04-01.fees.yaml",
        {"effective_from": "2026-04-01", "description": "Lost a fee", "fees": fees},
    )
    with pytest.raises(ReferenceDataInvalid, match=r"(?s)in force on 2026-04-01.*work_certificate"):
        load_reference_data(data_copy)


def test_fails_fast_when_the_matrix_names_an_unknown_procedure(data_copy: Path) -> None:
    core = _load_core(data_copy)
    filing = dict(core["filing"])
    filing["matrix"] = {k: dict(v, visa_waiver="allowed") for k, v in filing["matrix"].items()}
    _write(
        data_copy,
        "2026-01-01.filing.yaml",
        {"effective_from": "2026-01-01", "description": "Bad", "filing": filing},
    )
    with pytest.raises(ReferenceDataInvalid, match="visa_waiver"):
        load_reference_data(data_copy)


def test_fails_fast_when_a_procedure_not_online_has_no_explanation(data_copy: Path) -> None:
    core = _load_core(data_copy)
    procedures = [dict(p) for p in core["procedures"]]
    procedures.append(
        {"code": "naturalisation", "name": {"ja": "帰化", "en": "Naturalisation"}, "online": False}
    )
    _write(
        data_copy,
        "2026-01-01.procedures.yaml",
        {"effective_from": "2026-01-01", "description": "Bad", "procedures": procedures},
    )
    with pytest.raises(ReferenceDataInvalid, match="naturalisation"):
        load_reference_data(data_copy)


def test_fails_fast_when_two_files_define_one_section_on_the_same_date(data_copy: Path) -> None:
    core = _load_core(data_copy)
    _write(
        data_copy,
        "2025-04-01.fees.yaml",
        {"effective_from": "2025-04-01", "description": "Twice", "fees": core["fees"]},
    )
    with pytest.raises(ReferenceDataInvalid, match="also defined by"):
        load_reference_data(data_copy)


def test_fails_fast_when_the_first_version_lacks_a_section(data_copy: Path) -> None:
    (data_copy / "2025-04-01.forms.yaml").unlink()
    with pytest.raises(ReferenceDataInvalid, match="'forms'"):
        load_reference_data(data_copy)


def test_fails_fast_on_an_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataInvalid, match="no version file"):
        load_reference_data(tmp_path)


def test_fails_fast_when_a_conditional_field_depends_on_an_unknown_field(data_copy: Path) -> None:
    forms: dict[str, Any] = yaml.safe_load((data_copy / "2025-04-01.forms.yaml").read_text(encoding="utf-8"))
    forms = {k: v for k, v in forms.items() if not k.startswith("_")}
    reentry = next(f for f in forms["forms"] if f["code"] == "reentry_applicant")
    reentry["fields"].append(
        {
            "name": "extra",
            "label": {"ja": "追加", "en": "Extra"},
            "type": "text",
            "max_length": 20,
            "required_when": {"field": "nowhere", "equals": "yes"},
        }
    )
    forms["effective_from"] = "2026-01-01"
    _write(data_copy, "2026-01-01.forms.yaml", forms)
    with pytest.raises(ReferenceDataInvalid, match="nowhere"):
        load_reference_data(data_copy)
