"""Run one bundle in a fresh QuickJS context in this process, under the run's limits."""

from __future__ import annotations

import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

# `_quickjs` is the extension behind `quickjs`; importing the package would also start a
# helper thread (with an 8 MB stack) that the single-threaded executor never uses.
import _quickjs

from ..errors import ScriptEngineError
from ..jsondata import MAX_DEPTH, decode_json
from ..session import (
    CUSTOMER_FIELDS,
    INTERNAL_PREFIX,
    KEY_PATTERN,
    MAX_SESSION_BYTES,
    MAX_VALUE_BYTES,
    RESERVED_KEYS,
)
from .limits import (
    MAX_CONSOLE_CHARS,
    MAX_CONSOLE_ENTRIES,
    MAX_CUSTOMER_FIELD_CHARS,
    MAX_HOST_CALLS,
    MAX_HOST_ROUNDS,
    MAX_RECORDS,
)

if TYPE_CHECKING:  # the executor process never loads the settings (nor ada_url, tomllib)
    from ..settings import LimitSettings

PRELUDE = resources.files(__package__).joinpath("prelude.js").read_text(encoding="utf-8")
SCHEMA = resources.files(__package__).joinpath("schema.js").read_text(encoding="utf-8")
# Bundles are evaluated below this many blank lines, so a stack frame's line number tells
# whether it belongs to the prelude (at or above) or to the bundle (below).
PRELUDE_LINES = PRELUDE.count("\n") + 1
_PADDING = "\n" * PRELUDE_LINES

RULES = json.dumps({
    "reserved": dict.fromkeys(sorted(RESERVED_KEYS), True),
    "prefix": INTERNAL_PREFIX,
    "max_value": MAX_VALUE_BYTES,
    "max_session": MAX_SESSION_BYTES,
    "fields": dict.fromkeys(CUSTOMER_FIELDS, True),
    "max_field_chars": MAX_CUSTOMER_FIELD_CHARS,
    "max_console_entries": MAX_CONSOLE_ENTRIES,
    "max_console_chars": MAX_CONSOLE_CHARS,
    "max_records": MAX_RECORDS,
    "max_host_calls": MAX_HOST_CALLS,
    "max_depth": MAX_DEPTH,
})
# The prelude is a function of the rules, compiled applied to them written in as literals (JSON
# text is one; the key pattern a regex literal, compiled with the prelude): each context makes
# them as constants, with no JSON to parse and no pattern to compile (about 8 µs less each).
_KEY_REGEX = "/^(?:" + KEY_PATTERN.pattern.replace("/", "\\/") + ")$/"
_PRELUDE_APPLIED = f"{PRELUDE}({RULES}, {_KEY_REGEX})"

LOST = '{"lost": true}'  # the drained text when the records could not be read back
CHECK_MEMORY_BYTES = 32 * 1024 * 1024  # compiling a bundle to find its syntax errors
CHECK_STACK_BYTES = 1024 * 1024
CHECK_CPU_S = 2.0
# Compiled bundles kept per executor, so a page's script is compiled once, not per request.
BYTECODE_CACHE_ENTRIES = 256
BYTECODE_CACHE_BYTES = 32 * 1024 * 1024
DRAIN_CPU_S = 1.0  # reading the records back after a failure
DRAIN_WALL_S = 0.5  # and its wall-clock share, well within the server's grace after a deadline
# What funnelrun's build of quickjs-ng adds to the binding (native/quickjs-ng/).
OWN_BUILD_METHODS = ("compile", "eval_bytecode", "set_wall_deadline", "snapshot", "restore")
MIN_SLICE_S = 0.001
_FRAME = re.compile(r"<input>:(\d+):(\d+)")

# Answers host calls; None means "give up" (the parent's wall deadline passed).
HostCall = Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None]


@dataclass(frozen=True, slots=True)
class EngineLimits:
    """The limits of one run, in engine units."""

    memory_bytes: int
    stack_bytes: int
    cpu_s: float
    wall_s: float

    @classmethod
    def from_settings(cls, limits: LimitSettings) -> EngineLimits:
        return cls(
            memory_bytes=limits.script_memory_mb * 1024 * 1024,
            stack_bytes=limits.script_stack_kb * 1024,
            cpu_s=limits.script_cpu_ms / 1000,
            wall_s=limits.script_wall_ms / 1000,
        )


