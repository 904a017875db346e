"""Shared helpers: jobs built from script source, and a real executor pool for the session."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Iterator, Mapping
from typing import Any

import pytest

from funnelrun.script import (
    ExecutorPool,
    Host,
    ScriptJob,
    ScriptResult,
    build_bundle,
    find_backend_scripts,
)
from funnelrun.settings import ExecutorSettings, LimitSettings

# Low limits keep the suite fast; the defaults (10 s CPU, 30 s wall) behave the same, slower.
TEST_LIMITS = LimitSettings(script_memory_mb=8, script_cpu_ms=1000, script_wall_ms=2000,
                            script_stack_kb=256)
PAGE = "pages/test.html"
REQUEST: dict[str, Any] = {
    "method": "GET", "path": "/offer", "query": {"utm_source": "mail", "code": "q"},
    "body": None, "headers": {"user-agent": "pytest", "host": "acme.test"},
    "cookies": {"seen": "1"}, "ip": "203.0.113.9", "ip6": "", "is_mobile": False,
    "is_tablet": False, "route_params": {},
}


def page_job(code: str, *, modules: Mapping[str, str] | None = None,
             **fields: Any) -> ScriptJob:
    """A job for a page holding one backend block with `code` (on line 1, column 25)."""
    source = f'<script scope="backend">{code}</script>'
    bundle = build_bundle([(PAGE, find_backend_scripts(source))], resolver(modules or {}))
    fields.setdefault("request", REQUEST)
    return ScriptJob(bundle, **fields)


def resolver(modules: Mapping[str, str]):
    def resolve(name: str) -> tuple[str, str] | None:
        return (modules[name], f"modules/{name}.js") if name in modules else None
    return resolve


class Sandbox:
    """Runs jobs through a real ExecutorPool from synchronous tests."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pool: ExecutorPool) -> None:
        self.loop = loop
        self.pool = pool

    def __call__(self, job: ScriptJob | str, host: Host | None = None,
                 **fields: Any) -> ScriptResult:
        if isinstance(job, str):
            job = page_job(job, **fields)
        return self.wait(self.pool.run(job, host))

    def wait(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coroutine)


@pytest.fixture(scope="session")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@contextlib.contextmanager
def started_sandbox(
    loop: asyncio.AbstractEventLoop | None = None, *, processes: int = 2, max_processes: int = 4
) -> Iterator[Sandbox]:
    """A Sandbox over a started ExecutorPool, closed afterwards; on a loop of its own unless
    `loop` is given."""
    own_loop = loop is None
    running = asyncio.new_event_loop() if loop is None else loop
    pool = ExecutorPool(TEST_LIMITS, ExecutorSettings(processes=processes,
                                                      max_processes=max_processes))
    running.run_until_complete(pool.start())
    try:
        yield Sandbox(running, pool)
    finally:
        running.run_until_complete(pool.close())
        if own_loop:
            running.close()


@pytest.fixture(scope="session")
def sandbox(loop: asyncio.AbstractEventLoop) -> Iterator[Sandbox]:
    with started_sandbox(loop) as sandbox:
        yield sandbox


def warnings_of(result: ScriptResult) -> list[tuple[str, str]]:
    return [(w.call, w.reason) for w in result.effects.warnings]
