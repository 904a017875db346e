"""The debug window through the app: who gets in, the pages, the JSON API, the panel on a
site's pages, and what recording keeps (in process, on a real SQLite store)."""

from __future__ import annotations

import asyncio
import json

import pytest

from conftest import serve
from funnelrun.admin import window
from funnelrun.admin.window import SECURITY_HEADERS
from funnelrun.errors import SiteInvalid
from funnelrun.site import load_site

pytestmark = pytest.mark.anyio

TOKEN = "test-admin-token-0123456789"
FILES = {
    "brands/acme/pages/index.html": "<html><body><h1>Home</h1></body></html>",
    "brands/acme/pages/api.html": """
        <script scope="backend">response.json({ ok: true, body: "</body>" });</script>
    """,
    "brands/acme/pages/text.html": """
        <script scope="backend">response.send("<p>hi</p></body>", "text/html");</script>
    """,
    "brands/acme/pages/go.html": '<script scope="backend">redirect("/");</script>',
    "brands/acme/pages/boom.html": """
        <p>before</p>
        <script scope="backend">
          console.log("about to fail", request.query.q);
          const thing = null;
          thing.explode();
        </script>
    """,
    "brands/acme/pages/bad-component.html": "<p>\n  @component(query.c)</p>",
    "brands/acme/pages/echo.html": """
        <script scope="backend">console.log("marker " + request.query.n);</script>
        <p>{{ query.n }}</p>
    """,
}


@pytest.fixture
def root(site):
    return site(FILES)


async def log_in(client) -> None:
    answer = await client.get("/_funnelrun/login", params={"token": TOKEN})
    assert answer.status_code == 200 and "fr_admin" in answer.headers["set-cookie"]


def bearer() -> dict[str, str]:
    return {"authorization": f"Bearer {TOKEN}"}


# -- who gets in -------------------------------------------------------------------------------


