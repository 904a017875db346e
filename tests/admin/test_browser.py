"""The debug window in a real headless Chromium (issue 10): log in through the link `funnelrun
serve` prints, read a failed request's console and error, watch new requests arrive live, the
in-page panel for admins only, nothing a visitor sends ever running or rendering as markup, and
the README's screenshots (written to docs/ when FUNNELRUN_SCREENSHOTS=1)."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from conftest import printed_login_link, running_server, write_site
from funnelrun.admin.present import visible

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"
SCREENSHOT_BUDGET = 150 * 1024  # bytes per PNG kept in the repository
QUIET = {"FUNNELRUN_EXECUTOR_PROCESSES": "1", "FUNNELRUN_ADMIN_TOKEN": ""}

SITE = {
    "brands/acme/pages/index.html": """
        <!doctype html><html><head><title>Home</title></head>
        <body><h1 id="hi">Hello</h1></body></html>
    """,
    "brands/acme/pages/boom.html": """
        <script scope="backend">
        console.log("before");
        console.warn("careful");
        null.x;
        </script>
        <!doctype html><html><head><title>Boom</title></head><body><p>boom</p></body></html>
    """,
    "brands/acme/pages/api.html": """
        <script scope="backend">response.json({ ok: true, html: "<body></body>" });</script>
    """,
    "brands/acme/pages/custom.html": """
        <script scope="backend">
        response.send("<!doctype html><html><body><p id=custom>custom</p></body></html>");
        </script>
    """,
    # Everything a visitor sends that a script can pass on to the page events.
    "brands/acme/pages/echo.html": """
        <script scope="backend">
        var q = request.query.q || "";
        console.log(q);
        console.warn("user agent: " + request.headers["user-agent"]);
        console.info("cookie names: " + Object.keys(request.cookies).join(" "));
        session.set(q, "v");
        session.set("note", q);
        cookie.set(q, "v");
        setHeader(q, "v");
        setVariable(q, "v");
        redirect(q);
        </script>
        <!doctype html><html><head><title>Echo</title></head><body><p>echo</p></body></html>
    """,
    "brands/acme/pages/throw.html": """
        <script scope="backend">
        throw new Error(request.query.q);
        </script>
        <!doctype html><html><head><title>Throw</title></head><body><p>throw</p></body></html>
    """,
    "brands/acme/pages/long.html": """
        <script scope="backend">
        console.log(request.query.q + "A".repeat(1024 * 1024));
        </script>
        <!doctype html><html><head><title>Long</title></head><body><p>long</p></body></html>
    """,
}

# What a visitor might send, and a marker of it that no escaping may change.
PAYLOADS = {
    "script": ("</script><script>alert('script')</script>", "<script>alert("),
    "img": ("<img src=x onerror=alert('img')>", "<img src=x onerror=alert("),
    "svg": ("\"><svg onload=alert('svg')>", "<svg onload=alert("),
    "ansi": ("\x1b[31mred\x1b[0m <b>bold</b>", "[31mred"),
}
COOKIE_NAME = "<marquee>cookie</marquee>"  # no '=' or ';': the whole of it is the name
INJECTED = "img[src=x], svg, marquee, b, script:not([src])"


def on_pages(text: str) -> str:
    """`text` as the debug window's pages show it: control characters as `\\x1b`."""
    return "".join(ch if ch.isprintable() or ch in "\n\t" else f"\\x{ord(ch):02x}"
                   for ch in text)


def in_panel(text: str) -> str:
    """`text` as the in-page panel shows it: control characters as on the pages (`\\x1b`)."""
    return visible(text)


@dataclass
class Server:
    base: str
    link: str  # the login link it printed
    token: str

    def record(self, request_id: str) -> dict[str, Any]:
        """The request's JSON from the API, waiting for it to be written."""
        deadline = time.monotonic() + 10
        while True:
            answer = httpx.get(f"{self.base}/_funnelrun/api/requests/{request_id}",
                               headers={"authorization": f"Bearer {self.token}"})
            if answer.status_code == 200 or time.monotonic() > deadline:
                assert answer.status_code == 200, answer.text
                return answer.json()
            time.sleep(0.03)

    def visit(self, method: str, target: str, **options: Any) -> str:
        """A request made like a visitor's, outside the browser; its recorded request id."""
        answer = httpx.request(method, self.base + target, **options)
        request_id = answer.headers["x-request-id"]
        self.record(request_id)
        return request_id


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """`funnelrun serve` without FUNNELRUN_ADMIN_TOKEN: it makes one and prints the link."""
    root = write_site(tmp_path_factory.mktemp("admin-browser") / "site", SITE)
    with running_server(root, **QUIET) as (base, _):
        link = printed_login_link(root.parent / "server.log")
        yield Server(base, link, link.rpartition("token=")[2])


