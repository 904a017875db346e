"""Running uvicorn: the options `serve` passes, and the guarded protocol's deadlines and head cap,
driven byte by byte through a fake transport on a real event loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from funnelrun.server import GuardedHttpProtocol, HttpLimits, uvicorn_options
from funnelrun.server_log import log_config
from funnelrun.settings import load_settings
from funnelrun.site.assets import MAX_DEPTH

pytestmark = pytest.mark.anyio

LIMITS = HttpLimits(header_timeout_s=0.1, body_timeout_s=0.2, max_header_bytes=1000)
PAST_HEAD = 0.25  # comfortably after the head deadline
PAST_BODY = 0.4
GET = b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"


# -- options -----------------------------------------------------------------------------------


def test_uvicorn_options_use_the_guarded_httptools_protocol_and_ignore_forwarded_headers(tmp_path):
    settings = load_settings(tmp_path, environ={"FUNNELRUN_SERVER_MAX_CONNECTIONS": "50"})
    options = uvicorn_options(settings, tmp_path, reload=False)
    assert options["http"].func is GuardedHttpProtocol
    assert issubclass(GuardedHttpProtocol, HttpToolsProtocol)  # llhttp's strict framing
    assert options["http"].keywords == {"limits": HttpLimits(10, 30, 32 * 1024)}
    assert options["proxy_headers"] is False  # only funnelrun's trusted_proxies rule decides
    assert options["ws"] == "none"
    assert options["limit_concurrency"] == 51  # uvicorn counts the new connection itself
    assert options["log_config"] == log_config()
    assert options["workers"] == 1 and options["reload"] is False


def test_uvicorn_options_under_reload_watch_the_site(tmp_path):
    options = uvicorn_options(load_settings(tmp_path, environ={}), tmp_path, reload=True)
    assert options["workers"] is None
    assert options["reload_dirs"] == [str(tmp_path)]
    assert options["reload_includes"][:4] == ["*.html", "*.js", "*.toml", "assets/*"]
    assert options["reload_includes"][-1] == "assets" + "/*" * (MAX_DEPTH + 1)


def soft_open_files_limit_after(soft: int, hard: int, needed: int) -> subprocess.CompletedProcess:
    """In a fresh process with the given limits, ask for `needed` descriptors; print the soft one."""
    code = textwrap.dedent(f"""
        import resource
        from funnelrun.server import _raise_open_files_limit
        resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))
        _raise_open_files_limit({needed})
        print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                          check=True)


def test_the_open_files_limit_is_raised_to_hold_the_connections():
    done = soft_open_files_limit_after(soft=64, hard=4096, needed=1065)
    assert done.stdout == "1065\n" and done.stderr == ""


def test_a_hard_open_files_limit_below_the_need_is_used_and_reported():
    done = soft_open_files_limit_after(soft=64, hard=200, needed=1065)
    assert done.stdout == "200\n"
    assert done.stderr == ("funnelrun: warning: the system allows 200 open files per process "
                           "(ulimit -Hn); server.max_connections needs about 1065\n")


# -- the protocol ------------------------------------------------------------------------------


class FakeTransport(asyncio.Transport):
    """Collects what the protocol writes; closing it reports the loss as asyncio would."""

    def __init__(self, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self.protocol = protocol
        self.written = bytearray()
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closing, "written after close"
        self.written += data

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class App:
    """An ASGI app that reads the whole body (or not) and answers `ok` after `work_s`."""

    def __init__(self, *, read_body: bool = True, work_s: float = 0.0) -> None:
        self.read_body = read_body
        self.work_s = work_s
        self.received: list[dict] = []

    async def __call__(self, scope, receive, send) -> None:
        while self.read_body:
            message = await receive()
            self.received.append(message)
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        await asyncio.sleep(self.work_s)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})


def connect(
    app: App, state: ServerState | None = None, **config: Any
) -> tuple[GuardedHttpProtocol, FakeTransport]:
    uvicorn_config = Config(app=app, ws="none", proxy_headers=False, log_config=None, **config)
    uvicorn_config.load()
    protocol = GuardedHttpProtocol(uvicorn_config, state or ServerState(), {}, limits=LIMITS)
    transport = FakeTransport(protocol)
    protocol.connection_made(transport)
    return protocol, transport


async def test_a_silent_connection_is_closed_at_the_head_deadline_without_an_answer():
    _, transport = connect(App())
    await asyncio.sleep(0.05)
    assert not transport.closing
    await asyncio.sleep(PAST_HEAD)
    assert transport.closing and transport.written == b""


async def test_a_partial_head_gets_408_at_the_deadline():
    protocol, transport = connect(App())
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: a")
    await asyncio.sleep(PAST_HEAD)
    assert transport.written.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in transport.written and transport.closing


async def test_no_deadline_runs_while_the_app_works_on_a_request():
    protocol, transport = connect(App(work_s=PAST_BODY))
    protocol.data_received(GET)
    await asyncio.sleep(PAST_BODY + 0.1)
    assert transport.written.startswith(b"HTTP/1.1 200 ") and transport.written.endswith(b"ok")
    assert not transport.closing  # kept alive, not cut off


