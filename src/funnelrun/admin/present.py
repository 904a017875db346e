"""Recorded requests made ready for the debug window's pages: plain strings and lists that the
templates only print (and escape). Everything here came from visitors or scripts: control
characters are shown as escapes (an ANSI sequence is text, not colour), long texts are cut for
the page and kept whole in the export."""

from __future__ import annotations

import json
from typing import Any

from ..store import RequestRecord, RequestSummary
from .queries import iso_time

SHOWN_CHARS = 2000  # of one value on a page; the export has the whole text
FAILED_OUTCOMES = frozenset({"error", "timeout", "memory", "crash"})
# Fields every event has, or that get their own place on the card.
_OWN_PLACE = frozenset({"type", "at_ms", "console", "applied", "error", "message", "file", "line",
                        "column", "source_line", "console_dropped", "applied_dropped"})
_ERROR_EVENTS = frozenset({"template_error", "internal_error"})


def visible(text: str) -> str:
    """`text` with every control character but newline and tab written as an escape
    (`\\x1b`), so terminal sequences and stray bytes show as what they are."""
    if text.isprintable() or all(ch.isprintable() or ch in "\n\t" for ch in text):
        return text
    return "".join(ch if ch.isprintable() or ch in "\n\t" else _escape(ch) for ch in text)


def shown(value: Any, limit: int = SHOWN_CHARS) -> dict[str, Any]:
    """A value for a page: its text (visible, cut to `limit`) and how many characters were cut."""
    text = value if isinstance(value, str) else _compact(value)
    cut = max(len(text) - limit, 0)
    return {"text": visible(text[:limit]), "more": cut}


def summary_row(summary: RequestSummary) -> dict[str, Any]:
    """One line of the request list."""
    outcome = summary.outcome
    return {
        "id": summary.request_id,
        "href": f"/_funnelrun/requests/{summary.request_id}",
        "time": iso_time(summary.started_at).replace("T", " ").removesuffix("Z"),
        "iso": iso_time(summary.started_at),
        "brand": visible(summary.brand),
        "method": visible(summary.method),
        "path": shown(summary.path, 200),
        "status": summary.status,
        "status_class": f"s{summary.status // 100}",
        "duration": f"{summary.duration_ms:.1f} ms",
        "outcome": outcome or "",
        "failed": outcome in FAILED_OUTCOMES,
        "error": summary.error,
        "events": summary.event_count,
    }


def event_cards(record: RequestRecord) -> list[dict[str, Any]]:
    """One card per event, in order."""
    return [_card(event) for event in record.events if isinstance(event, dict)]


def _card(event: dict[str, Any]) -> dict[str, Any]:
    kind = str(event.get("type", "?"))
    error = event.get("error") if kind == "script" else event if kind in _ERROR_EVENTS else None
    failed = kind == "script" and event.get("outcome") in FAILED_OUTCOMES
    return {
        "type": visible(kind),
        "at": _at(event.get("at_ms")),
        "tone": "bad" if failed or kind in _ERROR_EVENTS else
                "warn" if kind in ("warning", "truncated") else "",
        "fields": [{"name": visible(str(name)), "value": shown(value)}
                   for name, value in event.items() if name not in _OWN_PLACE],
        "error": _error(error) if isinstance(error, dict) else None,
        "console": [_console_line(entry) for entry in _list(event.get("console"))],
        "console_dropped": event.get("console_dropped") or 0,
        "applied": [shown(_applied(action), 300) for action in _list(event.get("applied"))],
        "applied_dropped": event.get("applied_dropped") or 0,
    }


def _error(error: dict[str, Any]) -> dict[str, Any]:
    file, line, column = error.get("file"), error.get("line"), error.get("column")
    where = ":".join(str(part) for part in (file, line, column) if part is not None)
    source = error.get("source_line")
    caret = column - 1 if isinstance(column, int) and column >= 1 else None
    return {
        "where": visible(where),
        "message": shown(error.get("message", "")),
        "source": visible(source) if isinstance(source, str) else None,
        # The caret sits under the column: spaces, or the line's own tabs, up to it.
        "caret": "".join(ch if ch == "\t" else " " for ch in source[:caret])
                 if isinstance(source, str) and caret is not None and caret <= len(source)
                 else None,
    }


def _console_line(entry: Any) -> dict[str, Any]:
    entry = entry if isinstance(entry, dict) else {"text": entry}
    level = entry.get("level")
    return {"level": level if level in ("log", "info", "warn", "error", "debug") else "log",
            "text": shown(entry.get("text", ""))}


def _applied(action: Any) -> str:
    if not isinstance(action, dict):
        return _compact(action)
    call = str(action.get("call", "?"))
    rest = ", ".join(f"{name}={_compact(value)}" for name, value in action.items()
                     if name != "call")
    return f"{call}({rest})"


def _at(at_ms: Any) -> str:
    return f"+{at_ms:.2f} ms" if isinstance(at_ms, int | float) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"
