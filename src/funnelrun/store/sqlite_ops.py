"""The SQL of the SQLite store: its schema, and each operation as a plain function of a
connection (run on the event loop or on the store thread, see sqlite.py)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from funnelrun.errors import StoreError
from funnelrun.store.base import (
    REQUEST_LIMIT,
    REQUEST_MAX_AGE_S,
    Cursor,
    RequestRecord,
    RequestSummary,
    SaveResult,
    SessionWrite,
    StoredSession,
)
from funnelrun.store.recording import events_json

SCHEMA_VERSION = 2  # PRAGMA user_version of a database this module created

T = TypeVar("T")
Op = Callable[..., T]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY, created_at REAL NOT NULL, expires_at REAL NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at)",
    """CREATE TABLE IF NOT EXISTS session_items (
        session_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (session_id, key)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS claims (
        key TEXT PRIMARY KEY, expires_at REAL NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS claims_by_expiry ON claims (expires_at)",
    """CREATE TABLE IF NOT EXISTS counters (
        key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS counters_by_expiry ON counters (expires_at)",
    """CREATE TABLE IF NOT EXISTS requests (
        seq INTEGER PRIMARY KEY, request_id TEXT NOT NULL UNIQUE, brand TEXT NOT NULL,
        path TEXT NOT NULL, method TEXT NOT NULL, status INTEGER NOT NULL,
        started_at REAL NOT NULL, duration_ms REAL NOT NULL, error INTEGER NOT NULL,
        event_count INTEGER NOT NULL, events TEXT NOT NULL, outcome TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS requests_by_brand ON requests (brand, started_at)",
    "CREATE INDEX IF NOT EXISTS requests_by_time ON requests (started_at)",
)

# MIGRATIONS[n - 1] takes a database from version n to n + 1.
MIGRATIONS = (
    "ALTER TABLE requests ADD COLUMN outcome TEXT",  # 1 -> 2: the script's outcome, listed
)


def create_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Create the tables if missing; refuse a database made by a newer funnelrun."""
    in_transaction(conn, _create_tables, path)


def _create_tables(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the state database {path} has schema version {version}; this funnelrun "
            f"knows versions up to {SCHEMA_VERSION} (was it written by a newer release?)",
            reason="store_schema",
        )
    if version == 0:  # a new file
        for statement in SCHEMA:
            conn.execute(statement)
    for statement in MIGRATIONS[version - 1:] if version else ():
        conn.execute(statement)
    if version < SCHEMA_VERSION:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def in_transaction(conn: sqlite3.Connection, body: Op[T], *args: Any) -> T:
    """Run `body(conn, *args)` in one write transaction (the write lock taken up front)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = body(conn, *args)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def load_session(conn: sqlite3.Connection, now: float, session_id: str) -> StoredSession | None:
    rows = conn.execute(
        "SELECT s.created_at, s.expires_at, i.key, i.value FROM sessions AS s"
        " LEFT JOIN session_items AS i ON i.session_id = s.id"
        " WHERE s.id = ? AND s.expires_at > ?",
        (session_id, now),
    ).fetchall()
    if not rows:
        return None
    items = {key: value for _, _, key, value in rows if key is not None}
    return StoredSession(session_id, rows[0][0], rows[0][1], items)


class SessionTooLarge(Exception):
    """Raised inside a save's transaction to roll it back: the session grew past its limit."""


class SessionEnded(Exception):
    """Raised inside a save's transaction to roll it back: the session expired or was replaced."""


# The session's size as funnelrun.session counts it: UTF-8 bytes of keys and values.
_SESSION_BYTES = (
    "SELECT COALESCE(SUM(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))), 0)"
    " FROM session_items WHERE session_id = ?"
)


_EXPIRY = "SELECT expires_at FROM sessions WHERE id = ?"
_EXPIRY_AND_BYTES = f"SELECT expires_at, ({_SESSION_BYTES}) FROM sessions WHERE id = ?"


def save_session(conn: sqlite3.Connection, now: float, write: SessionWrite) -> SaveResult:
    """Run in a transaction (`in_transaction`); raises SessionTooLarge or SessionEnded to roll
    it back."""
    if write.replaces is not None:
        _regenerate(conn, now, write.replaces, write)
    elif write.create:
        _create(conn, now, write)
    else:
        return _update(conn, now, write)  # the usual save: a stored session's changes
    if write.max_bytes is not None and _grows(write) and \
            _session_bytes(conn, write.session_id) > write.max_bytes:
        raise SessionTooLarge(write.session_id)
    return SaveResult.SAVED


def _update(conn: sqlite3.Connection, now: float, write: SessionWrite) -> SaveResult:
    """Write the changes first, then check in one query that the session is still there and
    its size (one statement fewer): one that ended meanwhile (rare) rolls them back."""
    _apply_changes(conn, write.session_id, write.changes)
    limit = write.max_bytes if _grows(write) else None  # a save that only deletes can't grow
    if limit is None:
        row = conn.execute(_EXPIRY, (write.session_id,)).fetchone()
    else:
        row = conn.execute(_EXPIRY_AND_BYTES, (write.session_id, write.session_id)).fetchone()
    if row is None or row[0] <= now:
        raise SessionEnded(write.session_id)
    if limit is not None and row[1] > limit:
        raise SessionTooLarge(write.session_id)
    return SaveResult.SAVED


def _create(conn: sqlite3.Connection, now: float, write: SessionWrite) -> None:
    """A new session's first save; an expired one of the same id, not yet purged, goes first."""
    row = conn.execute("SELECT expires_at FROM sessions WHERE id = ?", (write.session_id,)).fetchone()
    if row is None or row[0] <= now:
        if row is not None:
            drop_session(conn, write.session_id)  # expired, not yet purged
        _insert_session(conn, write)
    _apply_changes(conn, write.session_id, write.changes)


def _grows(write: SessionWrite) -> bool:
    return any(text is not None for text in write.changes.values())


def _session_bytes(conn: sqlite3.Connection, session_id: str) -> int:
    return int(conn.execute(_SESSION_BYTES, (session_id,)).fetchone()[0])


def _regenerate(conn: sqlite3.Connection, now: float, old_id: str, write: SessionWrite) -> None:
    """Create the new id, move the old session's (kept) items over, drop the old id."""
    new_id = write.session_id
    row = conn.execute("SELECT expires_at FROM sessions WHERE id = ?", (old_id,)).fetchone()
    _insert_session(conn, write)
    if row is not None and row[0] > now:
        if write.keep is None:
            conn.execute(
                "UPDATE session_items SET session_id = ? WHERE session_id = ?", (new_id, old_id)
            )
        else:
            conn.executemany(
                "UPDATE session_items SET session_id = ? WHERE session_id = ? AND key = ?",
                [(new_id, old_id, key) for key in sorted(write.keep)],
            )
    drop_session(conn, old_id)
    _apply_changes(conn, new_id, write.changes)


def _insert_session(conn: sqlite3.Connection, write: SessionWrite) -> None:
    conn.execute(
        "INSERT INTO sessions (id, created_at, expires_at) VALUES (?, ?, ?)",
        (write.session_id, write.created_at, write.expires_at),
    )


def _apply_changes(
    conn: sqlite3.Connection, session_id: str, changes: dict[str, str | None]
) -> None:
    deleted = [(session_id, key) for key, text in changes.items() if text is None]
    written = [(session_id, key, text) for key, text in changes.items() if text is not None]
    if deleted:
        conn.executemany(
            "DELETE FROM session_items WHERE session_id = ? AND key = ?", deleted
        )
    if written:
        conn.executemany(
            "INSERT INTO session_items (session_id, key, value) VALUES (?, ?, ?)"
            " ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value",
            written,
        )


def drop_session(conn: sqlite3.Connection, session_id: str) -> None:
    conn.execute("DELETE FROM session_items WHERE session_id = ?", (session_id,))
    conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))


