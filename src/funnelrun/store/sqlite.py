"""The SQLite store: one database file shared by every worker process on one machine."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from funnelrun.errors import StoreError
from funnelrun.store import sqlite_ops as ops
from funnelrun.store.base import (
    Clock,
    Cursor,
    RequestRecord,
    RequestSummary,
    SaveResult,
    SessionWrite,
    StoredSession,
)
from funnelrun.store.recording import Feed, RecordQueue
from funnelrun.store.sqlite_ops import Op, T

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 3.0  # how long a call waits for another process's write lock (then: 503)
PURGE_INTERVAL_S = 60.0  # a process purges expired rows at most this often
PURGE_BATCH = 500  # rows of each kind removed by one automatic purge
PRUNE_EVERY = 100  # record_request calls (per process) between two per-brand retention prunes
CHECKPOINT_EVERY = 500  # writes (per process) between two WAL checkpoints on the store thread
WAL_RESTART_PAGES = 2000  # a log this long is checkpointed holding writers off (they wait)
WAL_BACKSTOP_PAGES = 8000  # should the thread fall behind, the loop's connection checkpoints

# SQLite primary result codes (https://sqlite.org/rescode.html) by what they mean to a user.
_BUSY = {5, 6}  # BUSY, LOCKED
_CORRUPT = {11, 26}  # CORRUPT, NOTADB
_UNWRITABLE = {3, 8, 14, 23}  # PERM, READONLY, CANTOPEN, AUTH
_DISK = {10, 13}  # IOERR, FULL



class SQLiteStore:
    """The `Store` on one SQLite file, in WAL mode, shared by the worker processes.

    Calls run directly on the event loop with a connection that never waits for a lock: an
    uncontended call costs tens of microseconds (see README.md). When another process holds the
    write lock, the call is retried on the store's one thread with a connection that waits up to
    `busy_timeout_s`, so lock waits never block the loop. `offload=True` runs every call on that
    thread. One instance serves one event loop; open one per worker process, after forking.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Clock = time.time,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
        offload: bool = False,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._busy_timeout_s = busy_timeout_s
        self._offload = offload
        self._executor: ThreadPoolExecutor | None = None
        self._thread_conn: sqlite3.Connection | None = None
        self._next_purge = clock()
        self._records = 0
        self._writes = 0
        self._feed = Feed()  # only this process's records wake it: others' are found by polling
        self._queue: RecordQueue[tuple[Any, ...]] = RecordQueue(
            self._write_rows, where=str(self.path), feed=self._feed
        )
        _make_folder(self.path)
        try:
            self._conn: sqlite3.Connection | None = _open_loop_connection(
                self.path, busy_timeout_s
            )
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path, busy_timeout_s) from exc

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # -- sessions ----------------------------------------------------------------------------

    async def load_session(self, session_id: str) -> StoredSession | None:
        return await self._run(ops.load_session, self._clock(), session_id)

    async def save_session(self, write: SessionWrite) -> SaveResult:
        now = self._clock()
        try:
            return await self._run_write(now, ops.in_transaction, ops.save_session, now, write)
        except ops.SessionTooLarge:  # the transaction was rolled back: nothing written
            return SaveResult.TOO_LARGE
        except ops.SessionEnded:  # likewise
            return SaveResult.ENDED

    async def delete_session(self, session_id: str) -> None:
        await self._run_write(self._clock(), ops.in_transaction, ops.drop_session, session_id)

    # -- claim-once records and counters -----------------------------------------------------

    async def claim(self, key: str, ttl_s: float) -> bool:
        now = self._clock()
        return await self._run_write(now, ops.claim, now, key, ttl_s)

    async def increment(self, key: str, window_s: float, amount: int = 1) -> int:
        now = self._clock()
        return await self._run_write(
            now, ops.in_transaction, ops.increment, now, key, window_s, amount
        )

    async def count(self, key: str) -> int:
        return await self._run(ops.count, self._clock(), key)

    # -- page events -------------------------------------------------------------------------

    async def record_request(self, record: RequestRecord) -> None:
        """Queue the record: see `RecordQueue` for when it is written."""
        if self._conn is None:
            raise StoreError(f"the store on {self.path} is closed", reason="store_closed")
        await self._queue.add(ops.request_row(record))

    async def _write_rows(self, rows: list[tuple[Any, ...]]) -> None:
        before = self._records
        self._records += len(rows)
        prune = before // PRUNE_EVERY != self._records // PRUNE_EVERY
        await self._run_write(self._clock(), ops.in_transaction, ops.record_requests, rows, prune)

    async def wait_for_requests(self, timeout_s: float) -> None:
        await self._feed.wait(timeout_s)

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
        filters = {"brand": brand, "path": path, "status": status, "before": before,
                   "after": after}
        await self._queue.flush()
        return await self._run(ops.list_requests, self._clock(), filters, errors_only, limit)

    async def get_request(self, request_id: str) -> RequestRecord | None:
        await self._queue.flush()
        return await self._run(ops.get_request, self._clock(), request_id)

    async def ping(self) -> None:
        await self._run(ops.ping)

    # -- upkeep ------------------------------------------------------------------------------

    async def purge(self) -> None:
        await self._queue.flush()
        now = self._clock()
        await self._run_on_thread(ops.in_transaction, ops.prune_all_brands)
        while await self._run_on_thread(ops.in_transaction, ops.purge_batch, now, PURGE_BATCH):
            pass

    async def close(self) -> None:
        if self._conn is not None:
            await self._queue.close()
        conn, self._conn = self._conn, None
        if conn is None:
            return
        executor, self._executor = self._executor, None
        try:
            if executor is not None:
                await asyncio.get_running_loop().run_in_executor(executor, self._close_thread_conn)
                executor.shutdown()
            conn.close()
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path, self._busy_timeout_s) from exc

    # -- running calls -----------------------------------------------------------------------

    async def _run(self, op: Op[T], *args: Any) -> T:
        """`op(connection, *args)` on the loop, or on the store thread when the file is locked."""
        if self._conn is None:
            raise StoreError(f"the store on {self.path} is closed", reason="store_closed")
        if not self._offload:
            try:
                return op(self._conn, *args)
            except sqlite3.Error as exc:
                if _primary_code(exc) not in _BUSY:
                    raise _store_error(exc, self.path, self._busy_timeout_s) from exc
        return await self._run_on_thread(op, *args)

    async def _run_write(self, now: float, op: Op[T], *args: Any) -> T:
        """`_run` a write, then the upkeep due: a WAL checkpoint now and then, a purge batch."""
        result = await self._run(op, *args)
        if self._conn is None:  # closed meanwhile
            return result
        self._writes += 1
        if self._writes % CHECKPOINT_EVERY == 0:
            self._store_thread().submit(self._checkpoint)
        if now >= self._next_purge:
            self._next_purge = now + PURGE_INTERVAL_S
            try:
                await self._run_on_thread(ops.in_transaction, ops.purge_batch, now, PURGE_BATCH)
            except StoreError:
                logger.warning("purging expired rows from %s failed", self.path, exc_info=True)
        return result

    async def _run_on_thread(self, op: Op[T], *args: Any) -> T:
        if self._conn is None:
            raise StoreError(f"the store on {self.path} is closed", reason="store_closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._store_thread(), self._call_on_thread, op, args)
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path, self._busy_timeout_s) from exc

    def _store_thread(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="funnelrun-store")
        return self._executor

    def _call_on_thread(self, op: Op[T], args: tuple[Any, ...]) -> T:
        if self._thread_conn is None:
            self._thread_conn = _connect(self.path, self._busy_timeout_s)
        return op(self._thread_conn, *args)

    def _close_thread_conn(self) -> None:
        if self._thread_conn is not None:
            self._thread_conn.close()
            self._thread_conn = None

    def _checkpoint(self) -> None:
        """Copy the write-ahead log into the database, on the store thread (not awaited)."""
        try:
            self._call_on_thread(ops.checkpoint_wal, (WAL_RESTART_PAGES,))
        except sqlite3.Error:
            logger.warning("checkpointing %s failed", self.path, exc_info=True)


