"""Work done by threads and spawned processes in the concurrency tests: each opens its own store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from funnelrun.session import encode
from funnelrun.store import SaveResult, SessionWrite, Store, open_store

T = TypeVar("T")


def warm_up(seconds: float) -> None:
    """Keep one pool process busy a while, so that every process of the pool gets started."""
    time.sleep(seconds)


def on_own_store(url: str, root: Path, start_at: float, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open a store of this thread's or process's own, wait until `start_at` (so that every
    worker begins together), run `work` on it and close it."""

    async def run() -> T:
        store = open_store(url, root)
        delay = start_at - time.time()
        if delay > 0:
            time.sleep(delay)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def write_keys(
    url: str, root: Path, session_id: str, prefix: str, count: int, start_at: float
) -> int:
    """Save `count` one-key writes to one session, like one visitor's requests; the failures."""

    async def work(store: Store) -> int:
        failures = 0
        for n in range(count):
            write = SessionWrite(session_id, 0.0, 0.0, {f"{prefix}{n}": encode(n)})
            failures += await store.save_session(write) is not SaveResult.SAVED
        return failures

    return on_own_store(url, root, start_at, work)


def claim_keys(url: str, root: Path, keys: list[str], ttl_s: float, start_at: float) -> list[str]:
    """Try to claim every key; the ones this worker got."""

    async def work(store: Store) -> list[str]:
        return [key for key in keys if await store.claim(key, ttl_s)]

    return on_own_store(url, root, start_at, work)


def increment_many(url: str, root: Path, key: str, times: int, start_at: float) -> int:
    """Increment one counter `times` times; the last value seen."""

    async def work(store: Store) -> int:
        value = 0
        for _ in range(times):
            value = await store.increment(key, 3600)
        return value

    return on_own_store(url, root, start_at, work)
