"""A brand's own error pages: pages/404.html and pages/500.html in place of the built-in ones,
in process and against a real `funnelrun serve`."""

from __future__ import annotations

import httpx
import pytest

from conftest import recorded_events, running_server, serve
from funnelrun.errors import StoreError

pytestmark = pytest.mark.anyio

BUILT_IN_404 = "There is no page at this address."
BUILT_IN_500 = "Something went wrong on our side."

SITE = {
    "brands/acme/brand.toml": """
        name = "Acme"
        domains = ["acme.test"]
        [variables]
        support = "help@acme.test"
        which = "missing"
    """,
    "brands/acme/components/layout.html": """
        <title>@yield("title") | {{ brand.name }}</title>
        <header>@if(is_customer)Hi {{ customer.email }}@else<a href="/login">Log in</a>@endif</header>
        <main>@yield("main")</main>
    """,
    "brands/acme/pages/index.html": "home",
    "brands/acme/pages/login.html": """
        <script scope="backend">
          session.setCustomer({ email: "ann@example.test", first_name: "Ann" });
        </script>
        in
    """,
    "brands/acme/pages/secret.html": "+++\nrequires_login = true\n+++\nsecret",
    "brands/acme/pages/broken.html": """
        <script scope="backend">
          setVariable("support", "from the script");
          setHeader("X-Tried", "yes");
        </script>
        @component(var.which)
    """,
    "brands/acme/pages/throws.html": """
        <script scope="backend">null.explode();</script>
        rendered anyway
    """,
    "brands/acme/pages/404.html": """
        @extends("layout")
        @block("title")Not found@endblock
        @block("main")<h1>Nothing at {{ request.path }}</h1><p>Write to {{ var.support }}</p>@endblock
    """,
    "brands/acme/pages/500.html": """
        @extends("layout")
        @block("title")Sorry@endblock
        @block("main")<h1>Our fault</h1><p>Write to {{ var.support }}</p>@endblock
    """,
    "brands/beta/brand.toml": 'name = "Beta"\ndomains = ["beta.test"]\n',
    "brands/beta/pages/index.html": "beta home",
    "brands/beta/pages/broken.html": "@component(query.c)",
}
BROKEN_500 = {**SITE, "brands/acme/pages/500.html": "<h1>Sorry</h1>@component(var.which)"}
BROKEN_404 = {**SITE, "brands/acme/pages/404.html": "<h1>Gone</h1>@component(var.which)"}


async def test_an_unknown_path_gets_the_brands_404_page_with_a_pages_context(site):
    async with serve(site(SITE)) as client:
        response = await client.get("/no/such/page?x=1")
        event = await client.event(response, "error_page")
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Not found | Acme</title>" in response.text
    assert '<a href="/login">Log in</a>' in response.text
    assert "<h1>Nothing at /no/such/page</h1><p>Write to help@acme.test</p>" in response.text
    assert BUILT_IN_404 not in response.text
    assert event == {**event, "status": 404, "page": "brands/acme/pages/404.html"}


async def test_a_page_needing_a_login_gets_the_brands_404_page(site):
    async with serve(site(SITE)) as client:
        response = await client.get("/secret")
    assert response.status_code == 404
    assert "<h1>Nothing at /secret</h1>" in response.text
    assert response.text.count("secret") == 1  # the page's own text is not shown


