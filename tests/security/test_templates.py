"""Templates against a real `funnelrun serve` and `funnelrun check` (issue 6, items 4, 6 and
11): visitor values stay inside the markup they are printed in, `| json | raw` that would break
out of an attribute stops the site at start-up, visitor text is processed in linear time, and
numbers of any length are ordinary values, never a 500."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from html.parser import HTMLParser

import httpx
import pytest

from conftest import free_port, running_server, write_site

pytestmark = pytest.mark.anyio

PAGES = {
    "brands/acme/pages/echo.html": """
        <p title={{ query.t }} class="x">{{ query.t }}</p>
        <script>var a = '{{ query.a }}', b = '{{ query.b }}';
        var d = {{ query | json | raw }};</script>
        <button onclick="track('{{ query.t }}')">go</button>
        """,
    "brands/acme/pages/strip.html": "[{{ request.body.t | strip_tags | length }}]",
    "brands/acme/pages/numbers.html": """
        @set(items = [1, 2])
        {{ query.n > 5 }}|{{ query.n | number_format }}|{{ query.n | date }}|{{ items[query.i] }}|
        {{ query.n * 2 }}|{{ query.n | round }}|{{ (query.n + 1) | length }}
        """,
    "brands/acme/pages/index.html": "<h1>home</h1>",
}
JSON_IN_ATTRIBUTE = """
    <h1>Offer</h1>
    <div class="offer" data-offer="{{ var.offer | json | raw }}"></div>
    """


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = write_site(tmp_path_factory.mktemp("templates") / "site", PAGES)
    with running_server(root) as (base, _):
        yield base


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def attributes(html: str) -> list[tuple[str, list]]:
    parser = _Attributes()
    parser.feed(html)
    return parser.tags


# -- item 11: escaping for where an output sits ----------------------------------------------


def test_check_lists_json_raw_in_an_attribute_with_its_position(tmp_path):
    root = write_site(tmp_path / "site", {"brands/acme/pages/offer.html": JSON_IN_ATTRIBUTE})
    result = subprocess.run(
        [sys.executable, "-m", "funnelrun", "check", str(root)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert (
        "brands/acme/pages/offer.html:2:32: '| json | raw' in the double-quoted value of "
        "attribute 'data-offer'" in result.stdout + result.stderr
    )


def test_serve_refuses_to_start_with_json_raw_in_an_attribute(tmp_path):
    root = write_site(tmp_path / "site", {"brands/acme/pages/offer.html": JSON_IN_ATTRIBUTE})
    command = [sys.executable, "-m", "funnelrun", "serve", str(root), "--port", str(free_port())]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("funnelrun serve started a site whose template breaks out of an attribute")
    assert result.returncode == 1
    assert "offer.html:2:32" in result.stdout + result.stderr


async def test_visitor_values_stay_inside_attributes_and_scripts(server):
    attack = "x onmouseover=alert(1) a=');alert(2)//"
    query = {"t": attack, "a": "\\", "b": ";alert(3)//", "c": "</script><script>alert(4)"}
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        response = await http.get("/echo", params=query)
    assert response.status_code == 200
    tags = attributes(response.text)
    assert tags[0] == ("p", [("title", attack), ("class", "x")])
    assert tags[2] == ("button", [("onclick", "track('x onmouseover=alert(1) a=\\u0027);"
                                              "alert(2)//')")])
    assert "var a = '\\\\', b = ';alert(3)//';" in response.text
    assert response.text.count("</script>") == 1  # `| json | raw` inside <script> is safe


# -- item 4: strip_tags in linear time --------------------------------------------------------


@pytest.mark.parametrize("field", ["<" * 65_000, "<!--<" * 13_000])
async def test_a_64_kb_field_through_strip_tags_does_not_stall_other_visitors(server, field):
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        await http.get("/")  # a warm connection pool
        started = time.monotonic()
        slow = asyncio.create_task(http.post(
            "/strip", content=f"t={field}",
            headers={"content-type": "application/x-www-form-urlencoded"},
        ))
        await asyncio.sleep(0.05)
        other = await http.get("/")
        other_done = time.monotonic() - started
        stripped = await slow
        slow_done = time.monotonic() - started
    assert (stripped.status_code, stripped.text) == (200, f"[{len(field)}]")
    assert other.status_code == 200
    assert slow_done < 1.0 and other_done < 1.0  # the regular expression took 3 s and more


# -- item 6: numbers of any length ------------------------------------------------------------


async def test_a_4301_digit_number_from_a_visitor_is_an_ordinary_value(server):
    digits = "1" * 4301
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        response = await http.get("/numbers", params={"n": digits, "i": digits})
    assert response.status_code == 200
    assert response.text.split() == ["true||||", "Infinity||4302"]
