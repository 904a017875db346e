"""How runs fail: each failure keeps the effects made before it and says where it happened;
and what only Python holds (the prelude's set-up, the host calls it relays)."""

from __future__ import annotations

import json
import weakref
from functools import partial
from typing import Any

import _quickjs
import pytest

from funnelrun.errors import Position
from funnelrun.script import ScriptJob
from funnelrun.script.engine import (
    RULES,
    Engine,
    EngineLimits,
    _Failure,
    _fresh_context,
    _host_calls,
)
from funnelrun.script.job import make_result
from funnelrun.settings import LimitSettings

from .conftest import PAGE, Sandbox, page_job

BEFORE = "setVariable('before', 1); session.set('kept', true);\n"
FAST = LimitSettings(script_memory_mb=8, script_cpu_ms=300, script_wall_ms=600,
                     script_stack_kb=256)


def failing(sandbox: Sandbox, body: str, limits: LimitSettings | None = None):
    result = sandbox(page_job(BEFORE + body + "\nsetVariable('after', 1);", limits=limits))
    assert result.effects.variables == {"before": 1}, "effects before the failure are kept"
    assert [op.key for op in result.effects.session] == ["kept"]
    return result


def test_a_throw_is_an_error_with_its_position(sandbox: Sandbox) -> None:
    result = failing(sandbox, "  throw new Error('boom');")
    assert result.outcome == "error"
    assert result.error.message == "Error: boom"
    assert result.error.position == Position(PAGE, 2, 13)  # QuickJS points at `Error`


def test_a_reference_error_in_a_nested_function(sandbox: Sandbox) -> None:
    result = failing(sandbox, "function f() {\n  return g();\n}\nf();")
    assert result.error.message == "ReferenceError: g is not defined"
    assert result.error.position == Position(PAGE, 3, 10)


