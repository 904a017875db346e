"""Work done by threads and spawned processes in the concurrency tests: each opens its own store."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from funnelrun.session import encode
from funnelrun.store import SaveResult, SessionWrite, open_store


def _wait_until(start_at: float) -> None:
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


def warm_up(seconds: float) -> None:
    """Keep one pool process busy a while, so that every process of the pool gets started."""
    time.sleep(seconds)


def write_keys(
    url: str, root: Path, session_id: str, prefix: str, count: int, start_at: float
) -> int:
    """Save `count` one-key writes to one session, like one visitor's requests; the failures."""

    async def run() -> int:
        store = open_store(url, root)
        _wait_until(start_at)
        failures = 0
        try:
            for n in range(count):
                write = SessionWrite(session_id, 0.0, 0.0, {f"{prefix}{n}": encode(n)})
                failures += await store.save_session(write) is not SaveResult.SAVED
        finally:
            await store.close()
        return failures

    return asyncio.run(run())


def claim_keys(url: str, root: Path, keys: list[str], ttl_s: float, start_at: float) -> list[str]:
    """Try to claim every key; the ones this worker got."""

    async def run() -> list[str]:
        store = open_store(url, root)
        _wait_until(start_at)
        try:
            return [key for key in keys if await store.claim(key, ttl_s)]
        finally:
            await store.close()

    return asyncio.run(run())


def increment_many(url: str, root: Path, key: str, times: int, start_at: float) -> int:
    """Increment one counter `times` times; the last value seen."""

    async def run() -> int:
        store = open_store(url, root)
        _wait_until(start_at)
        value = 0
        try:
            for _ in range(times):
                value = await store.increment(key, 3600)
        finally:
            await store.close()
        return value

    return asyncio.run(run())
