"""Page events: caps on warnings, texts and a record's size; the `script` event."""

from __future__ import annotations

import datetime
import json

from funnelrun.errors import Position, ScriptImportError
from funnelrun.events import (
    MAX_APPLIED_LISTED,
    MAX_TEXT_CHARS,
    MAX_WARNINGS,
    PageEvents,
    applied_actions,
    clip,
    request_record,
    within_budget,
)
from funnelrun.script import (
    ActionWarning,
    ConsoleEntry,
    CookieEffect,
    CustomResponse,
    Effects,
    Redirect,
    ScriptFailure,
    ScriptResult,
    SessionOp,
)


def test_clip_keeps_short_text_and_says_how_much_was_cut():
    assert clip("short") == "short"
    assert clip("x" * (MAX_TEXT_CHARS + 5)) == "x" * MAX_TEXT_CHARS + "… (5 more characters)"


def test_warnings_beyond_the_cap_are_counted_in_the_response_event():
    events = PageEvents()
    for n in range(MAX_WARNINGS + 7):
        events.warn("cookie.set", f"refused {n}")
    events.respond(200)
    warnings = [e for e in events.items if e["type"] == "warning"]
    assert len(warnings) == MAX_WARNINGS
    assert warnings[-1]["reason"] == f"refused {MAX_WARNINGS - 1}"
    assert events.items[-1]["warnings_dropped"] == 7


def test_response_event_has_no_drop_count_when_nothing_was_dropped():
    events = PageEvents()
    events.warn("x", "y")
    events.respond(404)
    assert "warnings_dropped" not in events.items[-1]


def test_the_response_event_carries_the_data_given_such_as_the_worker():
    events = PageEvents()
    events.respond(200, worker=4242)
    assert {k: v for k, v in events.items[-1].items() if k not in ("at_ms", "duration_ms")} == {
        "type": "response", "status": 200, "worker": 4242}


def test_a_warning_reason_is_clipped():
    events = PageEvents()
    events.warn("c" * 500, "r" * 10_000)
    warning = events.items[0]
    assert len(warning["call"]) < 250
    assert len(warning["reason"]) < MAX_TEXT_CHARS + 50


def test_events_within_budget_are_kept_as_they_are():
    items = [{"type": "resolve", "at_ms": 0.1}, {"type": "response", "at_ms": 0.2}]
    kept, text = within_budget(items, budget=1000)
    assert kept is items
    assert text == '[{"type":"resolve","at_ms":0.1},{"type":"response","at_ms":0.2}]'


def test_the_largest_events_are_replaced_until_the_record_fits():
    items = [
        {"type": "resolve", "at_ms": 0.1},
        {"type": "script", "at_ms": 0.5, "console": ["x" * 5000]},
        {"type": "warning", "at_ms": 0.6, "reason": "y" * 3000},
        {"type": "response", "at_ms": 0.9, "status": 200},
    ]
    kept, text = within_budget(items, budget=4000)
    assert [event["type"] for event in kept] == ["resolve", "truncated", "warning", "response"]
    assert kept[1]["original_type"] == "script"
    assert kept[1]["bytes"] > 5000
    assert len(json.dumps(kept)) <= 4000
    assert json.loads(text) == kept


def test_truncation_measures_the_text_it_writes():
    items = [{"type": "script", "at_ms": 0.25 * n, "text": "é🎉" * (300 * n), "time": 1.7e9 + n}
             for n in range(1, 9)]
    for budget in (2000, 5000, 9000, 20_000):
        kept, text = within_budget(items, budget=budget)
        assert len(text.encode()) <= budget and json.loads(text) == kept


def test_events_orjson_refuses_are_written_as_json_always_wrote_them():
    stdlib = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
    items = [{"type": "resolve", "at_ms": 0.1, "path": "/a\ud800", "when": datetime.date(2024, 1, 2)}]
    assert within_budget(items) == (items, stdlib(items))
    assert within_budget(items)[1] == '[{"type":"resolve","at_ms":0.1,"path":"/a\ud800","when":"2024-01-02"}]'


def test_the_record_carries_the_events_json_the_store_writes():
    events = PageEvents()
    events.add("resolve", page="ünï")
    record = request_record(events, brand="acme", path="/", method="GET", status=200)
    assert record.events_json is not None and json.loads(record.events_json) == record.events
    assert "ünï" in record.events_json  # UTF-8 as it is, not \u escapes


def test_request_record_clips_the_path():
    events = PageEvents()
    record = request_record(events, brand="acme", path="/" + "p" * 10_000, method="GET",
                            status=404)
    assert len(record.path) < MAX_TEXT_CHARS + 50


