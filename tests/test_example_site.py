"""The site `funnelrun new` writes: every page works, including the one-time-code login, the
members area, logout, and the login handed from one of the brand's domains to the other."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import serve
from funnelrun.cli import main

pytestmark = pytest.mark.anyio

# The brand's two domains (brand.toml, modules/domains.js): two cookie hosts on one machine.
LOCALHOST = "http://localhost:8000"
LOOPBACK = "http://127.0.0.1:8000"
SECRET_KEY = base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def example(tmp_path):
    root = tmp_path / "example"
    assert main(["new", str(root)]) == 0
    return root


def demo_code(html: str) -> str:
    found = re.search(r'id="demo-code">(\d{6})<', html)
    assert found, "the login page shows no demo code"
    return found.group(1)


async def log_in(client, origin: str = "", email: str = "ann@example.test", name: str = "ann lee",
                 **fields: str):
    """Open the login page on `origin`, then post the form with the code it shows."""
    page = await client.get(origin + "/login")
    form = {"email": email, "name": name, "code": demo_code(page.text), **fields}
    return await client.post(origin + "/login", data=form)


def session_id(client, host: str) -> str:
    return client.cookies.get("fr_session", domain=host)


async def test_landing_page_counts_visits_and_shows_the_offer(example):
    async with serve(example) as client:
        first = await client.get("/?utm_source=news<b>")
        second = await client.get("/")
    assert first.status_code == 200
    assert "Launch your funnel today, friend!" in first.text
    assert "You came from <b>news&lt;b&gt;</b>" in first.text
    assert "Welcome back" in second.text
    assert "You have visited this page 2 times." in second.text
    assert "$49.00" in second.text and "$99.00" in second.text and "save 51%" in second.text
    assert "1. UNLIMITED FUNNELS" in second.text
    assert "@acme" in second.text
    assert 'scope="backend"' not in second.text and "session.set" not in second.text


async def test_members_page_needs_a_login(example):
    async with serve(example) as client:
        response = await client.get("/members")
    assert response.status_code == 302
    assert response.headers["location"] == "/login"


async def test_login_with_the_demo_code_opens_the_members_area(example):
    async with serve(example) as client:
        login = await log_in(client)
        assert login.status_code == 303
        assert login.headers["location"] == "/members"
        members = await client.get("/members")
        again = await client.get("/login")
    assert members.status_code == 200
    assert "Hello Ann Lee" in members.text
    assert "ann@example.test" in members.text
    assert "(first order)" in members.text
    assert again.status_code == 302 and again.headers["location"] == "/members"


async def test_a_wrong_code_is_refused_and_replaced_by_a_new_one(example):
    async with serve(example) as client:
        page = await client.get("/login")
        wrong = "000000" if demo_code(page.text) != "000000" else "111111"
        refused = await client.post("/login", data={"email": "ann@example.test", "code": wrong})
        members = await client.get("/members")
        login = await client.post("/login", data={"email": "ann@example.test",
                                                  "code": demo_code(refused.text)})
    assert refused.status_code == 422
    assert "That code is not right. Codes work once: here is a new one." in refused.text
    assert 'value="ann@example.test"' in refused.text
    assert members.status_code == 302
    assert login.status_code == 303 and login.headers["location"] == "/members"


async def test_a_code_works_once(example):
    async with serve(example) as client:
        page = await client.get("/login")
        code = demo_code(page.text)
        await client.post("/login", data={"email": "ann@example.test", "code": code})
        await client.post("/logout")
        again = await client.post("/login", data={"email": "ann@example.test", "code": code})
    assert again.status_code == 422
    assert "That code is not right." in again.text


async def test_a_login_posted_without_the_page_first_is_refused(example):
    """The code lives in the visitor's session: a form posted from elsewhere has none."""
    async with serve(example) as client:
        response = await client.post("/login", data={"email": "ann@example.test", "code": "123456"})
    assert response.status_code == 422
    assert "That code is not right." in response.text


async def test_login_with_a_bad_email_shows_the_error(example):
    async with serve(example) as client:
        page = await client.get("/login")
        response = await client.post("/login", data={"email": "nope", "name": "Ann",
                                                     "code": demo_code(page.text)})
    assert response.status_code == 422
    assert "Please enter a valid email address." in response.text
    assert 'value="nope"' in response.text and 'value="Ann"' in response.text
    assert demo_code(response.text) == demo_code(page.text)  # a bad email spends no code


async def test_login_goes_on_to_a_local_next_path_only(example):
    async with serve(example) as client:
        local = await log_in(client, next="/blog/welcome")
    async with serve(example) as client:
        elsewhere = await log_in(client, next="//evil.test/x")
    async with serve(example) as client:
        absolute = await log_in(client, next="https://evil.test/")
    assert local.status_code == 303 and local.headers["location"] == "/blog/welcome"
    assert elsewhere.headers["location"] == "/members"
    assert absolute.headers["location"] == "/members"


