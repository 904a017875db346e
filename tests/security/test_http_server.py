"""The HTTP server in front of the app, attacked over real sockets (issue 6, items 5, 12, 13):
forwarded headers believed only from trusted proxies, strict framing, deadlines for slow
clients, a cap on request heads, a connection limit, and a log no visitor can forge."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conftest import running_server, write_site
from funnelrun.store import SQLiteStore

pytestmark = pytest.mark.anyio

HEADER_TIMEOUT_S = 1
BODY_TIMEOUT_S = 2
MAX_CONNECTIONS = 60
GRACE_S = 1.5  # a loaded test machine may fire a deadline late, never early
LIMITS = {
    "FUNNELRUN_SERVER_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
    "FUNNELRUN_SERVER_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
    "FUNNELRUN_SERVER_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
}
FILES = {
    "brands/acme/pages/ip.html": (
        '<script scope="backend">setVariable("ip", request.ip); cookie.set("probe", "1");</script>'
        "ip={{ var.ip }}"
    ),
    "brands/acme/pages/static.html": "static page",
    "brands/acme/pages/smuggled.html": "SMUGGLED",
    "brands/acme/pages/mark/[id].html": "mark {{ route_params.id }}",
    "brands/acme/pages/form.html": (
        '<script scope="backend">setVariable("got", request.body ? "yes" : "no");</script>'
        "form {{ var.got }}"
    ),
    "brands/acme/pages/component.html": "@component(query.c)",
    "brands/acme/pages/refused.html": '<script scope="backend">session.set("_private", 1);</script>x',
}


@dataclass
class Server:
    base: str
    port: int
    root: Path

    def log(self) -> str:
        return (self.root.parent / "server.log").read_text(errors="replace")


@contextlib.contextmanager
def started(root: Path, **environment: str):
    with running_server(root, **environment) as (base, _):
        yield Server(base, int(base.rsplit(":", 1)[1]), root)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """No trusted proxies; low deadlines and connection limit."""
    root = write_site(tmp_path_factory.mktemp("direct") / "site", FILES)
    with started(root, **LIMITS) as running:
        yield running


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    root = write_site(tmp_path_factory.mktemp("proxied") / "site", FILES)
    with started(root, FUNNELRUN_SERVER_TRUSTED_PROXIES="127.0.0.1") as running:
        yield running


# -- helpers -----------------------------------------------------------------------------------


@dataclass
class Reply:
    data: bytes
    closed: bool  # the server closed the connection
    seconds: float  # from sending (or connecting) until closed, or until we gave up


def exchange(port: int, data: bytes, *, wait: float = 5.0) -> Reply:
    """Send raw bytes on a new connection; read until the server closes it (or `wait` passes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        return read_until_closed(sock, wait)


def read_until_closed(sock: socket.socket, wait: float) -> Reply:
    started_at = time.monotonic()
    received = b""
    while (left := wait - (time.monotonic() - started_at)) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return Reply(received, True, time.monotonic() - started_at)
        if not chunk:
            return Reply(received, True, time.monotonic() - started_at)
        received += chunk
    return Reply(received, False, time.monotonic() - started_at)


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length, leaving the connection open."""
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


async def requests_recorded(root: Path, path: str) -> list:
    store = SQLiteStore(root / ".funnelrun" / "state.db")
    try:
        return await store.list_requests(path=path)
    finally:
        await store.close()


async def wait_for_record(root: Path, path: str) -> list:
    """The page events are written just after the response: wait for them."""
    for _ in range(60):
        if found := await requests_recorded(root, path):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no page events recorded for {path}")


def wait_for_log(server: Server, text: str) -> str:
    deadline = time.monotonic() + 5
    while text not in (log := server.log()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return log


def is_secure(set_cookie: str) -> bool:
    return "secure" in [part.strip().lower() for part in set_cookie.split(";")]


# -- item 5: one rule for the client address and scheme ----------------------------------------

FORGED = {"x-forwarded-for": "6.6.6.6", "x-forwarded-proto": "https"}


def test_forwarded_headers_from_an_untrusted_peer_change_neither_ip_nor_secure_cookie(server):
    response = httpx.get(server.base + "/ip", headers=FORGED)
    assert response.text == "ip=127.0.0.1"
    assert response.headers["set-cookie"].startswith("probe=1;")
    assert not is_secure(response.headers["set-cookie"])


def test_forwarded_headers_from_a_trusted_proxy_are_honoured(proxied):
    response = httpx.get(proxied.base + "/ip", headers=FORGED)
    assert response.text == "ip=6.6.6.6"
    assert is_secure(response.headers["set-cookie"])


# -- item 12 (a): strict framing ---------------------------------------------------------------

SMUGGLE = b"GET /smuggled HTTP/1.1\r\nHost: acme.test\r\n\r\n"
AMBIGUOUS = {
    "content_length_and_transfer_encoding": (
        b"POST /static HTTP/1.1\r\nHost: acme.test\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLE
    ),
    "bare_lf_line_endings": b"GET /static HTTP/1.1\nHost: acme.test\n\n" + SMUGGLE.replace(b"\r", b""),
}


@pytest.mark.parametrize("attack", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
async def test_an_ambiguous_request_gets_400_and_its_smuggled_request_never_runs(server, attack):
    reply = exchange(server.port, attack)
    assert reply.closed
    assert reply.data.startswith(b"HTTP/1.1 400 ")
    assert reply.data.count(b"HTTP/1.1 ") == 1  # one answer: nothing was served after it
    assert b"SMUGGLED" not in reply.data
    marker = f"/mark/{uuid.uuid4().hex}"  # a later request, to know the page events are written
    assert httpx.get(server.base + marker).status_code == 200
    await wait_for_record(server.root, marker)
    assert await requests_recorded(server.root, "/smuggled") == []
    assert "/smuggled" not in server.log()


# -- item 12 (b): heads over the cap -----------------------------------------------------------


def test_a_head_over_the_cap_gets_431_and_the_connection_is_closed(server):
    huge_agent = b"GET /static HTTP/1.1\r\nHost: acme.test\r\nUser-Agent: " + b"a" * 100_000 + b"\r\n\r\n"
    reply = exchange(server.port, huge_agent)
    assert reply.closed
    assert reply.data.startswith(b"HTTP/1.1 431 ")
    many = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 100) for n in range(400))  # 40 KB of headers
    reply = exchange(server.port, b"GET /static HTTP/1.1\r\nHost: acme.test\r\n" + many + b"\r\n")
    assert reply.data.startswith(b"HTTP/1.1 431 ")
    ordinary = (b"GET /static HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n"
                b"Cookie: " + b"c" * 20_000 + b"\r\n\r\n")
    assert exchange(server.port, ordinary).data.startswith(b"HTTP/1.1 200 ")


def test_a_header_that_never_ends_is_cut_off_near_the_cap(server):
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /static HTTP/1.1\r\nHost: acme.test\r\nX-Endless: ")
        with contextlib.suppress(ConnectionError):
            while sent < 4_000_000:
                sock.sendall(b"a" * 4096)
                sent += 4096
                time.sleep(0.001)
        reply = read_until_closed(sock, 5)
    assert reply.closed
    assert reply.data.startswith(b"HTTP/1.1 431 ") or reply.data == b""  # reset while still sending
    assert sent < 1_000_000  # the server stopped reading it long before it grew large


# -- item 12 (b): slow clients -----------------------------------------------------------------


async def hold_open(
    port: int, drip: bytes = b"", *, first: bytes = b"", every_s: float = 0.2
) -> tuple[bytes, float]:
    """Connect, send `first`, then `drip` one byte at a time, and wait for the server to close
    the connection: (what it sent back, seconds until it closed). TimeoutError if it never does.
    The seconds count from before the connection is made: the server's deadline starts when it
    accepts it, and a loaded test loop may resume this task well after that."""
    started_at = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(first)

    async def trickle() -> None:
        with contextlib.suppress(ConnectionError):
            for byte in drip:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(every_s)

    dripping = asyncio.create_task(trickle())
    try:
        try:
            data = await asyncio.wait_for(reader.read(), HEADER_TIMEOUT_S + BODY_TIMEOUT_S + 3)
        except ConnectionResetError:
            data = b""
        return data, time.monotonic() - started_at
    finally:
        dripping.cancel()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


SLOW_HEAD = b"GET /static HTTP/1.1\r\nHost: acme.test\r\nX-Slow: " + b"a" * 200


async def test_silent_and_trickling_connections_are_closed_while_a_visitor_is_served(server):
    silent = [asyncio.create_task(hold_open(server.port)) for _ in range(20)]
    trickling = [asyncio.create_task(hold_open(server.port, SLOW_HEAD)) for _ in range(20)]
    latencies = []
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as visitor:
        while not all(task.done() for task in silent + trickling):
            started_at = time.monotonic()
            response = await visitor.get("/static")
            latencies.append(time.monotonic() - started_at)
            assert response.text == "static page"
            await asyncio.sleep(0.05)
    for data, seconds in [task.result() for task in silent]:
        assert data == b""  # nothing of a request arrived: closed without an answer
        assert HEADER_TIMEOUT_S - 0.1 < seconds < HEADER_TIMEOUT_S + GRACE_S
    for data, seconds in [task.result() for task in trickling]:
        assert data.startswith(b"HTTP/1.1 408 ")
        assert HEADER_TIMEOUT_S - 0.1 < seconds < HEADER_TIMEOUT_S + GRACE_S
    assert len(latencies) >= 5 and max(latencies) < 1.0


async def test_a_later_request_on_a_kept_alive_connection_has_its_own_head_deadline(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /static HTTP/1.1\r\nHost: acme.test\r\n\r\n")
        assert read_response(sock).endswith(b"static page")
        started_at = time.monotonic()
        with contextlib.suppress(ConnectionError):
            for byte in SLOW_HEAD[:20]:  # 4 s of trickling if nobody stops it
                sock.sendall(bytes([byte]))
                time.sleep(0.2)
                if time.monotonic() - started_at > HEADER_TIMEOUT_S + 0.3:
                    break
        reply = read_until_closed(sock, GRACE_S)
    assert reply.closed
    assert reply.data.startswith(b"HTTP/1.1 408 ")


async def test_a_trickled_body_gets_408_and_leaves_no_traceback_and_no_500(server):
    head = (b"POST /form HTTP/1.1\r\nHost: acme.test\r\nContent-Length: 100\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
    data, seconds = await hold_open(server.port, b"a" * 99, first=head)
    assert data.startswith(b"HTTP/1.1 408 ")
    assert BODY_TIMEOUT_S - 0.1 < seconds < BODY_TIMEOUT_S + GRACE_S  # the body's own deadline
    records = await wait_for_record(server.root, "/form")
    assert [record.status for record in records if record.status >= 500] == []
    log = server.log()
    assert "Traceback" not in log
    assert "Exception in ASGI application" not in log


async def test_over_the_connection_limit_requests_get_503_until_connections_free_up(server):
    held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(MAX_CONNECTIONS)]
    try:
        await asyncio.sleep(0.3)  # the server has accepted them all
        reply = exchange(server.port, b"GET /static HTTP/1.1\r\nHost: acme.test\r\n\r\n")
        assert reply.data.startswith(b"HTTP/1.1 503 ")
        assert reply.closed
        await asyncio.sleep(HEADER_TIMEOUT_S + 0.5)  # the silent ones meet their deadline
        assert httpx.get(server.base + "/static").status_code == 200
    finally:
        for sock in held:
            sock.close()


# -- item 13: the log ---------------------------------------------------------------------------


def test_crlf_in_logged_visitor_text_is_escaped_and_never_starts_a_line(server):
    forged = f"forged-{uuid.uuid4().hex}"
    query = f"c=x%0d%0aINFO:%20%20%20%20%20{forged}%E2%80%A8WARNING:%20{forged}"
    assert httpx.get(f"{server.base}/component?{query}").status_code == 500  # no such component
    log = wait_for_log(server, forged)
    escaped = f"x\\r\\nINFO:     {forged}\\u2028WARNING: {forged}"
    assert next(line for line in log.splitlines() if escaped in line).startswith(
        "WARNING:  funnelrun.events: request ")
    # splitlines() breaks on LF, CR and U+2028 alike: no record was forged by any of them.
    assert [line for line in log.splitlines()
            if line.startswith((f"INFO:     {forged}", f"WARNING: {forged}"))] == []


def test_a_refused_action_reaches_the_log_at_info(server):
    response = httpx.get(server.base + "/refused")
    request_id = response.headers["x-request-id"]
    log = wait_for_log(server, request_id)
    assert f"request {request_id}: session.set refused: '_private' is a reserved key" in log
