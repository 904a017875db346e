"""The real redis-server the Redis store is tested against (tests/redis_server.py): that it
comes up, asks for its password, comes back on the same port after a stop, hangs while paused,
serves TLS that a client trusts through the URL alone, and says why when it cannot start."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

from redis_server import RedisServer, RedisTLSUnsupported, redis_server_path, tls_supported

NO_RETRY = Retry(NoBackoff(), 0)  # redis-py retries a refused password for seconds by default

pytestmark = pytest.mark.anyio


async def test_shared_server_answers_ping_at_its_url(redis_server: RedisServer, redis_url: str) -> None:
    assert redis_server.is_running()
    assert redis_url == f"redis://127.0.0.1:{redis_server.port}/0"
    with redis.Redis.from_url(redis_url) as client:
        assert client.ping()
    client_async = redis.asyncio.Redis.from_url(redis_url)
    try:
        assert await client_async.ping()
    finally:
        await client_async.aclose()


@pytest.mark.parametrize("turn", [1, 2])
async def test_each_test_starts_from_an_empty_server(redis_url: str, turn: int) -> None:
    with redis.Redis.from_url(redis_url) as client:
        assert client.dbsize() == 0  # the first turn's key is gone in the second
        client.set("left-behind", turn)
        client.execute_command("SELECT", 3)
        client.set("left-behind", turn)  # in another database: FLUSHALL empties them all


async def test_password_is_required_when_set(tmp_path: Path) -> None:
    password = "p@ss w/ord:#%"  # characters the URL must quote
    with RedisServer(tmp_path, password=password) as server:
        assert server.url.startswith("redis://:p%40ss%20w%2Ford%3A%23%25@127.0.0.1:")
        with redis.Redis.from_url(server.url) as client:
            assert client.ping()
        with redis.Redis(host="127.0.0.1", port=server.port, retry=NO_RETRY) as client, \
                pytest.raises(redis.AuthenticationError):
            client.ping()
        with redis.Redis(host="127.0.0.1", port=server.port, password="wrong", retry=NO_RETRY
                         ) as client, \
                pytest.raises(redis.AuthenticationError):
            client.ping()


@pytest.mark.parametrize("graceful", [False, True])
async def test_stop_then_start_comes_back_empty_on_the_same_port(
    tmp_path: Path, graceful: bool
) -> None:
    with RedisServer(tmp_path) as server, redis.Redis.from_url(server.url, retry=NO_RETRY) as client:
        port = server.port
        client.set("key", "value")
        server.stop(graceful=graceful)
        assert not server.is_running()
        with pytest.raises(redis.ConnectionError):
            client.ping()
        server.stop()  # stopping a stopped server does nothing

        server.start()
        assert server.port == port
        assert client.ping()  # the same client reconnects
        assert client.get("key") is None  # nothing was kept on disk
        assert not list(tmp_path.glob("*.rdb")) and not list(tmp_path.glob("appendonly*"))


@pytest.mark.parametrize("graceful", [False, True])
async def test_a_paused_server_hangs_until_resumed(tmp_path: Path, graceful: bool) -> None:
    with RedisServer(tmp_path) as server, \
            redis.Redis.from_url(server.url, retry=NO_RETRY, socket_timeout=0.2) as client:
        client.set("key", "value")
        server.pause()
        assert server.is_running()
        with pytest.raises(redis.TimeoutError):
            client.get("key")
        server.resume()
        assert client.get("key") == b"value"
        server.pause()
        server.stop(graceful=graceful)  # stops a paused server too
        assert not server.is_running()


async def test_start_twice_is_refused(tmp_path: Path) -> None:
    with RedisServer(tmp_path) as server, pytest.raises(RuntimeError, match="already running"):
        server.start()


async def test_tls_is_trusted_through_the_url(tmp_path: Path) -> None:
    with RedisServer(tmp_path, password="secret", tls=True) as server:
        assert server.url == (
            f"rediss://:secret@127.0.0.1:{server.port}/0?ssl_ca_certs={tmp_path}/ca.pem")
        with redis.Redis.from_url(server.url) as client:
            assert client.ping()
            assert client.connection_pool.connection_kwargs["ssl_ca_certs"] == str(server.ca_path)
        client_async = redis.asyncio.Redis.from_url(server.url)
        try:
            assert await client_async.ping()
        finally:
            await client_async.aclose()
        with redis.Redis(**server.client_kwargs) as client:
            assert client.ping()

        untrusting = server.url.partition("?")[0]  # the system's CAs do not know the test CA
        with redis.Redis.from_url(untrusting, retry=NO_RETRY) as client, \
                pytest.raises(redis.ConnectionError, match="certificate verify failed"):
            client.ping()
        plain = untrusting.replace("rediss://", "redis://")  # only TLS is served
        with redis.Redis.from_url(plain, retry=NO_RETRY, socket_timeout=2) as client, \
                pytest.raises(redis.ConnectionError):
            client.ping()


async def test_tls_from_a_build_without_it_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tls_supported(redis_server_path() or "")  # Debian's is built with TLS
    monkeypatch.setattr("redis_server.tls_supported", lambda executable: False)
    with pytest.raises(RedisTLSUnsupported, match="built without TLS support"):
        RedisServer(tmp_path, tls=True)


async def test_a_server_that_cannot_start_shows_its_log(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "first") as first:
        second = RedisServer(tmp_path / "second")
        second.port = first.port
        with pytest.raises(RuntimeError, match=r"(?s)did not come up \(port \d+ is served by another "
                           r"Redis, pid \d+\):\n.*Address already in use"):
            second.start()
        assert not second.is_running()
        assert first.is_running()
