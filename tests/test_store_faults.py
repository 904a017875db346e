"""A store that fails under a running `funnelrun serve`: visitors get a plain 503 within 5 s,
the server keeps running, logs one line and records the page event, and serves again by itself
once the store is back; a store that is not there at start-up stops `serve` with one clear line.
On Redis (stopped, or hanging) and on SQLite (locked by another process, or unwritable)."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from conftest import free_port, recorded_events, running_server, write_site
from redis_server import RedisServer

pytestmark = pytest.mark.slow

PASSWORD = "fault-test-password"
DEADLINE_S = 5.0  # a visitor's answer, and service after the store is back, within this
FILES = {
    "brands/acme/pages/index.html": """
        <script scope="backend">
          session.set("visits", (session.get("visits") || 0) + 1);
          setVariable("visits", session.get("visits"));
        </script>
        visits={{ var.visits }}
    """,
}


def timed_get(client: httpx.Client, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


def wait_for_service(client: httpx.Client) -> float:
    """Seconds until the page answers 200 again (fails after DEADLINE_S)."""
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE_S:
        if client.get("/").status_code == 200:
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(f"no 200 within {DEADLINE_S} s of the store coming back")


def assert_plain_503(response: httpx.Response, elapsed: float) -> None:
    assert response.status_code == 503, response.text
    assert elapsed < DEADLINE_S
    assert "Service Unavailable" in response.text and "Traceback" not in response.text
    assert response.headers["retry-after"] == "5"


def log_of(root: Path) -> str:
    return (root.parent / "server.log").read_text()


@pytest.mark.parametrize("fault", ["stopped", "hanging"])
def test_redis_failing_mid_run_gives_503s_then_service_returns(
    tmp_path: Path, fault: str
) -> None:
    root = write_site(tmp_path / "site", FILES)
    with RedisServer(tmp_path / "redis", password=PASSWORD) as redis, \
            running_server(root, "--workers", "2", "--store", redis.url) as (base, process), \
            httpx.Client(base_url=base, timeout=30) as visitor:
        assert visitor.get("/").text.strip() == "visits=1"
        stop: Callable[[], None] = redis.stop if fault == "stopped" else redis.pause
        stop()
        failed, elapsed = timed_get(visitor, "/")
        assert_plain_503(failed, elapsed)
        again, elapsed = timed_get(visitor, "/")  # and every request meanwhile
        assert_plain_503(again, elapsed)
        assert process.poll() is None
        redis.start() if fault == "stopped" else redis.resume()
        assert wait_for_service(visitor) < DEADLINE_S
        assert process.poll() is None
        request_id = failed.headers["x-request-id"]
        # Kept in memory while Redis was away, recorded now:
        events = asyncio.run(recorded_events(root, request_id, redis.url))
    failure = next(event for event in events if event["type"] == "store_unavailable")
    assert "unreachable" in failure["message"] or "did not answer" in failure["message"]
    log = log_of(root)
    assert f"request {request_id}: store_unavailable:" in log
    assert "Traceback" not in log
    assert PASSWORD not in log and PASSWORD not in failure["message"]


def test_redis_absent_at_start_up_is_a_clear_start_up_error(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", FILES)
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "funnelrun", "serve", str(root), "--store", url],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 1
    assert time.monotonic() - started < 15
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"funnelrun: {root}: not serving: the Redis store at redis://:***@")
    assert "is unreachable" in last
    assert PASSWORD not in result.stderr and "Traceback" not in result.stderr


def test_sqlite_locked_by_another_process_gives_503s_then_service_returns(
    tmp_path: Path,
) -> None:
    root = write_site(tmp_path / "site", FILES)
    with running_server(root, "--workers", "2") as (base, process), \
            httpx.Client(base_url=base, timeout=30) as visitor:
        assert visitor.get("/").text.strip() == "visits=1"
        holder = sqlite3.connect(root / ".funnelrun" / "state.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held: no worker can write
        try:
            failed, elapsed = timed_get(visitor, "/")
            assert_plain_503(failed, elapsed)
            assert process.poll() is None
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert wait_for_service(visitor) < 1
        events = asyncio.run(recorded_events(root, failed.headers["x-request-id"]))
    failure = next(event for event in events if event["type"] == "store_unavailable")
    assert "locked by another process" in failure["message"]
    assert "Traceback" not in log_of(root)


def test_sqlite_store_that_cannot_be_made_is_a_clear_start_up_error(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", FILES)
    (tmp_path / "blocker").write_text("a file where the store's folder should be")
    url = f"sqlite:///{tmp_path / 'blocker' / 'state.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "funnelrun", "serve", str(root), "--store", url],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"funnelrun: {root}: not serving: cannot create the folder")
    assert "Traceback" not in result.stderr

