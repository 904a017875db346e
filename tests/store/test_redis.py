"""The Redis store: the contract on a real redis-server, plus what is particular to Redis."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import redis

from conftest import FakeClock
from funnelrun.errors import StoreError
from funnelrun.store import REQUEST_MAX_AGE_S, RedisStore, open_store, redacted_url
from funnelrun.store.recording import RECORD_BATCH, RECORD_DELAY_S, RECORD_RETRY_S
from funnelrun.store.redis import CALL_TIMEOUT_S, KEY_PREFIX
from redis_server import RedisServer

from .test_contract import LIFETIME_S, SAVED, StoreContract, request_record, session_write


class TestRedisStore(StoreContract):
    @pytest.fixture
    def store_url(self, redis_url: str, tmp_path: Path) -> tuple[str, Path]:
        return redis_url, tmp_path


def redis_store(url: str, clock: FakeClock | None = None) -> RedisStore:
    store = open_store(url, "/unused", clock=clock or FakeClock())
    assert isinstance(store, RedisStore)
    return store


async def claim_once(url: str) -> None:
    """A store on `url` answers: it pings, and claims a key."""
    store = redis_store(url)
    try:
        await store.ping()
        assert await store.claim("k", 60)
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:hunter2@cache:6380/1", "redis://:***@cache:6380/1"),
        ("rediss://app:hunter2@[::1]:6380/2?ssl_cert_reqs=none",
         "rediss://app:***@[::1]:6380/2?ssl_cert_reqs=none"),
        ("redis://:hunter2@cache:notaport/1", "redis://…"),
    ],
)
def test_a_password_is_never_shown(url: str, shown: str) -> None:
    assert redacted_url(url) == shown


def test_a_malformed_url_is_refused_without_its_password() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("redis://:hunter2@cache:6380/x?socket_timeout=soon", "/site")
    assert caught.value.reason == "store_url"
    assert "hunter2" not in str(caught.value)


@pytest.mark.anyio
class TestRedisServer:
    async def test_keys_carry_ttls_so_redis_removes_what_expires(self, redis_url: str) -> None:
        clock = FakeClock()
        store = redis_store(redis_url, clock)
        try:
            write = session_write("s1", clock, {"a": "1"}, create=True)
            assert await store.save_session(write) is SAVED
            assert await store.claim("jti", 60)
            await store.increment("quota", 600)
            await store.record_request(request_record("r1", clock.now))
            await store.get_request("r1")
        finally:
            await store.close()
        client = redis.Redis.from_url(redis_url)
        try:
            ttls = {key: client.pttl(f"{KEY_PREFIX}{key}") for key in ("s:s1", "c:jti", "n:quota",
                                                                        "r:r1")}
        finally:
            client.close()
        assert 0 < ttls["c:jti"] <= 60_000
        assert 0 < ttls["n:quota"] <= 600_000
        assert LIFETIME_S * 1000 - 5000 < ttls["s:s1"] <= LIFETIME_S * 1000
        assert 0 < ttls["r:r1"] <= REQUEST_MAX_AGE_S * 1000

    async def test_a_password_in_the_url_is_used(self, tmp_path: Path) -> None:
        with RedisServer(tmp_path, password="s3cret/pass") as server:
            await claim_once(server.url)
            wrong = redis_store(server.url.replace("s3cret%2Fpass", "wrong"))
            try:
                with pytest.raises(StoreError) as caught:
                    await wrong.ping()
            finally:
                await wrong.close()
        assert caught.value.reason == "store_auth"
        assert "wrong" not in str(caught.value) and ":***@" in str(caught.value)

    async def test_rediss_talks_tls(self, tmp_path: Path) -> None:
        with RedisServer(tmp_path, tls=True) as server:
            assert server.url.startswith("rediss://")
            await claim_once(server.url)

    @pytest.mark.parametrize("fault", ["stopped", "hanging"])
    async def test_a_failing_redis_fails_calls_fast_and_service_returns_by_itself(
        self, tmp_path: Path, fault: str
    ) -> None:
        with RedisServer(tmp_path) as server:
            store = redis_store(server.url)
            try:
                assert await store.claim("before", 60)
                server.stop() if fault == "stopped" else server.pause()
                started = time.monotonic()
                with pytest.raises(StoreError) as caught:
                    await store.claim("during", 60)
                assert time.monotonic() - started < CALL_TIMEOUT_S + 1
                assert caught.value.reason == "store_unreachable"
                assert f"127.0.0.1:{server.port}" in str(caught.value)
                server.start() if fault == "stopped" else server.resume()
                assert await store.claim("after", 60)  # the pool reconnects by itself
            finally:
                await store.close()

    async def test_page_events_wait_while_redis_is_down_and_are_written_when_it_is_back(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        with RedisServer(tmp_path) as server:
            clock = FakeClock()
            store = redis_store(server.url, clock)
            try:
                server.stop()
                for n in range(RECORD_BATCH + 3):  # one batch tried at once, then a timer
                    await store.record_request(request_record(f"r{n}", clock.now))
                await asyncio.sleep(RECORD_DELAY_S * 2)
                server.start()
                await asyncio.sleep(RECORD_RETRY_S * 2.5)
                reader = redis_store(server.url, clock)
                try:
                    listed = await reader.list_requests(limit=500)
                finally:
                    await reader.close()
            finally:
                await store.close()
        assert len(listed) == RECORD_BATCH + 3
        messages = [record.getMessage() for record in caplog.records]
        assert sum("cannot be written" in message for message in messages) == 1
        assert any("written again" in message for message in messages)

    async def test_the_live_feed_hears_records_of_other_processes(self, redis_url: str) -> None:
        clock = FakeClock()
        follower, writer = redis_store(redis_url, clock), redis_store(redis_url, clock)
        try:
            await follower.wait_for_requests(0.2)  # subscribes
            waiting = asyncio.ensure_future(follower.wait_for_requests(10))
            await asyncio.sleep(0.1)
            started = time.monotonic()
            await writer.record_request(request_record("r1", clock.now))
            await asyncio.wait_for(waiting, 5)
            assert time.monotonic() - started < 1
        finally:
            await follower.close()
            await writer.close()

    async def test_purge_empties_the_indexes_of_what_retention_dropped(
        self, redis_url: str
    ) -> None:
        clock = FakeClock()
        store = redis_store(redis_url, clock)
        try:
            await store.record_request(request_record("old", clock.now, brand="a"))
            await store.list_requests()
            clock.advance(REQUEST_MAX_AGE_S + 1)
            await store.purge()
        finally:
            await store.close()
        client = redis.Redis.from_url(redis_url)
        try:
            assert client.keys(f"{KEY_PREFIX}*") == []
        finally:
            client.close()
