"""Find the syntax errors of page scripts by compiling them in a short-lived executor process.

Checking syntax means compiling code a site author wrote, so it happens where scripts run: in
an executor process under the engine's limits, never in the server or `funnelrun check`
process. Each bundle is compiled in its own fresh context behind a guard that keeps every
statement of it from running (funnelrun.script.engine.compile_error).
"""

from __future__ import annotations

import contextlib
import select
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from typing import IO, Any

from ..errors import Position, ScriptError, ScriptSyntaxError
from .bundle import Bundle
from .engine import CHECK_MEMORY_BYTES
from .frames import FrameError, dump, read_fd, write_fd
from .process import CLOSE_TIMEOUT_S, STARTUP_TIMEOUT_S, executor_command

CHECK_TIMEOUT_S = 10.0  # wall clock for one bundle; past it the checker process is killed
_STDERR_TAIL_BYTES = 2000


class CheckerFailed(Exception):
    """The checker process died, broke the protocol or ran out of time; it has been stopped."""


def check_script_syntax(pages: Iterable[tuple[str, Bundle]], *,
                        timeout_s: float = CHECK_TIMEOUT_S) -> list[ScriptError]:
    """The syntax errors of every page's bundle, each error once, in page order.

    `pages` are (page file, bundle) pairs. One checker process compiles them all; if it
    crashes or is still compiling after `timeout_s`, it is killed, the page it was checking
    gets a problem saying so, and a fresh checker takes the pages after it."""
    problems: dict[str, ScriptError] = {}
    checker: _Checker | None = None
    cannot_start: CheckerFailed | None = None  # then no page is checked: no retry per page
    try:
        for page, bundle in pages:
            try:
                if cannot_start is not None:
                    raise cannot_start
                if checker is None:
                    try:
                        checker = _Checker.start()
                    except CheckerFailed as failure:
                        cannot_start = failure
                        raise
                found: Sequence[ScriptError] = checker.check(bundle, timeout_s)
            except CheckerFailed as failure:
                checker = None
                found = [ScriptError(f"the syntax check of this script failed: {failure}",
                                     _where(page, bundle))]
            for problem in found:
                problems.setdefault(problem.headline(), problem)
    finally:
        if checker is not None:
            checker.close()
    return list(problems.values())


def _where(page: str, bundle: Bundle) -> Position:
    """Where the page's own script begins (else its first line)."""
    for segment in bundle.segments:
        if segment.filename == page and segment.fixed is None:
            return Position(page, segment.line, segment.column_offset + 1)
    return Position(page, 1, 1)


class _Checker:
    """An executor process answering "check" messages, driven with blocking calls."""

    def __init__(self, process: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
        self.process = process
        self.stderr = stderr

    @classmethod
    def start(cls) -> _Checker:
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the checker
        try:
            process = subprocess.Popen(
                executor_command(CHECK_MEMORY_BYTES // (1024 * 1024)),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            )
        except OSError as exc:
            stderr.close()
            raise CheckerFailed(f"the checker could not start: {exc}") from exc
        checker = cls(process, stderr)
        if checker._receive(STARTUP_TIMEOUT_S, "starting").get("t") != "ready":
            checker._stop()
            raise CheckerFailed("the checker did not start: bad greeting")
        return checker

    def check(self, bundle: Bundle, timeout_s: float) -> list[ScriptSyntaxError]:
        self._send(dump({"t": "check"}, bundle.code))
        reply = self._receive(timeout_s, "compiling")
        error = reply.get("error")
        if reply.get("t") != "checked" or not (error is None or _is_error(error)):
            self._stop()
            raise CheckerFailed("the checker broke the protocol")
        if error is None:
            return []
        message, line, column = error
        return [ScriptSyntaxError(message, bundle.position(line, column))]

    def close(self) -> None:
        """Ask the checker to stop (end of its input); kill it if it does not."""
        try:
            self.process.communicate(timeout=CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._stop()
        finally:
            self.stderr.close()

    def _send(self, frame: bytes) -> None:
        try:
            write_fd(self._pipe(self.process.stdin).fileno(), frame)
        except OSError as exc:  # the checker is gone
            raise CheckerFailed(self._stop()) from exc

    def _receive(self, timeout_s: float, doing: str) -> dict[str, Any]:
        fd = self._pipe(self.process.stdout).fileno()
        ready, _, _ = select.select([fd], [], [], timeout_s)
        if not ready:
            self._stop()
            raise CheckerFailed(f"it was still {doing} after {timeout_s:g} s")
        try:
            message = read_fd(fd)
        except (FrameError, ValueError) as exc:
            raise CheckerFailed(f"the checker broke the protocol ({self._stop()})") from exc
        if message is None:  # it closed its output: it is exiting, or has exited
            raise CheckerFailed(self._stop(exiting=True))
        return message

    def _stop(self, *, exiting: bool = False) -> str:
        """Stop the checker and free it; says how it ended, with its last error line."""
        if exiting:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=CLOSE_TIMEOUT_S)
        exited = self.process.poll() is not None
        if not exited:
            self.process.kill()
        self.process.communicate()
        how = _ending(self.process.returncode) if exited else "the checker was stopped"
        last = self._last_error_line()
        self.stderr.close()
        return f"{how}: {last}" if last else how

    def _last_error_line(self) -> str:
        self.stderr.seek(0, 2)
        size = self.stderr.tell()
        self.stderr.seek(max(size - _STDERR_TAIL_BYTES, 0))
        lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1].strip() if lines else ""

    @staticmethod
    def _pipe(pipe: IO[bytes] | None) -> IO[bytes]:
        if pipe is None:  # never: both pipes are made by Popen above
            raise CheckerFailed("the checker has no pipe")
        return pipe


def _is_error(error: Any) -> bool:
    return isinstance(error, list) and len(error) == 3 and isinstance(error[0], str) and \
        all(value is None or isinstance(value, int) for value in error[1:])


def _ending(code: int) -> str:
    if code >= 0:
        return f"the checker exited with status {code}"
    try:
        return f"the checker was killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"the checker was killed by signal {-code}"