# -- the script event --------------------------------------------------------------------------


def script_result(outcome: str = "ok", effects: Effects | None = None,
                  error: ScriptFailure | None = None) -> ScriptResult:
    return ScriptResult(
        outcome=outcome, error=error, effects=effects or Effects(),
        console=(ConsoleEntry("warn", "careful", 1700000000.5),), console_dropped=3,
        duration_ms=12.34567, cpu_ms=4.00049,
    )


def without_times(events: PageEvents) -> list[dict]:
    return [{k: v for k, v in event.items() if k != "at_ms"} for event in events.items]


def test_a_script_event_has_its_outcome_timings_console_and_no_error():
    events = PageEvents()
    events.script(script_result())
    assert without_times(events) == [{
        "type": "script", "outcome": "ok", "duration_ms": 12.346, "cpu_ms": 4.0,
        "console": [{"level": "warn", "text": "careful", "time": 1700000000.5}],
        "console_dropped": 3, "applied": [],
    }]
    assert not events.has_error


def test_a_failed_script_marks_the_request_and_says_where():
    failure = ScriptFailure("boom", Position("brands/acme/pages/p.html", 3, 7), outcome="timeout")
    events = PageEvents()
    events.script(script_result("timeout", error=failure))
    [event] = events.items
    assert event["outcome"] == "timeout"
    assert event["error"] == {"message": "boom", "file": "brands/acme/pages/p.html",
                              "line": 3, "column": 7}
    assert events.has_error


def test_each_refused_action_follows_the_script_event_as_a_warning():
    refused = (ActionWarning("cookie.set", "'fr_x' is a reserved name"),
               ActionWarning("redirect", "javascript: is not allowed"))
    events = PageEvents()
    events.script(script_result(effects=Effects(warnings=refused)))
    assert [(e["type"], e.get("call"), e.get("reason")) for e in events.items] == [
        ("script", None, None),
        ("warning", "cookie.set", "'fr_x' is a reserved name"),
        ("warning", "redirect", "javascript: is not allowed"),
    ]
    assert not events.has_error  # refusals are warnings, not errors


def test_applied_actions_beyond_the_listed_ones_are_counted():
    effects = Effects(variables={f"v{n}": n for n in range(MAX_APPLIED_LISTED + 9)})
    events = PageEvents()
    events.script(script_result(effects=effects))
    [event] = events.items
    assert len(event["applied"]) == MAX_APPLIED_LISTED
    assert event["applied"][-1] == {"call": "setVariable", "key": f"v{MAX_APPLIED_LISTED - 1}"}
    assert event["applied_dropped"] == 9


def test_no_drop_count_when_every_applied_action_is_listed():
    events = PageEvents()
    events.script(script_result(effects=Effects(variables={"v": 1})))
    assert "applied_dropped" not in events.items[0]


def test_a_script_that_could_not_be_built_is_an_error_event_that_applied_nothing():
    problem = ScriptImportError("module 'missing' not found",
                                Position("brands/acme/pages/p.html", 1, 20))
    events = PageEvents()
    events.unbuilt_script(problem)
    assert without_times(events) == [{
        "type": "script", "outcome": "error", "applied": [],
        "error": {"message": "module 'missing' not found", "file": "brands/acme/pages/p.html",
                  "line": 1, "column": 20},
    }]
    assert events.has_error


def test_applied_actions_are_listed_by_kind_in_the_order_applied_without_values():
    effects = Effects(
        session=(SessionOp("set", key="plan", text='"secret plan"'), SessionOp("delete", key="old"),
                 SessionOp("login", fields={"email": "ann@example.test", "name": "Ann"})),
        cookies=(CookieEffect("a", "secret"), CookieEffect("b", delete=True)),
        headers=(("x-one", "secret"),),
        variables={"price": "secret"},
        status=201,
        redirect=Redirect("/next", 303),
        response=CustomResponse("application/json", '{"secret":1}'),
    )
    applied = applied_actions(effects)
    assert applied == [
        {"call": "session.set", "key": "plan", "deleted": False},
        {"call": "session.set", "key": "old", "deleted": True},
        {"call": "session.setCustomer", "email": "ann@example.test"},
        {"call": "cookie.set", "name": "a"},
        {"call": "cookie.delete", "name": "b"},
        {"call": "setHeader", "name": "x-one"},
        {"call": "setVariable", "key": "price"},
        {"call": "response.status", "status": 201},
        {"call": "redirect", "url": "/next", "status": 303},
        {"call": "response", "content_type": "application/json"},
    ]
    assert "secret" not in json.dumps(applied)  # values stay out of the page events
