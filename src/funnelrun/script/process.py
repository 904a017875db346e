"""One executor process seen from the server: start it, run a job through it, stop it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..errors import ScriptEngineError
from .frames import FrameError, dump, read_stream

STARTUP_TIMEOUT_S = 30.0
CLOSE_TIMEOUT_S = 2.0
STREAM_LIMIT = 1024 * 1024

Answer = Callable[[Any], Awaitable["list[dict[str, Any]] | None"]]


class ExecutorCrashed(Exception):
    """The executor died or broke the protocol during a run."""


class ExecutorUnresponsive(Exception):
    """The executor did not finish by the run's deadline (it has been killed)."""


def executor_command(memory_mb: int) -> list[str]:
    return [sys.executable, "-m", "funnelrun.script.executor", "--memory-mb", str(memory_mb)]


class ExecutorProcess:
    """A started executor. Not safe for two runs at once: the pool hands it to one at a time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.runs = 0
        self.idle_since = 0.0
        self.busy_since: float | None = None  # loop time its current run began

    @classmethod
    async def start(cls, command: Sequence[str]) -> ExecutorProcess:
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            limit=STREAM_LIMIT,
        )
        executor = cls(process)
        try:
            async with asyncio.timeout(STARTUP_TIMEOUT_S):
                ready = await read_stream(executor._stdout)
        except (EOFError, FrameError, TimeoutError) as exc:
            await executor.kill()
            raise ScriptEngineError(f"a script executor failed to start: {exc!r}") from exc
        except BaseException:  # cancelled while starting: leave nothing behind
            await executor.kill()
            raise
        if ready.get("t") != "ready":
            await executor.kill()
            raise ScriptEngineError("a script executor failed to start: bad greeting")
        return executor

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    @property
    def _stdout(self) -> asyncio.StreamReader:
        if self.process.stdout is None:  # never: created with stdout=PIPE
            raise ScriptEngineError("the executor has no output pipe")
        return self.process.stdout

    async def run(self, frame: bytes, answer: Answer, deadline: float) -> dict[str, Any]:
        """Send one run and relay its host calls until the "done" message, which is returned.
        `deadline` is loop time; past it the executor is killed."""
        try:
            async with asyncio.timeout_at(deadline):
                await self._send(frame)
                while True:
                    message = await read_stream(self._stdout)
                    if message.get("t") == "done":
                        return message
                    if message.get("t") != "call":
                        raise FrameError(f"unexpected message {message.get('t')!r}")
                    answers = await answer(message.get("calls"))
                    reply = {"t": "abort"} if answers is None else \
                        {"t": "answers", "answers": answers}
                    await self._send(dump(reply))
        except TimeoutError as exc:
            await self.kill()
            raise ExecutorUnresponsive("the executor did not answer in time") from exc
        except (EOFError, FrameError, ConnectionError) as exc:
            await self.kill()
            raise ExecutorCrashed(self._crash_reason(exc)) from exc

    async def _send(self, frame: bytes) -> None:
        stdin = self.process.stdin
        if stdin is None or stdin.is_closing():
            raise ConnectionError("the executor's input is closed")
        stdin.write(frame)
        await stdin.drain()

    def _crash_reason(self, exc: BaseException) -> str:
        code = self.process.returncode
        if code is not None and code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return str(exc) or type(exc).__name__

    async def kill(self) -> None:
        if self.alive:
            # os.kill, not Process.kill: Popen.send_signal polls the child first, reaping it
            # behind asyncio's child watcher, which then loses its exit status.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        await self.wait()

    async def close(self) -> None:
        """Ask the executor to stop (end of its input); kill it if it does not."""
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self.wait()
        except TimeoutError:
            await self.kill()

    async def wait(self) -> int:
        code = await self.process.wait()
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        return code