def test_a_syntax_error_keeps_nothing_and_reports_the_position(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('a', 1);\nlet x = = 2;")
    assert result.outcome == "error"
    assert result.error.message == "SyntaxError: unexpected token in expression: '='"
    assert result.error.position == Position(PAGE, 2, 9)
    assert result.effects.variables == {}


def test_cpu_time_limit_stops_a_busy_loop(sandbox: Sandbox) -> None:
    result = failing(sandbox, "while (true) {}", FAST)
    assert result.outcome == "timeout"
    assert result.error.message == "CPU time limit of 300 ms exceeded"
    assert 250 <= result.cpu_ms < 1000


def test_cpu_time_counts_across_awaits(sandbox: Sandbox) -> None:
    result = failing(sandbox, "while (true) await null;", FAST)
    assert result.outcome == "timeout"
    assert result.cpu_ms < 1000


def test_wall_clock_limit_stops_a_run_the_cpu_limit_would_allow(sandbox: Sandbox) -> None:
    limits = LimitSettings(script_cpu_ms=10_000, script_wall_ms=400)
    result = failing(sandbox, "while (true) {}", limits)
    assert result.outcome == "timeout"
    assert result.error.message == "wall-clock limit of 400 ms exceeded"
    assert result.duration_ms < 1400


def test_out_of_memory_keeps_effects_and_reports_the_position(sandbox: Sandbox) -> None:
    # Megabyte steps: the allocation that fails leaves room to build the error (with small
    # steps QuickJS may have none left, and reports the failure without a position).
    result = failing(sandbox, "const big = [];\nwhile (true) big.push('x'.repeat(1000000) + big.length);")
    assert result.outcome == "memory"
    assert result.error.message == "out of memory"
    assert result.error.position is not None and result.error.position.line == 3


def test_out_of_memory_from_many_small_objects(sandbox: Sandbox) -> None:
    result = failing(sandbox, "const a = [];\nwhile (true) a.push({n: a.length});")
    assert result.outcome == "memory"


def test_out_of_memory_after_an_await(sandbox: Sandbox) -> None:
    result = failing(sandbox, "await null;\nconst a = [];\nwhile (true) a.push({n: a.length});")
    assert result.outcome == "memory"


def test_a_huge_string_is_out_of_memory(sandbox: Sandbox) -> None:
    result = failing(sandbox, "const s = 'x'.repeat(100 * 1024 * 1024);")
    assert result.outcome == "memory"
    assert result.error.position is not None and result.error.position.line == 2


def test_memory_freed_during_a_run_is_used_again(sandbox: Sandbox) -> None:
    """Far more than the 8 MB limit allocated in all, little of it at once: the limit counts
    what is live (funnelrun's build of quickjs-ng allocates through a list of its own)."""
    result = sandbox(page_job(
        "let total = 0;\n"
        "for (let i = 0; i < 400; i++) { const s = 'x'.repeat(500000) + i; total += s.length; }\n"
        "setVariable('total', total);"))
    assert result.outcome == "ok"
    assert result.effects.variables["total"] > 200_000_000


def _resident_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4


def test_a_dropped_context_gives_all_its_memory_back() -> None:
    """A context is dropped at once (not freed object by object): every block goes, and the
    Python callables it held are released."""
    def churn() -> None:
        context = _quickjs.Context()
        context.set_memory_limit(16 * 1024 * 1024)
        context.eval("globalThis.keep = []; for (let i = 0; i < 20000; i++) keep.push({i, s: 'v' + i});"
                     "keep.self = keep;")  # a cycle too
        context.add_callable("twice", lambda n: 2 * n)
        assert context.eval("twice(21)") == 42
    churn()
    before = _resident_kb()
    for _ in range(300):  # each holds ~2 MB while it lives: ~600 MB if any were kept
        churn()
    assert _resident_kb() - before < 64 * 1024

    class Callback:
        def __call__(self) -> int:
            return 1
    callback = Callback()
    released = weakref.ref(callback)
    context = _quickjs.Context()
    context.add_callable("callback", callback)
    del callback
    assert released() is not None
    del context
    assert released() is None


def test_stack_overflow_is_an_error_with_its_position(sandbox: Sandbox) -> None:
    result = failing(sandbox, "function f(n) {\n  return f(n + 1) + 1;\n}\nf(0);")
    assert result.outcome == "error"
    assert result.error.message == "RangeError: Maximum call stack size exceeded"
    assert result.error.position == Position(PAGE, 3, 16)  # QuickJS points at the call's `)`


def test_a_caught_error_is_not_a_failure(sandbox: Sandbox) -> None:
    result = sandbox("try { null.x } catch (e) { setVariable('e', e.name) }")
    assert result.outcome == "ok" and result.effects.variables == {"e": "TypeError"}


def test_a_promise_that_never_settles_is_an_error(sandbox: Sandbox) -> None:
    result = failing(sandbox, "await new Promise(() => {});")
    assert result.outcome == "error"
    assert result.error.message == "the script waits for a promise that never settles"


@pytest.mark.parametrize("memory_mb", [2, 16])
def test_memory_limit_follows_the_settings(sandbox: Sandbox, memory_mb: int) -> None:
    limits = LimitSettings(script_memory_mb=memory_mb, script_cpu_ms=1000, script_wall_ms=2000)
    job = page_job("const s = 'x'.repeat(5 * 1024 * 1024); setVariable('n', s.length);",
                   limits=limits)
    assert isinstance(job, ScriptJob)
    result = sandbox(job)
    assert result.outcome == ("memory" if memory_mb == 2 else "ok")


# -- the sandbox boundary: what Python alone holds ------------------------------------------------


def test_control_refuses_to_set_a_run_up_again() -> None:
    """Were a script ever to reach the prelude's `control`, new globals or a second attach
    would be refused: setting up happens once, in order, and a call out of order spoils the
    rest of the set-up. The rules (the record cap among them) are compiled into the prelude:
    no call can hand it others."""
    context, control = _fresh_context()
    forged = json.dumps({**json.loads(RULES), "max_records": 10**9})
    assert control("rules", forged) is None  # no such step
    with pytest.raises(_quickjs.JSException, match="control: step 1 out of order"):
        control("attach", None, None)
    with pytest.raises(_quickjs.JSException, match="control: step 0 out of order"):
        control("start", page_job("").config())
    assert context.eval("typeof request") == "undefined"


@pytest.mark.parametrize("text", [
    "{}",
    "[" * 5000 + "]" * 5000,
    '[{"id": 1, "op": "session.getToken", "args": [{"ttl": 5}]}]',
    '[{"id": 1, "op": "session.getToken", "args": [null, null]}]',
    '[{"id": 1, "op": "session.getToken", "args": [null], "extra": 1}]',
    json.dumps([{"id": n, "op": "session.getToken", "args": [None]} for n in range(33)]),
])
def test_the_executor_relays_only_host_calls_the_prelude_could_make(text: str) -> None:
    with pytest.raises(_Failure, match="the sandbox handed over"):
        _host_calls(text, made=0)


def test_the_executor_relays_at_most_32_host_calls_per_run() -> None:
    call = json.dumps([{"id": 1, "op": "session.getToken", "args": [60]}])
    assert _host_calls(call, made=31) == [{"id": 1, "op": "session.getToken", "args": [60]}]
    with pytest.raises(_Failure, match="more than 32 host calls"):
        _host_calls(call, made=32)


# -- every run starts from the same fresh state: the executor's context, restored ----------------


def run_in(engine: Engine, body: str, limits: LimitSettings = FAST) -> Any:
    """One run of `body` in `engine`, as an executor makes it (restored after), validated."""
    job = page_job(body, limits=limits)
    raw = engine.run(job.bundle.code, job.config(), EngineLimits.from_settings(limits))
    engine.prepare()
    return make_result(job, raw.to_json(), raw.drained)


def test_a_run_leaves_nothing_behind_for_the_next() -> None:
    engine = Engine()
    spoiled = run_in(engine, """
        globalThis.leaked = 1;
        Object.prototype.polluted = 2;
        Array.prototype.push = () => 'hijacked';
        JSON.stringify = () => '"hijacked"';
        Math.random = () => 4;
        Object.freeze(Object.prototype);
        delete globalThis.Schema;
        new Promise(() => {}).then(() => { globalThis.late = 1; });
        setVariable('done', true);""")
    assert spoiled.outcome == "ok" and spoiled.effects.variables == {"done": True}
    fresh = run_in(engine, """
        const a = []; a.push(1);
        setVariable('r', [typeof leaked, ({}).polluted, a.length, JSON.stringify({x: 1}),
                          Math.random() < 1, Object.isFrozen(Object.prototype),
                          typeof Schema.object, typeof late]);""")
    assert fresh.outcome == "ok"
    assert fresh.effects.variables["r"] == [
        "undefined", None, 1, '{"x":1}', True, False, "function", "undefined"]


@pytest.mark.parametrize("body", [
    "globalThis.junk = []; for (;;) junk.push({n: 'x'.repeat(100)});",  # out of memory
    "globalThis.junk = []; for (let i = 0; ; i++) junk[i % 1000] = {i};",  # out of time
    "globalThis.junk = 1; null.x;",  # an error
])
def test_a_run_stopped_midway_leaves_nothing_behind(body: str) -> None:
    engine = Engine()
    stopped = run_in(engine, body)
    assert stopped.outcome != "ok"
    # The memory the stopped run held is back: 5 MB of an 8 MB limit fit again.
    after = run_in(engine, "const s = 'y'.repeat(5 * 1024 * 1024);"
                           "setVariable('r', [typeof junk, s.length]);")
    assert after.outcome == "ok" and after.effects.variables == {"r": ["undefined", 5242880]}


def test_each_run_gets_its_own_random_sequence() -> None:
    engine = Engine()
    body = "setVariable('r', [Math.random(), Math.random(), performance.timeOrigin]);"
    first, second = (run_in(engine, body).effects.variables["r"] for _ in range(2))
    assert first[:2] != second[:2]
    assert second[2] > first[2]  # a new time origin too, as a new context would have


def test_many_runs_in_one_context_do_not_grow_its_memory() -> None:
    engine = Engine()
    body = "globalThis.keep = []; for (let i = 0; i < 20000; i++) keep.push({i, s: 'v' + i});"
    run_in(engine, body)
    before = _resident_kb()
    for _ in range(300):  # each holds ~2 MB: ~600 MB if any were kept
        assert run_in(engine, body).outcome == "ok"
    assert _resident_kb() - before < 64 * 1024


def test_an_object_from_a_restored_run_is_stale_and_safe_to_drop() -> None:
    context = _quickjs.Context()
    kept = context.eval("globalThis.kept = {n: 1}; kept")  # made before the snapshot
    context.snapshot()
    made = context.eval("({n: 2})")
    function = context.eval("(x) => x")
    context.restore()
    identity = context.eval("(x) => x")  # made after the restore: live until the next one
    stale_uses = [made.json, partial(function, 1), partial(identity, made)]
    for use in stale_uses:
        with pytest.raises(ValueError, match="a run the context was restored from"):
            use()
    del made, function, stale_uses  # dropping them frees nothing twice
    assert identity(kept).json() == '{"n":1}'  # part of the snapshot: valid in every run
    context.eval("kept.n = 5")
    context.restore()
    assert kept.json() == '{"n":1}'


def test_a_snapshot_is_taken_once_with_the_python_callables_made_before_it() -> None:
    """Python callables are how synchronous host calls would reach the server (README, "How
    scripts run"): one added before the snapshot is part of it, whatever a run does with it."""
    context = _quickjs.Context()
    with pytest.raises(ValueError, match="no snapshot"):
        context.restore()

    class Twice:
        def __call__(self, n: int) -> int:
            return 2 * n
    twice = Twice()
    released = weakref.ref(twice)
    context.add_callable("twice", twice)
    del twice
    context.snapshot()
    with pytest.raises(ValueError, match="has a snapshot already"):
        context.snapshot()
    with pytest.raises(ValueError, match="snapshotted context"):
        context.add_callable("f", lambda: 1)
    for _ in range(3):  # a run that drops the function does not free it for the next
        assert context.eval("twice(21)") == 42
        context.eval("delete globalThis.twice")
        context.gc()
        assert context.eval("typeof twice") == "undefined"
        context.restore()
    assert context.eval("twice(4)") == 8
    assert released() is not None
    del context
    assert released() is None


def test_a_context_cannot_be_restored_or_snapshotted_while_it_runs() -> None:
    """A Python callable runs while JS is on the stack: restoring then would free the memory
    under it. Refused, and the run goes on."""
    context = _quickjs.Context()
    refusals: list[str] = []

    def meddle() -> int:
        for step in (context.restore, context.snapshot):
            try:
                step()
            except ValueError as exc:
                refusals.append(str(exc))
        return 7
    context.add_callable("meddle", meddle)
    assert context.eval("meddle() * 6") == 42  # before the snapshot
    context.snapshot()
    assert context.eval("meddle() * 6") == 42
    assert refusals == [
        "this context has no snapshot", "Can not snapshot a context while it runs.",
        "Can not restore a context while it runs.", "this context has a snapshot already"]
