"""The debug window's questions and answers as data: list filters and cursors read from a query
string (every bad value named), and the JSON shapes of the API (README "The debug window")."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import AdminQueryError
from ..store import Cursor, RequestRecord, RequestSummary

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_FILTER_CHARS = 2048  # a brand id or path longer than any stored one matches nothing anyway
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
_CURSOR_TIME_CHARS = frozenset("0123456789.e+-")  # as repr() writes a float
_REQUEST_ID_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_")


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Which recorded requests to list: filters, a page size, and where to start."""

    brand: str | None = None
    path: str | None = None
    status: int | None = None
    errors_only: bool = False
    limit: int = DEFAULT_LIMIT
    before: Cursor | None = None
    after: Cursor | None = None

    def store_arguments(self) -> dict[str, Any]:
        return {"brand": self.brand, "path": self.path, "status": self.status,
                "errors_only": self.errors_only, "limit": self.limit, "before": self.before,
                "after": self.after}

    def filters(self) -> dict[str, str]:
        """The filters and page size as query parameters (for links that keep them)."""
        given = {"brand": self.brand, "path": self.path,
                 "status": None if self.status is None else str(self.status),
                 "errors": "1" if self.errors_only else None,
                 "limit": None if self.limit == DEFAULT_LIMIT else str(self.limit)}
        return {name: value for name, value in given.items() if value is not None}


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    """A ListQuery from query parameters `brand path status errors limit before after`; an
    empty value is no filter. AdminQueryError names the first bad parameter."""
    return ListQuery(
        brand=_text(params, "brand"),
        path=_text(params, "path"),
        status=_status(params.get("status", "")),
        errors_only=_flag(params.get("errors", "")),
        limit=_limit(params.get("limit", "")),
        before=_cursor_param(params, "before"),
        after=_cursor_param(params, "after"),
    )


def cursor_text(cursor: Cursor) -> str:
    """`<started_at>~<request_id>`: opaque to clients, exact for the store."""
    return f"{cursor.started_at!r}~{cursor.request_id}"


def parse_cursor(text: str) -> Cursor:
    # An empty request id is the start of an instant: before every request started in it.
    time_text, tilde, request_id = text.partition("~")
    if not (tilde and 0 < len(time_text) <= 32 and _CURSOR_TIME_CHARS.issuperset(time_text)
            and len(request_id) <= 64 and _REQUEST_ID_CHARS.issuperset(request_id)):
        raise AdminQueryError("not a cursor this server gave out")
    try:
        started_at = float(time_text)
    except ValueError:
        raise AdminQueryError("not a cursor this server gave out") from None
    if not math.isfinite(started_at):
        raise AdminQueryError("not a cursor this server gave out")
    return Cursor(started_at, request_id)


# -- the API's JSON shapes ---------------------------------------------------------------------


def summary_json(summary: RequestSummary) -> dict[str, Any]:
    return {
        "request_id": summary.request_id,
        "time": iso_time(summary.started_at),
        "started_at": summary.started_at,
        "brand": summary.brand,
        "method": summary.method,
        "path": summary.path,
        "status": summary.status,
        "duration_ms": summary.duration_ms,
        "outcome": summary.outcome,
        "error": summary.error,
        "event_count": summary.event_count,
        "cursor": cursor_text(summary.cursor),
    }


def record_json(record: RequestRecord) -> dict[str, Any]:
    return {**summary_json(record), "events": record.events}


def list_json(query: ListQuery, summaries: list[RequestSummary]) -> dict[str, Any]:
    """`requests` newest first; `next`: the cursor for the older page (`before`), or null at
    the end; `newest`: the cursor to follow new requests from (`after`)."""
    full = len(summaries) >= query.limit
    return {
        "requests": [summary_json(summary) for summary in summaries],
        "next": cursor_text(summaries[-1].cursor) if full and query.after is None else None,
        "newest": cursor_text(summaries[0].cursor) if summaries else (
            None if query.after is None else cursor_text(query.after)),
    }


def iso_time(epoch_s: float) -> str:
    """`2026-12-06T06:50:12.345Z`."""
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- parameters --------------------------------------------------------------------------------


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name, "")
    if len(value) > MAX_FILTER_CHARS:
        raise AdminQueryError(f"{name}: longer than {MAX_FILTER_CHARS} characters")
    return value or None


def _status(text: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) == 3 and 100 <= int(text) <= 599):
        raise AdminQueryError(f"status: expected an HTTP status from 100 to 599, got {text[:20]!r}")
    return int(text)


def _flag(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise AdminQueryError(f"errors: expected 1 or 0, got {text[:20]!r}")


def _limit(text: str) -> int:
    if not text:
        return DEFAULT_LIMIT
    if not (text.isascii() and text.isdigit() and len(text) <= 4
            and 1 <= int(text) <= MAX_LIMIT):
        raise AdminQueryError(f"limit: expected a number from 1 to {MAX_LIMIT}, got {text[:20]!r}")
    return int(text)


def _cursor_param(params: Mapping[str, str], name: str) -> Cursor | None:
    text = params.get(name, "")
    if not text:
        return None
    try:
        return parse_cursor(text)
    except AdminQueryError as exc:
        raise AdminQueryError(f"{name}: {exc.message}") from None
