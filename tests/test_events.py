"""Page events: caps on warnings, texts and a record's size."""

from __future__ import annotations

import json

from funnelrun.events import (
    MAX_TEXT_CHARS,
    MAX_WARNINGS,
    PageEvents,
    clip,
    request_record,
    within_budget,
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


def test_a_warning_reason_is_clipped():
    events = PageEvents()
    events.warn("c" * 500, "r" * 10_000)
    warning = events.items[0]
    assert len(warning["call"]) < 250
    assert len(warning["reason"]) < MAX_TEXT_CHARS + 50


def test_events_within_budget_are_kept_as_they_are():
    items = [{"type": "resolve", "at_ms": 0.1}, {"type": "response", "at_ms": 0.2}]
    assert within_budget(items, budget=1000) is items


def test_the_largest_events_are_replaced_until_the_record_fits():
    items = [
        {"type": "resolve", "at_ms": 0.1},
        {"type": "script", "at_ms": 0.5, "console": ["x" * 5000]},
        {"type": "warning", "at_ms": 0.6, "reason": "y" * 3000},
        {"type": "response", "at_ms": 0.9, "status": 200},
    ]
    kept = within_budget(items, budget=4000)
    assert [event["type"] for event in kept] == ["resolve", "truncated", "warning", "response"]
    assert kept[1]["original_type"] == "script"
    assert kept[1]["bytes"] > 5000
    assert len(json.dumps(kept)) <= 4000


def test_request_record_clips_the_path():
    events = PageEvents()
    record = request_record(events, brand="acme", path="/" + "p" * 10_000, method="GET",
                            status=404)
    assert len(record.path) < MAX_TEXT_CHARS + 50
