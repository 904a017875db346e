"""The example site in a real headless Chromium: what a person sees, and the login round trip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import running_server
from funnelrun.cli import main

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`funnelrun serve` on the example site, as a user would run it."""
    root = tmp_path_factory.mktemp("browser") / "example"
    assert main(["new", str(root)]) == 0
    with running_server(root) as (base, _):
        yield base


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_landing_page_renders_for_a_person(server, browser, tmp_path):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server + "/")
    assert page.title() == "Home · Acme"
    assert page.locator("#headline").inner_text() == "Launch your funnel today, friend!"
    assert page.locator("#price-card .price").inner_text() == "$49.00"
    visible = page.locator("body").inner_text()
    for leak in ("{{", "}}", "@if", "@endif", "@foreach", "setVariable", "session.get"):
        assert leak not in visible
    page.screenshot(path=str(tmp_path / "landing.png"), full_page=True)
    assert errors == []
    page.close()


def test_login_form_leads_to_the_members_area(server, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(server + "/members")
    assert page.url == server + "/login"
    page.fill("input[name=email]", "not-an-email@")
    page.locator("input[name=email]").evaluate("el => el.type = 'text'")  # let the server judge
    page.click("button[type=submit]")
    assert page.locator("#error").inner_text() == "Please enter a valid email address."
    page.fill("input[name=name]", "ann lee")
    page.fill("input[name=email]", "ann@example.test")
    page.click("button[type=submit]")
    page.wait_for_url(server + "/members")
    assert page.locator("#welcome").inner_text() == "Hello Ann Lee"
    cookies = {cookie["name"]: cookie for cookie in context.cookies()}
    assert cookies["fr_session"]["httpOnly"] is True
    assert cookies["fr_session"]["sameSite"] == "Lax"
    context.close()