# -- connections and errors --------------------------------------------------------------------


def _make_folder(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder {path.parent} for the state database {path}: "
            f"{exc.strerror or exc}",
            reason="store_unwritable",
        ) from exc


def _connect(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
    )
    try:
        _use_wal(conn, path, busy_timeout_s)
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _open_loop_connection(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """The connection used on the event loop, on a database with an up-to-date schema."""
    conn = _connect(path, busy_timeout_s)
    try:
        ops.create_schema(conn, path)
        # On the loop: never wait for a lock; leave checkpoints (fsync) to the store thread,
        # unless the log grows past the backstop.
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_BACKSTOP_PAGES}")
    except BaseException:
        conn.close()
        raise
    return conn


def _use_wal(conn: sqlite3.Connection, path: Path, busy_timeout_s: float) -> None:
    """Switch the file to write-ahead logging (it stays so), retrying while another process
    does the same: SQLite answers that race with "locked" at once, without waiting."""
    deadline = time.monotonic() + busy_timeout_s
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            break
        except sqlite3.OperationalError as exc:
            if _primary_code(exc) not in _BUSY or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)
    if mode != "wal":
        logger.warning(
            "the state database %s cannot use write-ahead logging (journal mode %s): "
            "worker processes will wait on each other more", path, mode,
        )


def _primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def _store_error(exc: sqlite3.Error, path: Path, busy_timeout_s: float) -> StoreError:
    """The StoreError a user can act on for one sqlite3 error."""
    code = _primary_code(exc)
    if code in _CORRUPT:
        return StoreError(
            f"the state database {path} is corrupt or not an SQLite database ({exc}); "
            "move it away and funnelrun will start a new one",
            reason="store_corrupt",
        )
    if code in _UNWRITABLE:
        return StoreError(
            f"cannot open or write the state database {path} ({exc}); "
            "check that the file and its folder are writable",
            reason="store_unwritable",
        )
    if code in _BUSY:
        return StoreError(
            f"the state database {path} is locked by another process (waited up to "
            f"{busy_timeout_s:g} s: {exc})",
            reason="store_busy",
        )
    if code in _DISK:
        return StoreError(f"disk error on the state database {path} ({exc})", reason="store_disk")
    return StoreError(f"state database {path}: {exc}", reason="store")