async def test_the_error_pages_are_not_pages_at_their_own_paths(site):
    async with serve(site(SITE)) as client:
        for path in ("/404", "/500", "/404.html", "/500/"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert f"<h1>Nothing at {path}</h1>" in response.text


async def test_a_template_error_gets_the_brands_500_page(site):
    async with serve(site(SITE)) as client:
        response = await client.get("/broken")
        events = await client.events(response)
    assert response.status_code == 500
    assert "<title>Sorry | Acme</title>" in response.text
    # Brand variables only: the error page runs no script and sees none of the failed page's.
    assert "<p>Write to help@acme.test</p>" in response.text
    assert response.headers["x-tried"] == "yes"  # the script's effects apply, as before
    assert [e["type"] for e in events] == [
        "resolve", "script", "template_error", "error_page", "response"]
    assert "missing" not in response.text and "Traceback" not in response.text


async def test_a_throwing_script_still_gets_its_page_not_the_500_page(site):
    async with serve(site(SITE)) as client:
        response = await client.get("/throws")
        script = await client.event(response, "script")
    assert response.status_code == 200
    assert response.text.strip() == "rendered anyway"
    assert script["outcome"] == "error"


async def test_an_unexpected_error_gets_the_brands_500_page_with_no_session(site, monkeypatch):
    async with serve(site(SITE)) as client:
        await client.get("/login")

        def explode(visit):
            raise RuntimeError("a bug in funnelrun")

        monkeypatch.setattr(client.app, "note_click", explode)
        response = await client.get("/")
        events = await client.events(response)
    assert response.status_code == 500
    assert "<h1>Our fault</h1>" in response.text
    assert '<a href="/login">Log in</a>' in response.text  # nothing read after a failure
    assert "a bug in funnelrun" not in response.text and "Traceback" not in response.text
    assert [e["type"] for e in events] == ["resolve", "internal_error", "error_page", "response"]


async def test_a_500_page_that_fails_gives_the_built_in_500_page(site, monkeypatch):
    async with serve(site(BROKEN_500)) as client:
        failed_template = await client.get("/broken")
        events = await client.events(failed_template)
        monkeypatch.setattr(client.app, "note_click", lambda visit: 1 / 0)
        failed_app = await client.get("/")
    for response in (failed_template, failed_app):
        assert response.status_code == 500
        assert BUILT_IN_500 in response.text
        assert "Sorry" not in response.text and "Traceback" not in response.text
    assert [(e["type"], e.get("file")) for e in events if e["type"].endswith("_error")] == [
        ("template_error", "brands/acme/pages/broken.html"),
        ("template_error", "brands/acme/pages/500.html"),
    ]


async def test_a_404_page_that_fails_gives_the_built_in_404_page(site):
    async with serve(site(BROKEN_404)) as client:
        response = await client.get("/nope")
        error = await client.event(response, "template_error")
    assert response.status_code == 404
    assert BUILT_IN_404 in response.text and "Gone" not in response.text
    assert (error["file"], error["line"], error["column"]) == ("brands/acme/pages/404.html", 1, 14)


async def test_each_brand_has_its_own_error_pages_or_the_built_in_ones(site):
    async with serve(site(SITE)) as client:
        acme = await client.get("/nope", headers={"host": "acme.test"})
        beta = await client.get("/nope", headers={"host": "beta.test"})
        beta_500 = await client.get("/broken?c=x", headers={"host": "beta.test"})
        no_brand = await client.get("/nope", headers={"host": "other.test"})
    assert "<h1>Nothing at /nope</h1>" in acme.text
    assert (beta.status_code, beta_500.status_code, no_brand.status_code) == (404, 500, 404)
    assert BUILT_IN_404 in beta.text and BUILT_IN_500 in beta_500.text
    assert BUILT_IN_404 in no_brand.text


async def test_other_statuses_keep_the_built_in_pages(site, monkeypatch):
    async with serve(site(SITE)) as client:
        not_allowed = await client.request("PUT", "/")
        too_large = await client.post("/", content=b"x" * (1024 * 1024 + 1))
        bad_host = await client.get("/", headers={"host": "a b"})

        async def store_down(*args, **kwargs):
            raise StoreError("the store is down")

        monkeypatch.setattr(client.app.sessions, "load", store_down)
        unavailable = await client.get("/nope", headers={"host": "acme.test"})
    assert [r.status_code for r in (not_allowed, too_large, bad_host, unavailable)] == [
        405, 413, 400, 503]
    for response in (not_allowed, too_large, bad_host, unavailable):
        assert "Nothing at" not in response.text and "<h1>" in response.text


async def test_the_404_page_reads_the_session_and_never_writes_it(site):
    files = {**SITE, "brands/acme/pages/404.html": """
        @extends("layout")
        @block("main")@setSessionItem('seen', 'yes')@clearSessionItem('other')
        Not here. [{{ getSessionItem('seen') }}]@endblock
    """}
    async with serve(site(files)) as client:
        stranger = await client.get("/nope")
        assert "set-cookie" not in stranger.headers and not client.cookies
        logged_in = await client.get("/login")
        cookie = logged_in.headers["set-cookie"]
        customer = await client.get("/nope")
        warnings = await client.warnings(customer)
        required = await client.get("/secret")  # a customer may see it: no 404
    assert "Hi ann@example.test" in customer.text and "Not here. []" in customer.text
    assert "set-cookie" not in customer.headers
    assert warnings == [("@setSessionItem('seen')", "an error page does not write the session"),
                        ("@clearSessionItem('other')", "an error page does not write the session")]
    assert cookie.startswith("fr_session=")
    assert (required.status_code, required.text.strip()) == (200, "secret")


async def test_an_admin_gets_the_panel_on_an_error_page(site):
    token = "test-admin-token-0123456789"
    async with serve(site(SITE), FUNNELRUN_ADMIN_TOKEN=token) as client:
        visitor = await client.get("/nope")
        await client.get("/_funnelrun/login", params={"token": token})
        admin = await client.get("/nope")
    assert "panel.js" not in visitor.text and "cache-control" not in visitor.headers
    assert "/_funnelrun/assets/panel.js" in admin.text and "Nothing at /nope" in admin.text
    assert admin.headers["cache-control"] == "private, no-store"


def test_error_pages_against_a_real_server(site):
    root = site({**SITE, "brands/beta/pages/500.html": "<h1>Beta down</h1>@component(var.x)"})
    with running_server(root) as (base, _process):
        with httpx.Client(base_url=base, headers={"host": "acme.test"}) as http:
            missing = http.get("/missing")
            secret = http.get("/secret")
            own_path = http.get("/404")
            template_error = http.get("/broken")
            head = http.head("/missing")
        with httpx.Client(base_url=base, headers={"host": "beta.test"}) as http:
            broken_500 = http.get("/broken?c=x")
            beta_404 = http.get("/missing")
    for response, status, text in [
        (missing, 404, "<h1>Nothing at /missing</h1>"),
        (secret, 404, "<h1>Nothing at /secret</h1>"),
        (own_path, 404, "<h1>Nothing at /404</h1>"),
        (template_error, 500, "<h1>Our fault</h1>"),
        (broken_500, 500, BUILT_IN_500),
        (beta_404, 404, BUILT_IN_404),
    ]:
        assert (response.status_code, text in response.text) == (status, True), response.text
        assert "Traceback" not in response.text and "missing" not in response.text.replace(
            "/missing", "")
    assert head.status_code == 404 and head.content == b""
    assert int(head.headers["content-length"]) == len(missing.content)


async def test_a_real_servers_error_pages_record_their_events(site):
    root = site(BROKEN_404)
    with running_server(root) as (base, _process):
        async with httpx.AsyncClient(base_url=base, headers={"host": "acme.test"}) as http:
            response = await http.get("/nope")
        events = await recorded_events(root, response.headers["x-request-id"])
    assert response.status_code == 404 and BUILT_IN_404 in response.text
    assert [e["type"] for e in events] == ["resolve", "error_page", "template_error", "response"]
