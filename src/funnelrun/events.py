"""Page events: what happened during one request, for the debug window and `render --events`."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from .errors import SourceError
from .store import RequestRecord

logger = logging.getLogger("funnelrun.events")


def new_request_id() -> str:
    return secrets.token_hex(8)


class PageEvents:
    """The events of one request, in order, each stamped with milliseconds since it began."""

    def __init__(self, request_id: str | None = None) -> None:
        self.request_id = request_id or new_request_id()
        self.started_at = time.time()
        self._start = time.perf_counter()
        self.items: list[dict[str, Any]] = []
        self.has_error = False

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self._start) * 1000, 3)

    def add(self, kind: str, **data: Any) -> dict[str, Any]:
        event = {"type": kind, "at_ms": self.elapsed_ms(), **data}
        self.items.append(event)
        return event

    def warn(self, call: str, reason: str) -> None:
        """A refused action or a dropped write: names the call and the reason."""
        self.add("warning", call=call, reason=reason)
        logger.info("request %s: %s refused: %s", self.request_id, call, reason)

    def error(self, kind: str, error: BaseException, **data: Any) -> None:
        """An error the visitor does not see: recorded with its position when it has one."""
        self.has_error = True
        self.add(kind, **error_fields(error), **data)
        logger.warning("request %s: %s: %s", self.request_id, kind, error)


def request_record(
    events: PageEvents, *, brand: str, path: str, method: str, status: int
) -> RequestRecord:
    return RequestRecord(
        request_id=events.request_id,
        brand=brand,
        path=path,
        method=method,
        status=status,
        started_at=events.started_at,
        duration_ms=events.elapsed_ms(),
        error=events.has_error,
        events=events.items,
    )


def error_fields(error: BaseException) -> dict[str, Any]:
    if isinstance(error, SourceError):
        return {
            "message": error.message,
            "file": error.filename,
            "line": error.line,
            "column": error.column,
        }
    return {"message": str(error) or type(error).__name__}