def claim(conn: sqlite3.Connection, now: float, key: str, ttl_s: float) -> bool:
    # One statement, so one atomic write: inserts, or revives an expired record, or does nothing.
    cursor = conn.execute(
        "INSERT INTO claims (key, expires_at) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at"
        " WHERE claims.expires_at <= ?",
        (key, now + ttl_s, now),
    )
    return cursor.rowcount == 1


def increment(
    conn: sqlite3.Connection, now: float, key: str, window_s: float, amount: int
) -> int:
    conn.execute(
        "INSERT INTO counters (key, value, expires_at) VALUES (:key, :amount, :expires)"
        " ON CONFLICT (key) DO UPDATE SET"
        " value = CASE WHEN counters.expires_at <= :now THEN excluded.value"
        " ELSE counters.value + excluded.value END,"
        " expires_at = CASE WHEN counters.expires_at <= :now THEN excluded.expires_at"
        " ELSE counters.expires_at END",
        {"key": key, "amount": amount, "expires": now + window_s, "now": now},
    )
    row = conn.execute("SELECT value FROM counters WHERE key = ?", (key,)).fetchone()
    return int(row[0])


def count(conn: sqlite3.Connection, now: float, key: str) -> int:
    row = conn.execute(
        "SELECT value FROM counters WHERE key = ? AND expires_at > ?", (key, now)
    ).fetchone()
    return 0 if row is None else row[0]


# -- page events -------------------------------------------------------------------------------

_SUMMARY_COLUMNS = (
    "request_id, brand, path, method, status, started_at, duration_ms, error, event_count,"
    " outcome"
)


def request_row(record: RequestRecord) -> tuple[Any, ...]:
    events = events_json(record)
    return (
        record.request_id, record.brand, record.path, record.method, record.status,
        record.started_at, record.duration_ms, int(record.error), record.event_count,
        record.outcome, events,
    )


