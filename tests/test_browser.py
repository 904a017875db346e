"""The example site in a real headless Chromium: what a person sees, and the whole login round
trip — log in on one of the brand's domains, continue on the other, log out."""

from __future__ import annotations

import base64
import os
import re

import pytest

from conftest import running_server
from funnelrun.cli import main

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`funnelrun serve` on the example site, as a user would run it, with a secret key so that
    logins can be handed between its two domains (127.0.0.1, the base URL, and localhost)."""
    root = tmp_path_factory.mktemp("browser") / "example"
    assert main(["new", str(root)]) == 0
    key = base64.b64encode(os.urandom(32)).decode()
    with running_server(root, FUNNELRUN_SECRET_KEY=key) as (base, _):
        yield base


def other_domain(base: str) -> str:
    """The same server under the brand's other host name: localhost for 127.0.0.1."""
    return base.replace("//127.0.0.1:", "//localhost:")


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


def test_landing_page_loads_its_stylesheet_logo_and_favicon(server, browser):
    """The layout's asset() URLs, as a browser follows them: no request fails, the stylesheet
    applies, the logo is drawn, the favicon loads."""
    context = browser.new_context()
    page = context.new_page()
    failed: list[str] = []
    assets: dict[str, int] = {}
    page.on("requestfailed", lambda request: failed.append(f"{request.url}: {request.failure}"))

    def answered(response) -> None:
        if response.status >= 400:
            failed.append(f"{response.url}: {response.status}")
        if "/assets/" in response.url:
            assets[response.url.removeprefix(server)] = response.status

    page.on("response", answered)
    page.goto(server + "/", wait_until="load")
    page.wait_for_load_state("networkidle")

    style = "([selector, name]) => getComputedStyle(document.querySelector(selector))[name]"
    assert page.evaluate(style, ["body", "backgroundColor"]) == "rgb(246, 247, 251)"
    assert page.evaluate(style, ["header", "display"]) == "flex"
    assert page.evaluate(style, ["#price-card", "backgroundColor"]) == "rgb(255, 255, 255)"
    assert page.locator("#logo").evaluate("img => img.complete && img.naturalWidth") > 0
    assert page.locator("#logo").bounding_box()["width"] == 32  # 2rem, from the stylesheet
    icon = page.evaluate("""async () => {
        const href = document.querySelector("link[rel=icon]").href;
        const response = await fetch(href);
        const image = new Image();
        image.src = href;
        await image.decode();
        return [new URL(href).pathname, response.status,
                response.headers.get("content-type"), image.naturalWidth];
    }""")
    assert icon == ["/assets/favicon.svg", 200, "image/svg+xml; charset=utf-8", 32]
    assert sorted(path.partition("?v=")[0] for path in assets) == [
        "/assets/css/site.css", "/assets/favicon.svg", "/assets/img/logo.svg"]
    assert set(assets.values()) == {200}
    assert all(re.search(r"\?v=[0-9a-f]{8}$", path) for path in assets)
    assert failed == []
    context.close()


def test_login_form_leads_to_the_members_area(server, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(server + "/members")
    assert page.url == server + "/login"
    page.fill("input[name=email]", "not-an-email@")
    page.locator("input[name=email]").evaluate("el => el.type = 'text'")  # let the server judge
    page.fill("input[name=code]", page.locator("#demo-code").inner_text())
    page.click("button[type=submit]")
    assert page.locator("#error").inner_text() == "Please enter a valid email address."
    page.fill("input[name=email]", "ann@example.test")
    page.fill("input[name=code]", "000000" if page.locator("#demo-code").inner_text() != "000000"
              else "111111")
    page.click("button[type=submit]")
    assert page.locator("#error").inner_text().startswith("That code is not right.")
    page.fill("input[name=name]", "ann lee")
    page.fill("input[name=code]", page.locator("#demo-code").inner_text())
    page.click("button[type=submit]")
    page.wait_for_url(server + "/members")
    assert page.locator("#welcome").inner_text() == "Hello Ann Lee"
    cookies = {cookie["name"]: cookie for cookie in context.cookies()}
    assert cookies["fr_session"]["httpOnly"] is True
    assert cookies["fr_session"]["sameSite"] == "Lax"
    context.close()


def test_login_continues_on_the_other_domain_and_logs_out(server, browser):
    here, there = other_domain(server), server
    context = browser.new_context()
    page = context.new_page()
    page.goto(here + "/login")
    page.fill("input[name=name]", "ann lee")
    page.fill("input[name=email]", "ann@example.test")
    page.fill("input[name=code]", page.locator("#demo-code").inner_text())
    page.click("button[type=submit]")
    page.wait_for_url(here + "/members")

    page.click("#continue")  # /continue -> there/members?ef_session=… -> 303 there/members
    page.wait_for_url(there + "/members")
    assert page.locator("#welcome").inner_text() == "Hello Ann Lee"
    assert page.locator("#email").inner_text() == "ann@example.test"
    hosts = {cookie["domain"]: cookie["value"] for cookie in context.cookies()
             if cookie["name"] == "fr_session"}
    assert set(hosts) == {"localhost", "127.0.0.1"} and len(set(hosts.values())) == 2

    page.click("#logout")
    page.wait_for_url(there + "/login")
    assert page.locator("#flash").inner_text() == "You are logged out."
    page.goto(there + "/members")
    assert page.url == there + "/login"
    page.goto(here + "/members")  # a logout is for its own domain
    assert page.locator("#welcome").inner_text() == "Hello Ann Lee"
    context.close()
