"""Random visitor input never gives a 500, a traceback or a stalled server (issue 6).

Hypothesis drives the whole request path in-process — Host, path, query, cookies, headers and
bodies through the request parser, body parsing, a backend script and the template printer
with every filter — and raw bytes through the real HTTP parser of a running `funnelrun serve`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TEST_ENVIRONMENT, running_server, write_site
from funnelrun.app import create_app
from funnelrun.settings import load_settings
from funnelrun.site import load_site
from funnelrun.template.compiler import filter_arity
from funnelrun.template.filters import FILTERS


# Every filter, fed a visitor's value (and an argument from the query where it takes one).
def _uses(name: str) -> str:
    low, high = filter_arity(FILTERS[name])
    bare = "" if low else f"{{{{ query.v | {name} }}}} "
    return bare + (f"{{{{ request.body.v | {name}:query.a }}}}" if high >= 1 else "")


_PRINTED = "\n".join(_uses(name) for name in sorted(FILTERS) if name != "raw")
PAGES = {
    "brands/acme/pages/index.html": "home {{ request.path }} {{ is_mobile }} {{ is_tablet }}",
    "brands/acme/pages/print.html": _PRINTED + "\n{{ request.body }} {{ query }} {{ dump(query) }}"
                                    "{{ query.v > 5 }} {{ query.v + 1 }} {{ query.v * query.a }}"
                                    "{{ request.cookies }} {{ request.headers }}",
    "brands/acme/pages/script.html": """
        <script scope="backend">
          setVariable("got", [request.query, request.body, request.cookies, getVariable("v")]);
          session.set("last", getVariable("v"));
        </script>
        {{ var.got | json }} {{ session.last }}
    """,
    "brands/acme/pages/blog/[slug].html": "{{ route_params.slug | upper }}",
}

TEXT = st.text(st.characters(codec="utf-8"), max_size=300) | st.sampled_from([
    "1" * 5000, "[" * 2000, "<" * 3000, "Android" * 500, "\ud800", "%ED%A0%80", "%00",
    "1e999", "NaN", "-0", "9" * 40, "<!--", "../../etc/passwd", "\r\nX-Injected: 1",
])


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a visitor may send any bytes


JSON_TEXT = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
).map(json.dumps) | TEXT
BODIES = st.one_of(
    st.tuples(st.just("application/json"), JSON_TEXT.map(_raw)),
    st.tuples(st.just("application/x-www-form-urlencoded"), TEXT.map(_raw)),
    st.tuples(st.sampled_from(["text/plain", "multipart/form-data; boundary=x", ""]),
              st.binary(max_size=500)),
    st.tuples(st.just("application/json"), st.binary(max_size=500)),
)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200)


@pytest.fixture(scope="module")
def app_client(tmp_path_factory) -> Iterator[tuple[asyncio.AbstractEventLoop, httpx.AsyncClient]]:
    root = write_site(tmp_path_factory.mktemp("fuzz") / "site", PAGES)
    app = create_app(load_site(root), load_settings(root, environ=TEST_ENVIRONMENT))
    loop = asyncio.new_event_loop()
    loop.run_until_complete(app.startup())
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    client = httpx.AsyncClient(transport=transport, base_url="http://acme.test")
    try:
        yield loop, client
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(app.shutdown())
        loop.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(
    page=st.sampled_from(["/", "/print", "/script", "/blog/x", "/missing"]),
    path_tail=TEXT,
    query=st.lists(st.tuples(st.sampled_from(["v", "a", "x", ""]), TEXT), max_size=4),
    cookie=HEADER_TEXT,
    user_agent=HEADER_TEXT | st.just("Android" * 3000),
    host=st.sampled_from(["acme.test", "ACME.test:8080", "[::1]", "bad host", "a" * 300, ""]),
    body=BODIES,
    method=st.sampled_from(["GET", "POST", "HEAD", "PUT"]),
)
def test_random_requests_never_give_a_500(app_client, page, path_tail, query, cookie,
                                          user_agent, host, body, method):
    loop, client = app_client
    content_type, content = body
    headers = {"host": host, "cookie": cookie, "user-agent": user_agent,
               "content-type": content_type}
    path = page if page != "/blog/x" else "/blog/" + quote(_raw(path_tail), safe="")
    target = path + "?" + "&".join(f"{quote(_raw(k))}={quote(_raw(v))}" for k, v in query)
    started = time.perf_counter()
    response = loop.run_until_complete(client.request(
        method, target, headers=headers, content=content if method in ("POST", "PUT") else None,
    ))
    elapsed = time.perf_counter() - started
    assert response.status_code != 500, (path, query, headers, content, response.text)
    assert "Traceback" not in response.text
    assert elapsed < 5.0


def _raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return received


RAW_LINES = st.lists(
    st.sampled_from([
        b"GET / HTTP/1.1", b"POST /script HTTP/1.1", b"GET /print?v=%ff%00 HTTP/1.1",
        b"Host: acme.test", b"Host: ", b"Content-Length: 5", b"Content-Length: -1",
        b"Transfer-Encoding: chunked", b"Content-Type: application/json", b"", b"0", b"{}",
        b"Cookie: fr_session=" + b"A" * 40, b"X: \xff\xfe", b"GET /\x00 HTTP/1.1",
        b"User-Agent: " + b"Android" * 400, b"[[[[[[[[[[", b"5", b"hello",
    ]) | st.binary(max_size=60),
    max_size=12,
)


@pytest.fixture(scope="module")
def real_server(tmp_path_factory):
    root = write_site(tmp_path_factory.mktemp("rawfuzz") / "site", PAGES)
    with running_server(root) as (base, _):
        yield int(base.rsplit(":", 1)[1]), root.parent / "server.log"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(lines=RAW_LINES, ending=st.sampled_from([b"\r\n", b"\n"]))
def test_random_bytes_to_a_real_server_never_give_a_500_or_a_traceback(real_server, lines,
                                                                       ending):
    port, log = real_server
    answer = _raw_exchange(port, ending.join(lines) + ending * 2)
    assert not answer.startswith(b"HTTP/1.1 500"), answer[:300]
    assert b"Traceback" not in log.read_bytes()
