"""Cross-domain login against a real `funnelrun serve`: log in on one host, hop to the other
through the 303, arrive logged in with the tracking keys kept and the old session dead; tokens
spent once even when two worker processes receive one at the same moment; logout."""

from __future__ import annotations

import asyncio
import base64
import os
from collections import Counter
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import recorded_events, running_server, serve, write_site

pytestmark = pytest.mark.anyio

KEY = base64.b64encode(os.urandom(32)).decode()
OTHER_HOST = ('"http://" + (request.headers.host.startsWith("a.test") ? "b.test" : "a.test") '
              '+ (request.headers.host.includes(":") ? ":" + request.headers.host.split(":")[1] '
              ': "")')
FILES = {
    "brands/acme/brand.toml": 'name = "Acme"\ndomains = ["a.test", "b.test"]\n',
    "brands/acme/pages/track.html": """
        <script scope="backend">
          session.set("utm_source", request.query.utm_source);
          session.set("note", "private to this host");
        </script>
        tracked
    """,
    "brands/acme/pages/login.html": """
        <script scope="backend">
          if (request.method === "POST") {
            session.setCustomer({ email: "ann@example.test", first_name: "Ann", id: 7 });
            redirect("/members", 303);
          }
        </script>
        login form
    """,
    "brands/acme/pages/bridge.html": f"""
        <script scope="backend">
          const token = await session.getToken(60);
          if (token) redirect({OTHER_HOST} + "/members?x=1&ef_session="
                              + encodeURIComponent(token) + "&y=2&x=3");
        </script>
        no token
    """,
    "brands/acme/pages/mint.html": """
        <script scope="backend">setVariable("token", await session.getToken());</script>
        [{{ var.token }}]
    """,
    "brands/acme/pages/manual.html": """
        <script scope="backend">
          setVariable("ok", await session.setFromToken(request.query.t));
          setVariable("who", customer ? customer.email : "nobody");
        </script>
        {{ var.ok }} {{ var.who }} {{ is_customer }}
    """,
    "brands/acme/pages/logout.html": """
        <script scope="backend">setVariable("out", session.clearCustomer());</script>
        [{{ var.out }}] [{{ is_customer }}] [{{ session.utm_source }}]
    """,
    "brands/acme/pages/members.html": """+++
        requires_login = true
        +++
        members: {{ customer.email }} utm={{ session.utm_source }} note=[{{ session.note }}]
    """.replace("\n        ", "\n"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = write_site(tmp_path_factory.mktemp("handoff") / "site", FILES)
    with running_server(root, "--workers", "2", FUNNELRUN_SECRET_KEY=KEY) as (base, _):
        yield base, root


def browser(base: str, host: str) -> httpx.Client:
    """A client with its own cookie jar, speaking to `host` on the server."""
    port = urlsplit(base).port
    return httpx.Client(base_url=base, headers={"host": f"{host}:{port}"}, timeout=30)


def cookie_of(response: httpx.Response) -> str:
    return response.cookies["fr_session"]


async def test_a_login_hops_to_the_other_host_and_arrives_logged_in(server):
    base, root = server
    with browser(base, "a.test") as a, browser(base, "b.test") as b:
        a.get("/track", params={"utm_source": "ads"})
        assert a.post("/login").status_code == 303
        assert "members: ann@example.test" in a.get("/members").text

        b.get("/track", params={"utm_source": "mail"})
        old_b = b.cookies["fr_session"]
        hop = a.get("/bridge")
        assert hop.status_code == 302
        target = urlsplit(hop.headers["location"])
        assert target.hostname == "b.test" and "ef_session=" in target.query

        landed = b.get(f"{target.path}?{target.query}")
        assert landed.status_code == 303
        assert landed.headers["location"] == "/members?x=1&y=2&x=3"  # only the token removed
        new_b = cookie_of(landed)
        assert new_b != old_b
        page = b.get(landed.headers["location"])
        assert page.text.strip() == "members: ann@example.test utm=mail note=[]"

        events = await recorded_events(root, landed.headers["x-request-id"])
        handoff = next(e for e in events if e["type"] == "handoff")
        assert handoff["outcome"] == "logged_in" and handoff["email"] == "ann@example.test"

    with browser(base, "b.test") as stale:  # the old session id is dead
        stale.cookies.set("fr_session", old_b)
        assert stale.get("/members").status_code == 404
        fresh = stale.get("/track", params={"utm_source": "x"})
        assert cookie_of(fresh) != old_b  # the old id is gone: a write starts a new session


async def test_a_spent_token_serves_the_page_anonymously_and_says_why(server):
    base, root = server
    with browser(base, "a.test") as a:
        a.post("/login")
        token = a.get("/mint").text.strip()[1:-1]
    with browser(base, "b.test") as first, browser(base, "b.test") as second:
        assert first.get("/members", params={"ef_session": token}).status_code == 303
        replay = second.get("/members", params={"ef_session": token})
    assert replay.status_code == 404  # not logged in: the members page stays closed
    events = await recorded_events(root, replay.headers["x-request-id"])
    handoff = next(e for e in events if e["type"] == "handoff")
    assert (handoff["outcome"], handoff["reason"]) == ("refused", "replayed")


async def test_set_from_token_logs_in_once_and_logout_keeps_the_rest(server):
    base, _ = server
    with browser(base, "a.test") as a:
        a.post("/login")
        token = a.get("/mint").text.strip()[1:-1]
    with browser(base, "b.test") as b:
        b.get("/track", params={"utm_source": "mail"})
        assert b.get("/manual", params={"t": token}).text.strip() == \
            "true ann@example.test true"
        assert b.get("/manual", params={"t": token}).text.strip() == \
            "false ann@example.test true"  # a replay: false, the login made before stands
        before = b.cookies["fr_session"]
        out = b.get("/logout")
        assert out.text.strip() == "[true] [false] [mail]"
        assert cookie_of(out) != before  # a new id after logout, too
        assert b.get("/members").status_code == 404
        assert b.get("/logout").text.strip() == "[false] [false] [mail]"


@pytest.mark.slow
async def test_one_token_sent_to_both_workers_at_once_logs_in_exactly_once(server):
    base, root = server
    with browser(base, "a.test") as a:
        a.post("/login")
        tokens = [a.get("/mint").text.strip()[1:-1] for _ in range(20)]
    port = urlsplit(base).port

    async def visit(token: str) -> httpx.Response:
        # A visitor of its own (no cookies) on a connection of its own: either worker may take it.
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            return await http.get("/members", params={"ef_session": token},
                                  headers={"host": f"b.test:{port}"})

    workers: Counter[int] = Counter()
    for token in tokens:
        answers = await asyncio.gather(*(visit(token) for _ in range(4)))
        assert sorted(answer.status_code for answer in answers) == [303, 404, 404, 404]
        for answer in answers:
            events = await recorded_events(root, answer.headers["x-request-id"])
            workers[events[-1]["worker"]] += 1
    assert len(workers) == 2, f"one worker took every request: {workers}"


async def test_without_a_secret_get_token_is_null_and_says_why(site):
    files = {**FILES, "brands/acme/brand.toml": 'name = "Acme"\ndomains = ["acme.test"]\n'}
    async with serve(site(files)) as client:
        await client.post("/login")
        minted = await client.get("/mint")
        refused = await client.get("/members", params={"ef_session": "v1.AAAA"})
        events = await client.events(minted)
        refusal = await client.events(refused)
    assert minted.text.strip() == "[]"
    handoff = next(e for e in events if e["type"] == "handoff")
    assert (handoff["outcome"], handoff["reason"]) == ("refused", "no_secret")
    warning = next(e for e in events if e["type"] == "warning")
    assert warning["call"] == "session.getToken" and "FUNNELRUN_SECRET_KEY" in warning["reason"]
    assert refused.status_code == 200  # logged in already: the page, not a 303
    assert next(e for e in refusal if e["type"] == "handoff")["reason"] == "no_secret"
