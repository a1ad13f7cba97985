"""Password rules name the rule that failed; argon2id hashing round-trips."""

from __future__ import annotations

import pytest

from identity.domain.password import (
    Argon2Parameters,
    PasswordHashing,
    PasswordPolicy,
    PasswordRejected,
    check_password,
    require_valid_password,
)

pytestmark = pytest.mark.unit

GOOD = "Kasumigaseki-2026"


def codes(password: str, **kwargs: str) -> set[str]:
    return {r.code for r in check_password(password, **kwargs)}  # type: ignore[arg-type]


def test_accepts_a_long_mixed_password() -> None:
    assert check_password(GOOD, auth_id="ABCDE23456", email="an.nguyen@example.jp") == []


def test_refuses_fewer_than_12_characters() -> None:
    assert codes("Ab1!Ab1!Ab1") == {"password.too_short"}


def test_refuses_more_than_64_characters() -> None:
    assert codes("Aa1!" * 17) == {"password.too_long"}


def test_refuses_fewer_than_three_character_classes() -> None:
    assert codes("abcdefghijkl12") == {"password.too_few_character_classes"}
    assert codes("abcdefghijklMN") == {"password.too_few_character_classes"}


def test_kanji_counts_as_a_symbol_class() -> None:
    assert codes("霞が関abcdefg2026") == set()


def test_refuses_control_characters() -> None:
    assert "password.invalid_character" in codes("Kasumigaseki\x00-2026")


def test_refuses_the_auth_id_inside_the_password() -> None:
    assert codes("x-abcde23456-Y", auth_id="ABCDE23456") == {"password.contains_auth_id"}


def test_refuses_the_email_local_part_inside_the_password() -> None:
    assert codes("An.Nguyen-2026!", email="an.nguyen@example.jp") == {"password.contains_email"}


def test_ignores_a_very_short_email_local_part() -> None:
    assert codes("Kasumigaseki-2026", email="k@example.jp") == set()


def test_refuses_a_common_password_case_insensitively() -> None:
    assert "password.common" in codes("Password1234")


def test_reports_every_broken_rule_with_japanese_and_english() -> None:
    reasons = check_password("abc")
    assert {r.code for r in reasons} == {"password.too_short", "password.too_few_character_classes"}
    assert all(r.ja and r.en and r.field == "password" for r in reasons)


def test_require_valid_password_raises_with_all_reasons() -> None:
    with pytest.raises(PasswordRejected) as caught:
        require_valid_password("abc")
    assert caught.value.code == "password.too_short"
    assert len(caught.value.reasons) == 2
    require_valid_password(GOOD)


def test_policy_values_are_configurable() -> None:
    assert check_password("Ab1!Ab1!", policy=PasswordPolicy(min_length=8)) == []


FAST = Argon2Parameters(time_cost=1, memory_cost_kib=8, parallelism=1)


def test_hashes_with_argon2id_and_verifies() -> None:
    hashing = PasswordHashing(FAST)
    stored = hashing.hash(GOOD)
    assert stored.startswith("$argon2id$")
    assert GOOD not in stored
    assert hashing.verify(stored, GOOD)
    assert not hashing.verify(stored, GOOD + "x")
    assert not hashing.verify("not a hash", GOOD)


def test_equivalent_unicode_forms_verify() -> None:
    hashing = PasswordHashing(FAST)
    stored = hashing.hash("Cafe\u0301-Tokyo-2026")
    assert hashing.verify(stored, "Caf\u00e9-Tokyo-2026")


def test_hashes_with_old_parameters_need_rehash() -> None:
    old = PasswordHashing(FAST).hash(GOOD)
    assert PasswordHashing(Argon2Parameters(time_cost=2, memory_cost_kib=8, parallelism=1)).needs_rehash(old)
    assert not PasswordHashing(FAST).needs_rehash(old)
