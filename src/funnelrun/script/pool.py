"""A pool of executor processes, used from asyncio: run scripts, survive crashes and stalls."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Coroutine, Sequence
from typing import Any

from ..errors import ScriptEngineError
from ..settings import ExecutorSettings, LimitSettings
from .engine import EngineLimits
from .frames import dump
from .host import Host, HostRelay, NullHost
from .job import ScriptJob, ScriptResult, failed_result, make_result
from .process import ExecutorCrashed, ExecutorProcess, ExecutorUnresponsive, executor_command

# Past its wall deadline an executor gets this much longer (it stops itself at the deadline)
# before it is killed: enough for a loaded machine to deliver its answer.
KILL_GRACE_S = 1.0
IDLE_TIMEOUT_S = 60.0  # extra processes beyond `processes` stop after this long idle
# While runs wait, an executor busy with one run for this long means scripts are slow (a loop
# until its limit, a host call waiting): one more process starts, up to `max_processes`. Many
# quick runs just queue: more processes than cores would only add memory and cold caches (and
# a queue's wait grows with its length and the machine's noise, so it is no signal).
GROW_AFTER_S = 0.25
MAX_RUNS_PER_PROCESS = 10_000  # then the process is replaced (bounds slow leaks)


class ExecutorPool:
    """Runs scripts in a pool of executor processes.

    `processes` stay warm and take the runs, the most recently used first (its caches are
    warm); runs beyond them wait their turn. When runs wait while a process has been busy
    with one run for GROW_AFTER_S, one more process starts, up to `max_processes`; extra
    processes stop after IDLE_TIMEOUT_S idle. A
    process that dies or stalls is replaced by itself; its run reports `crash` (or `timeout`)
    and no other run is affected.
    """

    def __init__(self, limits: LimitSettings | None = None,
                 executor_settings: ExecutorSettings | None = None, *,
                 command: Sequence[str] | None = None) -> None:
        self.limits = limits or LimitSettings()
        self._engine_limits = EngineLimits.from_settings(self.limits)  # runs with these share it
        self.settings = executor_settings or ExecutorSettings()
        self.command = list(command or executor_command(self.limits.script_memory_mb))
        self._all: set[ExecutorProcess] = set()
        self._idle: deque[ExecutorProcess] = deque()
        self._waiters: deque[asyncio.Future[ExecutorProcess]] = deque()
        self._starting = 0
        self._grow_handle: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()  # starting and watching processes
        self._stopping: set[asyncio.Task[Any]] = set()  # retired processes being closed
        self._trim_handle: asyncio.TimerHandle | None = None
        self._closed = False

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the warm processes; raises ScriptEngineError if they cannot start."""
        self._starting += self._warm()
        results = await asyncio.gather(
            *(self._spawn() for _ in range(self._warm())), return_exceptions=True
        )
        for result in results:
            if isinstance(result, ExecutorProcess):
                self._release(result, ran=False)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await self.close()
            raise ScriptEngineError(f"the script executors did not start: {errors[0]}")

    async def close(self) -> None:
        self._closed = True
        for handle in (self._trim_handle, self._grow_handle):
            if handle is not None:
                handle.cancel()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ScriptEngineError("the script pool is closed"))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._stopping, return_exceptions=True)
        processes = list(self._all)
        self._all.clear()
        self._idle.clear()
        await asyncio.gather(*(p.close() for p in processes), return_exceptions=True)

    async def __aenter__(self) -> ExecutorPool:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def size(self) -> int:
        """Processes running now (busy or idle)."""
        return len(self._all)

    def pids(self, *, busy: bool | None = None) -> list[int]:
        """Process ids of the live executors: all, only busy ones, or only idle ones."""
        return sorted(p.pid for p in self._all if p.alive and (
            busy is None or busy is (p not in self._idle)))

    # -- runs ------------------------------------------------------------------------------------

    async def run(self, job: ScriptJob, host: Host | None = None) -> ScriptResult:
        """Run one script; never raises for anything the script does."""
        limits = (self._engine_limits if job.limits is None or job.limits is self.limits
                  else EngineLimits.from_settings(job.limits))
        frame = dump({"t": "run", "limits": [limits.memory_bytes, limits.stack_bytes,
                                             limits.cpu_s, limits.wall_s]},
                     job.bundle.code, job.config())
        executor = await self._acquire()
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        executor.busy_since = loop.time()
        relay = HostRelay(host or NullHost(), loop.time() + limits.wall_s)
        try:
            reply = await executor.run(frame, relay.answer,
                                       loop.time() + limits.wall_s + KILL_GRACE_S)
        except ExecutorCrashed as exc:
            return failed_result("crash", f"engine crashed ({exc})", _ms_since(started))
        except ExecutorUnresponsive:
            return failed_result("timeout", f"wall-clock limit of {limits.wall_s * 1000:.0f} ms "
                                 "exceeded; the executor was stopped", _ms_since(started))
        except BaseException:
            await executor.kill()  # cancelled mid-run: its state is unknown
            raise
        finally:
            executor.busy_since = None
            self._release(executor)
        texts = reply.get("texts") or [""]
        return make_result(job, reply.get("run") or {}, texts[0], relay.warnings)

    # -- processes -------------------------------------------------------------------------------

    def _warm(self) -> int:
        return max(1, min(self.settings.processes, self._max()))

    def _max(self) -> int:
        return max(1, self.settings.max_processes, self.settings.processes)

    async def _acquire(self) -> ExecutorProcess:
        while True:
            if self._closed:
                raise ScriptEngineError("the script pool is closed")
            while self._idle:
                executor = self._idle.pop()  # the most recently used
                if executor.alive:
                    return executor
                self._forget(executor)
            if len(self._all) + self._starting < self._warm():
                self._starting += 1
                return await self._spawn()
            waiter: asyncio.Future[ExecutorProcess] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            self._watch_for_starvation()
            try:
                return await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._release(waiter.result())
                raise

    async def _spawn(self) -> ExecutorProcess:
        """Start one process; the caller has counted it in `_starting` already, so that no
        other caller starts one more in the meantime."""
        try:
            executor = await ExecutorProcess.start(self.command)
        finally:
            self._starting -= 1
        self._all.add(executor)
        self._keep(self._watch(executor))
        return executor

    def _release(self, executor: ExecutorProcess, *, ran: bool = True) -> None:
        executor.runs += ran
        if self._closed or not executor.alive or executor.runs >= MAX_RUNS_PER_PROCESS:
            self._forget(executor)
            if executor.alive:
                self._keep(executor.close(), self._stopping)
            self._replenish()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(executor)
                return
        executor.idle_since = asyncio.get_running_loop().time()
        self._idle.append(executor)
        self._schedule_trim()

    def _forget(self, executor: ExecutorProcess) -> None:
        self._all.discard(executor)
        with contextlib.suppress(ValueError):
            self._idle.remove(executor)

    async def _watch(self, executor: ExecutorProcess) -> None:
        """Notice a process that dies while idle (killed from outside, say)."""
        await executor.wait()
        if executor in self._all and executor in self._idle:
            self._forget(executor)
            self._replenish()

    def _replenish(self) -> None:
        """Start processes until the warm count is back (waiting runs may grow it further)."""
        if self._closed:
            return
        while len(self._all) + self._starting < self._warm():
            self._starting += 1
            self._keep(self._spawn_spare())
        if self._waiters:
            self._watch_for_starvation()

    def _watch_for_starvation(self) -> None:
        """Check, GROW_AFTER_S from now, whether runs still wait behind a slow run."""
        if self._grow_handle is None and len(self._all) + self._starting < self._max():
            loop = asyncio.get_running_loop()
            self._grow_handle = loop.call_later(GROW_AFTER_S, self._grow_if_starved)

    def _grow_if_starved(self) -> None:
        self._grow_handle = None
        while self._waiters and self._waiters[0].done():  # cancelled meanwhile
            self._waiters.popleft()
        if self._closed or not self._waiters:
            return
        now = asyncio.get_running_loop().time()
        slow = any(executor.busy_since is not None and now - executor.busy_since >= GROW_AFTER_S
                   for executor in self._all)
        if slow and len(self._all) + self._starting < self._max():
            self._starting += 1
            self._keep(self._spawn_spare())
        self._watch_for_starvation()

    async def _spawn_spare(self) -> None:
        try:
            executor = await self._spawn()
        except ScriptEngineError:
            await asyncio.sleep(1.0)  # do not spin if executors cannot start at all
            self._replenish()
            return
        self._release(executor, ran=False)

    def _schedule_trim(self) -> None:
        if len(self._all) > self._warm() and self._trim_handle is None:
            loop = asyncio.get_running_loop()
            self._trim_handle = loop.call_later(IDLE_TIMEOUT_S, self._trim)

    def _trim(self) -> None:
        self._trim_handle = None
        now = asyncio.get_running_loop().time()
        for executor in list(self._idle):
            if len(self._all) <= self._warm():
                break
            if now - executor.idle_since >= IDLE_TIMEOUT_S:
                self._forget(executor)
                self._keep(executor.close(), self._stopping)
        self._schedule_trim()

    def _keep(self, coroutine: Coroutine[Any, Any, Any],
              tasks: set[asyncio.Task[Any]] | None = None) -> None:
        """Run `coroutine` in the background, holding a reference until it is done."""
        group = self._tasks if tasks is None else tasks
        task = asyncio.ensure_future(coroutine)
        group.add(task)
        task.add_done_callback(group.discard)


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
