"""The SQLite store: the contract, plus what is particular to one database file."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import anyio
import pytest

from conftest import FakeClock
from funnelrun.errors import StoreError
from funnelrun.store import RequestRecord, SaveResult, SessionWrite, SQLiteStore, open_store
from funnelrun.store import sqlite_ops as ops
from funnelrun.store.recording import RECORD_BATCH, RECORD_DELAY_S
from funnelrun.store.sqlite import (
    CHECKPOINT_EVERY,
    PRUNE_EVERY,
    PURGE_INTERVAL_S,
    WAL_RESTART_PAGES,
)
from funnelrun.store.sqlite_ops import SCHEMA_VERSION

from . import workers
from .test_contract import LIFETIME_S, SAVED, StoreContract, request_record, session_write, soon


class TestSQLiteStore(StoreContract):
    retention_slack = PRUNE_EVERY

    @pytest.fixture
    def store_url(self, tmp_path: Path) -> tuple[str, Path]:
        return "sqlite:///.funnelrun/state.db", tmp_path


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.anyio
class TestSQLiteFile:
    async def test_relative_url_is_under_the_site_root_and_its_folder_is_made(
        self, tmp_path: Path
    ) -> None:
        store = open_store("sqlite:///.funnelrun/deep/state.db", tmp_path)
        try:
            assert await store.claim("k", 60)
        finally:
            await store.close()
        assert (tmp_path / ".funnelrun" / "deep" / "state.db").is_file()

    async def test_absolute_url(self, tmp_path: Path) -> None:
        path = tmp_path / "elsewhere" / "state.db"
        store = open_store(f"sqlite:///{path}", tmp_path / "site")
        try:
            assert await store.claim("k", 60)
        finally:
            await store.close()
        assert path.is_file()
        assert not (tmp_path / "site").exists()

    async def test_database_is_in_wal_mode_with_the_schema_version(self, tmp_path: Path) -> None:
        store = SQLiteStore(tmp_path / "state.db")
        await store.close()
        assert rows(tmp_path / "state.db", "PRAGMA journal_mode") == [("wal",)]
        assert rows(tmp_path / "state.db", "PRAGMA user_version") == [(SCHEMA_VERSION,)]

    async def test_opening_again_keeps_the_data(self, tmp_path: Path, clock: FakeClock) -> None:
        store = SQLiteStore(tmp_path / "state.db", clock=clock)
        assert await store.save_session(session_write("s", clock, {"a": "1"}, create=True)) is SAVED
        await store.close()
        store = SQLiteStore(tmp_path / "state.db", clock=clock)
        try:
            loaded = await store.load_session("s")
        finally:
            await store.close()
        assert loaded is not None
        assert loaded.items == {"a": "1"}

    async def test_a_database_of_version_1_is_migrated_and_keeps_its_requests(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        path = tmp_path / "state.db"
        conn = sqlite3.connect(path)
        for statement in ops.SCHEMA:  # version 1 had no outcome column
            conn.execute(statement.replace(", outcome TEXT", ""))
        conn.execute(
            "INSERT INTO requests (request_id, brand, path, method, status, started_at,"
            " duration_ms, error, event_count, events) VALUES ('old', 'b', '/', 'GET', 200, ?,"
            " 1.0, 0, 0, '[]')", (clock.now,))
        conn.execute("PRAGMA user_version = 1")
        conn.commit()
        conn.close()
        store = SQLiteStore(path, clock=clock)
        try:
            await store.record_request(RequestRecord("new", "b", "/", "GET", 200, clock.now + 1,
                                                     1.0, False, 0, "ok"))
            listed = [(s.request_id, s.outcome) for s in await store.list_requests()]
        finally:
            await store.close()
        assert listed == [("new", "ok"), ("old", None)]
        assert rows(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]

    def test_a_database_from_a_newer_release_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "state.db"
        conn = sqlite3.connect(path)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.close()
        with pytest.raises(StoreError) as caught:
            SQLiteStore(path)
        assert caught.value.reason == "store_schema"
        assert str(path) in str(caught.value)
        assert f"schema version {SCHEMA_VERSION + 1}" in str(caught.value)

    def test_a_corrupt_file_is_named_in_the_error(self, tmp_path: Path) -> None:
        path = tmp_path / "state.db"
        path.write_bytes(b"this is not a database at all" * 200)
        with pytest.raises(StoreError) as caught:
            SQLiteStore(path)
        assert caught.value.reason == "store_corrupt"
        assert str(path) in str(caught.value)
        assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)

    def test_a_folder_that_cannot_be_made_is_named_in_the_error(self, tmp_path: Path) -> None:
        (tmp_path / "file").write_text("")
        path = tmp_path / "file" / "state.db"
        with pytest.raises(StoreError) as caught:
            SQLiteStore(path)
        assert caught.value.reason == "store_unwritable"
        assert str(tmp_path / "file") in str(caught.value)
        assert isinstance(caught.value.__cause__, OSError)

    def test_a_path_that_cannot_be_opened_is_named_in_the_error(self, tmp_path: Path) -> None:
        path = tmp_path / "state.db"
        path.mkdir()
        with pytest.raises(StoreError) as caught:
            SQLiteStore(path)
        assert caught.value.reason == "store_unwritable"
        assert str(path) in str(caught.value)
        assert isinstance(caught.value.__cause__, sqlite3.Error)

    async def test_a_read_only_database_is_named_in_the_error(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        path = tmp_path / "state.db"
        await SQLiteStore(path).close()
        store = SQLiteStore(path, clock=clock)
        # A read-only handle in place of the store's own: what a file without write permission
        # gives (tests run as root here, where permissions do not stop writes).
        store._conn.close()  # type: ignore[union-attr]
        store._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        with pytest.raises(StoreError) as caught:
            await store.claim("k", 60)
        await store.close()
        assert caught.value.reason == "store_unwritable"
        assert str(path) in str(caught.value)
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)

    async def test_lock_waits_happen_off_the_event_loop(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        path = tmp_path / "state.db"
        store = SQLiteStore(path, clock=clock)
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another worker holds the write lock
        threading.Timer(0.3, other.execute, ["COMMIT"]).start()
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while ticks < 1000:
                await asyncio.sleep(0.01)
                ticks += 1

        tick_task = asyncio.create_task(ticker())
        started = time.perf_counter()
        saved = await store.save_session(session_write("s", clock, {"a": "1"}, create=True))
        waited = time.perf_counter() - started
        tick_task.cancel()
        await store.close()
        other.close()
        assert saved is SaveResult.SAVED
        assert waited >= 0.25
        assert ticks >= 10  # the loop kept running while the save waited

    async def test_a_lock_held_too_long_is_a_busy_error(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        path = tmp_path / "state.db"
        store = SQLiteStore(path, clock=clock, busy_timeout_s=0.1)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError) as caught:
                await store.claim("k", 60)
        finally:
            other.execute("ROLLBACK")
            other.close()
            await store.close()
        assert caught.value.reason == "store_busy"
        assert str(path) in str(caught.value)

    async def test_offloaded_store_works_the_same(self, tmp_path: Path, clock: FakeClock) -> None:
        store = SQLiteStore(tmp_path / "state.db", clock=clock, offload=True)
        try:
            assert await store.save_session(session_write("s", clock, {"a": "1"}, create=True)) is SAVED
            loaded = await store.load_session("s")
            assert await store.claim("k", 60) is True
        finally:
            await store.close()
        assert loaded is not None
        assert loaded.items == {"a": "1"}

    async def test_expired_rows_are_purged_now_and_then(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        path = tmp_path / "state.db"
        store = SQLiteStore(path, clock=clock)
        short = {"created_at": clock.now, "expires_at": clock.now + 10}
        try:
            for n in range(5):  # the first write purges: a store purges when it starts
                await store.save_session(SessionWrite(f"s{n}", **short, changes={"a": "1"},
                                                      create=True))
            await store.claim("jti", 60)
            await store.increment("quota", 60)
            await store.record_request(request_record("r1", clock.now))
            assert await store.get_request("r1") is not None  # reading writes what is queued
            clock.advance(20)
            await store.claim("other", 60)  # sessions expired, but no purge within a minute
            assert rows(path, "SELECT count(*) FROM sessions") == [(5,)]
            clock.advance(PURGE_INTERVAL_S - 20)
            await store.claim("another", 60)
            assert rows(path, "SELECT count(*) FROM sessions") == [(0,)]
            assert rows(path, "SELECT count(*) FROM session_items") == [(0,)]
            assert rows(path, "SELECT count(*) FROM counters") == [(0,)]
            assert rows(path, "SELECT key FROM claims ORDER BY key") == [("another",), ("other",)]
            assert rows(path, "SELECT count(*) FROM requests") == [(1,)]
            clock.advance(24 * 3600)
            await store.claim("third", 60)
        finally:
            await store.close()
        assert rows(path, "SELECT key FROM claims") == [("third",)]
        assert rows(path, "SELECT count(*) FROM requests") == [(0,)]

    async def test_page_events_are_written_in_batches_soon_and_at_close(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        path = tmp_path / "state.db"
        store = SQLiteStore(path, clock=clock)
        try:
            for n in range(3):
                await store.record_request(request_record(f"r{n}", clock.now))
            assert rows(path, "SELECT count(*) FROM requests") == [(0,)]  # queued
            await asyncio.sleep(RECORD_DELAY_S * 3)
            assert rows(path, "SELECT count(*) FROM requests") == [(3,)]  # one write, soon
            for n in range(RECORD_BATCH):
                await store.record_request(request_record(f"b{n}", clock.now))
            assert rows(path, "SELECT count(*) FROM requests") == [(3 + RECORD_BATCH,)]
            await store.record_request(request_record("last", clock.now))
        finally:
            await store.close()
        assert rows(path, "SELECT count(*) FROM requests") == [(4 + RECORD_BATCH,)]

    async def test_purge_removes_old_requests_from_the_file(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        path = tmp_path / "state.db"
        store = SQLiteStore(path, clock=clock)
        try:
            await store.record_request(request_record("old", clock.now))
            clock.advance(24 * 3600 + 1)
            await store.record_request(request_record("new", clock.now))
            await store.purge()
        finally:
            await store.close()
        assert rows(path, "SELECT request_id FROM requests") == [("new",)]

    async def test_the_write_ahead_log_is_checkpointed(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        path = tmp_path / "state.db"
        store = SQLiteStore(path, clock=clock)
        wal = path.with_name("state.db-wal")
        writes = 2 * WAL_RESTART_PAGES  # each adds a page or more to the log
        try:
            assert await store.save_session(session_write("s", clock, {}, create=True)) is SAVED
            for n in range(writes):
                await store.save_session(session_write("s", clock, {"k": str(n) * 200}))
                if store._writes % CHECKPOINT_EVERY == 0:
                    # A checkpoint was just handed to the store thread, not awaited: waiting for
                    # it here, before the next write, keeps a busy test machine from making the
                    # thread lag behind the writes (a write racing the checkpoint keeps the log
                    # from starting over, and it grows by another round).
                    await store._run_on_thread(lambda conn: None)
            biggest = wal.stat().st_size  # the log file keeps its largest size
        finally:
            await store.close()
        assert biggest < (WAL_RESTART_PAGES + CHECKPOINT_EVERY) * 4096

    async def test_processes_opening_a_new_file_together_all_succeed(
        self, tmp_path: Path, process_pool: ProcessPoolExecutor
    ) -> None:
        url = "sqlite:///fresh/state.db"
        calls = [(url, tmp_path, [f"k{n}" for n in range(20)], 60, soon()) for _ in range(3)]
        futures = [process_pool.submit(workers.claim_keys, *args) for args in calls]
        claimed = await anyio.to_thread.run_sync(lambda: [f.result() for f in futures])
        assert sorted(key for got in claimed for key in got) == sorted(calls[0][2])

    async def test_session_load_and_save_stay_within_the_latency_budget(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        """A smoke check of the latency budget (figures in store/README.md); loose on purpose."""
        store = SQLiteStore(tmp_path / "state.db", clock=clock)
        try:
            await store.save_session(session_write("s", clock, {"a": "1"}, create=True))
            samples = []
            for n in range(300):
                started = time.perf_counter()
                await store.load_session("s")
                await store.save_session(
                    SessionWrite("s", clock.now, clock.now + LIFETIME_S, {"n": str(n)})
                )
                samples.append(time.perf_counter() - started)
        finally:
            await store.close()
        assert sorted(samples)[len(samples) // 2] < 0.001