async def test_logout_closes_the_members_area_and_kills_the_old_session_id(example):
    async with serve(example) as client:
        await client.get("/")  # one visit, kept in the session across login and logout
        await log_in(client)
        logged_in_id = session_id(client, "acme.test")
        confirm = await client.get("/logout")
        logout = await client.post("/logout")
        members = await client.get("/members")
        login_page = await client.get("/login")
        status = await client.get("/api/status")
        client.cookies.set("fr_session", logged_in_id, domain="acme.test")
        old = await client.get("/api/status")
        old_members = await client.get("/members")
    assert confirm.status_code == 200 and 'action="/logout"' in confirm.text
    assert logout.status_code == 303 and logout.headers["location"] == "/login"
    assert members.status_code == 302 and members.headers["location"] == "/login"
    assert '<p class="card" id="flash">You are logged out.</p>' in login_page.text
    assert status.json() == {"ok": True, "customer": None, "visits": 1}
    assert old.json() == {"ok": True, "customer": None, "visits": 0}  # no session at all
    assert old_members.status_code == 302


async def test_logout_page_without_a_login_goes_to_the_login_page(example):
    async with serve(example) as client:
        get = await client.get("/logout")
        post = await client.post("/logout")
    assert get.status_code == 302 and get.headers["location"] == "/login"
    assert post.status_code == 303 and post.headers["location"] == "/login"


async def test_members_page_offers_the_other_domain(example):
    async with serve(example) as client:
        await log_in(client, LOCALHOST)
        members = await client.get(LOCALHOST + "/members")
    assert 'id="continue" href="/continue">Continue on http://127.0.0.1:8000<' in members.text
    assert 'action="/logout"' in members.text


async def test_bridge_needs_a_login_and_comes_back_to_it(example):
    async with serve(example, FUNNELRUN_SECRET_KEY=SECRET_KEY) as client:
        bridge = await client.get(LOCALHOST + "/continue")
        assert bridge.status_code == 302
        assert bridge.headers["location"] == "/login?next=/continue"
        login = await log_in(client, LOCALHOST, next="/continue")
    assert login.status_code == 303 and login.headers["location"] == "/continue"


async def test_bridge_without_a_secret_key_explains_how_to_make_one(example):
    async with serve(example) as client:
        await log_in(client, LOCALHOST)
        bridge = await client.get(LOCALHOST + "/continue")
    assert bridge.status_code == 503
    assert "export FUNNELRUN_SECRET_KEY=" in bridge.text
    assert "ef_session" not in bridge.text


async def test_bridge_on_a_host_without_a_partner_says_so(example):
    async with serve(example, FUNNELRUN_SECRET_KEY=SECRET_KEY) as client:
        await log_in(client)  # on acme.test, which the default brand serves too
        bridge = await client.get("/continue")
    assert bridge.status_code == 404
    assert "This host, acme.test, has no partner domain." in bridge.text


@pytest.mark.parametrize(("here", "there"), [(LOCALHOST, LOOPBACK), (LOOPBACK, LOCALHOST)])
async def test_bridge_hands_the_login_to_the_other_domain(example, here, there):
    async with serve(example, FUNNELRUN_SECRET_KEY=SECRET_KEY) as client:
        before = await client.get(there + "/members")  # one cookie jar, a cookie per host
        await client.get(there + "/?utm_source=news")
        await log_in(client, here)
        bridge = await client.get(here + "/continue")
        target = urlsplit(bridge.headers["location"])
        hop = await client.get(bridge.headers["location"])
        members = await client.get(there + "/members")
        status = await client.get(there + "/api/status")
        still_here = await client.get(here + "/members")
    assert before.status_code == 302
    assert bridge.status_code == 302
    assert f"{target.scheme}://{target.netloc}{target.path}" == there + "/members"
    assert list(parse_qs(target.query)) == ["ef_session"]
    assert parse_qs(target.query)["ef_session"][0].startswith("v1.")
    assert hop.status_code == 303 and hop.headers["location"] == "/members"
    assert members.status_code == 200 and "Hello Ann Lee" in members.text
    assert status.json()["customer"] == "ann@example.test"
    assert still_here.status_code == 200


async def test_bridge_can_land_on_another_page_and_its_token_works_once(example):
    async with serve(example, FUNNELRUN_SECRET_KEY=SECRET_KEY) as client:
        await log_in(client, LOCALHOST)
        bridge = await client.get(LOCALHOST + "/continue?to=/blog/welcome")
        hop = await client.get(bridge.headers["location"])
        evil = await client.get(LOCALHOST + "/continue?to=//evil.test/")
    async with serve(example, FUNNELRUN_SECRET_KEY=SECRET_KEY) as stranger:
        replay = await stranger.get(bridge.headers["location"])
    assert bridge.headers["location"].startswith(LOOPBACK + "/blog/welcome?ef_session=v1.")
    assert hop.status_code == 303 and hop.headers["location"] == "/blog/welcome"
    assert evil.headers["location"].startswith(LOOPBACK + "/members?ef_session=")
    assert replay.status_code == 200  # served as it is, to nobody in particular
    assert "Log in" in replay.text and "Members" not in replay.text


