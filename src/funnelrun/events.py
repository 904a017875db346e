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
from typing import Any

from .errors import SourceError
from .store import RequestRecord

logger = logging.getLogger("funnelrun.events")

MAX_WARNINGS = 100  # warning events kept per request; the rest are counted
MAX_TEXT_CHARS = 2048  # a path, host or reason longer than this is clipped where it is stored
MAX_RECORD_BYTES = 256 * 1024  # a request's events, as JSON, in the store


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

    def respond(self, status: int) -> None:
        """The closing `response` event: status, duration, and warnings not kept."""
        dropped = self.warnings - MAX_WARNINGS
        extra = {"warnings_dropped": dropped} if dropped > 0 else {}
        self.add("response", status=status, duration_ms=self.elapsed_ms(), **extra)


def request_record(
    events: PageEvents, *, brand: str, path: str, method: str, status: int
) -> RequestRecord:
    return RequestRecord(
        request_id=events.request_id,
        brand=brand,
        path=clip(path),
        method=method,
        status=status,
        started_at=events.started_at,
        duration_ms=events.elapsed_ms(),
        error=events.has_error,
        events=within_budget(events.items),
    )


def within_budget(items: list[dict[str, Any]], budget: int = MAX_RECORD_BYTES) -> list[dict[str, Any]]:
    """The events, or — when their JSON passes `budget` bytes — the events with the largest
    replaced by a `truncated` note naming the type and size, until the rest fits."""
    sizes = [len(_json(event)) for event in items]
    total = sum(sizes) + len(items) + 1
    if total <= budget:
        return items
    kept = list(items)
    for index in sorted(range(len(items)), key=sizes.__getitem__, reverse=True):
        stub = {"type": "truncated", "original_type": items[index].get("type"),
                "bytes": sizes[index], "at_ms": items[index].get("at_ms")}
        kept[index] = stub
        total += len(_json(stub)) - sizes[index]
        if total <= budget:
            break
    return kept


def _json(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def error_fields(error: BaseException) -> dict[str, Any]:
    if isinstance(error, SourceError):
        return {
            "message": clip(error.message),
            "file": error.filename,
            "line": error.line,
            "column": error.column,
        }
    return {"message": clip(str(error) or type(error).__name__)}
