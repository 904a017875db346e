"""Page events: what happened during one request, for the debug window and `render --events`.

Every size is capped: a request whose script refuses thousands of actions, or a visitor's
90 KB path, must not turn into megabytes in the store (the last 1000 requests of every brand
are kept). Warnings are kept up to MAX_WARNINGS and the rest counted; texts are clipped; a
record over MAX_RECORD_BYTES has its largest events replaced by a `truncated` note.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from .errors import ScriptError, SourceError
from .jsondata import encode_compact
from .script import Effects, ScriptResult
from .store import RequestRecord

logger = logging.getLogger("funnelrun.events")

MAX_WARNINGS = 100  # warning events kept per request; the rest are counted
MAX_TEXT_CHARS = 2048  # a path, host or reason longer than this is clipped where it is stored
MAX_RECORD_BYTES = 256 * 1024  # a request's events, as JSON, in the store
MAX_APPLIED_LISTED = 200  # applied actions listed in the `script` event; the rest counted
MAX_SOURCE_LINE_CHARS = 500  # the source line kept beside an error

# For what orjson refuses (encode_compact). Built once: json.dumps with options builds an
# encoder on every call.
_encode_stdlib = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def _encode(value: Any) -> str:
    """Events as JSON: by orjson (encode_compact), ten times faster. Its floats are written in
    another but equal form (1e-7); NaN and Infinity would be null, but events hold only finite
    numbers (rounded timings, console times made finite by funnelrun.script.console)."""
    return encode_compact(value, _encode_stdlib)


def new_request_id() -> str:
    return secrets.token_hex(8)


def clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """`text` cut to `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


class PageEvents:
    """The events of one request, in order, each stamped with milliseconds since it began."""

    def __init__(self, request_id: str | None = None) -> None:
        self.request_id = request_id or new_request_id()
        self.started_at = time.time()
        self._start = time.perf_counter()
        self.items: list[dict[str, Any]] = []
        self.has_error = False
        self.outcome: str | None = None  # the script's, when the page has one
        self.warnings = 0  # warnings given, kept or not

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self._start) * 1000, 3)

    def add(self, kind: str, **data: Any) -> dict[str, Any]:
        event = {"type": kind, "at_ms": self.elapsed_ms(), **data}
        self.items.append(event)
        return event

    def warn(self, call: str, reason: str) -> None:
        """A refused action or a dropped write: names the call and the reason. Beyond
        MAX_WARNINGS per request they are only counted (in the `response` event)."""
        self.warnings += 1
        if self.warnings > MAX_WARNINGS:
            return
        call, reason = clip(call, 200), clip(reason)
        self.add("warning", call=call, reason=reason)
        logger.info("request %s: %s refused: %s", self.request_id, call, reason)

    def error(self, kind: str, error: BaseException, **data: Any) -> None:
        """An error the visitor does not see: recorded with its position when it has one."""
        self.has_error = True
        self.add(kind, **error_fields(error), **data)
        logger.warning("request %s: %s: %s", self.request_id, kind, clip(str(error)))

    def script(self, result: ScriptResult) -> None:
        """The `script` event: outcome, timing, error with position, console, the actions
        applied; and a `warning` event for every refused action."""
        applied = applied_actions(result.effects)
        self.outcome = result.outcome
        event = self.add(
            "script",
            outcome=result.outcome,
            duration_ms=round(result.duration_ms, 3),
            cpu_ms=round(result.cpu_ms, 3),
            console=[{"level": entry.level, "text": entry.text, "time": entry.time}
                     for entry in result.console],
            console_dropped=result.console_dropped,
            applied=applied[:MAX_APPLIED_LISTED],
        )
        if len(applied) > MAX_APPLIED_LISTED:
            event["applied_dropped"] = len(applied) - MAX_APPLIED_LISTED
        if result.error is not None:
            self.has_error = True
            event["error"] = error_fields(result.error)
        for warning in result.effects.warnings:
            self.warn(warning.call, warning.reason)

    def unbuilt_script(self, problem: ScriptError) -> None:
        """The `script` event of a page whose script could not be built (a missing module, an
        import cycle): it did not run, and the page renders without it."""
        self.has_error = True
        self.outcome = "error"
        self.add("script", outcome="error", error=error_fields(problem), applied=[])

    def respond(self, status: int, **data: Any) -> None:
        """The closing `response` event: status, duration, warnings not kept, and `data` (the
        worker process that answered, say)."""
        dropped = self.warnings - MAX_WARNINGS
        if dropped > 0:
            data["warnings_dropped"] = dropped
        self.add("response", status=status, duration_ms=self.elapsed_ms(), **data)


def applied_actions(effects: Effects) -> list[dict[str, Any]]:
    """A summary of the accepted actions, for the `script` event."""
    applied: list[dict[str, Any]] = []
    for op in effects.session:
        if op.kind == "login":
            email = op.fields.get("email") if op.fields is not None else None
            applied.append({"call": "session.setCustomer", "email": email})
        elif op.kind == "logout":
            applied.append({"call": "session.clearCustomer"})
        else:
            applied.append({"call": "session.set", "key": op.key, "deleted": op.kind == "delete"})
    applied += [
        {"call": "cookie.delete" if c.delete else "cookie.set", "name": c.name}
        for c in effects.cookies
    ]
    applied += [{"call": "setHeader", "name": name} for name, _ in effects.headers]
    applied += [{"call": "setVariable", "key": key} for key in effects.variables]
    if effects.status is not None:
        applied.append({"call": "response.status", "status": effects.status})
    if effects.redirect is not None:
        applied.append({"call": "redirect", "url": effects.redirect.url,
                        "status": effects.redirect.status})
    if effects.response is not None:
        applied.append({"call": "response", "content_type": effects.response.content_type})
    return applied


def request_record(
    events: PageEvents, *, brand: str, path: str, method: str, status: int
) -> RequestRecord:
    items, text = within_budget(events.items)
    return RequestRecord(
        request_id=events.request_id,
        brand=brand,
        path=clip(path),
        method=method,
        status=status,
        started_at=events.started_at,
        duration_ms=events.elapsed_ms(),
        error=events.has_error,
        event_count=len(items),
        outcome=events.outcome,
        events=items,
        events_json=text,
    )


def within_budget(items: list[dict[str, Any]], budget: int = MAX_RECORD_BYTES
                  ) -> tuple[list[dict[str, Any]], str]:
    """The events, or — when their JSON passes `budget` bytes — the events with the largest
    replaced by a `truncated` note naming the type and size, until the rest fits; and their
    JSON text (encoded once: the store writes this text)."""
    text = _encode(items)
    if len(text) * 4 <= budget or len(text.encode()) <= budget:  # 4: UTF-8's longest character
        return items, text
    sizes = [len(_json(event)) for event in items]
    total = sum(sizes) + len(items) + 1
    if total <= budget:
        return items, text
    kept = list(items)
    for index in sorted(range(len(items)), key=sizes.__getitem__, reverse=True):
        stub = {"type": "truncated", "original_type": items[index].get("type"),
                "bytes": sizes[index], "at_ms": items[index].get("at_ms")}
        kept[index] = stub
        total += len(_json(stub)) - sizes[index]
        if total <= budget:
            break
    return kept, _encode(kept)


def _json(event: dict[str, Any]) -> bytes:
    return _encode(event).encode()


def add_source_lines(items: list[dict[str, Any]],
                     source_line: Callable[[str, int], str | None]) -> None:
    """Give every error with a file and a line its `source_line` (that line of the file, as
    the site has it now), so the debug window shows it even after the file changes."""
    for event in items:
        for error in (event, event.get("error")):
            if not isinstance(error, dict) or "message" not in error:
                continue
            file, line = error.get("file"), error.get("line")
            if isinstance(file, str) and isinstance(line, int):
                text = source_line(file, line)
                if text is not None:
                    error["source_line"] = clip(text, MAX_SOURCE_LINE_CHARS)


def error_fields(error: BaseException) -> dict[str, Any]:
    if isinstance(error, SourceError):
        return {
            "message": clip(error.message),
            "file": error.filename,
            "line": error.line,
            "column": error.column,
        }
    return {"message": clip(str(error) or type(error).__name__)}
