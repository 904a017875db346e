"""The executor pool under attack: hostile scripts, killed executors, stalls, queueing."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator

import pytest

from funnelrun.script import ExecutorPool, ScriptJob, ScriptResult
from funnelrun.settings import ExecutorSettings

from .conftest import TEST_LIMITS, Sandbox, page_job, started_sandbox

NORMAL = page_job("session.set('n', (session.get('n') || 0) + 1); setVariable('ok', true);")

HOSTILE = {
    "busy loop": ("while (true) {}", "timeout"),
    "await loop": ("while (true) await null;", "timeout"),
    "memory bomb": ("const a = []; while (true) a.push(new Array(1000).fill(a.length));",
                    "memory"),
    "redos": ("/(a+)+$/.test('a'.repeat(40) + '!');", "timeout"),
    "deep recursion": ("function f(n) { return f(n + 1) + 1 } f(0);", "error"),
    "million console.log": ("for (let i = 0; i < 1e6; i++) console.log('spam', i);", "ok"),
    "100 MB string": ("const s = 'x'.repeat(100 * 1024 * 1024); setVariable('n', s.length);",
                      "memory"),
}


@pytest.fixture(scope="module")
def pool_sandbox(loop: asyncio.AbstractEventLoop) -> Iterator[Sandbox]:
    """A pool of this module's own: the attacks here kill and stall its executors."""
    with started_sandbox(loop) as sandbox:
        yield sandbox


async def normal_runs_during(pool: ExecutorPool, task: asyncio.Task[ScriptResult]
                             ) -> list[float]:
    """Run normal scripts one after another until `task` is done; their durations in ms."""
    durations = []
    while not task.done() or not durations:
        started = time.perf_counter()
        result = await pool.run(NORMAL)
        durations.append((time.perf_counter() - started) * 1000)
        assert result.outcome == "ok" and result.effects.variables == {"ok": True}
    return durations


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_script_is_stopped_while_normal_scripts_keep_completing(
        pool_sandbox: Sandbox, name: str) -> None:
    code, expected = HOSTILE[name]

    async def scenario() -> tuple[ScriptResult, list[float]]:
        hostile = asyncio.ensure_future(pool_sandbox.pool.run(page_job(code)))
        durations = await normal_runs_during(pool_sandbox.pool, hostile)
        return await hostile, durations

    result, durations = pool_sandbox.wait(scenario())
    print(f"\n{name}: {result.outcome} after {result.duration_ms:.0f} ms wall, "
          f"{result.cpu_ms:.0f} ms CPU; {len(durations)} normal runs meanwhile, slowest "
          f"{max(durations):.1f} ms")
    assert result.outcome == expected, result.error
    assert result.duration_ms < TEST_LIMITS.script_wall_ms + 1000
    assert max(durations) < 1000


def test_million_console_calls_keep_200_entries(pool_sandbox: Sandbox) -> None:
    result = pool_sandbox(page_job(HOSTILE["million console.log"][0]))
    assert len(result.console) == 200 and result.console_dropped == 999_800


def executor_running_a_busy_script(sandbox: Sandbox) -> tuple[asyncio.Task[ScriptResult], int]:
    async def start() -> tuple[asyncio.Task[ScriptResult], int]:
        task = asyncio.ensure_future(sandbox.pool.run(page_job(
            "setVariable('before', 1); while (true) {}")))
        while not sandbox.pool.pids(busy=True):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        [pid] = sandbox.pool.pids(busy=True)
        return task, pid
    return sandbox.wait(start())


async def until_full(pool: ExecutorPool, size: int) -> None:
    async with asyncio.timeout(10):
        while len(pool.pids(busy=False)) < size:
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT])
def test_an_executor_dying_mid_script_is_a_crash_and_is_replaced(pool_sandbox: Sandbox,
                                                                 sig: signal.Signals) -> None:
    task, pid = executor_running_a_busy_script(pool_sandbox)
    os.kill(pid, sig)
    result = pool_sandbox.wait(task)
    assert result.outcome == "crash"
    assert result.error.message == f"engine crashed (killed by {sig.name})"
    assert result.effects.variables == {}
    pool_sandbox.wait(until_full(pool_sandbox.pool, 2))
    assert pid not in pool_sandbox.pool.pids()
    assert [pool_sandbox(NORMAL).outcome for _ in range(5)] == ["ok"] * 5


