"""Set-up and reset links: random, stored hashed, 30 days, single use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from identity.domain.link_token import (
    LinkPurpose,
    LinkTokenRefused,
    check_link_token,
    hash_link_token,
    issue_link_token,
    use_link_token,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_only_the_hash_is_stored() -> None:
    issued = issue_link_token(purpose=LinkPurpose.PASSWORD_SETUP, subject_id="u1", now=NOW)
    assert len(issued.token) >= 43
    assert issued.record.token_hash == hash_link_token(issued.token)
    assert issued.token not in repr(issued)
    assert issued.token not in repr(issued.record)


def test_tokens_are_random() -> None:
    tokens = {
        issue_link_token(purpose=LinkPurpose.PASSWORD_RESET, subject_id="u", now=NOW).token for _ in range(50)
    }
    assert len(tokens) == 50


def test_a_setup_link_lives_30_days() -> None:
    record = issue_link_token(purpose=LinkPurpose.PASSWORD_SETUP, subject_id="u1", now=NOW).record
    assert record.expires_at == NOW + timedelta(days=30)
    assert (
        check_link_token(record, purpose=LinkPurpose.PASSWORD_SETUP, now=NOW + timedelta(days=29)) == record
    )
    with pytest.raises(LinkTokenRefused) as caught:
        check_link_token(record, purpose=LinkPurpose.PASSWORD_SETUP, now=NOW + timedelta(days=30))
    assert caught.value.code == "link.expired"


def test_a_link_works_once() -> None:
    record = issue_link_token(purpose=LinkPurpose.PASSWORD_RESET, subject_id="u1", now=NOW).record
    used = use_link_token(record, purpose=LinkPurpose.PASSWORD_RESET, now=NOW)
    assert used.used_at == NOW
    with pytest.raises(LinkTokenRefused) as caught:
        use_link_token(used, purpose=LinkPurpose.PASSWORD_RESET, now=NOW)
    assert caught.value.code == "link.used"


def test_an_unknown_or_other_purpose_link_is_refused() -> None:
    record = issue_link_token(purpose=LinkPurpose.PASSWORD_RESET, subject_id="u1", now=NOW).record
    for stored, purpose in ((None, LinkPurpose.PASSWORD_RESET), (record, LinkPurpose.PASSWORD_SETUP)):
        with pytest.raises(LinkTokenRefused) as caught:
            check_link_token(stored, purpose=purpose, now=NOW)
        assert caught.value.code == "link.unknown"
        assert caught.value.reason.ja
        assert caught.value.reason.en