@dataclass(slots=True)
class RawRun:
    """What one run produced, before Python validates it: positions are bundle line/column."""

    outcome: str  # ok | error | timeout | memory (crash: the executor failed)
    message: str | None = None
    line: int | None = None
    column: int | None = None
    drained: str = LOST  # JSON text: records, console entries and counts
    cpu_ms: float = 0.0
    duration_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome, "message": self.message, "line": self.line,
            "column": self.column, "cpu_ms": self.cpu_ms, "duration_ms": self.duration_ms,
        }


class _Failure(Exception):
    """Ends a run early with an outcome other than ok."""

    def __init__(self, outcome: str, message: str, line: int | None = None,
                 column: int | None = None) -> None:
        super().__init__(message)
        self.outcome, self.message, self.line, self.column = outcome, message, line, column


class _Budget:
    """The CPU and wall-clock budget of one run. QuickJS's time limit restarts on every call
    into the engine, so each call gets only what is left of the whole run's budget."""

    def __init__(self, limits: EngineLimits) -> None:
        self.limits = limits
        self.wall_start = time.monotonic()
        self.cpu_start = time.process_time()

    def cpu_used(self) -> float:
        return time.process_time() - self.cpu_start

    def wall_used(self) -> float:
        return time.monotonic() - self.wall_start

    def slice(self) -> float:
        """Seconds the next engine call may run; raises when nothing is left."""
        cpu_left = self.limits.cpu_s - self.cpu_used()
        wall_left = self.limits.wall_s - self.wall_used()
        if cpu_left <= 0 or wall_left <= 0:
            raise self.exceeded()
        return max(min(cpu_left, wall_left), MIN_SLICE_S)

    def exceeded(self) -> _Failure:
        if self.wall_used() >= self.limits.wall_s:
            return self.wall_exceeded()
        return _Failure("timeout", f"CPU time limit of {self.limits.cpu_s * 1000:.0f} ms exceeded")

    def wall_exceeded(self) -> _Failure:
        return _Failure("timeout", f"wall-clock limit of {self.limits.wall_s * 1000:.0f} ms exceeded")


class Engine:
    """Runs bundles one at a time, each in the same fresh state: the executor's one context,
    made once with the prelude and the `Schema` library loaded, and snapshotted; after every
    run its whole memory is put back as it was (funnelrun's quickjs-ng, native/quickjs-ng/).
    Nothing a run made or changed survives into the next: every byte of the runtime is
    restored, everything allocated since is freed, and Math.random gets a new seed.

    Restoring costs about 6–9 µs; a new context with the prelude costs about 140 µs, 220 µs
    with `Schema` (bench/bench_script.py). Each page's bundle is compiled once and kept as
    bytecode (bounded); bytecode holds no state of a run: loading it makes new functions in the
    restored context. Compiling runs nothing."""

    def __init__(self) -> None:
        _require_bytecode()
        self._context, self._control = _fresh_context()
        self._context.snapshot()
        self._used = False  # whether a run changed the context since the last restore
        self._bundles = _BytecodeCache(BYTECODE_CACHE_ENTRIES, BYTECODE_CACHE_BYTES)

    def prepare(self) -> None:
        """Put the context back to its snapshot, if a run used it (the executor does this
        after it has sent its answer)."""
        if self._used:
            self._context.restore()
            self._used = False

    def run(self, code: str, config: str, limits: EngineLimits,
            host_call: HostCall | None = None) -> RawRun:
        """Evaluate `code` (a bundle: an async function expression) with the globals of
        `config` (JSON text) and run it to the end or to its first failure."""
        budget = _Budget(limits)
        self.prepare()
        context, control = self._context, self._control
        self._used = True
        context.set_memory_limit(limits.memory_bytes)
        context.set_max_stack_size(limits.stack_bytes)
        # The time limit is CPU time: an executor starved of CPU (a loaded machine) would run
        # past its wall-clock budget until the server kills it, so the engine checks both.
        context.set_wall_deadline(budget.wall_start + limits.wall_s)
        run = RawRun("ok")
        try:
            bytecode = self._bundles.get(code)
            if bytecode is None:
                bytecode = _call(context, budget, _compile, context, code)
                self._bundles.put(code, bytecode)
            main = _call(context, budget, context.eval_bytecode, bytecode)
            _call(context, budget, control, "start", config)
            # Called from here, not from the prelude: no prelude frame is beneath the script.
            promise = _call(context, budget, main)
            _call(context, budget, control, "attach", None, promise)
            _pump(context, control, budget, host_call)
        except _Failure as failure:
            run.outcome, run.message = failure.outcome, failure.message
            run.line, run.column = failure.line, failure.column
        outcome, run.drained = _drain(context, control, limits)
        _judge(run, outcome)
        run.cpu_ms = budget.cpu_used() * 1000
        run.duration_ms = budget.wall_used() * 1000
        return run


