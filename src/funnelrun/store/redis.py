"""The Redis store: one Redis server shared by every worker process of every machine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Awaitable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from funnelrun.errors import StoreError
from funnelrun.store import redis_lua as lua
from funnelrun.store.base import (
    REQUEST_LIMIT,
    REQUEST_MAX_AGE_S,
    Clock,
    Cursor,
    RequestRecord,
    RequestSummary,
    SaveResult,
    SessionWrite,
    StoredSession,
)
from funnelrun.store.recording import RECORD_BATCH, RECORD_RETRY_S, Feed, RecordQueue, events_json

logger = logging.getLogger("funnelrun.store")

T = TypeVar("T")

KEY_PREFIX = "funnelrun:"  # every key of the store; see redis_lua.py for the layout
# A visitor gets a 503 within 5 s when Redis is gone or hangs. A call waits at most
# POOL_WAIT_S for a pooled connection, CONNECT_TIMEOUT_S to connect and READ_TIMEOUT_S for each
# reply, and is tried once more on a fresh connection: CALL_TIMEOUT_S at worst. These are
# redis-py's own timeouts: an asyncio.timeout of ours around each call was 5 % of a worker's CPU
# samples under load (py-spy).
POOL_WAIT_S = 0.5
CONNECT_TIMEOUT_S = 0.5
READ_TIMEOUT_S = 1.5
CALL_TIMEOUT_S = POOL_WAIT_S + 2 * (CONNECT_TIMEOUT_S + READ_TIMEOUT_S)
POOL_SIZE = 64  # connections per worker process at most; more requests wait for one
LISTEN_POLL_S = 1.0  # the live feed's subscriber checks its connection this often

# A recorded request's summary, as fields of its hash, in RequestSummary's order.
SUMMARY_FIELDS = ("id", "brand", "path", "method", "status", "started_at", "duration_ms",
                  "error", "event_count", "outcome")

Arg = str | int  # an argument of a script call
RecordEntry = tuple[str, str, float, list[str]]  # id, brand, started_at, field/value pairs


class RedisStore:
    """The `Store` on a Redis server (`redis://` or `rediss://`, password and database number
    in the URL), through one pool of connections per worker process.

    Every operation that reads and writes is one Lua script (redis_lua.py), so it is atomic
    across workers and machines. One instance serves one event loop; open one per worker
    process, after forking. Redis Cluster is not supported: one server (or a primary with
    replicas) holds all the keys.
    """

    def __init__(self, url: str, *, clock: Clock = time.time, prefix: str = KEY_PREFIX) -> None:
        self.where = f"the Redis store at {redacted_url(url)}"
        self._clock = clock
        self._prefix = prefix
        try:
            pool = BlockingConnectionPool.from_url(
                url, max_connections=POOL_SIZE, timeout=POOL_WAIT_S, decode_responses=True,
                socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=READ_TIMEOUT_S,
                # One immediate retry: after Redis restarts, each pooled connection fails once.
                retry=Retry(NoBackoff(), 1),
            )
        except (ValueError, TypeError) as exc:
            raise StoreError(f"malformed Redis store URL {redacted_url(url)}: {exc}",
                             reason="store_url") from None
        self._redis: Redis | None = Redis.from_pool(pool)
        self._save = self._redis.register_script(lua.SAVE_SESSION)
        self._claim = self._redis.register_script(lua.CLAIM)
        self._increment = self._redis.register_script(lua.INCREMENT)
        self._record = self._redis.register_script(lua.RECORD_REQUESTS)
        self._purge = self._redis.register_script(lua.PURGE_REQUESTS)
        self._list = self._redis.register_script(lua.LIST_REQUESTS)
        self._feed = Feed()
        self._listener: asyncio.Task[None] | None = None
        self._queue: RecordQueue[RecordEntry] = RecordQueue(
            self._write_records, where=self.where, feed=self._feed
        )

    def __repr__(self) -> str:
        return f"RedisStore({self.where.removeprefix('the Redis store at ')!r})"

    # -- sessions ----------------------------------------------------------------------------

    async def load_session(self, session_id: str) -> StoredSession | None:
        fields = await self._hash(self._key("s:", session_id))
        expires = fields.get("expires")
        if expires is None or float(expires) <= self._clock():
            return None
        items = {field[1:]: value for field, value in fields.items() if field.startswith(".")}
        return StoredSession(session_id, float(fields["created"]), float(expires), items)

    async def save_session(self, write: SessionWrite) -> SaveResult:
        now = self._clock()
        keys = [self._key("s:", write.session_id)]
        if write.replaces is not None:
            keys.append(self._key("s:", write.replaces))
            mode = "replace"
        else:
            mode = "create" if write.create else "update"
        sets = [(key, text) for key, text in write.changes.items() if text is not None]
        deletes = [key for key, text in write.changes.items() if text is None]
        args: list[Arg] = [
            repr(now), repr(write.created_at), repr(write.expires_at), mode,
            -1 if write.max_bytes is None else write.max_bytes,
            _milliseconds(write.expires_at - now),
        ]
        args += [-1] if write.keep is None else [len(write.keep), *sorted(write.keep)]
        args += [len(sets), *(part for pair in sets for part in pair)]
        args += [len(deletes), *deletes]
        answer = await self._call(self._save(keys=keys, args=args))
        return SaveResult(answer)

    async def delete_session(self, session_id: str) -> None:
        await self._call(self._client().delete(self._key("s:", session_id)))

    # -- claim-once records and counters -----------------------------------------------------

    async def claim(self, key: str, ttl_s: float) -> bool:
        now = self._clock()
        args: list[Arg] = [repr(now), repr(now + ttl_s), _milliseconds(ttl_s)]
        return bool(await self._call(self._claim(keys=[self._key("c:", key)], args=args)))

    async def increment(self, key: str, window_s: float, amount: int = 1) -> int:
        now = self._clock()
        args: list[Arg] = [repr(now), amount, repr(now + window_s), _milliseconds(window_s)]
        return int(await self._call(self._increment(keys=[self._key("n:", key)], args=args)))

    async def count(self, key: str) -> int:
        value, expires = await self._call(
            self._client().hmget(self._key("n:", key), ["value", "expires"])
        )
        if expires is None or float(expires) <= self._clock():
            return 0
        return int(str(value))

    # -- page events -------------------------------------------------------------------------

    async def record_request(self, record: RequestRecord) -> None:
        """Queue the record: see `RecordQueue` for when it is written."""
        self._client()
        fields = {
            "id": record.request_id, "brand": record.brand, "path": record.path,
            "method": record.method, "status": str(record.status),
            "started_at": repr(record.started_at), "duration_ms": repr(record.duration_ms),
            "error": "1" if record.error else "0", "event_count": str(record.event_count),
            "events": events_json(record),
        }
        if record.outcome is not None:
            fields["outcome"] = record.outcome
        pairs = [part for pair in fields.items() for part in pair]
        await self._queue.add((record.request_id, record.brand, record.started_at, pairs))

    async def _write_records(self, entries: list[RecordEntry]) -> None:
        for start in range(0, len(entries), RECORD_BATCH):  # one script call of bounded size
            now = self._clock()
            args: list[Arg] = [self._prefix, repr(now - REQUEST_MAX_AGE_S), REQUEST_LIMIT]
            for request_id, brand, started_at, pairs in entries[start:start + RECORD_BATCH]:
                ttl = _milliseconds(started_at + REQUEST_MAX_AGE_S - now)
                args += [request_id, brand, repr(started_at), ttl, len(pairs) // 2, *pairs]
            await self._call(self._record(args=args))

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
        await self._queue.flush()
        if limit <= 0:
            return []
        index = self._key("ra", "") if brand is None else self._key("rb:", brand)
        args: list[Arg] = [
            self._prefix, repr(self._clock() - REQUEST_MAX_AGE_S),
            *_cursor_args(before), *_cursor_args(after), path or "",
            "" if status is None else str(status), "1" if errors_only else "0", limit,
            *SUMMARY_FIELDS,
        ]
        rows: list[list[str | None]] = await self._call(self._list(keys=[index], args=args))
        summaries = [RequestSummary(*_summary_fields(row)) for row in rows]
        return summaries[::-1] if after is not None else summaries

    async def get_request(self, request_id: str) -> RequestRecord | None:
        await self._queue.flush()
        fields = await self._hash(self._key("r:", request_id))
        if not fields or float(fields["started_at"]) < self._clock() - REQUEST_MAX_AGE_S:
            return None
        row = [fields.get(name) for name in SUMMARY_FIELDS]
        return RequestRecord(*_summary_fields(row), events=json.loads(fields["events"]))

    async def wait_for_requests(self, timeout_s: float) -> None:
        """Woken by every machine's records, through Redis pub/sub."""
        self._client()
        if self._listener is None:
            self._listener = asyncio.ensure_future(self._listen())
        await self._feed.wait(timeout_s)

    async def _listen(self) -> None:
        channel = self._prefix + "requests"
        failing = False
        while True:
            pubsub: PubSub | None = None
            try:
                pubsub = self._client().pubsub()
                await pubsub.subscribe(channel)
                if failing:
                    logger.warning("%s: the live feed hears new requests again", self.where)
                    failing = False
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                       timeout=LISTEN_POLL_S)
                    if message is not None:
                        self._feed.wake()
            except (RedisError, OSError, StoreError) as exc:
                if not failing:
                    logger.warning("%s: the live feed lost its subscription (%s); the debug "
                                   "window polls meanwhile", self.where, exc)
                    failing = True
            finally:
                if pubsub is not None:
                    with contextlib.suppress(RedisError, OSError):
                        await pubsub.aclose()
            await asyncio.sleep(RECORD_RETRY_S)

    # -- upkeep ------------------------------------------------------------------------------

    async def ping(self) -> None:
        """Also checks the server is recent enough for the scripts (ZRANGE BYSCORE: 6.2)."""
        info: dict[str, Any] = await self._call(self._client().info("server"))
        version = str(info.get("redis_version", "0"))
        if tuple(int(part) for part in version.split(".")[:2] if part.isdigit()) < (6, 2):
            raise StoreError(f"{self.where} runs Redis {version}; funnelrun needs 6.2 or newer",
                             reason="store_version")

    async def purge(self) -> None:
        """Retention of page events; Redis removes expired sessions, claims and counters
        itself (every key has a TTL)."""
        await self._queue.flush()
        args: list[Arg] = [self._prefix, repr(self._clock() - REQUEST_MAX_AGE_S), REQUEST_LIMIT]
        await self._call(self._purge(args=args))

    async def close(self) -> None:
        if self._redis is None:
            return
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self._queue.close()
        client, self._redis = self._redis, None
        with contextlib.suppress(RedisError, OSError):
            await client.aclose(close_connection_pool=True)

    # -- calls -------------------------------------------------------------------------------

    def _client(self) -> Redis:
        if self._redis is None:
            raise StoreError(f"{self.where} is closed", reason="store_closed")
        return self._redis

    async def _hash(self, key: str) -> dict[str, str]:
        # decode_responses=True: Redis's replies come back as str
        return cast(dict[str, str], await self._call(self._client().hgetall(key)))

    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}{name}"

    async def _call(self, call: Awaitable[T]) -> T:
        """One Redis call, its failure a StoreError naming the store."""
        try:
            return await call
        except AuthenticationError as exc:
            raise StoreError(f"{self.where} refused the password: {exc}",
                             reason="store_auth") from exc
        except (RedisTimeoutError, TimeoutError) as exc:
            raise StoreError(f"{self.where} did not answer in time ({exc})",
                             reason="store_unreachable") from exc
        except ResponseError as exc:  # Redis answered, with an error: a bug, or its settings
            raise StoreError(f"{self.where}: {exc}", reason="store") from exc
        except (RedisError, OSError) as exc:
            raise StoreError(f"{self.where} is unreachable: {exc}",
                             reason="store_unreachable") from exc


def redacted_url(url: str) -> str:
    """The URL with its password, if any, replaced: safe to print and log."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    except ValueError:  # a port that is not a number: show the scheme only
        return f"{url.partition(':')[0]}://…"
    return urlunsplit(parts._replace(netloc=netloc))


def _milliseconds(seconds: float) -> int:
    """A Redis TTL: at least 1 ms (0 or less would delete the key at once, or fail)."""
    return max(1, math.ceil(seconds * 1000))


def _cursor_args(cursor: Cursor | None) -> tuple[str, str]:
    return ("", "") if cursor is None else (repr(cursor.started_at), cursor.request_id)


def _summary_fields(
    row: list[str | None],
) -> tuple[str, str, str, str, int, float, float, bool, int, str | None]:
    """SUMMARY_FIELDS' values as RequestSummary's fields, in order."""
    request_id, brand, path, method, status, started_at, duration_ms, error, count, outcome = row
    return (str(request_id), str(brand), str(path), str(method), int(str(status)),
            float(str(started_at)), float(str(duration_ms)), error == "1", int(str(count)),
            outcome)
