"""Refusals become problem details with the right status, ja/en text and every broken rule listed."""

from __future__ import annotations

import pytest

from identity.domain.jpki import CardRefusalCode, CardRefused
from identity.domain.password import PasswordRejected, check_password
from identity.entrypoints.http.errors import problems, to_app_error
from identity.service_layer.errors import MESSAGES, STATUS, Refused

pytestmark = pytest.mark.unit


def test_every_card_refusal_has_its_own_status_and_messages() -> None:
    for code in CardRefusalCode:
        error = to_app_error(CardRefused(code))
        assert error.code == code.value and error.status == STATUS[code.value]
        assert error.message_ja and error.message_en
    assert to_app_error(CardRefused(CardRefusalCode.CERTIFICATE_REVOKED)).status == 403
    assert to_app_error(CardRefused(CardRefusalCode.CERTIFICATE_REVOCATION_UNKNOWN)).status == 503


def test_a_rejected_password_lists_each_broken_rule() -> None:
    error = to_app_error(PasswordRejected(check_password("abc")))
    assert error.code == "password.rejected" and error.status == 422
    listed = {r["code"] for r in error.extra["reasons"]}
    assert {"password.too_short", "password.too_few_character_classes"} <= listed


def test_every_use_case_message_has_a_status_and_fills_its_placeholders() -> None:
    assert set(MESSAGES) <= set(STATUS)
    refused = Refused(
        "setup.resend_limited", limit=3, retry_ja="3月1日 10:00", retry_en="10:00", retry_after=60
    )
    assert "3回" in refused.reason.ja and refused.retry_after == 60


def test_the_openapi_responses_group_codes_by_status() -> None:
    responses = problems("link.unknown", "link.expired", "link.used")
    assert responses[404]["x-problem-codes"] == ["link.unknown"]
    assert responses[410]["x-problem-codes"] == ["link.expired", "link.used"]
    assert responses[422]["x-problem-codes"] == ["request.invalid"]