class _BytecodeCache:
    """Compiled bundles by source, least recently used dropped first, within bounds."""

    def __init__(self, entries: int, total_bytes: int) -> None:
        self.entries, self.total_bytes = entries, total_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0

    def get(self, code: str) -> bytes | None:
        bytecode = self._items.get(code)
        if bytecode is not None:
            self._items.move_to_end(code)
        return bytecode

    def put(self, code: str, bytecode: bytes) -> None:
        self._items[code] = bytecode
        self._bytes += len(bytecode)
        while len(self._items) > self.entries or self._bytes > self.total_bytes:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= len(dropped)


def _require_bytecode() -> None:
    if not all(hasattr(_quickjs.Context, name) for name in OWN_BUILD_METHODS):
        raise ScriptEngineError(
            "this quickjs-ng lacks bytecode loading or wall-clock deadlines: funnelrun needs "
            "its own build of it (run `make`, or `python native/quickjs-ng/build.py`)"
        )


_prelude_bytecode: bytes | None = None
_schema_bytecode: bytes | None = None


def _fresh_context() -> tuple[Any, Any]:
    """A new context with the prelude and the `Schema` library loaded: (context, the
    prelude's control function). Both are compiled once per process."""
    global _prelude_bytecode, _schema_bytecode
    if _prelude_bytecode is None or _schema_bytecode is None:
        # Stripped of their source and positions: their frames never read as the script's
        # (<input>:line:col; see schema.js's header), and a fifth of the bytes to load.
        compiler = _quickjs.Context()
        _prelude_bytecode = compiler.compile(_PRELUDE_APPLIED, True)
        _schema_bytecode = compiler.compile(SCHEMA, True)
    context = _quickjs.Context()
    control = context.eval_bytecode(_prelude_bytecode)
    context.eval_bytecode(_schema_bytecode)(MAX_DEPTH)  # defines the global `Schema`
    return context, control


def _compile(context: Any, code: str) -> bytes:
    """A bundle's bytecode, compiled in `context` without running any of it."""
    if "\0" in code:  # QuickJS takes code as a C string
        raise _Failure("error", "SyntaxError: the script contains a NUL character")
    return bytes(context.compile(_PADDING + code))


def compile_error(code: str) -> tuple[str, int | None, int | None] | None:
    """The syntax error of a bundle (message, bundle line, column), or None if it compiles.

    Compiling runs nothing of the bundle, not even code that escaped the function it is
    wrapped in. Only executor processes call this, in a context of its own under limits."""
    _require_bytecode()
    if "\0" in code:  # QuickJS takes code as a C string
        return "SyntaxError: the script contains a NUL character", None, None
    context = _quickjs.Context()
    context.set_memory_limit(CHECK_MEMORY_BYTES)
    context.set_max_stack_size(CHECK_STACK_BYTES)
    context.set_time_limit(CHECK_CPU_S)
    try:
        context.compile(code)
    except _quickjs.JSException as exc:
        text = str(exc)
        line, column = _location(text, 0)
        return _headline(text), line, column
    return None


def _call(context: Any, budget: _Budget, function: Callable[..., Any], *args: Any) -> Any:
    context.set_time_limit(budget.slice())
    try:
        return function(*args)
    except _quickjs.JSException as exc:  # StackOverflow is a JSException too
        raise _failure_of(str(exc), budget) from exc
    except UnicodeDecodeError as exc:  # a value holding an unpaired surrogate came back
        raise _Failure("error", "the script produced text that is not valid Unicode") from exc


def _failure_of(text: str, budget: _Budget) -> _Failure:
    headline = _headline(text)
    if headline == "InternalError: interrupted":
        return budget.exceeded()
    if headline in ("null", "InternalError: out of memory"):
        return _Failure("memory", "out of memory")
    line, column = _location(text, PRELUDE_LINES)
    return _Failure("error", headline, line, column)


