"""The portal's pages rendered with the services faked at their HTTP boundary; assertions on the HTML."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup

from tests.web.fakes import APPLICATION_ID, FakeServices
from web.sessions import MemorySessionStore
from web.views import safe_next

pytestmark = pytest.mark.unit


def html(response: httpx.Response) -> Any:
    """Parse a page (typed Any: the tests read it like a person would, and fail on what is missing)."""
    return BeautifulSoup(response.text, "html.parser")


def csrf_of(page: Any) -> str:
    """The CSRF token of the page's form."""
    field = page.find("input", attrs={"name": "csrf"})
    assert field is not None
    return str(field["value"])


async def sign_in(browser: httpx.AsyncClient, password: str = FakeServices.PASSWORD) -> httpx.Response:
    """Fill in and send the sign-in form."""
    form = html(await browser.get("/sign-in"))
    return await browser.post(
        "/sign-in",
        data={"csrf": csrf_of(form), "auth_id": "A1B2C3D4E5", "password": password, "next": "/applications"},
    )


async def test_the_start_page_is_japanese_by_default_with_a_switch_that_keeps_the_page(
    browser: httpx.AsyncClient,
) -> None:
    page = html(await browser.get("/"))
    assert page.html["lang"] == "ja"
    assert page.h1.get_text(strip=True).startswith("在留")
    assert page.find("ruby") is not None  # furigana on hard words
    switch = page.find("a", attrs={"hreflang": "en"})
    assert switch["lang"] == "en" and switch["href"] == "/language/en?next=%2F"
    answer = await browser.get("/language/en?next=%2Fsign-in")
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in"
    assert "ras_lang=en" in answer.headers["set-cookie"]
    english = html(await browser.get("/sign-in"))
    assert english.html["lang"] == "en" and english.h1.get_text(strip=True) == "Sign in"


async def test_reading_a_page_without_a_form_starts_no_session(
    browser: httpx.AsyncClient, store: MemorySessionStore
) -> None:
    answer = await browser.get("/")
    assert "set-cookie" not in answer.headers and not store.rows
    await browser.get("/sign-in")  # a form: now a session holds its CSRF token
    assert len(store.rows) == 1


async def test_the_browser_language_is_used_until_a_choice_is_made(browser: httpx.AsyncClient) -> None:
    assert html(await browser.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})).html["lang"] == "en"
    assert html(await browser.get("/", headers={"Accept-Language": "fr, ja;q=0.5"})).html["lang"] == "ja"


async def test_the_language_switch_never_sends_people_to_another_site(browser: httpx.AsyncClient) -> None:
    for target in ["https://evil.example/", "//evil.example/x", "/\\evil.example"]:
        assert safe_next(target, "/") == "/"
    answer = await browser.get("/language/en?next=//evil.example/")
    assert answer.headers["location"] == "/"


async def test_an_empty_sign_in_lists_each_problem_linked_to_its_field(browser: httpx.AsyncClient) -> None:
    form = html(await browser.get("/sign-in"))
    answer = await browser.post("/sign-in", data={"csrf": csrf_of(form), "auth_id": "", "password": ""})
    assert answer.status_code == 400
    page = html(answer)
    summary = page.find(class_="error-summary")
    assert summary is not None and summary["role"] == "alert"
    links = [a["href"] for a in summary.find_all("a")]
    assert links == ["#auth_id", "#password"]
    assert page.find(id="auth_id")["aria-describedby"] == "auth_id-error"
    assert page.title.get_text().startswith("エラー")


async def test_a_form_without_its_csrf_token_is_refused(
    browser: httpx.AsyncClient, services: FakeServices
) -> None:
    await browser.get("/sign-in")
    answer = await browser.post("/sign-in", data={"auth_id": "A1", "password": FakeServices.PASSWORD})
    assert answer.status_code == 400
    assert not any(c.url.path == "/api/identity/sessions" for c in services.calls)


async def test_a_wrong_password_shows_identitys_message_in_the_chosen_language(
    browser: httpx.AsyncClient,
) -> None:
    answer = await sign_in(browser, password="wrong")
    assert answer.status_code == 400
    assert "認証IDまたはパスワードが違います。" in answer.text
    browser.cookies.set("ras_lang", "en")
    assert (
        "The authentication ID or the password is wrong." in (await sign_in(browser, password="wrong")).text
    )


