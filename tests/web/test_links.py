"""The pages e-mailed links open: set-up and reset of a password, and asking for a reset link."""

from __future__ import annotations

import httpx
import pytest

from tests.web.fakes import FakeServices
from tests.web.test_views import csrf_of, html

pytestmark = pytest.mark.unit


async def test_the_token_moves_from_the_address_into_the_session_at_once(browser: httpx.AsyncClient) -> None:
    first = await browser.get("/password-setup?token=good")
    assert first.status_code == 303 and first.headers["location"] == "/password-setup"
    page = html(await browser.get("/password-setup"))
    assert page.h1.get_text(strip=True) == "パスワードの設定"
    assert "12文字以上64文字以下" in page.get_text()  # the rules are shown before typing


async def test_a_password_that_breaks_rules_lists_each_rule(browser: httpx.AsyncClient) -> None:
    await browser.get("/password-setup?token=good")
    form = html(await browser.get("/password-setup"))
    answer = await browser.post(
        "/password-setup", data={"csrf": csrf_of(form), "password": "short", "confirm": "short"}
    )
    assert answer.status_code == 400
    summary = html(answer).find(class_="error-summary")
    assert "12文字以上にしてください。" in summary.get_text()
    assert summary.find("a")["href"] == "#password"
    assert len(html(answer).find_all(id="password-error")) == 1  # one message block per field, ids unique


async def test_two_different_passwords_are_caught_before_identity_is_asked(
    browser: httpx.AsyncClient, services: FakeServices
) -> None:
    await browser.get("/password-setup?token=good")
    form = html(await browser.get("/password-setup"))
    answer = await browser.post(
        "/password-setup", data={"csrf": csrf_of(form), "password": "Long-enough-2026!", "confirm": "other"}
    )
    assert answer.status_code == 400 and 'href="#confirm"' in answer.text
    assert services.passwords_set == 0


async def test_a_good_password_shows_the_auth_id_and_the_link_cannot_be_replayed(
    browser: httpx.AsyncClient, services: FakeServices
) -> None:
    await browser.get("/password-setup?token=good")
    form = html(await browser.get("/password-setup"))
    done = await browser.post(
        "/password-setup",
        data={"csrf": csrf_of(form), "password": "Long-enough-2026!", "confirm": "Long-enough-2026!"},
    )
    assert done.status_code == 200 and "K7Q2M9X4" in done.text
    assert services.passwords_set == 1
    again = await browser.get("/password-setup")
    assert again.status_code == 400  # the token left the session with its use


async def test_expired_and_unknown_links_say_what_to_do(browser: httpx.AsyncClient) -> None:
    await browser.get("/password-reset?token=old")
    expired = await browser.get("/password-reset")
    assert expired.status_code == 410
    assert 'href="/password-reset/request"' in expired.text
    await browser.get("/password-setup?token=nonsense")
    unknown = await browser.get("/password-setup")
    assert unknown.status_code == 410 and "いちばん新しいメール" in unknown.text
    assert (await browser.get("/password-reset")).status_code == 410


async def test_asking_for_a_reset_link_answers_the_same_for_any_address(browser: httpx.AsyncClient) -> None:
    form = html(await browser.get("/password-reset/request"))
    bad = await browser.post("/password-reset/request", data={"csrf": csrf_of(form), "email": "nope"})
    assert bad.status_code == 400 and 'href="#email"' in bad.text
    sent = await browser.post(
        "/password-reset/request", data={"csrf": csrf_of(form), "email": "someone@example.com"}
    )
    assert sent.status_code == 200 and "メールを確認してください" in sent.text