class Watch:
    """A page's dialogs, script errors, console errors and CSP violations: none is expected."""

    # Reported by every page, ours or the site's, whatever its policy says.
    REPORT_CSP = """document.addEventListener("securitypolicyviolation", (e) =>
        console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI));"""

    def __init__(self, page) -> None:
        self.dialogs: list[str] = []
        self.problems: list[str] = []
        self.page = page
        page.add_init_script(self.REPORT_CSP)
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message) -> None:
        source = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and (
                source == self.page.url  # a 404 page the test asked for, and checks
                or source.endswith("/favicon.ico")):  # the browser's guess; the site's 404
            return
        if message.type == "error" or "Refused to" in message.text:
            self.problems.append(f"console {message.type}: {message.text} "
                                 f"({message.location.get('url')})")

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.problems == []


def log_in(browser, server: Server, **options: Any):
    """A browser context logged in through the printed link, and its page on /_funnelrun/."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.goto(server.link)
    page.wait_for_url(server.base + "/_funnelrun/")
    return context, page


@pytest.fixture(scope="module")
def admin(browser, server):
    context, page = log_in(browser, server)
    page.close()
    yield context
    context.close()


@pytest.fixture
def admin_page(admin):
    page = admin.new_page()
    watch = Watch(page)
    yield page, watch
    watch.assert_clean()
    page.close()


def assert_no_markup_from_visitors(page) -> None:
    """No element a payload would make, and no script but the window's own files."""
    assert page.locator(INJECTED).count() == 0, page.content()[:3000]
    for src in page.locator("script").evaluate_all("nodes => nodes.map((n) => n.src)"):
        assert re.fullmatch(r"http://[^/]+/_funnelrun/assets/(admin|panel)\.js", src), src


# -- the panel inside its closed shadow root, read through the DevTools protocol ----------------


@dataclass
class Panel:
    text: str
    elements: set[str]
    link: str | None
    link_at: tuple[float, float] | None  # the middle of the link, for a click
    shown: bool


def read_panel(page) -> Panel | None:
    """The page-events panel of `page` as the DevTools protocol sees it (it pierces the closed
    shadow root), or None when the page has none."""
    cdp = page.context.new_cdp_session(page)
    try:
        document = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
        host = _find(document, lambda node: node.get("nodeName") == "FUNNELRUN-PAGE-EVENTS")
        if host is None:
            return None
        texts: list[str] = []
        elements: set[str] = set()
        found: dict[str, Any] = {}

        def walk(node: dict[str, Any]) -> None:
            if node["nodeType"] == 3:
                texts.append(node["nodeValue"])
            elif node["nodeType"] == 1:
                elements.add(node["nodeName"].lower())
                attributes = dict(zip(node.get("attributes", [])[::2],
                                      node.get("attributes", [])[1::2], strict=True))
                if attributes.get("class") == "panel":
                    found["panel"] = node["nodeId"]
                if attributes.get("class") == "open":
                    found["link"] = attributes.get("href")
                    found["link_node"] = node["nodeId"]
            for child in node.get("children", []) + node.get("shadowRoots", []):
                walk(child)

        assert [root.get("shadowRootType") for root in host.get("shadowRoots", [])] == ["closed"]
        for root in host["shadowRoots"]:
            walk(root)
        shown = _box(cdp, found["panel"]) is not None
        link_at = _box(cdp, found["link_node"]) if "link_node" in found else None
        return Panel("\n".join(texts), elements, found.get("link"), link_at, shown)
    finally:
        cdp.detach()


def _box(cdp, node_id: int) -> tuple[float, float] | None:
    """The middle of a node's border box, or None when it is not rendered."""
    try:
        quad = cdp.send("DOM.getBoxModel", {"nodeId": node_id})["model"]["border"]
    except Exception:  # "Could not compute box model": not rendered
        return None
    return (sum(quad[0::2]) / 4, sum(quad[1::2]) / 4)