def _pump(context: Any, control: Any, budget: _Budget, host_call: HostCall | None) -> None:
    """Run promise jobs until the script settles, handing its host calls to `host_call`."""
    rounds = made = 0
    retried = False
    while True:
        _run_jobs(context, budget)
        state = _call(context, budget, control, "poll")
        if state == "done":
            return
        if state == "idle":
            if retried:
                raise _Failure("error", "the script waits for a promise that never settles")
            retried = True
            _call(context, budget, control, "reattach")
            continue
        retried = False
        rounds += 1
        if rounds > MAX_HOST_ROUNDS or host_call is None:
            raise _Failure("error", f"more than {MAX_HOST_ROUNDS} rounds of host calls")
        calls = _host_calls(state, made)
        made += len(calls)
        answers = host_call(calls)
        if answers is None:  # the parent's wall deadline passed while the host worked
            raise budget.wall_exceeded()
        _call(context, budget, control, "settle", json.dumps(answers))


def _host_calls(text: str, made: int) -> list[dict[str, Any]]:
    """The host calls the prelude handed over, checked before they leave this process: the
    prelude makes at most MAX_HOST_CALLS per run, each {id, op, args} with plain arguments.
    Anything else did not come from the prelude, and fails the run."""
    try:
        calls = decode_json(text)
    except ValueError:
        calls = None
    if not isinstance(calls, list) or not all(map(_is_host_call, calls)):
        raise _Failure("error", "the sandbox handed over malformed host calls")
    if made + len(calls) > MAX_HOST_CALLS:
        raise _Failure("error", f"the sandbox handed over more than {MAX_HOST_CALLS} host calls")
    return calls


def _is_host_call(call: Any) -> bool:
    return (isinstance(call, dict) and set(call) == {"id", "op", "args"}
            and isinstance(call["id"], int) and isinstance(call["op"], str)
            and isinstance(call["args"], list) and len(call["args"]) == 1
            and (call["args"][0] is None or isinstance(call["args"][0], str | int | float)))


def _run_jobs(context: Any, budget: _Budget) -> None:
    while True:
        context.set_time_limit(budget.slice())
        try:
            if not context.execute_pending_job():
                return
        except _quickjs.JSException as exc:
            raise _failure_of(str(exc), budget) from exc


def _drain(context: Any, control: Any, limits: EngineLimits) -> tuple[dict[str, Any], str]:
    """How the script ended, and the recorded actions and console entries (JSON text), read
    back even after a failure, in one call: the memory limit is raised and a fresh time slice
    given."""
    context.set_memory_limit(limits.memory_bytes * 2 + 4 * 1024 * 1024)
    context.set_time_limit(DRAIN_CPU_S)
    context.set_wall_deadline(time.monotonic() + DRAIN_WALL_S)
    try:
        state, error, drained = control("finish").split("\n", 2)
        # Its error (JSON text) is parsed only when there is one: most runs end ok.
        return {"state": state, "error": json.loads(error) if state == "error" else None}, drained
    except Exception:  # whatever went wrong, the run's own outcome still stands
        return {}, LOST


def _judge(run: RawRun, outcome: dict[str, Any]) -> None:
    """Fold the script's own ending (from the prelude) into the run."""
    if run.outcome != "ok" or outcome.get("state") != "error":
        return
    error = outcome.get("error") or {}
    if error.get("kind") == "null" or (
        error.get("name") == "InternalError" and error.get("message") == "out of memory"
    ):
        run.outcome, run.message = "memory", "out of memory"
    else:
        run.outcome = "error"
        if error.get("kind") == "error":
            run.message = f"{error.get('name')}: {error.get('message')}"
        else:
            run.message = f"uncaught exception: {error.get('message')}"
    run.line, run.column = _location(error.get("stack") or "", PRELUDE_LINES)


def _headline(text: str) -> str:
    return text.split("\n", 1)[0].strip()


def _location(text: str, offset: int) -> tuple[int | None, int | None]:
    """The first `<input>:line:col` of a message or stack below `offset` lines."""
    for match in _FRAME.finditer(text):
        line = int(match.group(1)) - offset
        if line > 0:
            return line, int(match.group(2))
    return None, None
