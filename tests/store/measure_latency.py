"""Measure the SQLite store's per-call latency on this machine (figures in store/README.md).

Run: .venv/bin/python tests/store/measure_latency.py   (not collected by pytest)

Per call, median and 99th percentile, for calls run directly on the event loop (the default)
and for calls run on the store's thread (`offload=True`); then how long the event loop stalls
while another process holds the write lock, for the default (lock waits moved to the thread)
and for a loop connection that waits for the lock itself.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from funnelrun.session import encode, new_session_id
from funnelrun.store import RequestRecord, SessionWrite, SQLiteStore

CALLS = 5000
LIFETIME_S = 10800.0


def _percentiles(samples_ns: list[int]) -> str:
    samples = sorted(samples_ns)
    median = statistics.median(samples) / 1000
    p99 = samples[int(len(samples) * 0.99)] / 1000
    return f"median {median:6.1f} µs   p99 {p99:6.1f} µs   max {samples[-1] / 1000:7.1f} µs"


async def _time(call: Callable[[int], Awaitable[object]], calls: int = CALLS) -> list[int]:
    samples = []
    for i in range(calls):
        start = time.perf_counter_ns()
        await call(i)
        samples.append(time.perf_counter_ns() - start)
    return samples


async def _measure_calls(folder: Path, offload: bool) -> None:
    store = SQLiteStore(folder / f"calls-{offload}.db", offload=offload)
    now = time.time()
    ids = [new_session_id() for _ in range(200)]
    items = {f"key_{n}": encode({"value": n, "text": "x" * 40}) for n in range(12)}
    for session_id in ids:
        write = SessionWrite(session_id, now, now + LIFETIME_S, items, create=True)
        await store.save_session(write)

    def load(i: int) -> Awaitable[object]:
        return store.load_session(ids[i % len(ids)])

    def save(i: int) -> Awaitable[object]:
        changes = {"cart": encode({"n": i}), "step": encode(i)}
        return store.save_session(SessionWrite(ids[i % len(ids)], now, now + LIFETIME_S, changes))

    def claim(i: int) -> Awaitable[object]:
        return store.claim(f"jti:{offload}:{i}", 60)

    def increment(i: int) -> Awaitable[object]:
        return store.increment(f"quota:{i % 50}", 3600)

    def record(i: int) -> Awaitable[object]:
        events = [{"type": "console", "level": "log", "text": f"line {n}"} for n in range(10)]
        return store.record_request(
            RequestRecord(f"req-{i}", "brand", "/", "GET", 200, time.time(), 1.2, False,
                          len(events), events)
        )

    mode = "thread" if offload else "loop  "
    for name, call in [("load_session", load), ("save_session", save), ("claim", claim),
                       ("increment", increment), ("record_request", record)]:
        await _time(call, 500)  # warm up
        print(f"{mode} {name:15} {_percentiles(await _time(call))}")
    await store.close()


def _hold_write_lock(path: str, hold_s: float, rounds: int, ready: object) -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=5)
    ready.set()  # type: ignore[attr-defined]
    for _ in range(rounds):
        conn.execute("BEGIN IMMEDIATE")
        time.sleep(hold_s)
        conn.execute("COMMIT")
        time.sleep(hold_s)
    conn.close()


async def _loop_stall(store: SQLiteStore, seconds: float) -> tuple[float, float]:
    """Largest delay of a 1 ms ticker while saves run against a locked file; slowest save."""
    worst_tick = worst_save = 0.0
    stop = time.perf_counter() + seconds

    async def ticker() -> None:
        nonlocal worst_tick
        while time.perf_counter() < stop:
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            worst_tick = max(worst_tick, time.perf_counter() - start - 0.001)

    async def saver() -> None:
        nonlocal worst_save
        now = time.time()
        while time.perf_counter() < stop:
            start = time.perf_counter()
            await store.save_session(SessionWrite("s", now, now + 60, {"k": "1"}, create=True))
            worst_save = max(worst_save, time.perf_counter() - start)
            await asyncio.sleep(0.002)

    await asyncio.gather(ticker(), saver())
    return worst_tick * 1000, worst_save * 1000


async def _measure_contention(folder: Path) -> None:
    for waits_on_loop in (False, True):
        path = folder / f"contention-{waits_on_loop}.db"
        store = SQLiteStore(path)
        if waits_on_loop:  # the alternative design: the loop connection waits for the lock
            store._conn.execute("PRAGMA busy_timeout = 5000")  # type: ignore[union-attr]
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        holder = context.Process(target=_hold_write_lock, args=(str(path), 0.05, 20, ready))
        holder.start()
        ready.wait()
        tick_ms, save_ms = await _loop_stall(store, 1.5)
        holder.join()
        await store.close()
        design = "loop waits for the lock " if waits_on_loop else "lock waits on the thread"
        print(f"{design}: worst loop stall {tick_ms:6.1f} ms, slowest save {save_ms:6.1f} ms")


async def main() -> None:
    print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory() as folder:
        for offload in (False, True):
            await _measure_calls(Path(folder), offload)
        print("another process takes the write lock for 50 ms, every 100 ms:")
        await _measure_contention(Path(folder))


if __name__ == "__main__":
    asyncio.run(main())
