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
from .frames import FrameBuffer, FrameError, dump

STARTUP_TIMEOUT_S = 30.0
CLOSE_TIMEOUT_S = 2.0
READ_BYTES = 64 * 1024  # a pipe's whole buffer, on Linux

Answer = Callable[[Any], Awaitable["list[dict[str, Any]] | None"]]


class ExecutorCrashed(Exception):
    """The executor died or broke the protocol during a run."""


class ExecutorUnresponsive(Exception):
    """The executor did not finish by the run's deadline (it has been killed)."""


def executor_command(memory_mb: int) -> list[str]:
    return [sys.executable, "-m", "funnelrun.script.executor", "--memory-mb", str(memory_mb)]


class ExecutorProcess:
    """A started executor. Not safe for two runs at once: the pool hands it to one at a time.

    Frames go over two pipes of our own, read and written on the raw descriptors from event
    loop callbacks, with one timer per run: cheaper for the server than asyncio's subprocess
    streams and timeout contexts, on every run."""

    def __init__(self, process: asyncio.subprocess.Process, to_executor: int,
                 from_executor: int) -> None:
        self.process = process
        self.runs = 0
        self.idle_since = 0.0
        self.busy_since: float | None = None  # loop time its current run began
        self._loop = asyncio.get_running_loop()
        self._to_executor = to_executor  # our ends of its stdin and stdout, non-blocking;
        self._from_executor = from_executor  # -1 once closed
        self._frames = FrameBuffer()
        self._eof = False
        self._reading = False
        self._writing = False
        self._waiter: asyncio.Future[None] | None = None  # the run's pending read or write
        self._expired = False  # the current run's deadline passed
        os.set_blocking(to_executor, False)
        os.set_blocking(from_executor, False)
        self._listen()

    @classmethod
    async def start(cls, command: Sequence[str]) -> ExecutorProcess:
        child_stdin, to_executor = os.pipe()
        from_executor, child_stdout = os.pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                *command, stdin=child_stdin, stdout=child_stdout)
        except BaseException:
            os.close(to_executor)
            os.close(from_executor)
            raise
        finally:  # the child has its own copies; ours would hide its end of input and output
            os.close(child_stdin)
            os.close(child_stdout)
        executor = cls(process, to_executor, from_executor)
        try:
            async with asyncio.timeout(STARTUP_TIMEOUT_S):
                ready = await executor._receive()
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

    async def run(self, frame: bytes, answer: Answer, deadline: float) -> dict[str, Any]:
        """Send one run and relay its host calls until the "done" message, which is returned.
        `deadline` is loop time; past it the executor is killed."""
        # One timer for the whole run: it fails whatever read or write the run waits on.
        self._expired = False
        timer = self._loop.call_at(deadline, self._expire)
        try:
            return await self._exchange(frame, answer, deadline)
        except TimeoutError as exc:
            await self.kill()
            raise ExecutorUnresponsive("the executor did not answer in time") from exc
        except (EOFError, FrameError, ConnectionError) as exc:
            await self.kill()
            raise ExecutorCrashed(self._crash_reason(exc)) from exc
        finally:
            timer.cancel()

    async def _exchange(self, frame: bytes, answer: Answer, deadline: float) -> dict[str, Any]:
        await self._send(frame)
        while True:
            message = await self._receive()
            if message.get("t") == "done":
                return message
            if message.get("t") != "call":
                raise FrameError(f"unexpected message {message.get('t')!r}")
            async with asyncio.timeout_at(deadline):  # the host is not ours to trust either
                answers = await answer(message.get("calls"))
            reply = {"t": "abort"} if answers is None else {"t": "answers", "answers": answers}
            await self._send(dump(reply))

    def _expire(self) -> None:
        self._expired = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(TimeoutError())

    async def _wait_for(self, waiter: asyncio.Future[None]) -> None:
        if self._expired:
            raise TimeoutError()
        self._waiter = waiter
        try:
            await waiter
        finally:
            self._waiter = None

    # -- the pipes -------------------------------------------------------------------------------

    async def _receive(self) -> dict[str, Any]:
        """The next message; raises EOFError when the executor is gone, FrameError on garbage."""
        while (message := self._frames.next_message()) is None:
            if self._eof:
                raise EOFError("the executor closed its output")
            self._listen()
            await self._wait_for(self._loop.create_future())
        return message

    def _listen(self) -> None:
        if not self._reading and not self._eof:
            self._reading = True
            self._loop.add_reader(self._from_executor, self._on_readable)

    def _on_readable(self) -> None:
        try:
            data = os.read(self._from_executor, READ_BYTES)
        except BlockingIOError:  # woken for nothing
            return
        except OSError:
            data = b""
        self._take(data)
        if self._waiter is None:
            if data:  # nobody asked: leave the rest in the pipe, as a stream would pause
                self._stop_listening()
        elif self._eof or self._frames.complete():
            self._wake_waiter()

    def _take(self, data: bytes) -> None:
        if data:
            self._frames.feed(data)
        else:
            self._end_of_output()

    def _stop_listening(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._from_executor)

    def _end_of_output(self) -> None:
        self._stop_listening()
        self._eof = True
        if self._from_executor >= 0:
            os.close(self._from_executor)
            self._from_executor = -1

    async def _send(self, frame: bytes) -> None:
        view = memoryview(frame)
        while True:
            if self._to_executor < 0:
                raise ConnectionError("the executor's input is closed")
            try:  # a closed pipe raises BrokenPipeError, a ConnectionError
                written = os.write(self._to_executor, view)
            except BlockingIOError:
                written = 0
            view = view[written:]
            if not view:
                return
            waiter = self._loop.create_future()  # the pipe is full: wait until it drains
            self._writing = True
            self._loop.add_writer(self._to_executor, _wake, waiter)
            try:
                await self._wait_for(waiter)
            finally:
                self._stop_writing()

    def _stop_writing(self) -> None:
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._to_executor)

    def _close_input(self) -> None:
        if self._to_executor >= 0:
            self._stop_writing()  # never close a descriptor the loop still watches
            os.close(self._to_executor)
            self._to_executor = -1
        self._wake_waiter()  # a write waiting on it fails as "closed"

    def _close_output(self) -> None:
        """Once the process has exited: read what it left in the pipe, then close it. A run
        waiting for its answer still gets it, or end of output."""
        while not self._eof:
            try:
                data = os.read(self._from_executor, READ_BYTES)
            except OSError:  # BlockingIOError: only another process could hold it open
                data = b""
            self._take(data)
        self._wake_waiter()

    def _wake_waiter(self) -> None:
        if self._waiter is not None:
            _wake(self._waiter)

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
        self._close_input()
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self.wait()
        except TimeoutError:
            await self.kill()

    async def wait(self) -> int:
        code = await self.process.wait()
        self._close_input()
        self._close_output()
        return code


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
