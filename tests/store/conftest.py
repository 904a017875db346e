"""Fixtures shared by the store tests: a clock the tests move by hand, a process pool."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest

from conftest import FakeClock

from . import workers

POOL_PROCESSES = 3


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
