"""What every store does the same way with page events: write them in batches, keep them in
memory while the store cannot take them, and wake the debug window's live feed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from funnelrun.errors import StoreError
from funnelrun.store.base import RequestRecord

logger = logging.getLogger("funnelrun.store")

# Page events wait at most this long, or for this many more, to be written together: one write
# per request was the largest store cost under load. Reading them writes them first.
RECORD_DELAY_S = 0.1
RECORD_BATCH = 64
# While the store cannot take them (Redis down, disk full) they wait in memory, this many at
# most (the oldest are dropped first), and a write is tried again this often.
RECORD_BACKLOG = 1000
RECORD_RETRY_S = 1.0

T = TypeVar("T")


def events_json(record: RequestRecord) -> str:
    """A record's events as compact JSON text (the writer's own, when it passed it)."""
    if record.events_json is not None:
        return record.events_json
    try:
        return json.dumps(record.events, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"the events of request {record.request_id} are not JSON: {exc}", reason="store_value"
        ) from exc


class Feed:
    """Wakes whoever follows new records (the debug window's live view) when some were written.
    Waiting is bounded, so a follower that misses a wake-up (another process wrote) asks again
    after `timeout_s` anyway."""

    def __init__(self) -> None:
        self._written = asyncio.Event()

    def wake(self) -> None:
        self._written.set()
        self._written = asyncio.Event()

    async def wait(self, timeout_s: float) -> None:
        written = self._written
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(written.wait(), timeout_s)


class RecordQueue(Generic[T]):
    """Records (encoded by the store: rows, field lists) waiting to be written by `write`.

    A record is written within RECORD_DELAY_S, or at once when RECORD_BATCH are waiting; before
    any read of page events (`flush`), and at `close`. A failed write keeps its records (up to
    RECORD_BACKLOG) and is tried again every RECORD_RETRY_S, logging once per outage, so a
    store that comes back gets the events of the requests served meanwhile, errors included.
    """

    def __init__(self, write: Callable[[list[T]], Awaitable[None]], *, where: str,
                 feed: Feed | None = None) -> None:
        self._write = write
        self._where = where  # for log lines: the store, without any password
        self._feed = feed
        self._pending: list[T] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()
        self._failing = False
        self._dropped = 0

    def __len__(self) -> int:
        return len(self._pending)

    async def add(self, record: T) -> None:
        self._pending.append(record)
        self._trim()
        if len(self._pending) >= RECORD_BATCH and not self._failing:
            await self._flush_logged()
        else:
            self._schedule(RECORD_RETRY_S if self._failing else RECORD_DELAY_S)

    async def flush(self) -> None:
        """Write what waits now; a StoreError is raised (the records stay queued)."""
        records, self._pending = self._pending, []
        if not records:
            return
        try:
            await self._write(records)
        except BaseException:
            self._pending[:0] = records
            self._trim()
            raise
        if self._failing:
            self._failing = False
            logger.warning("page events written again to %s (%d requests' worth waited%s)",
                           self._where, len(records),
                           f"; {self._dropped} dropped" if self._dropped else "")
            self._dropped = 0
        if self._feed is not None:
            self._feed.wake()

    async def close(self) -> None:
        """Write what waits, one last try (a failure is logged: the records are lost)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await asyncio.gather(*self._flushes, return_exceptions=True)
        try:
            await self.flush()
        except StoreError:
            logger.warning("page events of %d requests not recorded in %s",
                           len(self._pending), self._where, exc_info=True)
            self._pending = []

    def _trim(self) -> None:
        """Keep the newest RECORD_BACKLOG records, counting those dropped."""
        extra = len(self._pending) - RECORD_BACKLOG
        if extra > 0:
            del self._pending[:extra]
            self._dropped += extra

    def _schedule(self, delay_s: float) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(delay_s, self._flush_later)

    def _flush_later(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self._flush_logged())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush_logged(self) -> None:
        try:
            await self.flush()
        except StoreError as exc:
            if not self._failing:
                self._failing = True
                logger.warning("page events cannot be written to %s (%s); %d requests' worth "
                               "wait in memory (at most %d) and are tried again every %g s",
                               self._where, exc.message, len(self._pending), RECORD_BACKLOG,
                               RECORD_RETRY_S)
            if self._pending:
                self._schedule(RECORD_RETRY_S)
