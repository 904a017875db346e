"""The state store's interface: sessions, claim-once records, counters and page events."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

Clock = Callable[[], float]  # epoch seconds, like time.time

REQUEST_LIMIT = 1000  # page-event records kept per brand (SPEC §7)
REQUEST_MAX_AGE_S = 24 * 3600  # and none older than this


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A live session as stored: its items are JSON text, keyed by session key."""

    id: str
    created_at: float
    expires_at: float
    items: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SessionWrite:
    """What one request changed in one session; see `Store.save_session`.

    `changes` maps key to JSON text, or to None to delete the key. With `replaces` the id was
    regenerated: the old session's items (all, or only those in `keep`) move to `session_id`.
    `created_at` / `expires_at` apply only when this write creates the session. With
    `max_bytes`, the session (keys and JSON texts, in UTF-8 bytes) must not grow past it.
    """

    session_id: str
    created_at: float
    expires_at: float
    changes: dict[str, str | None] = field(default_factory=dict)
    create: bool = False
    replaces: str | None = None
    keep: frozenset[str] | None = None
    max_bytes: int | None = None


class SaveResult(enum.Enum):
    """How a `SessionWrite` ended. Nothing is written unless it is SAVED."""

    SAVED = "saved"
    ENDED = "ended"  # the session expired, or a concurrent regeneration removed it
    TOO_LARGE = "too_large"  # the session would have grown past `max_bytes`


@dataclass(frozen=True, slots=True)
class RequestSummary:
    """One recorded request without its events, as listed in the admin UI."""

    request_id: str
    brand: str
    path: str
    method: str
    status: int
    started_at: float  # epoch seconds
    duration_ms: float
    error: bool  # the request had a script or template error
    event_count: int
    outcome: str | None = None  # the script's outcome (ok, error, timeout...); None: no script

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.started_at, self.request_id)


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """A place in the list of recorded requests, which is ordered by start time and then by
    request id (two workers can start requests in the same microsecond)."""

    started_at: float
    request_id: str


@dataclass(frozen=True, slots=True)
class RequestRecord(RequestSummary):
    """One request's page events (SPEC §7): its summary, and the events themselves. A writer
    that has them as JSON text already (compact, UTF-8) passes it as `events_json`, so the
    store need not encode them again; read back, it is None."""

    events: list[dict[str, Any]] = field(default_factory=list)
    events_json: str | None = field(default=None, compare=False, repr=False)


class Store(Protocol):
    """Where sessions, handoff replay records, quotas and page events live.

    Every method raises only `StoreError`. Times are epoch seconds from the store's clock.
    """

    async def load_session(self, session_id: str) -> StoredSession | None:
        """The session, or None when it does not exist or has expired."""
        ...

    async def save_session(self, write: SessionWrite) -> SaveResult:
        """Apply one request's session write in one transaction, all of it or nothing.

        - `replaces` set: create `session_id`, move the old session's items over (only those
          in `keep` when given), delete the old session, then apply `changes`. When the old
          session is gone, the new one holds only `changes`.
        - else, the session exists and is live: apply `changes` key by key, so concurrent
          requests writing different keys never lose each other's writes.
        - else, `create`: create the session with `changes`.
        - else (expired, or removed by a concurrent regeneration): write nothing, ENDED.

        The size rule is checked inside the transaction, on the session as it is then (other
        requests' writes included): past `max_bytes` nothing is written, TOO_LARGE.
        """
        ...

    async def delete_session(self, session_id: str) -> None: ...

    async def claim(self, key: str, ttl_s: float) -> bool:
        """Insert `key` if absent: True exactly once while the record lives (`ttl_s`)."""
        ...

    async def increment(self, key: str, window_s: float, amount: int = 1) -> int:
        """Add to a fixed-window counter and return its value.

        The first increment starts the window; after `window_s` the counter starts again.
        """
        ...

    async def count(self, key: str) -> int:
        """A counter's value, 0 when absent or its window is over."""
        ...

    async def record_request(self, record: RequestRecord) -> None:
        """Keep one request's events (a second record with the same id replaces the first)."""
        ...

    async def list_requests(
        self,
        *,
        brand: str | None = None,
        path: str | None = None,
        status: int | None = None,
        errors_only: bool = False,
        limit: int = 100,
        before: Cursor | None = None,
        after: Cursor | None = None,
    ) -> list[RequestSummary]:
        """Recorded requests, newest first (by `Cursor` order). `before` keeps those before a
        cursor. `after` keeps those after one and takes the `limit` *oldest* of them (still
        listed newest first), so that a follower asking again from the newest never skips any."""
        ...

    async def get_request(self, request_id: str) -> RequestRecord | None: ...

    async def wait_for_requests(self, timeout_s: float) -> None:
        """Return when requests may have been recorded since the call, or after `timeout_s`.

        For a follower of new records (the debug window's live view), which then lists them:
        a wake-up is a hint, never a promise, so a follower also asks after each timeout."""
        ...

    async def ping(self) -> None:
        """Raise StoreError unless the store answers now (start-up checks it)."""
        ...

    async def purge(self) -> None:
        """Remove what has expired and what retention no longer keeps.

        Stores also do this by themselves now and then; this runs it to the end, now.
        """
        ...

    async def close(self) -> None: ...