async def test_signing_in_keeps_the_tokens_on_the_server_and_starts_a_new_session(
    browser: httpx.AsyncClient, store: MemorySessionStore, services: FakeServices
) -> None:
    await browser.get("/sign-in")
    before = browser.cookies.get("ras_session")
    answer = await sign_in(browser)
    assert answer.status_code == 303 and answer.headers["location"] == "/applications"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "access-first" not in cookie
    after = browser.cookies.get("ras_session")
    assert after and after != before  # no session fixation
    assert any(data.get("access_token") == "access-first" for data, _ in store.rows.values())
    # The browser's address reaches identity for its per-address lock.
    call = next(c for c in services.calls if c.url.path == "/api/identity/sessions")
    assert call.headers["x-forwarded-for"] == "127.0.0.1"


async def test_my_applications_need_a_session_and_show_the_state_in_words(browser: httpx.AsyncClient) -> None:
    answer = await browser.get("/applications")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    await sign_in(browser)
    page = html(await browser.get("/applications"))
    card = page.find(class_="card")
    assert "P-2026-000123" in card.get_text()
    assert "仮受付" in card.get_text()
    assert "受付番号" in card.get_text()  # what happens next, in words
    link = card.find("a")["href"]
    assert link == f"/applications/{APPLICATION_ID}"


async def test_an_application_shows_every_attachment_verdict_with_its_reason(
    browser: httpx.AsyncClient,
) -> None:
    await sign_in(browser)
    browser.cookies.set("ras_lang", "en")
    page = html(await browser.get(f"/applications/{APPLICATION_ID}"))
    assert page.h1.get_text(strip=True) == "Your application"
    text = page.get_text(" ")
    assert "documents.pdf" in text and "Remove the password." in text
    assert "1 December 2026" in text  # dates as people write them
    assert (await browser.get("/applications/00000000-0000-0000-0000-000000000000")).status_code == 404


async def test_sign_out_ends_the_session_here_and_at_identity(
    browser: httpx.AsyncClient, services: FakeServices
) -> None:
    await sign_in(browser)
    page = html(await browser.get("/applications"))
    answer = await browser.post("/sign-out", data={"csrf": csrf_of(page)})
    assert answer.status_code == 200
    assert any(c.url.path == "/api/identity/sessions/sign-out" for c in services.calls)
    assert (await browser.get("/applications")).status_code == 303


async def test_a_service_that_is_down_gives_a_page_that_says_nothing_is_lost(
    browser: httpx.AsyncClient, services: FakeServices
) -> None:
    await sign_in(browser)
    services.down = True
    answer = await browser.get("/applications")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "30"
    assert "保存した内容は失われていません" in answer.text


async def test_every_page_has_one_h1_a_skip_link_and_no_inline_script(browser: httpx.AsyncClient) -> None:
    paths = ["/", "/sign-in", "/applications", f"/applications/{APPLICATION_ID}", "/nowhere"]
    for index, path in enumerate(paths):
        if index == 2:
            await sign_in(browser)
        answer = await browser.get(path)
        page = html(answer)
        assert len(page.find_all("h1")) == 1, path
        assert page.find("a", class_="skip-link")["href"] == "#main", path
        assert not page.find_all("script"), path
        assert not re.search(r"\sstyle=", answer.text), path
        assert answer.headers["cache-control"] == "no-store", path
    assert (await browser.get("/nowhere")).status_code == 404


async def test_a_form_body_over_the_limit_is_refused_before_it_is_read(
    browser: httpx.AsyncClient, services: FakeServices
) -> None:
    form = html(await browser.get("/sign-in"))
    big = {"csrf": csrf_of(form), "auth_id": "A" * (70 * 1024), "password": "x"}
    assert (await browser.post("/sign-in", data=big)).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(80):
            yield b"a" * 1024

    chunked = await browser.post(
        "/sign-in", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert chunked.status_code == 413
    assert not any(c.url.path == "/api/identity/sessions" for c in services.calls)