def _find(node: dict[str, Any], test: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    if test(node):
        return node
    for child in node.get("children", []) + node.get("shadowRoots", []):
        if (hit := _find(child, test)) is not None:
            return hit
    return None


def open_panel(page) -> Panel:
    """Ctrl+Shift+F12, then the panel once it has loaded the request's events."""
    page.keyboard.press("Control+Shift+F12")
    deadline = time.monotonic() + 10
    while True:
        panel = read_panel(page)
        if panel is not None and "Loading…" not in panel.text and "response" in panel.text:
            return panel
        assert time.monotonic() < deadline, f"the panel did not load: {panel}"
        time.sleep(0.05)


# -- 1. logging in ------------------------------------------------------------------------------


def test_the_printed_link_logs_in_and_the_cookie_is_strict(browser, server):
    assert server.link.startswith(server.base + "/_funnelrun/login?token=")
    assert len(server.token) >= 32
    context, page = log_in(browser, server)
    watch = Watch(page)
    page.reload()  # the landing page itself, watched
    assert "token" not in page.url and page.url == server.base + "/_funnelrun/"
    assert page.title() == "Requests · funnelrun debug window"
    cookies = {cookie["name"]: cookie for cookie in context.cookies()}
    assert cookies["fr_admin"]["httpOnly"] is True
    assert cookies["fr_admin"]["sameSite"] == "Strict"
    assert cookies["fr_admin"]["path"] == "/"
    assert page.evaluate("document.cookie") == ""  # never readable by scripts
    watch.assert_clean()

    page.click("a.logout")
    page.wait_for_url(server.base + "/")
    assert "fr_admin" not in {cookie["name"] for cookie in context.cookies()}
    assert page.goto(server.base + "/_funnelrun/").status == 404
    context.close()


def test_the_printed_link_works_when_clicked_on_another_sites_page(browser, server):
    """As when the link is clicked in a web chat, a CI log or a browser-based terminal:
    localhost is another site than 127.0.0.1."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.base.replace("//127.0.0.1:", "//localhost:") + "/")
    page.evaluate("""(href) => {
        const a = document.createElement("a");
        a.id = "login";
        a.href = href;
        a.textContent = "debug window";
        document.body.appendChild(a);
    }""", server.link)
    page.click("#login")
    page.wait_for_url(server.base + "/_funnelrun/")
    assert page.title() == "Requests · funnelrun debug window"
    context.close()


def test_a_wrong_token_logs_nobody_in(browser, server):
    context = browser.new_context()
    page = context.new_page()
    answer = page.goto(server.base + "/_funnelrun/login?token=" + "x" * len(server.token))
    assert answer.status == 404 and context.cookies() == []
    context.close()


# -- 2. a request whose script threw ------------------------------------------------------------


def test_a_failed_script_shows_its_console_and_error_with_the_line(server, admin_page):
    page, _ = admin_page
    request_id = server.visit("GET", "/boom")
    page.goto(server.base + "/_funnelrun/")
    row = page.locator(f'#rows tr[data-request-id="{request_id}"]')
    assert row.get_attribute("class") == "error"
    assert row.locator(".outcome").inner_text() == "error"
    assert "bad" in row.locator(".outcome").get_attribute("class")

    row.locator("td.path a").click()
    page.wait_for_url(f"{server.base}/_funnelrun/requests/{request_id}")
    assert "error" in page.locator("section.summary").get_attribute("class")
    script = page.locator("section.event", has=page.locator(".type", has_text="script"))
    assert script.get_attribute("class") == "event bad"
    lines = script.locator("ol.console li")
    assert lines.count() == 2
    assert lines.nth(0).get_attribute("class") == "level-log"
    assert lines.nth(0).locator(".level").inner_text() == "log"
    assert lines.nth(0).locator("pre").inner_text() == "before"
    assert lines.nth(1).get_attribute("class") == "level-warn"
    assert lines.nth(1).locator(".level").inner_text() == "warn"
    assert lines.nth(1).locator("pre").inner_text() == "careful"
    error = script.locator(".error-box")
    assert error.locator(".where").inner_text() == "brands/acme/pages/boom.html:4:1"
    assert error.locator(".message").inner_text() == "TypeError: cannot read property 'x' of null"
    assert error.locator("pre.source").inner_text() == "null.x;\n^"
    # Errors stand out: a broad rule beside the section, the message in a colour of its own.
    resolve = page.locator("section.event", has=page.locator(".type", has_text="resolve"))
    assert resolve.get_attribute("class").split() == ["event"]
    style = "(n, name) => getComputedStyle(n)[name]"
    assert script.evaluate(style, "borderLeftWidth") == "4px"
    assert resolve.evaluate(style, "borderLeftWidth") == "1px"
    assert error.locator(".message").evaluate(style, "color") != \
        page.locator("body").evaluate(style, "color")
    assert page.locator("section.event.bad").count() == 1


def test_the_export_is_a_download_of_the_whole_record(server, admin_page):
    page, _ = admin_page
    request_id = server.visit("GET", "/boom")
    page.goto(f"{server.base}/_funnelrun/requests/{request_id}")
    with page.expect_download() as download:
        page.click("#export")
    assert download.value.suggested_filename == f"funnelrun-request-{request_id}.json"
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert exported == server.record(request_id)


# -- 3. live -----------------------------------------------------------------------------------


def test_new_requests_appear_live_without_a_reload(server, admin_page):
    page, _ = admin_page
    page.goto(server.base + "/_funnelrun/")
    page.wait_for_selector("#live.on")  # the EventSource is open
    assert page.locator("#live").inner_text() == "live"
    page.evaluate("window.stillTheSamePage = true")
    marker = f"/arrives-live-{secrets.token_hex(4)}"
    request_id = httpx.get(server.base + marker).headers["x-request-id"]
    row = page.locator(f'#rows tr[data-request-id="{request_id}"]')
    row.wait_for(timeout=10_000)
    assert row.locator("td.path a").inner_text() == marker
    assert row.locator("td.status").inner_text() == "404"
    assert page.locator("#rows tr").first.get_attribute("data-request-id") == request_id
    failed = httpx.get(server.base + "/boom").headers["x-request-id"]
    row = page.locator(f'#rows tr[data-request-id="{failed}"]')
    row.wait_for(timeout=10_000)
    assert row.get_attribute("class") == "new error"
    assert page.evaluate("window.stillTheSamePage") is True
    row.locator("td.path a").click()
    page.wait_for_url(f"{server.base}/_funnelrun/requests/{failed}")


def test_filters_paging_and_a_filtered_live_list(server, admin_page):
    page, _ = admin_page
    server.visit("GET", "/boom")
    page.goto(server.base + "/_funnelrun/")
    page.select_option("select[name=brand]", "acme")
    page.check("input[name=errors]")
    page.click("button[type=submit]")
    page.wait_for_url("**/_funnelrun/?brand=acme&path=&status=&errors=1")
    rows = page.locator("#rows tr")
    assert rows.count() >= 1
    assert set(rows.evaluate_all("rows => rows.map((row) => row.className)")) == {"error"}
    page.wait_for_selector("#live.on")
    calm = httpx.get(server.base + "/").headers["x-request-id"]
    failed = httpx.get(server.base + "/boom").headers["x-request-id"]
    page.locator(f'#rows tr[data-request-id="{failed}"]').wait_for(timeout=10_000)
    assert page.locator(f'#rows tr[data-request-id="{calm}"]').count() == 0

    page.goto(server.base + "/_funnelrun/?limit=2")
    newest = rows.evaluate_all("rows => rows.map((row) => row.dataset.requestId)")
    assert len(newest) == 2
    page.click("a.older")
    older = rows.evaluate_all("rows => rows.map((row) => row.dataset.requestId)")
    assert older and len(older) <= 2 and not set(older) & set(newest)  # the page size is kept
    assert page.locator("#live").count() == 0  # an older page does not follow
    page.click("a.live.off")
    assert page.url == server.base + "/_funnelrun/?limit=2"


def test_an_empty_list_follows_new_requests_live(server, admin):
    page = admin.new_page()
    path = f"/nothing-here-yet-{secrets.token_hex(4)}"
    page.goto(server.base + "/_funnelrun/?path=" + quote(path))
    assert page.locator("#empty").is_visible()
    page.wait_for_selector("#live.on, #live.off")
    assert page.locator("#live").get_attribute("class") == "live on"
    request_id = httpx.get(server.base + path).headers["x-request-id"]
    page.locator(f'#rows tr[data-request-id="{request_id}"]').wait_for(timeout=10_000)
    page.close()


def test_without_event_source_the_list_polls(server, admin_page):
    page, _ = admin_page
    page.add_init_script("delete window.EventSource")
    page.goto(server.base + "/_funnelrun/")
    page.wait_for_selector("#live.polling")
    request_id = httpx.get(server.base + "/polled").headers["x-request-id"]
    page.locator(f'#rows tr[data-request-id="{request_id}"]').wait_for(timeout=10_000)


# -- 4. visitors and admins ----------------------------------------------------------------------


def without_varying(headers: dict[str, str]) -> dict[str, str]:
    """A response's headers but those that differ from one response to the next."""
    return {name: value for name, value in headers.items() if name not in ("x-request-id", "date")}


def test_a_visitor_gets_the_sites_404_no_api_and_no_panel(browser, server):
    context = browser.new_context()
    page = context.new_page()
    watch = Watch(page)
    missing = page.goto(server.base + "/no-such-page")
    assert missing.status == 404
    not_found = missing.body(), without_varying(missing.headers)
    request_id = server.visit("GET", "/boom")
    for path in ("/_funnelrun/", "/_funnelrun", f"/_funnelrun/requests/{request_id}",
                 "/_funnelrun/assets/admin.js", "/_funnelrun/logout"):
        answer = page.goto(server.base + path)
        assert answer.status == 404, path
        assert (answer.body(), without_varying(answer.headers)) == not_found, path
    for path in ("/_funnelrun/api/requests", f"/_funnelrun/api/requests/{request_id}",
                 "/_funnelrun/api/live"):
        assert page.request.get(server.base + path).status == 401, path

    page.goto(server.base + "/")
    assert page.locator("#hi").inner_text() == "Hello"
    assert "panel.js" not in page.content()
    page.keyboard.press("Control+Shift+F12")
    page.wait_for_timeout(100)
    assert read_panel(page) is None

    # A cookie that only looks like the admin's opens nothing either.
    context.add_cookies([{"name": "fr_admin", "value": "v1.9999999999." + "0" * 64,
                          "url": server.base}])
    assert page.goto(server.base + "/_funnelrun/").status == 404
    assert "panel.js" not in page.goto(server.base + "/").text()
    watch.assert_clean()
    context.close()


def test_an_admin_gets_the_panel_of_this_very_request(server, admin_page):
    page, _ = admin_page
    answer = page.goto(server.base + "/boom")
    request_id = answer.headers["x-request-id"]
    assert answer.headers["cache-control"] == "private, no-store"
    assert page.locator('script[src="/_funnelrun/assets/panel.js"]').count() == 1
    assert read_panel(page) is None  # nothing until asked for

    panel = open_panel(page)
    assert panel.shown
    assert panel.link == f"/_funnelrun/requests/{request_id}"
    for text in ("GET /boom", "script error", "before", "careful",
                 "TypeError: cannot read property 'x' of null",
                 "brands/acme/pages/boom.html:4:1", "null.x;"):
        assert text in panel.text, text
    page.keyboard.press("Control+Shift+F12")
    assert not read_panel(page).shown, "Ctrl+Shift+F12 did not hide the panel"
    page.keyboard.press("Control+Shift+F12")
    assert read_panel(page).shown

    # The panel's link opens the request in the debug window, in a new tab.
    assert panel.link_at is not None
    with page.context.expect_page() as opened:
        page.mouse.click(*panel.link_at)
    window = opened.value
    window.wait_for_load_state()
    assert window.url == f"{server.base}/_funnelrun/requests/{request_id}"
    assert window.locator("h1 .path").inner_text() == "/boom"
    window.close()


def test_json_and_custom_responses_never_get_the_panel(server, admin_page):
    page, _ = admin_page
    answer = page.goto(server.base + "/api")
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"ok": True, "html": "<body></body>"}
    answer = page.goto(server.base + "/custom")
    assert answer.text() == "<!doctype html><html><body><p id=custom>custom</p></body></html>"
    page.keyboard.press("Control+Shift+F12")
    page.wait_for_timeout(200)
    assert read_panel(page) is None
    assert "panel.js" not in page.goto(server.base + "/no-such-page").text()