def test_an_idle_executor_killed_from_outside_is_replaced(pool_sandbox: Sandbox) -> None:
    pool_sandbox.wait(until_full(pool_sandbox.pool, 2))
    victim = pool_sandbox.pool.pids()[0]
    os.kill(victim, signal.SIGKILL)
    pool_sandbox.wait(asyncio.sleep(0.2))
    pool_sandbox.wait(until_full(pool_sandbox.pool, 2))
    assert victim not in pool_sandbox.pool.pids()
    assert pool_sandbox(NORMAL).outcome == "ok"


def test_a_stalled_executor_is_killed_at_the_deadline(pool_sandbox: Sandbox) -> None:
    task, pid = executor_running_a_busy_script(pool_sandbox)
    os.kill(pid, signal.SIGSTOP)  # frozen: it can no longer stop itself
    started = time.perf_counter()
    result = pool_sandbox.wait(task)
    assert result.outcome == "timeout"
    assert result.error.message == "wall-clock limit of 2000 ms exceeded; the executor was " \
                                   "stopped"
    assert time.perf_counter() - started < 4
    pool_sandbox.wait(until_full(pool_sandbox.pool, 2))
    assert pid not in pool_sandbox.pool.pids()


def test_a_cancelled_run_kills_its_executor_and_the_pool_recovers(pool_sandbox: Sandbox) -> None:
    task, pid = executor_running_a_busy_script(pool_sandbox)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        pool_sandbox.wait(task)
    pool_sandbox.wait(until_full(pool_sandbox.pool, 2))
    assert pid not in pool_sandbox.pool.pids()


def run_all_at_once(loop: asyncio.AbstractEventLoop, job: ScriptJob, count: int, *,
                    processes: int, max_processes: int) -> tuple[list[str], int]:
    """Start `count` runs of `job` at once on a new pool: their outcomes, and the most
    processes the pool had meanwhile."""
    async def scenario() -> tuple[list[str], int]:
        settings = ExecutorSettings(processes=processes, max_processes=max_processes)
        async with ExecutorPool(TEST_LIMITS, settings) as pool:
            runs = [asyncio.ensure_future(pool.run(job)) for _ in range(count)]
            peak = 0
            while not all(run.done() for run in runs):
                peak = max(peak, pool.size)
                await asyncio.sleep(0.005)
            return [run.result().outcome for run in runs], peak

    return loop.run_until_complete(scenario())


def test_runs_behind_slow_ones_grow_the_pool_up_to_max_processes(
    loop: asyncio.AbstractEventLoop,
) -> None:
    busy = page_job("const end = Date.now() + 400; while (Date.now() < end) {}"
                    "setVariable('ok', 1);")  # slow: past GROW_AFTER_S, the pool grows
    outcomes, peak = run_all_at_once(loop, busy, 4, processes=1, max_processes=2)
    assert outcomes == ["ok"] * 4
    assert peak == 2


def test_many_quick_runs_queue_instead_of_growing_the_pool(
    loop: asyncio.AbstractEventLoop,
) -> None:
    """Growth is for slow scripts: 64 quick runs at once wait for the warm processes (more
    processes than cores would only add memory and cold caches)."""
    outcomes, peak = run_all_at_once(loop, NORMAL, 64, processes=1, max_processes=4)
    assert outcomes == ["ok"] * 64
    assert peak == 1


def test_the_most_recently_used_executor_takes_the_next_run(
    loop: asyncio.AbstractEventLoop,
) -> None:
    """One after another, runs go to the same warm process, not round the pool (whose other
    processes would meet every run with cold caches)."""
    async def scenario() -> list[int]:
        async with ExecutorPool(TEST_LIMITS, ExecutorSettings(processes=3,
                                                              max_processes=3)) as pool:
            for _ in range(6):
                assert (await pool.run(NORMAL)).outcome == "ok"
            return sorted(executor.runs for executor in pool._all)  # a look inside

    assert loop.run_until_complete(scenario()) == [0, 0, 6]


def test_a_closed_pool_refuses_runs(loop: asyncio.AbstractEventLoop) -> None:
    async def scenario() -> None:
        pool = ExecutorPool(TEST_LIMITS, ExecutorSettings(processes=1, max_processes=1))
        await pool.start()
        assert (await pool.run(NORMAL)).outcome == "ok"
        await pool.close()
        assert pool.size == 0
        from funnelrun.errors import ScriptEngineError
        with pytest.raises(ScriptEngineError):
            await pool.run(NORMAL)

    loop.run_until_complete(scenario())
