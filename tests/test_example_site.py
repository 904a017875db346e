"""The site `funnelrun new` writes: every page works, including login and the members area."""

from __future__ import annotations

import pytest

from conftest import serve
from funnelrun.cli import main

pytestmark = pytest.mark.anyio


@pytest.fixture
def example(tmp_path):
    root = tmp_path / "example"
    assert main(["new", str(root)]) == 0
    return root


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


async def test_login_with_a_bad_email_shows_the_error(example):
    async with serve(example) as client:
        response = await client.post("/login", data={"email": "nope", "name": "Ann"})
    assert response.status_code == 200
    assert "Please enter a valid email address." in response.text
    assert 'value="nope"' in response.text


async def test_login_then_members_area(example):
    async with serve(example) as client:
        login = await client.post("/login", data={"email": "ann@example.test", "name": "ann lee"})
        assert login.status_code == 303
        assert login.headers["location"] == "/members"
        members = await client.get("/members")
        again = await client.get("/login")
    assert members.status_code == 200
    assert "Hello Ann Lee" in members.text
    assert "ann@example.test" in members.text
    assert "(first order)" in members.text
    assert again.status_code == 302 and again.headers["location"] == "/members"


async def test_blog_post_and_missing_post(example):
    async with serve(example) as client:
        post = await client.get("/blog/welcome")
        missing = await client.get("/blog/nope")
    assert "<h1>Welcome to Acme</h1>" in post.text
    assert "Our first post.<br>" in post.text
    assert missing.status_code == 404
    assert "No post called “nope”" in missing.text


async def test_json_endpoint(example):
    async with serve(example) as client:
        await client.get("/")
        response = await client.get("/api/status")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"ok": True, "customer": None, "visits": 1}
