"""The HTTP pipeline: routing, host matching, methods, body limits, access control, error pages."""

from __future__ import annotations

import json

import pytest

from conftest import FakeClock, serve

pytestmark = pytest.mark.anyio

BASIC = {
    "brands/acme/pages/index.html": "<h1>Home of {{ brand.name }}</h1>",
    "brands/acme/pages/login.html": "<h1>Login</h1>",
    "brands/acme/pages/members/index.html": """
        +++
        requires_login = true
        login_redirect = "/login"
        +++
        <h1>Members: {{ customer.email }}</h1>
    """,
    "brands/acme/pages/secret.html": """
        +++
        requires_login = true
        +++
        <h1>Secret</h1>
    """,
    "brands/acme/pages/blog/[slug].html": "<h1>Post {{ route_params.slug }}</h1>",
    "brands/acme/pages/blog/new.html": "<h1>New post form</h1>",
}


async def test_index_page_is_served(site):
    async with serve(site(BASIC)) as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Home of Acme</h1>" in response.text


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
                                    "TRACE", "PROPFIND", "BREW"])
async def test_every_method_gets_a_request_id_and_a_page_events_record(site, method):
    async with serve(site(BASIC)) as client:
        found = await client.request(method, "/")
        missing = await client.request(method, "/nope")
        events = await client.events(found)
    assert len(found.headers["x-request-id"]) == 16
    assert found.headers["x-request-id"] != missing.headers["x-request-id"]
    assert events[-1]["type"] == "response" and events[-1]["status"] == found.status_code


async def test_trailing_slash_and_folder_index(site):
    async with serve(site(BASIC)) as client:
        assert (await client.get("/login/")).text == "<h1>Login</h1>"


async def test_param_route_gives_route_params_and_exact_route_wins(site):
    async with serve(site(BASIC)) as client:
        assert (await client.get("/blog/hello")).text == "<h1>Post hello</h1>"
        assert (await client.get("/blog/new")).text == "<h1>New post form</h1>"
        assert (await client.get("/blog/%3Cb%3E")).text == "<h1>Post &lt;b&gt;</h1>"


async def test_unknown_page_gets_the_plain_404_page(site):
    async with serve(site(BASIC)) as client:
        response = await client.get("/nope")
    assert response.status_code == 404
    assert "There is no page at this address." in response.text


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                                  "/..%2f..%2fetc%2fpasswd", "/brands/acme/brand.toml",
                                  "/index.html", "/components/layout"])
async def test_paths_never_reach_files(site, path):
    async with serve(site(BASIC)) as client:
        response = await client.get(path)
    assert response.status_code in (400, 404)
    assert "root:" not in response.text and "name =" not in response.text


async def test_ten_kilobyte_host_header_is_a_400(site):
    async with serve(site(BASIC)) as client:
        response = await client.get("/", headers={"host": "a" * 10_240})
    assert response.status_code == 400


async def test_head_and_post_are_answered_other_methods_are_not(site):
    async with serve(site(BASIC)) as client:
        head = await client.head("/")
        post = await client.post("/", data={"a": "1"})
        put = await client.request("PUT", "/")
    assert head.status_code == 200 and head.content == b""
    assert post.status_code == 200 and "Home of Acme" in post.text
    assert put.status_code == 405
    assert put.headers["allow"] == "GET, HEAD, POST"
    assert "This page answers GET, HEAD and POST." in put.text  # funnelrun's page, not plain text


async def test_body_over_one_megabyte_is_refused_with_413(site):
    async with serve(site(BASIC)) as client:
        response = await client.post("/", content=b"x" * (1024 * 1024 + 1),
                                     headers={"content-type": "text/plain"})
    assert response.status_code == 413


async def test_requires_login_redirects_visitors_to_login_redirect(site):
    async with serve(site(BASIC)) as client:
        response = await client.get("/members")
        assert (await client.event(response, "access"))["decision"] == "redirect"
    assert response.status_code == 302
    assert response.headers["location"] == "/login"


async def test_requires_login_without_redirect_gives_404(site):
    async with serve(site(BASIC)) as client:
        response = await client.get("/secret")
    assert response.status_code == 404


LOGIN = {
    "brands/acme/pages/login.html": """
        <script scope="backend">
          session.setCustomer({ email: "ann@example.test", first_name: "Ann", last_name: "Lee" });
        </script>
        ok
    """,
}


async def test_customer_reaches_requires_login_page(site):
    async with serve(site({**BASIC, **LOGIN})) as client:
        await client.get("/login")
        response = await client.get("/members")
        assert (await client.event(response, "access"))["decision"] == "allowed"
    assert response.status_code == 200
    assert "Members: ann@example.test" in response.text


BODY_ECHO = {
    "brands/acme/pages/echo.html": """
        <script scope="backend">
          setVariable("body", request.body);
          setVariable("method", request.method);
        </script>
        {{ var.method }} {{ var.body | json }}
    """,
}