def record_requests(conn: sqlite3.Connection, rows: list[tuple[Any, ...]], prune: bool) -> None:
    """Write request rows (request_row's), in order; with `prune`, apply their brands'
    retention too."""
    conn.executemany(
        f"INSERT OR REPLACE INTO requests ({_SUMMARY_COLUMNS}, events)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    if prune:
        for brand in sorted({row[1] for row in rows}):
            _prune_brand(conn, brand)


def _prune_brand(conn: sqlite3.Connection, brand: str) -> None:
    """Keep the newest REQUEST_LIMIT requests of one brand."""
    conn.execute(
        "DELETE FROM requests WHERE seq IN (SELECT seq FROM requests WHERE brand = ?"
        " ORDER BY started_at DESC, seq DESC LIMIT -1 OFFSET ?)",
        (brand, REQUEST_LIMIT),
    )


def prune_all_brands(conn: sqlite3.Connection) -> None:
    brands = [row[0] for row in conn.execute("SELECT DISTINCT brand FROM requests")]
    for brand in brands:
        _prune_brand(conn, brand)


def list_requests(
    conn: sqlite3.Connection,
    now: float,
    filters: dict[str, Any],
    errors_only: bool,
    limit: int,
) -> list[RequestSummary]:
    clauses: list[str] = ["started_at >= ?"]
    params: list[Any] = [now - REQUEST_MAX_AGE_S]
    for column in ("brand", "path", "status"):
        if filters[column] is not None:
            clauses.append(f"{column} = ?")
            params.append(filters[column])
    for key, sign in (("before", "<"), ("after", ">")):
        cursor: Cursor | None = filters[key]
        if cursor is not None:
            clauses.append(f"(started_at {sign} ? OR (started_at = ? AND request_id {sign} ?))")
            params += [cursor.started_at, cursor.started_at, cursor.request_id]
    if errors_only:
        clauses.append("error = 1")
    order = "ASC" if filters["after"] is not None else "DESC"  # after: the oldest that follow
    rows = conn.execute(
        f"SELECT {_SUMMARY_COLUMNS} FROM requests WHERE {' AND '.join(clauses)}"
        f" ORDER BY started_at {order}, request_id {order} LIMIT ?",
        (*params, max(limit, 0)),
    )
    summaries = [_summary(row) for row in rows]
    return summaries[::-1] if order == "ASC" else summaries


def _summary(row: Iterable[Any]) -> RequestSummary:
    return RequestSummary(*_summary_fields(row))


def _summary_fields(
    row: Iterable[Any],
) -> tuple[str, str, str, str, int, float, float, bool, int, str | None]:
    """A row of _SUMMARY_COLUMNS as RequestSummary's fields, in order."""
    request_id, brand, path, method, status, started_at, duration_ms, error, count, outcome = row
    return (request_id, brand, path, method, status, started_at, duration_ms, bool(error), count,
            outcome)


def get_request(conn: sqlite3.Connection, now: float, request_id: str) -> RequestRecord | None:
    row = conn.execute(
        f"SELECT {_SUMMARY_COLUMNS}, events FROM requests WHERE request_id = ? AND started_at >= ?",
        (request_id, now - REQUEST_MAX_AGE_S),
    ).fetchone()
    if row is None:
        return None
    return RequestRecord(*_summary_fields(row[:-1]), events=json.loads(row[-1]))


def ping(conn: sqlite3.Connection) -> None:
    conn.execute("SELECT count(*) FROM sessions").fetchone()


def checkpoint_wal(conn: sqlite3.Connection, restart_pages: int) -> None:
    """Copy the write-ahead log into the database without holding writers off; should a steady
    stream of writes keep the log from restarting, hold them off (RESTART) once it is long."""
    _, log_pages, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    if log_pages >= restart_pages:
        conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()


# -- purging -----------------------------------------------------------------------------------


def purge_batch(conn: sqlite3.Connection, now: float, batch: int) -> int:
    """Remove up to `batch` rows of each kind that have expired; the number removed."""
    expired = conn.execute(
        "SELECT id FROM sessions WHERE expires_at <= ? LIMIT ?", (now, batch)
    ).fetchall()
    conn.executemany("DELETE FROM session_items WHERE session_id = ?", expired)
    conn.executemany("DELETE FROM sessions WHERE id = ?", expired)
    removed = len(expired)
    for table, key in (("claims", "key"), ("counters", "key")):
        removed += conn.execute(
            f"DELETE FROM {table} WHERE {key} IN"
            f" (SELECT {key} FROM {table} WHERE expires_at <= ? LIMIT ?)",
            (now, batch),
        ).rowcount
    removed += conn.execute(
        "DELETE FROM requests WHERE seq IN (SELECT seq FROM requests WHERE started_at < ? LIMIT ?)",
        (now - REQUEST_MAX_AGE_S, batch),
    ).rowcount
    return removed
