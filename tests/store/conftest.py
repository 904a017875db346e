"""Fixtures shared by the store tests: the asyncio backend, a settable clock, a process pool."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest

from . import workers

POOL_PROCESSES = 3


class FakeClock:
    """A clock the test moves by hand; starts at the real time, so other processes agree."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def process_pool() -> Iterator[ProcessPoolExecutor]:
    """Spawned worker processes (no fork: each opens its own store), started once."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(POOL_PROCESSES, mp_context=context) as pool:
        for future in [pool.submit(workers.warm_up, 0.3) for _ in range(POOL_PROCESSES)]:
            future.result()
        yield pool
