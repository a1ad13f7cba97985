"""認証ID: 10 characters from an unambiguous alphabet with a Luhn mod-32 check character."""

from __future__ import annotations

import pytest

from identity.domain.auth_id import (
    AUTH_ID_ALPHABET,
    check_character,
    format_auth_id,
    generate_auth_id,
    normalize_auth_id,
)

pytestmark = pytest.mark.unit


def test_generated_ids_are_ten_unambiguous_characters_and_valid() -> None:
    for _ in range(200):
        auth_id = generate_auth_id()
        assert len(auth_id) == 10
        assert set(auth_id) <= set(AUTH_ID_ALPHABET)
        assert normalize_auth_id(auth_id) == auth_id


def test_alphabet_leaves_out_confusable_characters() -> None:
    assert not set("01IO") & set(AUTH_ID_ALPHABET)
    assert len(AUTH_ID_ALPHABET) == 32


def test_every_single_character_typo_is_detected() -> None:
    auth_id = generate_auth_id()
    for position in range(10):
        for char in AUTH_ID_ALPHABET:
            if char != auth_id[position]:
                typo = auth_id[:position] + char + auth_id[position + 1 :]
                assert normalize_auth_id(typo) is None


def test_accepts_lower_case_hyphens_spaces_and_full_width_input() -> None:
    payload = "ABCDE2345"
    auth_id = payload + check_character(payload)
    shown = format_auth_id(auth_id)
    assert shown == f"{auth_id[:5]}-{auth_id[5:]}"
    assert normalize_auth_id(f" {shown.lower()} ") == auth_id
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in auth_id)
    assert normalize_auth_id(full_width) == auth_id


def test_refuses_wrong_length_and_foreign_characters() -> None:
    assert normalize_auth_id("ABC") is None
    assert normalize_auth_id("ABCDE0IOXY") is None
