"""The state store: `open_store(url, site_root)` picks the backend a store URL names: SQLite
for one machine, Redis for several."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from funnelrun.errors import StoreError
from funnelrun.store.base import (
    REQUEST_LIMIT,
    REQUEST_MAX_AGE_S,
    Clock,
    Cursor,
    RequestRecord,
    RequestSummary,
    SaveResult,
    SessionWrite,
    Store,
    StoredSession,
)
from funnelrun.store.redis import RedisStore, redacted_url
from funnelrun.store.sqlite import SQLiteStore

__all__ = [
    "REQUEST_LIMIT",
    "REQUEST_MAX_AGE_S",
    "Clock",
    "Cursor",
    "RedisStore",
    "RequestRecord",
    "RequestSummary",
    "SQLiteStore",
    "SaveResult",
    "SessionWrite",
    "Store",
    "StoredSession",
    "open_store",
    "redacted_url",
    "sqlite_path",
]

SUPPORTED = (
    "sqlite (sqlite:///relative/to/site.db or sqlite:////absolute/path.db), "
    "redis and rediss (redis://[:password@]host[:port][/db])"
)


def open_store(url: str, site_root: str | Path, *, clock: Clock = time.time) -> Store:
    """The store a `[store] url` setting names; relative SQLite paths are under `site_root`.

    Open it in each worker process (after forking): a store is not shared between processes.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme == "sqlite":
        return SQLiteStore(sqlite_path(url, site_root), clock=clock)
    if scheme in ("redis", "rediss"):
        return RedisStore(url, clock=clock)
    if not scheme:
        raise StoreError(
            f"the store URL {redacted_url(url)!r} has no scheme; supported: {SUPPORTED}",
            reason="store_url",
        )
    # Only the scheme is named: the rest of a URL may hold a password.
    raise StoreError(
        f"unsupported store URL scheme {scheme!r}; supported: {SUPPORTED}", reason="store_url"
    )


def sqlite_path(url: str, site_root: str | Path) -> Path:
    """The file a `sqlite:` URL names: `sqlite:///rel/path.db` is relative to `site_root`,
    `sqlite:////abs/path.db` absolute."""
    parts = urlsplit(url)
    if parts.netloc or parts.query or parts.fragment or not parts.path.startswith("/"):
        raise StoreError(
            f"malformed SQLite store URL {url!r}; expected "
            "sqlite:///relative/to/site.db or sqlite:////absolute/path.db",
            reason="store_url",
        )
    path = Path(unquote(parts.path[1:]))
    if not path.name:
        raise StoreError(
            f"the SQLite store URL {url!r} names no file; expected "
            "sqlite:///relative/to/site.db or sqlite:////absolute/path.db",
            reason="store_url",
        )
    return path if path.is_absolute() else Path(site_root).absolute() / path