async def test_after_a_response_the_next_head_deadline_starts_with_its_first_byte():
    protocol, transport = connect(App())
    protocol.data_received(GET)
    await asyncio.sleep(PAST_HEAD)  # idle after a response: uvicorn's keep-alive timeout (5 s)
    assert not transport.closing
    answered = len(transport.written)
    protocol.data_received(b"GET /next HT")
    await asyncio.sleep(PAST_HEAD)
    assert transport.written[answered:].startswith(b"HTTP/1.1 408 ") and transport.closing


async def test_line_breaks_before_a_request_cannot_hold_a_kept_alive_connection():
    protocol, transport = connect(App())
    protocol.data_received(GET)
    await asyncio.sleep(0.05)
    answered = len(transport.written)
    for _ in range(6):  # each byte would cancel uvicorn's keep-alive timer
        if not transport.closing:
            protocol.data_received(b"\r\n")
        await asyncio.sleep(0.05)
    assert transport.closing and len(transport.written) == answered  # closed, nothing said


async def test_a_body_that_stops_gets_408_and_the_app_sees_a_disconnect():
    app = App()
    protocol, transport = connect(app)
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\n\r\nabc")
    await asyncio.sleep(PAST_BODY)
    assert transport.written.startswith(b"HTTP/1.1 408 ") and transport.closing
    assert app.received[-1]["type"] == "http.disconnect"
    assert transport.written.count(b"HTTP/1.1") == 1  # the app's own answer went nowhere


async def test_a_body_still_arriving_after_the_app_answered_is_cut_off_without_a_408():
    protocol, transport = connect(App(read_body=False))
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1000\r\n\r\nabc")
    for _ in range(8):
        if not transport.closing:
            protocol.data_received(b"x")
        await asyncio.sleep(0.05)
    assert transport.written.startswith(b"HTTP/1.1 200 ") and transport.written.endswith(b"ok")
    assert transport.closing and b"408" not in transport.written


async def test_a_complete_body_in_time_is_served():
    app = App()
    protocol, transport = connect(app)
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 6\r\n\r\nabc")
    await asyncio.sleep(0.05)
    protocol.data_received(b"def")
    await asyncio.sleep(PAST_BODY)
    assert transport.written.startswith(b"HTTP/1.1 200 ") and not transport.closing
    assert b"".join(m["body"] for m in app.received) == b"abcdef"


async def test_a_head_over_the_cap_in_one_piece_gets_431():
    protocol, transport = connect(App())
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: a.test\r\nUser-Agent: " + b"a" * 1000 + b"\r\n\r\n")
    await asyncio.sleep(0.01)
    assert transport.written.startswith(b"HTTP/1.1 431 ") and transport.closing


async def test_a_header_growing_past_the_cap_across_reads_gets_431_before_it_ends():
    protocol, transport = connect(App())
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: a.test\r\nX-Long: ")
    reads = 0
    while not transport.closing:
        protocol.data_received(b"a" * 100)
        reads += 1
    assert transport.written.startswith(b"HTTP/1.1 431 ")
    assert reads <= 11  # stopped about when the head passed 1000 bytes


async def test_a_head_just_under_the_cap_is_served():
    protocol, transport = connect(App())
    head = b"GET / HTTP/1.1\r\nHost: a.test\r\nX: " + b"a" * 900 + b"\r\n\r\n"
    for start in range(0, len(head), 50):
        protocol.data_received(head[start:start + 50])
    await asyncio.sleep(0.05)
    assert transport.written.startswith(b"HTTP/1.1 200 ")


async def test_an_oversized_pipelined_head_during_a_response_closes_without_a_431():
    protocol, transport = connect(App(work_s=0.1))
    protocol.data_received(GET + b"GET /2 HTTP/1.1\r\nX: " + b"a" * 2000 + b"\r\n\r\n")
    await asyncio.sleep(0.01)
    assert transport.closing and transport.written == b""  # no 431 in the middle of a response


async def test_over_the_connection_limit_a_request_gets_503():
    state = ServerState()
    connect(App(), state, limit_concurrency=2)  # held open, silent; uvicorn counts the new one too
    protocol, transport = connect(App(), state, limit_concurrency=2)
    protocol.data_received(GET)
    await asyncio.sleep(0.05)
    assert transport.written.startswith(b"HTTP/1.1 503 ") and transport.closing


async def test_a_pipelined_request_body_deadline_starts_when_that_request_starts():
    protocol, transport = connect(App(work_s=0.3))
    protocol.data_received(GET + b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n\r\nab")
    await asyncio.sleep(0.25)  # past the body deadline, but the first request is still served
    assert not transport.closing and transport.written == b""
    await asyncio.sleep(0.1)
    assert transport.written.startswith(b"HTTP/1.1 200 ") and not transport.closing
    await asyncio.sleep(PAST_BODY)
    assert transport.written.count(b"HTTP/1.1 408 ") == 1 and transport.closing
