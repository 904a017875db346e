"""The executor process: runs scripts one at a time for the server, over stdin and stdout.

    python -m funnelrun.script.executor [--memory-mb N]

Frames (funnelrun.script.frames) in: {"t": "run", limits} + code + config and, while a run
waits on the host, {"t": "answers", answers} or {"t": "abort"}. Frames out: {"t": "ready"}
once, then per run any number of {"t": "call", calls} and one {"t": "done", run, drained}.

The syntax check (funnelrun.script.syntax) sends {"t": "check"} + code instead, and gets
{"t": "checked", "error": null or [message, line, column]}: the code is compiled in a fresh
context under the check's limits, and none of it runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sys
from typing import Any

from .engine import Engine, EngineLimits, RawRun, compile_error
from .frames import dump, read_fd, write_fd

# Address-space backstop against a leak outside QuickJS's own allocator: the interpreter's
# baseline plus a generous multiple of the script memory limit.
BASE_ADDRESS_SPACE = 512 * 1024 * 1024
ADDRESS_SPACE_PER_SCRIPT_MB = 16


def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    _limit_process(options.memory_mb)
    out = _protocol_output()
    engine = Engine()
    engine.prepare()
    write_fd(out, dump({"t": "ready", "pid": os.getpid()}))
    serve(engine, 0, out)
    return 0


def serve(engine: Engine, inp: int, out: int) -> None:
    """Run jobs until the server closes our input."""

    def relay(calls: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        write_fd(out, dump({"t": "call", "calls": calls}))
        reply = read_fd(inp)
        if reply is None:
            raise SystemExit(0)  # the server is gone
        return reply.get("answers") if reply.get("t") == "answers" else None

    while (message := read_fd(inp)) is not None:
        if message.get("t") == "check":
            write_fd(out, dump({"t": "checked", "error": compile_error(message["texts"][0])}))
            continue
        if message.get("t") != "run":
            raise SystemExit(f"executor: unexpected message {message.get('t')!r}")
        code, config = message["texts"]
        try:
            run = engine.run(code, config, EngineLimits(*message["limits"]), relay)
        except Exception as exc:  # a bug, not the script: report it, keep serving
            run = RawRun("crash", f"engine failed: {type(exc).__name__}: {exc}")
        write_fd(out, _done(run))
        engine.prepare()  # the context restored, while the server has the answer


def _done(run: RawRun) -> bytes:
    # The drained text goes as it is: the server decodes it once, cleaning what it must.
    return dump({"t": "done", "run": run.to_json()}, run.drained)


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="funnelrun.script.executor")
    parser.add_argument("--memory-mb", type=int, default=8)
    return parser.parse_args(argv)


def _limit_process(memory_mb: int) -> None:
    limit = BASE_ADDRESS_SPACE + ADDRESS_SPACE_PER_SCRIPT_MB * memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash is reported, not dumped
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when we stop


def _protocol_output() -> int:
    """A private descriptor for frames; fd 1 then points at stderr, so a stray print can
    never corrupt the protocol."""
    out = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


if __name__ == "__main__":
    sys.exit(main())