async def test_json_and_form_bodies_reach_scripts(site):
    async with serve(site(BODY_ECHO)) as client:
        as_json = await client.post("/echo", json={"a": [1, 2]})
        as_form = await client.post("/echo", data={"email": "x@y.test"})
        as_text = await client.post("/echo", content=b"hi", headers={"content-type": "text/plain"})
        large = await client.post("/echo", json={"x": "y" * 70_000})
        get = await client.get("/echo")
    assert as_json.text.startswith("POST ")
    assert json.loads(_unescape(as_json.text[5:])) == {"a": [1, 2]}
    assert json.loads(_unescape(as_form.text[5:])) == {"email": "x@y.test"}
    assert as_text.text.strip() == "POST null"
    assert large.text.strip() == "POST null"
    assert get.text.strip() == "GET null"


def _unescape(text: str) -> str:
    return text.replace("&#34;", '"').replace("&quot;", '"').strip()


MULTI_BRAND = {
    "brands/acme/brand.toml": 'name = "Acme"\ndomains = ["acme.test", "www.acme.test"]\n',
    "brands/acme/pages/index.html": "acme",
    "brands/beta/brand.toml": 'name = "Beta"\ndomains = ["beta.test"]\n',
    "brands/beta/pages/index.html": "beta",
}


async def test_host_picks_the_brand_port_and_case_ignored(site):
    async with serve(site(MULTI_BRAND)) as client:
        assert (await client.get("/", headers={"host": "WWW.Acme.test:8080"})).text == "acme"
        assert (await client.get("/", headers={"host": "beta.test"})).text == "beta"
        assert (await client.get("/", headers={"host": "other.test"})).status_code == 404


async def test_default_brand_serves_unknown_hosts(site):
    files = {**MULTI_BRAND, "brands/beta/brand.toml": 'name = "Beta"\ndefault = true\n'}
    async with serve(site(files)) as client:
        assert (await client.get("/", headers={"host": "other.test"})).text == "beta"


async def test_sole_brand_serves_every_host(site):
    async with serve(site({"brands/acme/pages/index.html": "only"})) as client:
        assert (await client.get("/", headers={"host": "anything.test"})).text == "only"


async def test_template_error_at_render_gives_500_without_internals(site):
    files = {
        "brands/acme/pages/index.html": '@component(var.which)',
        "brands/acme/brand.toml": 'name = "Acme"\n[variables]\nwhich = "missing"\n',
    }
    async with serve(site(files)) as client:
        response = await client.get("/")
        event = await client.event(response, "template_error")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "missing" not in response.text and "Traceback" not in response.text
    assert event["file"] == "brands/acme/pages/index.html"
    assert (event["line"], event["column"]) == (1, 1)


SESSION_ITEMS = {
    "brands/acme/pages/set.html": "@setSessionItem('seen offer!', 'yes')set",
    "brands/acme/pages/get.html": """
        <script scope="backend">setVariable("raw", session.get("custom_seenoffer"));</script>
        [{{ getSessionItem('seen offer!') }}] [{{ var.raw }}] [{{ session.custom_seenoffer }}]
    """,
    "brands/acme/pages/clear.html": "@clearSessionItem('seen offer!')cleared",
    "brands/acme/pages/big.html": "@setSessionItem('big', var.big)big",
    "brands/acme/brand.toml": 'name = "Acme"\n[variables]\nbig = "' + "x" * 70_000 + '"\n',
}


async def test_template_session_items_persist_and_scripts_can_read_them(site):
    async with serve(site(SESSION_ITEMS)) as client:
        empty = await client.get("/get")
        await client.get("/set")
        stored = await client.get("/get")
        await client.get("/clear")
        cleared = await client.get("/get")
    assert empty.text.strip() == "[] [] []"
    assert stored.text.strip() == "[yes] [yes] [yes]"
    assert cleared.text.strip() == "[] [] []"


async def test_oversized_template_session_item_is_refused_with_a_warning(site):
    async with serve(site(SESSION_ITEMS)) as client:
        response = await client.get("/big")
        warnings = await client.warnings(response)
    assert response.text == "big"
    assert "set-cookie" not in response.headers
    assert warnings == [("@setSessionItem('big')", "value is 70002 bytes; the limit is 65536")]


async def test_session_lifetime_counts_from_creation_not_from_activity(site):
    """On one frozen clock for the whole app (the rule in detail is in test_sessions.py)."""
    files = {
        "brands/acme/pages/w.html": '<script scope="backend">session.set("k", request.query.v)</script>',
        "brands/acme/pages/r.html": "[{{ session.k }}]",
    }
    clock = FakeClock()
    async with serve(site(files), clock=clock, FUNNELRUN_SESSION_LIFETIME_S="3600") as client:
        first = await client.get("/w?v=1")
        assert "Max-Age=3600;" in first.headers["set-cookie"]
        clock.advance(1800)
        second = await client.get("/w?v=2")  # activity does not extend the session
        assert "set-cookie" not in second.headers
        clock.advance(1799)
        assert (await client.get("/r")).text == "[2]"
        clock.advance(1)
        expired = await client.get("/r")
    assert expired.text == "[]"
