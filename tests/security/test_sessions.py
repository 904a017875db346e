"""Sessions against a real `funnelrun serve`: a session belongs to its brand, and the session
size rule holds under concurrent writes (issue 6, items 1 and 7)."""

from __future__ import annotations

import asyncio
import sqlite3

import httpx
import pytest

from conftest import running_server, write_site
from funnelrun.session import MAX_SESSION_BYTES

pytestmark = pytest.mark.anyio

LOGIN = """
<script scope="backend">
  session.set("plan", "pro");
  session.setCustomer({ email: "ann@example.test", first_name: "Ann" });
</script>
logged in
"""
MEMBERS = """+++
requires_login = true
+++
members of {{ brand.id }}: {{ customer.email }} {{ session.plan }}
"""
BIG_WRITE = """
<script scope="backend">
  session.set(getVariable("key"), "x".repeat(60 * 1024));
</script>
written
"""
FILES = {
    "brands/acme/brand.toml": 'name = "Acme"\ndomains = ["acme.test"]\n',
    "brands/acme/pages/login.html": LOGIN,
    "brands/acme/pages/members.html": MEMBERS,
    "brands/acme/pages/start.html": '<script scope="backend">session.set("n", 1)</script>ok',
    "brands/acme/pages/big.html": BIG_WRITE,
    "brands/beta/brand.toml": 'name = "Beta"\ndomains = ["beta.test"]\n',
    "brands/beta/pages/members.html": MEMBERS,
    "brands/beta/pages/peek.html": "[{{ session.plan }}] [{{ is_customer }}]",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = write_site(tmp_path_factory.mktemp("sessions") / "site", FILES)
    with running_server(root) as (base, _):
        yield base, root


async def test_a_login_on_one_brand_is_no_login_on_another(server):
    base, _ = server
    login = httpx.get(base + "/login", headers={"host": "acme.test"})
    cookie = f"fr_session={login.cookies['fr_session']}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        own = await http.get("/members", headers={"host": "acme.test", "cookie": cookie})
        other = await http.get("/members", headers={"host": "beta.test", "cookie": cookie})
        peek = await http.get("/peek", headers={"host": "beta.test", "cookie": cookie})
    assert own.status_code == 200
    assert "members of acme: ann@example.test pro" in own.text
    assert other.status_code == 404  # the other brand's requires_login page stays closed
    assert "ann@example.test" not in other.text
    assert peek.text.strip() == "[] [false]"  # nor can it read the session's keys


async def test_concurrent_writes_never_take_a_session_past_its_size_limit(server):
    base, root = server
    session_id = httpx.get(base + "/start", headers={"host": "acme.test"}).cookies["fr_session"]
    headers = {"host": "acme.test", "cookie": f"fr_session={session_id}"}
    async with httpx.AsyncClient(base_url=base, timeout=30, headers=headers) as http:
        # Each request alone fits (60 KB); eight together would be 480 KB against 256 KB.
        responses = await asyncio.gather(*(
            http.get("/big", params={"key": f"k{n}"}) for n in range(8)
        ))
    assert all(response.status_code == 200 for response in responses)
    with sqlite3.connect(root / ".funnelrun" / "state.db") as db:
        (total,) = db.execute(
            "SELECT SUM(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)))"
            " FROM session_items WHERE session_id = ? OR session_id LIKE ?",
            (session_id, f"%:{session_id}"),
        ).fetchone()
    assert total <= MAX_SESSION_BYTES
    assert total > 3 * 60 * 1024  # the writes that fit were kept