async def test_without_the_cookie_the_window_is_any_missing_page(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        missing = await client.get("/no-such-page")
        for path in ("/_funnelrun/", "/_funnelrun", "/_funnelrun/requests/abc",
                     "/_funnelrun/assets/admin.js", "/_funnelrun/login?token=wrong",
                     "/_funnelrun/login", "/_funnelrun/logout"):
            answer = await client.get(path)
            assert (answer.status_code, answer.text) == (404, missing.text), path
            assert "content-security-policy" not in answer.headers  # the site's own page
            assert "fr_admin" not in answer.headers.get("set-cookie", "")


async def test_the_api_answers_401_without_a_token_and_names_what_is_needed(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        for path in ("/_funnelrun/api/requests", "/_funnelrun/api/requests/abc",
                     "/_funnelrun/api/live"):
            for headers in ({}, {"authorization": "Bearer wrong-token-xxxxxxxx"},
                            {"cookie": "fr_admin=v1.9999999999.forged"}):
                answer = await client.get(path, headers=headers)
                assert answer.status_code == 401, (path, headers)
                assert answer.headers["www-authenticate"] == 'Bearer realm="funnelrun"'
                assert "FUNNELRUN_ADMIN_TOKEN" in answer.json()["error"]
                assert answer.headers["cache-control"] == "no-store"
        assert (await client.get("/_funnelrun/api/requests", headers=bearer())).status_code == 200


async def test_without_an_admin_token_the_window_is_off(root):
    async with serve(root) as client:
        assert (await client.get("/_funnelrun/login", params={"token": ""})).status_code == 404
        refused = await client.get("/_funnelrun/api/requests", headers={"authorization": "Bearer "})
        assert refused.status_code == 401 and "off" in refused.json()["error"]
        assert "panel.js" not in (await client.get("/")).text


async def test_the_login_sets_a_strict_http_only_cookie_and_drops_the_token(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        answer = await client.get("/_funnelrun/login", params={"token": TOKEN})
        # A page that moves on by itself (a meta refresh: a navigation of the window's own, so
        # the Strict cookie goes along even when another site's page opened the link).
        assert answer.status_code == 200
        assert '<meta http-equiv="refresh" content="0; url=/_funnelrun/">' in answer.text
        assert '<a href="/_funnelrun/">Continue</a>' in answer.text
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("fr_admin=v1.") and "HttpOnly; SameSite=Strict" in cookie
        assert answer.headers["referrer-policy"] == "no-referrer"
        home = await client.get("/_funnelrun/")
        assert home.status_code == 200 and "<title>Requests · funnelrun debug window" in home.text
        assert (await client.get("/_funnelrun")).headers["location"] == "/_funnelrun/"
        out = await client.get("/_funnelrun/logout")
        assert out.headers["set-cookie"].startswith("fr_admin=; Max-Age=0;")
        assert (await client.get("/_funnelrun/")).status_code == 404


async def test_a_script_never_sees_the_admin_cookie(site):
    root = site({"brands/acme/pages/c.html": """
        <script scope="backend">setVariable("c", JSON.stringify(request.cookies));</script>
        {{ var.c }}"""})
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        await log_in(client)
        client.cookies.set("mine", "1")
        page = await client.get("/c")
    assert "fr_admin" not in page.text and "mine" in page.text


async def test_every_answer_of_the_window_has_the_strict_headers(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        await log_in(client)
        page = await client.get("/")
        for path in ("/_funnelrun/", f"/_funnelrun/requests/{page.headers['x-request-id']}",
                     f"/_funnelrun/login?token={TOKEN}", "/_funnelrun/assets/favicon.svg",
                     "/_funnelrun/requests/0000", "/_funnelrun/assets/admin.css",
                     "/_funnelrun/assets/nope.js", "/_funnelrun/api/requests",
                     "/_funnelrun/api/requests?status=x", "/_funnelrun/nothing-here"):
            answer = await client.get(path)
            for name, value in SECURITY_HEADERS.items():
                assert answer.headers[name] == value, (path, name)
        assert "script-src 'self'" in SECURITY_HEADERS["content-security-policy"]
        assert "'unsafe-inline'" not in SECURITY_HEADERS["content-security-policy"]


# -- the pages and the API ---------------------------------------------------------------------


async def test_the_list_filters_and_pages_through_every_request(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        for n in range(5):
            await client.get("/echo", params={"n": n})
        await client.get("/boom")
        await client.get("/missing")
        await client.get("/go")

        async def listed(**params):
            answer = await client.get("/_funnelrun/api/requests", params=params, headers=bearer())
            assert answer.status_code == 200, answer.text
            return answer.json()

        everything = await listed()
        assert [r["path"] for r in everything["requests"]] == \
            ["/go", "/missing", "/boom", *["/echo"] * 5]
        assert everything["next"] is None
        assert [r["path"] for r in (await listed(errors=1))["requests"]] == ["/boom"]
        assert [r["status"] for r in (await listed(status=404))["requests"]] == [404]
        assert len((await listed(path="/echo"))["requests"]) == 5
        assert (await listed(brand="other"))["requests"] == []
        boom = (await listed(path="/boom"))["requests"][0]
        assert (boom["outcome"], boom["error"]) == ("error", True)

        seen, page = [], await listed(limit=3)
        while True:
            seen += [r["request_id"] for r in page["requests"]]
            if page["next"] is None:
                break
            page = await listed(limit=3, before=page["next"])
        assert seen == [r["request_id"] for r in everything["requests"]]

        newer = await listed(after=everything["requests"][2]["cursor"])
        assert [r["path"] for r in newer["requests"]] == ["/go", "/missing"]

        refused = await client.get("/_funnelrun/api/requests", params={"status": "abc"},
                                   headers=bearer())
        assert refused.status_code == 400 and refused.json()["error"].startswith("status:")


async def test_the_list_page_shows_rows_filters_and_a_problem(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        await log_in(client)
        boom = await client.get("/boom")
        await client.get("/echo", params={"n": 1})
        page = (await client.get("/_funnelrun/", params={"errors": "1"})).text
        assert f'data-request-id="{boom.headers["x-request-id"]}"' in page
        assert page.count("<tr class=") == 1 and '<tr class="error"' in page
        assert '<input type="checkbox" name="errors" value="1" checked>' in page
        assert 'id="live"' in page
        bad = (await client.get("/_funnelrun/", params={"status": "20x"})).text
        assert 'class="problem" id="problem">status: expected an HTTP status' in bad


async def test_a_request_page_shows_the_error_with_its_line_and_the_console(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        await log_in(client)
        boom = await client.get("/boom", params={"q": "<b>x</b>"})
        page = await client.get(f"/_funnelrun/requests/{boom.headers['x-request-id']}")
    html = page.text
    assert page.status_code == 200
    assert '<p class="where">brands/acme/pages/boom.html:5:3</p>' in html
    assert "TypeError: cannot read property &#39;explode&#39; of null" in html
    assert '<pre class="source">  thing.explode();\n  ^</pre>' in html
    assert "about to fail &lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert 'class="event bad"' in html


async def test_a_template_error_is_recorded_with_its_source_line(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        failed = await client.get("/bad-component", params={"c": "nope"})
        record = (await client.get(f"/_funnelrun/api/requests/{failed.headers['x-request-id']}",
                                   headers=bearer())).json()
    assert failed.status_code == 500
    error = next(e for e in record["events"] if e["type"] == "template_error")
    assert (error["file"], error["line"], error["source_line"]) == \
        ("brands/acme/pages/bad-component.html", 2, "  @component(query.c)</p>")


async def test_one_request_as_json_and_as_a_download(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        page = await client.get("/echo", params={"n": 7})
        request_id = page.headers["x-request-id"]
        shown = await client.get(f"/_funnelrun/api/requests/{request_id}", headers=bearer())
        download = await client.get(f"/_funnelrun/api/requests/{request_id}",
                                    params={"download": "1"}, headers=bearer())
        missing = await client.get("/_funnelrun/api/requests/0123456789abcdef", headers=bearer())
        odd = await client.get("/_funnelrun/api/requests/%3Cscript%3E", headers=bearer())
    record = shown.json()
    assert record["request_id"] == request_id and record["path"] == "/echo"
    script = next(e for e in record["events"] if e["type"] == "script")
    assert script["console"][0]["text"] == "marker 7"
    assert "content-disposition" not in shown.headers
    assert download.headers["content-disposition"] == \
        f'attachment; filename="funnelrun-request-{request_id}.json"'
    assert json.loads(download.content) == record
    assert missing.status_code == 404 and "24 hours" in missing.json()["error"]
    assert odd.status_code == 404


async def test_concurrent_requests_never_mix_their_events(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        answers = await asyncio.gather(*(client.get("/echo", params={"n": n}) for n in range(24)))
        for n, answer in enumerate(answers):
            record = (await client.get(f"/_funnelrun/api/requests/{answer.headers['x-request-id']}",
                                       headers=bearer())).json()
            texts = [line["text"] for e in record["events"] if e["type"] == "script"
                     for line in e["console"]]
            assert texts == [f"marker {n}"]


async def test_with_recording_off_nothing_is_kept_and_the_window_says_so(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN, FUNNELRUN_EVENTS_RECORD="false") as client:
        await log_in(client)
        page = await client.get("/echo", params={"n": 1})
        assert page.headers["x-request-id"]
        listed = await client.get("/_funnelrun/api/requests")
        home = await client.get("/_funnelrun/")
    assert listed.json()["requests"] == []
    assert "Page events are not recorded" in home.text


# -- the panel on a site's pages ---------------------------------------------------------------


async def test_an_admin_gets_the_panel_on_html_pages_only(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        visitor = await client.get("/")
        await log_in(client)
        page = await client.get("/")
        json_page = await client.get("/api")
        custom = await client.get("/text")
        redirect = await client.get("/go")
    tag = (f'<script src="/_funnelrun/assets/panel.js" '
           f'data-request-id="{page.headers["x-request-id"]}" defer></script>')
    assert page.text == f"<html><body><h1>Home</h1>{tag}</body></html>"
    assert page.headers["cache-control"] == "private, no-store"
    assert "panel.js" not in visitor.text and "cache-control" not in visitor.headers
    assert json_page.json() == {"ok": True, "body": "</body>"}
    assert custom.text == "<p>hi</p></body>"
    assert redirect.status_code == 302 and redirect.content == b""


def test_the_panel_goes_before_the_last_body_end_or_at_the_end():
    assert window.with_panel("<p>a</p>", "ab12") == (
        '<p>a</p><script src="/_funnelrun/assets/panel.js" data-request-id="ab12" defer>'
        "</script>")
    marked = window.with_panel("<body>'</body>' x </BODY >", "1")
    assert marked.startswith("<body>'</body>' x <script ") and marked.endswith("</BODY >")


# -- the live stream ---------------------------------------------------------------------------


async def test_the_live_stream_sends_new_requests_oldest_first(root, monkeypatch):
    monkeypatch.setattr(window, "LIVE_POLL_S", 0.01)
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        first = await client.get("/echo", params={"n": 0})
        record = (await client.get(f"/_funnelrun/api/requests/{first.headers['x-request-id']}",
                                   headers=bearer())).json()
        stream = client.app.debug_window._follow(
            window.parse_list_query({"path": "/echo"}), window.parse_cursor(record["cursor"]))
        assert await anext(stream) == "retry: 20\n\n"
        await client.get("/echo", params={"n": 1})
        await client.get("/other")
        await client.get("/echo", params={"n": 2})
        sent = await asyncio.wait_for(anext(stream), 5)
        await stream.aclose()
    events = [chunk for chunk in sent.split("\n\n") if chunk]
    assert len(events) == 2
    for event in events:
        id_line, kind, data = event.split("\n")
        summary = json.loads(data.removeprefix("data: "))
        assert kind == "event: request" and summary["path"] == "/echo"
        assert id_line == f"id: {summary['cursor']}"
        assert summary["request_id"] != record["request_id"]
    cursors = [json.loads(e.split("\n")[2][6:])["cursor"] for e in events]
    assert window.parse_cursor(cursors[0]) < window.parse_cursor(cursors[1])


async def test_a_broken_live_question_is_400_and_resumes_from_last_event_id(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        bad = await client.get("/_funnelrun/api/live", params={"limit": "0"}, headers=bearer())
        resumed = await client.get("/_funnelrun/api/live",
                                   headers={**bearer(), "last-event-id": "garbage"})
    assert bad.status_code == 400 and bad.json()["error"].startswith("limit:")
    assert resumed.status_code == 400


# -- the site ----------------------------------------------------------------------------------


def test_no_page_may_live_under_the_window(site):
    root = site({"brands/acme/pages/_funnelrun/x.html": "x"})
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    assert "the paths under /_funnelrun/ belong to the debug window" in str(caught.value)


async def test_the_window_answers_any_host_of_the_site(root):
    async with serve(root, FUNNELRUN_ADMIN_TOKEN=TOKEN) as client:
        answer = await client.get("/_funnelrun/api/requests", headers={**bearer(),
                                                                         "host": "other.test"})
    assert answer.status_code == 200

