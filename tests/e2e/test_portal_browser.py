"""The portal in a real browser (Debian's Chromium through Selenium), through the public gateway.

Every page is shown in Japanese and English at 360 px and 1280 px wide, saved as a screenshot under
``var/test-artifacts/portal/`` and checked with axe-core (no serious or critical violation), and must not scroll
sideways. The applicant is a real registered account with a real draft on the running stack.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from shared.testing.jpki import TestPki
from tests.e2e.e2e_support import (
    PASSWORD,
    new_card,
    random_bureau,
    random_email,
    register_and_sign_in,
    register_with_card,
    url,
    wait_for_mail,
)
from tests.e2e.test_journey import extension_draft, japan_today
from tests.support.stack import ROOT, Stack

pytestmark = pytest.mark.e2e

AXE = ROOT / "services" / "web" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "var" / "test-artifacts" / "portal"
WIDTHS = (360, 1280)


@pytest.fixture(scope="module")
def driver() -> Iterator[webdriver.Chrome]:
    """Headless Chromium from the distribution (never a downloaded browser)."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(argument)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    browser = webdriver.Chrome(options=options, service=service)
    browser.set_page_load_timeout(60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield browser
    finally:
        browser.quit()


def click_and_wait(driver: webdriver.Chrome, element: WebElement) -> None:
    """Click a link or a submit button and wait until the next page has replaced this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 60).until(expected_conditions.staleness_of(old))
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")


def look(driver: webdriver.Chrome, name: str, width: int) -> None:
    """At one width: no sideways scrolling, a full-page screenshot, and axe-core finds nothing serious."""
    driver.set_window_size(width, 900)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(width, min(max(height, 600), 6000))
    scroll = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll[0] <= scroll[1], f"{name} at {width}px scrolls sideways: {scroll}"
    lang = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    driver.save_screenshot(str(SHOTS / f"{name}-{lang}-{width}.png"))
    driver.execute_script(AXE.read_text())
    result: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa']}})"
        ".then(r => done({violations: r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target)}))}), e => done({error: String(e)}));"
    )
    assert "error" not in result, result
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name} ({lang}, {width}px): {json.dumps(bad, ensure_ascii=False)}"
    # Touch targets: every link and button in the header and main is at least 44 px high or inline in text.
    small = driver.execute_script(
        "return [...document.querySelectorAll('button, .button, .site-header a, .card__title a, .back-link')]"
        ".filter(e => e.getBoundingClientRect().height < 44).map(e => e.outerHTML.slice(0, 80))"
    )
    assert not small, f"{name} ({lang}, {width}px): targets under 44 px: {small}"


@pytest.mark.timeout(900)  # 16 pages, each measured at two widths with axe-core, on a busy 2-core machine
def test_an_applicant_reads_the_start_page_signs_in_and_finds_the_application_in_both_languages(
    stack: Stack, pki: TestPki, driver: webdriver.Chrome
) -> None:
    address = random_email("portal")
    with httpx.Client(timeout=30) as client:
        applicant = register_and_sign_in(client, stack, new_card(pki), address)
        created = client.post(
            url(stack, "applications", "/api/applications"),
            json=extension_draft(japan_today() + timedelta(days=60), address, random_bureau()),
            headers=applicant.headers,
        )
        assert created.status_code == 201, created.text
    base = stack.public_url
    for lang in ("ja", "en"):
        driver.delete_all_cookies()
        driver.get(f"{base}/language/{lang}?next=/")
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
        for width in WIDTHS:
            look(driver, "start", width)

        driver.get(f"{base}/sign-in")
        click_and_wait(
            driver, driver.find_element(By.CSS_SELECTOR, "form[action='/sign-in'] button[type=submit]")
        )
        summary = driver.find_element(By.CLASS_NAME, "error-summary")
        assert str(summary.find_element(By.TAG_NAME, "a").get_attribute("href")).endswith("#auth_id")
        for width in WIDTHS:
            look(driver, "sign-in-errors", width)

        driver.find_element(By.ID, "auth_id").send_keys(applicant.auth_id)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        click_and_wait(
            driver, driver.find_element(By.CSS_SELECTOR, "form[action='/sign-in'] button[type=submit]")
        )
        assert driver.current_url.endswith("/applications"), driver.current_url
        cards = driver.find_elements(By.CLASS_NAME, "card")
        assert len(cards) == 1
        for width in WIDTHS:
            look(driver, "applications", width)

        click_and_wait(driver, cards[0].find_element(By.TAG_NAME, "a"))
        assert driver.current_url.endswith(f"/applications/{created.json()['id']}")
        heading = driver.find_element(By.TAG_NAME, "h1").text
        assert heading == ("あなたの申請" if lang == "ja" else "Your application")
        for width in WIDTHS:
            look(driver, "application", width)

        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] button"))
        assert driver.find_element(By.TAG_NAME, "h1").text in ("サインアウトしました", "You have signed out")
    assert os.listdir(SHOTS)


def test_the_portal_pages_carry_the_gateways_strict_policy(stack: Stack) -> None:
    with httpx.Client(base_url=stack.public_url, timeout=10) as client:
        start = client.get("/")
    assert start.status_code == 200
    assert "script-src 'self'" in start.headers["content-security-policy"]
    stylesheet = next(part for part in start.text.split('"') if part.startswith("/static/app."))
    with httpx.Client(base_url=stack.public_url, timeout=10) as client:
        css = client.get(stylesheet)
    assert css.status_code == 200 and "--color-primitive-blue-900" in css.text
    assert "immutable" in css.headers["cache-control"]


@pytest.mark.timeout(600)
def test_the_set_up_link_in_the_mail_opens_the_page_that_sets_the_password_and_shows_the_auth_id(
    stack: Stack, pki: TestPki, driver: webdriver.Chrome
) -> None:
    address = random_email("portal-setup")
    card = new_card(pki)
    with httpx.Client(timeout=30) as client:
        register_with_card(client, stack, card, address, locale="ja")
    mail = wait_for_mail(stack, address, "password_setup")
    link = re.search(r"https?://\S+/password-setup\?token=[A-Za-z0-9_\-]+", mail.text)
    assert link and link[0].startswith(stack.public_url), mail.text

    driver.delete_all_cookies()
    driver.get(f"{stack.public_url}/language/ja?next=/")  # the mail was in Japanese; so is the page
    driver.get(link[0])
    assert driver.current_url == f"{stack.public_url}/password-setup"  # the token left the address bar
    for width in WIDTHS:
        look(driver, "password-setup", width)
    driver.find_element(By.ID, "password").send_keys("short")
    driver.find_element(By.ID, "confirm").send_keys("short")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    assert driver.find_elements(By.CLASS_NAME, "error-summary")
    for width in WIDTHS:
        look(driver, "password-setup-errors", width)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "confirm").send_keys(PASSWORD)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    auth_id = driver.find_element(By.CLASS_NAME, "panel__id").text
    for width in WIDTHS:
        look(driver, "password-set", width)
    mailed = wait_for_mail(stack, address, "auth_id_issued")
    assert auth_id and auth_id in mailed.text

    driver.get(link[0])  # the same link again: already used, with the way forward
    assert driver.find_element(By.TAG_NAME, "h1").text == "このリンクはもう使われています"
    look(driver, "link-used", 360)