async def test_blog_post_and_missing_post(example):
    async with serve(example) as client:
        post = await client.get("/blog/welcome")
        missing = await client.get("/blog/nope")
    assert "<h1>Welcome to Acme</h1>" in post.text
    assert "Our first post.<br>" in post.text
    assert missing.status_code == 404
    assert "No post called “nope”" in missing.text


async def test_every_page_links_its_stylesheet_logo_and_favicon_by_hash(example):
    """The layout's asset() calls: the brand's css/site.css and img/logo.svg, the site-wide
    favicon.svg; no style is left inline."""
    files = {"css/site.css": example / "brands/acme/assets/css/site.css",
             "img/logo.svg": example / "brands/acme/assets/img/logo.svg",
             "favicon.svg": example / "assets/favicon.svg"}
    url = {path: f"/assets/{path}?v={hashlib.sha256(file.read_bytes()).hexdigest()[:8]}"
           for path, file in files.items()}
    async with serve(example) as client:
        pages = [await client.get(path) for path in ("/", "/login", "/signup", "/blog/welcome")]
    for page in pages:
        assert f'<link rel="icon" href="{url["favicon.svg"]}" type="image/svg+xml">' in page.text
        assert f'<link rel="stylesheet" href="{url["css/site.css"]}">' in page.text
        assert f'<img id="logo" src="{url["img/logo.svg"]}" alt=""> Acme</a>' in page.text
        assert "<style" not in page.text and "style=" not in page.text


async def test_the_linked_assets_are_served_for_a_year(example):
    async with serve(example) as client:
        html = (await client.get("/")).text
        links = re.findall(r'(?:href|src)="(/assets/[^"]+)"', html)
        responses = [await client.get(link) for link in links]
    assert len(links) == 3
    for link, response in zip(links, responses, strict=True):
        assert response.status_code == 200, link
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    types = [response.headers["content-type"] for response in responses]
    assert types == ["image/svg+xml; charset=utf-8", "text/css; charset=utf-8",
                     "image/svg+xml; charset=utf-8"]
    assert "font: 17px/1.55 system-ui" in responses[1].text


async def test_json_endpoint(example):
    async with serve(example) as client:
        await client.get("/")
        response = await client.get("/api/status")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"ok": True, "customer": None, "visits": 1}


async def test_signup_speaks_english_then_french_once_asked(example):
    async with serve(example) as client:
        english = await client.get("/signup")
        french = await client.get("/signup?hl=fr")
        still_french = await client.get("/signup")  # kept in the session
        ignored = await client.get("/signup?hl=<b>")  # not a language of the brand: no change
    assert '<html lang="en">' in english.text and "Start your free trial" in english.text
    assert "Fourteen days of Acme Pro, no card needed." in english.text
    assert '<html lang="fr">' in french.text and "Commencez votre essai gratuit" in french.text
    assert "Quatorze jours de Acme Pro" in still_french.text
    assert "Commencez votre essai gratuit" in ignored.text


async def test_signup_follows_the_browsers_language(example):
    async with serve(example) as client:
        page = await client.get("/signup", headers={"accept-language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert "Commencer mon essai" in page.text


async def test_signup_form_errors_come_back_with_what_was_typed(example):
    async with serve(example) as client:
        await client.get("/signup?hl=fr")
        page = await client.post("/signup", data={"name": "A", "email": "ann@", "plan": "gold"})
    assert page.status_code == 422
    errors = re.search(r'id="errors">(.*?)</div>', page.text, re.S)
    assert errors, page.text
    assert "Merci de vérifier le formulaire" in errors.group(1)
    assert [item for item in re.findall(r"<li>(.*?)</li>", errors.group(1))] == [
        "Votre nom must be at least 2 characters",
        "E-mail must be a valid email address",
        "Formule must be one of: basic, pro",
    ]
    assert 'value="A"' in page.text and 'value="ann@"' in page.text


async def test_signup_stores_the_validated_form_and_thanks_in_the_language(example):
    async with serve(example) as client:
        await client.get("/signup?hl=fr")
        done = await client.post("/signup", data={"name": "Ann", "email": "ann@example.test",
                                                  "plan": "pro", "newsletter": "1",
                                                  "admin": "true"})
        assert (done.status_code, done.headers["location"]) == (303, "/signup?done=1")
        thanks = await client.get(done.headers["location"])
        events = await client.events(done)
    assert "Bienvenue, Ann ! Votre essai Pro a commencé." in thanks.text
    script = next(event for event in events if event["type"] == "script")
    assert script["outcome"] == "ok"
    assert [entry["text"] for entry in script["console"]] == ["signed up ann@example.test on pro"]


async def test_a_missing_page_gets_the_sites_own_404_page(example):
    async with serve(example) as client:
        page = await client.get("/no-such-page<b>")
        asset = await client.get("/assets/css/missing.css")
    assert page.status_code == 404 and asset.status_code == 404
    assert "Page not found" in page.text and "/no-such-page&lt;b&gt;" in page.text
    assert 'class="brand"' in page.text  # in the site's layout, with its stylesheet
    assert "fr_session" not in page.headers.get("set-cookie", "")