# -- 5. nothing a visitor sends runs or renders ----------------------------------------------------


def test_the_admin_pages_send_a_strict_policy(server, admin_page):
    page, _ = admin_page
    request_id = server.visit("GET", "/boom")
    for path in ("/_funnelrun/", f"/_funnelrun/requests/{request_id}",
                 "/_funnelrun/requests/0123456789abcdef"):
        headers = page.goto(server.base + path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy
        assert "unsafe-inline" not in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
    assert page.locator("p.problem").count() == 1  # the page for an id not recorded


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_visitor_text_is_shown_literally_everywhere(server, admin_page, name):
    page, watch = admin_page
    payload, core = PAYLOADS[name]
    header_safe = payload.isprintable()
    headers = {"cookie": f"{COOKIE_NAME}=1"}
    if header_safe:  # header values carry no control characters
        headers |= {"user-agent": payload, "content-type": "text/" + payload}

    # The requests arrive in the list live, their rows built by admin.js.
    page.goto(server.base + "/_funnelrun/")
    page.wait_for_selector("#live.on")
    echoed = server.visit("POST", "/echo?q=" + quote(payload), content=b"x", headers=headers)
    thrown = server.visit("GET", "/throw?q=" + quote(payload))
    missing = server.visit("GET", "/" + quote(payload, safe="/") + "?secret=" + quote(payload))
    record = server.record(missing)
    assert record["path"] == "/" + payload
    assert "secret" not in json.dumps(record)  # query strings are not recorded
    arrived = page.locator(f'#rows tr.new[data-request-id="{missing}"]')
    arrived.wait_for(timeout=10_000)
    assert arrived.locator("td.path a").inner_text() == "/" + on_pages(payload)
    assert page.locator(f'#rows tr.new.error[data-request-id="{thrown}"]').count() == 1
    assert_no_markup_from_visitors(page)

    # The list as the server renders it, and the filters echoing the payload back.
    for target in ("/_funnelrun/", "/_funnelrun/?path=" + quote("/" + payload),
                   "/_funnelrun/?status=" + quote(payload)):
        page.goto(server.base + target)
        assert_no_markup_from_visitors(page)
    page.goto(server.base + "/_funnelrun/?path=" + quote("/" + payload))
    assert page.locator("input[name=path]").input_value() == "/" + payload
    assert page.locator(f'#rows tr[data-request-id="{missing}"] td.path a').inner_text() == \
        "/" + on_pages(payload)
    page.goto(server.base + "/_funnelrun/?status=" + quote(payload))
    assert page.locator("#problem").inner_text().startswith("status:")

    # Each request in full.
    page.goto(f"{server.base}/_funnelrun/requests/{echoed}")
    assert_no_markup_from_visitors(page)
    shown = page.locator("main").inner_text()
    console = page.locator("ol.console pre").all_inner_texts()
    assert console[0] == on_pages(payload)
    assert console[2] == f"cookie names: {COOKIE_NAME}"
    # The console line, the setVariable key, and when sent in headers: the user agent (in the
    # console), the content type and the refused cookie and header names (in warnings).
    assert shown.count(on_pages(core)) == (6 if header_safe else 4 if name == "ansi" else 3), \
        shown
    page.goto(f"{server.base}/_funnelrun/requests/{thrown}")
    assert_no_markup_from_visitors(page)
    assert page.locator(".error-box .message").inner_text() == "Error: " + on_pages(payload)
    page.goto(f"{server.base}/_funnelrun/requests/{missing}")
    assert_no_markup_from_visitors(page)
    assert page.locator("h1 .path").inner_text() == "/" + on_pages(payload)
    assert "secret" not in page.locator("main").inner_text()

    # The panel on the pages themselves, asked for by an admin's browser.
    for target, expected in ((f"/echo?q={quote(payload)}", in_panel(payload)),
                             (f"/throw?q={quote(payload)}", "Error: " + in_panel(payload))):
        page.goto(server.base + target)
        panel = open_panel(page)
        assert expected in panel.text
        assert not panel.elements & {"img", "svg", "marquee", "b", "script"}, panel.elements
        assert_no_markup_from_visitors(page)
    watch.assert_clean()


def test_a_markup_host_header_is_refused_before_it_is_recorded(server, admin_page):
    page, _ = admin_page
    answer = httpx.get(server.base + "/", headers={"host": "<svg onload=alert('host')>"})
    assert answer.status_code == 400
    record = server.record(answer.headers["x-request-id"])
    assert "svg" not in json.dumps(record)
    page.goto(f"{server.base}/_funnelrun/requests/{record['request_id']}")
    assert_no_markup_from_visitors(page)


def test_a_megabyte_of_console_is_cut_on_the_page_and_whole_in_the_export(server, admin_page):
    page, _ = admin_page
    payload = PAYLOADS["img"][0]
    request_id = server.visit("GET", "/long?q=" + quote(payload))
    page.goto(f"{server.base}/_funnelrun/requests/{request_id}")
    assert_no_markup_from_visitors(page)
    line = page.locator("ol.console pre").first
    more = line.locator(".more").inner_text()
    cut = int(re.fullmatch(r" … (\d+) more characters in the export", more)[1])
    text = line.inner_text()
    assert text.startswith(payload + "AAAA") and len(text) < 2100
    with page.expect_download() as download:
        page.click("#export")
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    script = next(event for event in exported["events"] if event["type"] == "script")
    whole = script["console"][0]["text"]
    assert whole.startswith(payload + "A" * 1000) and len(whole) == 2000 + cut
    assert len(whole) >= 60_000  # up to the store's cap on console text (64 KB)
    page.goto(server.base + "/long?q=" + quote(payload))
    panel = open_panel(page)
    assert payload + "AAAA" in panel.text and "more characters in the export" in panel.text
    assert len(panel.text) < 10_000


# -- 6. the README's screenshots ----------------------------------------------------------------

SHOWCASE = {
    "brands/acme/brand.toml": """
        name = "Acme"
        [variables]
        offer_name = "Acme Pro"
    """,
    "brands/acme/pages/index.html": """
        <script scope="backend">
        console.log("landing page, source:", request.query.utm_source || "direct");
        setVariable("headline", "Launch your funnel today");
        </script>
        <h1>{{ var.headline }}</h1>
    """,
    "brands/acme/pages/pricing.html": "<h1>{{ var.offer_name }}</h1>",
    "brands/acme/pages/login.html": "<h1>Log in</h1>",
    "brands/acme/pages/members/index.html": """
        +++
        requires_login = true
        login_redirect = "/login"
        +++
        <h1>Members</h1>
    """,
    "brands/acme/pages/api/status.html": """
        <script scope="backend">response.json({ ok: true });</script>
    """,
    "brands/acme/pages/checkout.html": """
        <script scope="backend">
        var cart = session.get("cart");
        console.log("checkout for", request.query.plan);
        console.warn("no coupon code given");
        var total = cart.items.reduce(function (sum, item) { return sum + item.price; }, 0);
        setVariable("total", total);
        </script>
        <h1>Checkout</h1>
    """,
}


def test_screenshots_for_the_readme(browser, tmp_path):
    """The README's pictures of the debug window, written to docs/ with FUNNELRUN_SCREENSHOTS=1
    (always taken, into tmp_path, so that this stays working)."""
    root = write_site(tmp_path / "showcase", SHOWCASE)
    token = secrets.token_urlsafe(24)
    with running_server(root, **{**QUIET, "FUNNELRUN_ADMIN_TOKEN": token}) as (base, _):
        with httpx.Client(base_url=base) as visitor:
            visitor.get("/?utm_source=newsletter")
            visitor.get("/pricing")
            visitor.get("/members")  # 302 to /login
            visitor.get("/login")
            visitor.get("/api/status")
            visitor.get("/old-offer")  # 404
            failed = visitor.get("/checkout?plan=pro").headers["x-request-id"]
            visitor.get("/?utm_source=ads")
        context = browser.new_context(viewport={"width": 1200, "height": 800})
        page = context.new_page()
        watch = Watch(page)
        page.goto(f"{base}/_funnelrun/login?token={token}")
        page.locator(f'#rows tr[data-request-id="{failed}"]').wait_for()
        assert page.locator("#rows tr").count() >= 9  # the 8, and the server's own check
        page.wait_for_selector("#live.on")
        shots = {"debug-window-requests.png": page.screenshot(animations="disabled")}
        page.goto(f"{base}/_funnelrun/requests/{failed}")
        assert "cart.items" in page.locator("pre.source").inner_text()
        shots["debug-window-request.png"] = page.screenshot(animations="disabled")
        watch.assert_clean()
        context.close()
    for name, png in shots.items():
        assert png.startswith(b"\x89PNG") and len(png) < SCREENSHOT_BUDGET, (name, len(png))
        (tmp_path / name).write_bytes(png)
        if os.environ.get("FUNNELRUN_SCREENSHOTS") == "1":
            DOCS.mkdir(exist_ok=True)
            (DOCS / name).write_bytes(png)
