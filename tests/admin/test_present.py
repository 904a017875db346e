"""Recorded requests made ready for the pages: control characters visible, long texts cut,
errors with their source line and caret."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from funnelrun.admin.present import SHOWN_CHARS, event_cards, shown, summary_row, visible
from funnelrun.store import RequestRecord, RequestSummary


def test_control_characters_show_as_escapes() -> None:
    assert visible("plain text, ünïcode ✓") == "plain text, ünïcode ✓"
    assert visible("line\nnext\ttab") == "line\nnext\ttab"
    assert visible("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert visible("a\x00b\x7fc\x85") == "a\\x00b\\x7fc\\x85"
    assert visible("\u202eevil\u200b") == "\\u202eevil\\u200b"  # bidi override, zero width


@given(st.text())
def test_nothing_invisible_survives(text: str) -> None:
    assert all(ch.isprintable() or ch in "\n\t" for ch in visible(text))


def test_long_values_are_cut_and_say_how_much() -> None:
    assert shown("x" * SHOWN_CHARS) == {"text": "x" * SHOWN_CHARS, "more": 0}
    assert shown("x" * (SHOWN_CHARS + 5)) == {"text": "x" * SHOWN_CHARS, "more": 5}
    assert shown({"a": [1, None, True]}) == {"text": '{"a": [1, null, true]}', "more": 0}
    assert shown(None)["text"] == "null" and shown(2.5)["text"] == "2.5"


def test_a_list_row() -> None:
    row = summary_row(RequestSummary("r1", "acme", "/p\x1b", "GET", 503, 1796539177.725, 12.345,
                                     True, 4, "timeout"))
    assert row["path"] == {"text": "/p\\x1b", "more": 0}
    assert (row["status_class"], row["duration"], row["failed"], row["error"]) == \
        ("s5", "12.3 ms", True, True)
    assert row["time"] == "2026-12-06 06:39:37.725"
    assert row["href"] == "/_funnelrun/requests/r1"


def record(*events: dict) -> RequestRecord:
    return RequestRecord("r1", "acme", "/", "GET", 200, 1.0, 1.0, True, len(events), "error",
                         events=list(events))


def test_a_failed_script_card_has_its_error_console_and_actions() -> None:
    (card,) = event_cards(record({
        "type": "script", "at_ms": 2.5, "outcome": "error", "duration_ms": 0.4, "cpu_ms": 0.3,
        "console": [{"level": "warn", "text": "careful", "time": 1.0},
                    {"level": "bogus", "text": "x" * (SHOWN_CHARS + 1), "time": 1.0}],
        "console_dropped": 3,
        "applied": [{"call": "session.set", "key": "k", "deleted": False}],
        "error": {"message": "TypeError: boom", "file": "brands/acme/pages/index.html",
                  "line": 7, "column": 5, "source_line": "\tif (x) x.explode();"},
    }))
    assert (card["type"], card["at"], card["tone"]) == ("script", "+2.50 ms", "bad")
    assert card["error"] == {"where": "brands/acme/pages/index.html:7:5",
                             "message": {"text": "TypeError: boom", "more": 0},
                             "source": "\tif (x) x.explode();", "caret": "\t   "}
    assert [(line["level"], line["text"]["more"]) for line in card["console"]] == \
        [("warn", 0), ("log", 1)]
    assert card["console_dropped"] == 3
    assert card["applied"] == [{"text": "session.set(key=k, deleted=false)", "more": 0}]
    assert [field["name"] for field in card["fields"]] == ["outcome", "duration_ms", "cpu_ms"]


def test_template_errors_warnings_and_odd_events() -> None:
    cards = event_cards(record(
        {"type": "template_error", "at_ms": 1, "message": "unknown filter", "file": "p.html",
         "line": 3, "column": 99, "source_line": "short"},
        {"type": "warning", "at_ms": 1, "call": "setHeader", "reason": "'Refresh' cannot be set"},
        {"type": "internal_error", "message": "RuntimeError"},
        "not an event",
        {"no": "type"},
    ))
    assert [card["tone"] for card in cards] == ["bad", "warn", "bad", ""]
    assert cards[0]["error"]["caret"] is None  # the column is past the line's end
    assert cards[2]["error"]["where"] == "" and cards[2]["at"] == ""
    assert cards[3]["type"] == "?" and cards[3]["fields"] == [{"name": "no", "value":
                                                               {"text": "type", "more": 0}}]
