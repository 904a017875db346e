"""What a visitor sends cannot stall the server or give a 500 (issue 6, items 4 and 6), against
a real `funnelrun serve`."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from conftest import running_server, write_site

pytestmark = pytest.mark.anyio

ECHO = """
<script scope="backend">
  setVariable("kind", request.body === null ? "null" : typeof request.body);
  setVariable("s", request.body && request.body.s);
</script>
body {{ var.kind }} [{{ var.s }}] [{{ request.body.s }}] {{ request.is_tablet }}
"""
DEEP_VARIABLE = """
<script scope="backend">
  var deep = [];
  for (var i = 0; i < 600; i++) deep = [deep];
  setVariable("deep", deep);
  setVariable("shallow", "ok");
</script>
[{{ var.deep }}] {{ var.shallow }}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = write_site(tmp_path_factory.mktemp("requests") / "site", {
        "brands/acme/pages/static.html": "static [{{ request.body }}] {{ is_mobile }}",
        "brands/acme/pages/echo.html": ECHO,
        "brands/acme/pages/deep.html": DEEP_VARIABLE,
    })
    with running_server(root) as (base, _):
        yield base, root


async def test_a_long_hostile_user_agent_does_not_stall_the_server(server):
    base, _ = server
    hostile = {"user-agent": "Android" * 2000}  # 14 KB; quadratic before: ~0.1 s each
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        await http.get("/static")  # warm
        started = time.perf_counter()
        responses = await asyncio.gather(*(http.get("/static", headers=hostile)
                                           for _ in range(16)))
        elapsed = time.perf_counter() - started
    assert all(response.status_code == 200 for response in responses)
    assert "true" not in responses[0].text  # an Android device without Mobile: a tablet
    assert elapsed < 1.0, f"16 requests took {elapsed:.2f} s"


@pytest.mark.parametrize("page", ["/static", "/echo"])
@pytest.mark.parametrize("body", [
    b"[" * 1000 + b"]" * 1000,  # 2 KB, nested 1000 deep
    b'{"a": 1e999}',
    b'{"a": NaN}',
    b"[Infinity, -Infinity]",
    b'{"n": ' + b"1" * 4301 + b"}",
])
async def test_json_bodies_python_cannot_take_are_null_not_a_500(server, page, body):
    base, _ = server
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        response = await http.post(page, content=body,
                                   headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    if page == "/echo":
        assert "body null [] []" in response.text


async def test_a_lone_surrogate_in_a_json_body_prints_as_a_replacement_character(server):
    base, _ = server
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        response = await http.post("/echo", content=json.dumps({"s": "a\ud800b"}),
                                   headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert "body object [a\ufffdb] [a\ufffdb]" in response.text


async def test_a_value_nested_600_deep_from_a_script_is_refused_and_the_page_renders(server):
    base, _ = server
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        response = await http.get("/deep")
    assert response.status_code == 200, response.text
    assert response.text.strip() == "[] ok"
