"""The executor pool under attack: hostile scripts, killed executors, stalls, queueing."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
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


def test_an_executor_starved_of_cpu_stops_itself_at_the_wall_deadline(
    pool_sandbox: Sandbox,
) -> None:
    """The CPU limit (1 s) cannot fire in a process that gets no CPU; the wall-clock deadline
    (2 s) still ends the run in the engine, which keeps its records, before the server's
    kill (at 3 s). Before the engine checked the wall clock, this run went on to about 2.9 s."""
    started = time.perf_counter()
    task, pid = executor_running_a_busy_script(pool_sandbox)
    os.kill(pid, signal.SIGSTOP)  # a loaded machine, at its worst: no CPU for 1.8 s
    pool_sandbox.wait(asyncio.sleep(1.8 - (time.perf_counter() - started)))
    os.kill(pid, signal.SIGCONT)
    result = pool_sandbox.wait(task)
    assert result.outcome == "timeout"
    assert result.error.message == "wall-clock limit of 2000 ms exceeded"  # not killed
    assert result.effects.variables == {"before": 1}
    assert time.perf_counter() - started < 2.5
    assert pid in pool_sandbox.pool.pids()


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


@pytest.mark.parametrize(("limits", "outcome"), [
    (None, "memory"),  # the pool's: 8 MB
    (TEST_LIMITS, "memory"),  # the same object as the pool's (the app passes its settings')
    (dataclasses.replace(TEST_LIMITS, script_memory_mb=32), "ok"),
])
def test_a_job_runs_under_its_own_limits_else_the_pools(sandbox: Sandbox, limits,
                                                         outcome: str) -> None:
    job = page_job("const s = 'x'.repeat(12 * 1024 * 1024); setVariable('n', s.length);",
                   limits=limits)
    assert sandbox(job).outcome == outcome


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


def test_frames_bigger_than_a_pipe_buffer_go_through_both_ways(pool_sandbox: Sandbox) -> None:
    code = f"var s = '{'x' * 300_000}'; setVariable('n', s.length); setVariable('back', s);"
    result = pool_sandbox(page_job(code))
    assert result.outcome == "ok", result.error
    assert result.effects.variables["n"] == 300_000
    assert result.effects.variables["back"] == "x" * 300_000


FAKE_EXECUTOR = """
import os, sys, time
from funnelrun.script.frames import dump, read_fd, write_fd
write_fd(1, dump({'t': 'ready'}))
read_fd(0)
done = dump({'t': 'done', 'run': {'outcome': 'ok'}}, '{}')
"""


def run_on_fake_executor(loop: asyncio.AbstractEventLoop, answer: str
                         ) -> tuple[ScriptResult, float]:
    """NORMAL run by a stand-in executor that greets, reads the run, then runs `answer`; the
    result and how long the run took, in seconds."""
    async def scenario() -> tuple[ScriptResult, float]:
        command = [sys.executable, "-c", FAKE_EXECUTOR + answer]
        async with ExecutorPool(TEST_LIMITS, ExecutorSettings(processes=1, max_processes=1),
                                command=command) as pool:
            started = time.perf_counter()
            result = await pool.run(NORMAL)
            return result, time.perf_counter() - started
    return loop.run_until_complete(scenario())


def test_a_frame_arriving_byte_by_byte_is_put_back_together(
        loop: asyncio.AbstractEventLoop) -> None:
    result, _ = run_on_fake_executor(
        loop, "for byte in done: os.write(1, bytes([byte])); time.sleep(0.0005)\nread_fd(0)")
    assert result.outcome == "ok", result.error


@pytest.mark.parametrize(("answer", "reason"), [
    ("os.write(1, done[:10]); sys.exit(0)", "the executor closed its output"),
    ("os.write(1, (5).to_bytes(4, 'big') + b'hello'); time.sleep(5)", "killed by SIGKILL"),
    ("os.write(1, (2**31).to_bytes(4, 'big')); time.sleep(5)", "killed by SIGKILL"),
    ("sys.exit(3)", "the executor closed its output"),
])
def test_an_executor_breaking_the_protocol_is_a_crash(loop: asyncio.AbstractEventLoop,
                                                      answer: str, reason: str) -> None:
    result, seconds = run_on_fake_executor(loop, answer)
    assert result.outcome == "crash"
    assert result.error.message == f"engine crashed ({reason})"
    assert seconds < 1.5  # at once, not at the deadline (2 s, and 1 s more to answer)


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_executors_leave_no_descriptor_open(loop: asyncio.AbstractEventLoop) -> None:
    async def scenario() -> None:
        async with ExecutorPool(TEST_LIMITS, ExecutorSettings(processes=2,
                                                              max_processes=2)) as pool:
            assert (await pool.run(NORMAL)).outcome == "ok"
            os.kill(pool.pids()[0], signal.SIGKILL)
            await until_full(pool, 2)
            assert (await pool.run(NORMAL)).outcome == "ok"

    before = open_descriptors()
    loop.run_until_complete(scenario())
    assert open_descriptors() == before


def test_an_executor_loads_the_engine_and_not_the_server() -> None:
    """Each executor is a process of its own: it imports the engine and its framing, not the
    pool, asyncio, the bundler or the settings (about 8 MB less resident per executor)."""
    listing = ("import sys, funnelrun.script.executor\n"
               "print(*sorted(m for m in sys.modules"
               " if m.startswith(('funnelrun', 'asyncio', 'ada_url'))))")
    probe = subprocess.run([sys.executable, "-c", listing], capture_output=True, text=True,
                           check=True)
    assert probe.stdout.split() == [
        "funnelrun", "funnelrun.errors", "funnelrun.jsondata", "funnelrun.lazy", "funnelrun.script",
        "funnelrun.script.engine", "funnelrun.script.executor", "funnelrun.script.frames",
        "funnelrun.script.limits", "funnelrun.session"]
