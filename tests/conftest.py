"""Shared fixtures: sites written from a dict of files, served in-process by the real app or by
`funnelrun serve`, their page events read back; one request as a Visit; a clock the tests move
by hand."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from funnelrun.app import Funnelrun, create_app
from funnelrun.events import PageEvents
from funnelrun.session import Session
from funnelrun.settings import load_settings
from funnelrun.site import load_site
from funnelrun.store import Store, open_store
from funnelrun.visit import Arrival, Visit
from redis_server import RedisServer, redis_server_path

# Low limits keep failure tests fast; production defaults are in funnelrun.settings.
TEST_ENVIRONMENT = {
    "FUNNELRUN_LIMITS_SCRIPT_CPU_MS": "1000",
    "FUNNELRUN_LIMITS_SCRIPT_WALL_MS": "2000",
    "FUNNELRUN_EXECUTOR_PROCESSES": "1",
    "FUNNELRUN_EXECUTOR_MAX_PROCESSES": "4",
}


@pytest.fixture
def anyio_backend():
    return "asyncio"


class FakeClock:
    """A clock the test moves by hand; starts at the real time, so other processes agree."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FrozenClock:
    """Mixin giving a test class a `clock` fixture that stands still until a test moves it —
    itsdangerous's FreezeMixin: `class TestX(FrozenClock, TestY)` runs every test of TestY
    again on the frozen clock, and adds the tests that need time to pass."""

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()


class ClockedStore:
    """Mixin giving a test class a `clock` — the real one, unless FrozenClock stands before
    this class — and a SQLite `store` at `store_url` in tmp_path keeping time by it."""

    store_url = "sqlite:///state.db"

    @pytest.fixture
    def clock(self) -> Callable[[], float]:
        return time.time

    @pytest.fixture
    async def store(self, tmp_path: Path, clock: Callable[[], float]) -> AsyncIterator[Store]:
        store = open_store(self.store_url, tmp_path, clock=clock)
        yield store
        await store.close()


def write_site(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (path -> text, dedented) under `root`; brand "acme" gets a brand.toml."""
    files = {"brands/acme/brand.toml": 'name = "Acme"\n', **files}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@contextlib.asynccontextmanager
async def serve(root: Path, *, clock: FakeClock | None = None, **environment: str
                ) -> AsyncIterator[Client]:
    """The site's app, started (on `clock` when given, its store too), with an HTTP client that
    keeps cookies like a browser."""
    settings = load_settings(root, environ={**TEST_ENVIRONMENT, **environment})
    app = create_app(load_site(root), settings, clock=clock or time.time)
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://acme.test") as http:
            yield Client(http, app)
    finally:
        await app.shutdown()


class Client:
    """An httpx client plus the app, to read a response's page events from the store."""

    def __init__(self, http: httpx.AsyncClient, app: Funnelrun) -> None:
        self.http = http
        self.app = app
        self.get = http.get
        self.post = http.post
        self.head = http.head
        self.request = http.request
        self.cookies = http.cookies

    async def events(self, response: httpx.Response) -> list[dict]:
        record = await self.app.store.get_request(response.headers["x-request-id"])
        assert record is not None
        return record.events

    async def event(self, response: httpx.Response, kind: str) -> dict:
        matching = [e for e in await self.events(response) if e["type"] == kind]
        assert matching, f"no {kind!r} event in {await self.events(response)}"
        return matching[0]

    async def warnings(self, response: httpx.Response) -> list[tuple[str, str]]:
        return [(e["call"], e["reason"]) for e in await self.events(response) if e["type"] == "warning"]


async def visit_of(
    root: Path, target: str = "/", *, session: Session | None = None,
    headers: dict[str, str] | None = None,
) -> Visit:
    """A GET of `target` (path and query) on brand acme of the site at ROOT from 203.0.113.7,
    read and resolved by the app's own stages; `session` replaces the empty one it starts with."""
    path, _, query = target.partition("?")
    raw_headers = {"host": "acme.test", **(headers or {})}
    scope = {
        "type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
        "query_string": query.encode(), "scheme": "http", "server": ("acme.test", 80),
        "client": ("203.0.113.7", 50000),
        "headers": [(name.encode(), value.encode()) for name, value in raw_headers.items()],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    app = create_app(load_site(root), load_settings(root, environ=TEST_ENVIRONMENT))
    arrival = Arrival(request=Request(scope, receive), events=PageEvents())
    assert await app.read_request(arrival) is None
    visit = app.resolve(arrival)
    assert isinstance(visit, Visit), f"no page at {target}"
    if session is not None:
        visit.session = session
    return visit


@pytest.fixture
def site(tmp_path):
    """`site(files)` writes a site under a fresh folder and returns its root."""
    return lambda files: write_site(tmp_path / "site", files)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(
    root: Path, *flags: str, **environment: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`funnelrun serve ROOT [flags]` in its own process, as a user runs it: (base URL,
    process).

    Its output goes to ROOT/../server.log, shown if it does not come up."""
    port = free_port()
    log_path = root.parent / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "funnelrun", "serve", str(root), "--port", str(port), *flags],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **environment},
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, process, log_path)
            yield base, process
        finally:
            process.terminate()
            process.wait(timeout=15)


async def recorded_events(root: Path, request_id: str, store_url: str | None = None
                          ) -> list[dict[str, Any]]:
    """The page events a running `funnelrun serve` of ROOT recorded for one request, read from
    its store: `store_url`, else the default SQLite file."""
    store = open_store(store_url or "sqlite:///.funnelrun/state.db", root)
    try:
        for _ in range(500):  # the record is written just after the response is sent
            record = await store.get_request(request_id)
            if record is not None:
                return record.events
            await asyncio.sleep(0.01)
    finally:
        await store.close()
    raise AssertionError(f"no page events for request {request_id}")


def _wait_until_up(base: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(base + "/", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    pytest.fail(f"funnelrun serve did not come up:\n{log_path.read_text()}")


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (one per test module)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def printed_login_link(log_path: Path) -> str:
    """The debug window's login link a running `funnelrun serve` printed to its log."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = re.search(r"funnelrun: debug window: (http://\S+/_funnelrun/login\?token=\S+)",
                          log_path.read_text())
        if found:
            return found[1]
        time.sleep(0.05)
    raise AssertionError(f"no login link in:\n{log_path.read_text()}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server for the whole run (tests/redis_server.py), shared: a test empties
    it through `redis_url` rather than paying for a server of its own. Never skipped when
    redis-server is missing, so that CI cannot pass without having run the Redis tests."""
    if redis_server_path() is None:
        pytest.fail("redis-server is not installed: `make test` installs Debian's redis-server")
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The shared redis-server's URL, every key gone: each test starts from an empty Redis. A
    test that stopped the shared server and failed before starting it again leaves it down, so
    it is brought back here rather than failing every test after it."""
    if not redis_server.is_running():
        redis_server.start()
    redis_server.flush()
    return redis_server.url


class AssetVersions:
    """A brand's asset index as asset() reads it (funnelrun.asset_urls): path -> version."""

    def __init__(self, versions: dict[str, str]) -> None:
        self.versions = versions

    def version(self, path: str) -> str | None:
        return self.versions.get(path)

    def __iter__(self) -> Iterator[str]:
        return iter(self.versions)
