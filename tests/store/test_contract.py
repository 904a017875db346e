"""What every store promises. A backend's test class inherits `StoreContract` and only supplies
the `store_url` fixture (see test_sqlite.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FakeClock
from funnelrun.errors import StoreError
from funnelrun.session import encode
from funnelrun.store import (
    REQUEST_LIMIT,
    REQUEST_MAX_AGE_S,
    Cursor,
    RequestRecord,
    SaveResult,
    SessionWrite,
    Store,
    open_store,
)

from . import workers

SAVED, ENDED, TOO_LARGE = SaveResult.SAVED, SaveResult.ENDED, SaveResult.TOO_LARGE
LIFETIME_S = 10800.0
THREADS = 4


def new_id() -> str:
    return uuid.uuid4().hex


def session_write(
    session_id: str, clock: FakeClock, changes: dict[str, str | None], **options: Any
) -> SessionWrite:
    return SessionWrite(session_id, clock.now, clock.now + LIFETIME_S, changes, **options)


def request_record(request_id: str, started_at: float, **fields: Any) -> RequestRecord:
    defaults: dict[str, Any] = {
        "brand": "main", "path": "/", "method": "GET", "status": 200, "duration_ms": 1.5,
        "error": False, "events": [{"type": "console", "text": "hi"}],
    }
    values = {**defaults, **fields}
    return RequestRecord(request_id=request_id, started_at=started_at,
                         event_count=len(values["events"]), **values)


def run_in_threads(target: Callable[..., Any], calls: list[tuple[Any, ...]]) -> list[Any]:
    """Run the calls at once, one thread each (each thread opens its own store)."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(target, *args) for args in calls]]


def run_in_processes(
    pool: ProcessPoolExecutor, target: Callable[..., Any], calls: list[tuple[Any, ...]]
) -> list[Any]:
    return [f.result() for f in [pool.submit(target, *args) for args in calls]]


def soon() -> float:
    """A start time for workers, so that they begin together."""
    return time.time() + 0.2


@pytest.mark.anyio
class StoreContract:
    """The promises of a `Store`; subclasses provide `store_url` -> (url, site_root)."""

    retention_slack = 0  # records a brand may hold beyond REQUEST_LIMIT between two prunes

    @pytest.fixture
    def store_url(self, tmp_path: Path) -> tuple[str, Path]:
        raise NotImplementedError("a backend's test class supplies store_url")

    @pytest.fixture
    async def store(self, store_url: tuple[str, Path], clock: FakeClock) -> AsyncIterator[Store]:
        url, root = store_url
        store = open_store(url, root, clock=clock)
        yield store
        await store.close()

    async def create_session(
        self, store: Store, clock: FakeClock, items: dict[str, Any]
    ) -> str:
        session_id = new_id()
        changes = {key: encode(value) for key, value in items.items()}
        assert await store.save_session(session_write(session_id, clock, changes, create=True)) is SAVED
        return session_id

    # -- loading and creating ----------------------------------------------------------------

    async def test_load_of_missing_session_is_none(self, store: Store) -> None:
        assert await store.load_session("no-such-session") is None

    async def test_load_of_expired_session_is_none(self, store: Store, clock: FakeClock) -> None:
        session_id = await self.create_session(store, clock, {"a": 1})
        clock.advance(LIFETIME_S - 1)
        assert await store.load_session(session_id) is not None
        clock.advance(1)
        assert await store.load_session(session_id) is None

    async def test_first_write_creates_session(self, store: Store, clock: FakeClock) -> None:
        changes = {"a": encode(1), "b": encode({"x": [1, 2]})}
        write = session_write("s1", clock, changes, create=True)
        assert await store.save_session(write) is SAVED
        loaded = await store.load_session("s1")
        assert loaded is not None
        assert (loaded.id, loaded.created_at, loaded.expires_at) == (
            "s1", clock.now, clock.now + LIFETIME_S
        )
        assert loaded.items == {"a": "1", "b": '{"x":[1,2]}'}

    async def test_created_session_with_no_items_loads_empty(
        self, store: Store, clock: FakeClock
    ) -> None:
        assert await store.save_session(session_write("s1", clock, {}, create=True)) is SAVED
        loaded = await store.load_session("s1")
        assert loaded is not None
        assert loaded.items == {}

    async def test_write_to_missing_session_without_create_writes_nothing(
        self, store: Store, clock: FakeClock
    ) -> None:
        assert await store.save_session(session_write("s1", clock, {"a": "1"})) is ENDED
        assert await store.load_session("s1") is None

    async def test_a_write_to_a_missing_session_leaves_no_items_for_a_later_one(
        self, store: Store, clock: FakeClock
    ) -> None:
        assert await store.save_session(session_write("s1", clock, {"a": "1"})) is ENDED
        assert await store.save_session(session_write("s1", clock, {}, create=True)) is SAVED
        loaded = await store.load_session("s1")
        assert loaded is not None
        assert loaded.items == {}

    async def test_write_to_expired_session_without_create_writes_nothing(
        self, store: Store, clock: FakeClock
    ) -> None:
        session_id = await self.create_session(store, clock, {"a": 1})
        clock.advance(LIFETIME_S)
        assert await store.save_session(session_write(session_id, clock, {"b": "2"})) is ENDED
        assert await store.load_session(session_id) is None

    async def test_create_over_expired_session_starts_it_afresh(
        self, store: Store, clock: FakeClock
    ) -> None:
        session_id = await self.create_session(store, clock, {"a": 1})
        clock.advance(LIFETIME_S)
        write = session_write(session_id, clock, {"b": "2"}, create=True)
        assert await store.save_session(write) is SAVED
        loaded = await store.load_session(session_id)
        assert loaded is not None
        assert loaded.items == {"b": "2"}
        assert loaded.created_at == clock.now

    # -- per-key writes ----------------------------------------------------------------------

    async def test_write_applies_only_the_changed_keys(
        self, store: Store, clock: FakeClock
    ) -> None:
        session_id = await self.create_session(store, clock, {"a": 1, "b": 2})
        assert await store.save_session(session_write(session_id, clock, {"a": "10", "c": "3"})) is SAVED
        loaded = await store.load_session(session_id)
        assert loaded is not None
        assert loaded.items == {"a": "10", "b": "2", "c": "3"}

    async def test_none_deletes_a_key(self, store: Store, clock: FakeClock) -> None:
        session_id = await self.create_session(store, clock, {"a": 1, "b": 2})
        write = session_write(session_id, clock, {"a": None, "missing": None})
        assert await store.save_session(write) is SAVED
        loaded = await store.load_session(session_id)
        assert loaded is not None
        assert loaded.items == {"b": "2"}

    async def test_writes_do_not_extend_the_lifetime(self, store: Store, clock: FakeClock) -> None:
        session_id = await self.create_session(store, clock, {"a": 1})
        created = clock.now
        clock.advance(3600)
        assert await store.save_session(session_write(session_id, clock, {"b": "2"}, create=True)) is SAVED
        loaded = await store.load_session(session_id)
        assert loaded is not None
        assert (loaded.created_at, loaded.expires_at) == (created, created + LIFETIME_S)

    async def test_concurrent_coroutines_writing_different_keys_all_survive(
        self, store: Store, clock: FakeClock
    ) -> None:
        session_id = await self.create_session(store, clock, {})

        async def visitor_request(n: int) -> None:
            write = session_write(session_id, clock, {f"k{n}": str(n)})
            assert await store.save_session(write) is SAVED

        async with anyio.create_task_group() as group:
            for n in range(50):
                group.start_soon(visitor_request, n)
        loaded = await store.load_session(session_id)
        assert loaded is not None
        assert loaded.items == {f"k{n}": str(n) for n in range(50)}

    async def test_concurrent_threads_writing_different_keys_all_survive(
        self, store: Store, clock: FakeClock, store_url: tuple[str, Path]
    ) -> None:
        session_id = await self.create_session(store, clock, {"before": 0})
        url, root = store_url
        start_at = soon()
        calls = [(url, root, session_id, f"t{t}_", 40, start_at) for t in range(THREADS)]
        failures = await anyio.to_thread.run_sync(run_in_threads, workers.write_keys, calls)
        assert failures == [0] * THREADS
        loaded = await store.load_session(session_id)
        assert loaded is not None
        expected = {f"t{t}_{n}": str(n) for t in range(THREADS) for n in range(40)}
        assert loaded.items == {"before": "0", **expected}

    async def test_concurrent_processes_writing_different_keys_all_survive(
        self,
        store: Store,
        clock: FakeClock,
        store_url: tuple[str, Path],
        process_pool: ProcessPoolExecutor,
    ) -> None:
        session_id = await self.create_session(store, clock, {})
        url, root = store_url
        start_at = soon()
        calls = [(url, root, session_id, f"p{p}_", 40, start_at) for p in range(3)]
        failures = await anyio.to_thread.run_sync(
            run_in_processes, process_pool, workers.write_keys, calls
        )
        assert failures == [0, 0, 0]
        loaded = await store.load_session(session_id)
        assert loaded is not None
        assert loaded.items == {f"p{p}_{n}": str(n) for p in range(3) for n in range(40)}

    @settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        st.lists(
            st.dictionaries(
                st.sampled_from(["a", "b", "c", "d"]), st.none() | st.text(max_size=5), max_size=4
            ),
            min_size=1,
            max_size=6,
        )
    )
    async def test_writes_apply_like_dict_updates(
        self, store: Store, clock: FakeClock, writes: list[dict[str, str | None]]
    ) -> None:
        session_id, model = new_id(), {}
        for n, changes in enumerate(writes):
            write = session_write(session_id, clock, changes, create=n == 0)
            assert await store.save_session(write) is SAVED
            model.update(changes)
        loaded = await store.load_session(session_id)
        assert loaded is not None
        assert loaded.items == {key: text for key, text in model.items() if text is not None}

    # -- id regeneration ---------------------------------------------------------------------

    async def test_regeneration_moves_every_item_and_the_old_id_stops_working(
        self, store: Store, clock: FakeClock
    ) -> None:
        old_id = await self.create_session(store, clock, {"a": 1, "b": 2})
        clock.advance(10)
        write = session_write("new", clock, {"is_customer": "true", "a": None}, replaces=old_id)
        assert await store.save_session(write) is SAVED
        assert await store.load_session(old_id) is None
        loaded = await store.load_session("new")
        assert loaded is not None
        assert loaded.items == {"b": "2", "is_customer": "true"}
        assert loaded.created_at == clock.now
        assert await store.save_session(session_write(old_id, clock, {"c": "3"})) is ENDED
        assert await store.load_session(old_id) is None

    async def test_regeneration_keeps_only_the_listed_keys(
        self, store: Store, clock: FakeClock
    ) -> None:
        old_id = await self.create_session(
            store, clock, {"utm_source": "ad", "cart": [1], "secret": "x", "email": "a@b"}
        )
        write = session_write(
            "new", clock, {"cart": encode([1, 2]), "email": encode("c@d")},
            replaces=old_id, keep=frozenset({"utm_source", "cart", "not_there"}),
        )
        assert await store.save_session(write) is SAVED
        loaded = await store.load_session("new")
        assert loaded is not None
        assert loaded.items == {"utm_source": '"ad"', "cart": "[1,2]", "email": '"c@d"'}
        assert await store.load_session(old_id) is None

    async def test_regeneration_of_a_vanished_session_holds_only_the_changes(
        self, store: Store, clock: FakeClock
    ) -> None:
        write = session_write("new", clock, {"email": '"a@b"'}, replaces="gone")
        assert await store.save_session(write) is SAVED
        loaded = await store.load_session("new")
        assert loaded is not None
        assert loaded.items == {"email": '"a@b"'}

    async def test_regeneration_of_an_expired_session_carries_nothing_over(
        self, store: Store, clock: FakeClock
    ) -> None:
        old_id = await self.create_session(store, clock, {"a": 1})
        clock.advance(LIFETIME_S)
        assert await store.save_session(session_write("new", clock, {"b": "2"}, replaces=old_id)) is SAVED
        loaded = await store.load_session("new")
        assert loaded is not None
        assert loaded.items == {"b": "2"}

    async def test_write_to_a_session_removed_by_concurrent_regeneration_writes_nothing(
        self, store: Store, clock: FakeClock
    ) -> None:
        old_id = await self.create_session(store, clock, {"a": 1})
        # Request 1 logs in (regenerates); request 2 loaded the old id and saves after it.
        assert await store.save_session(session_write("new", clock, {"x": "1"}, replaces=old_id)) is SAVED
        assert await store.save_session(session_write(old_id, clock, {"late": "2"})) is ENDED
        assert await store.load_session(old_id) is None
        loaded = await store.load_session("new")
        assert loaded is not None
        assert loaded.items == {"a": "1", "x": "1"}

    # -- the size rule, inside the transaction -----------------------------------------------

    async def test_write_that_would_pass_max_bytes_writes_nothing(
        self, store: Store, clock: FakeClock
    ) -> None:
        session_id = await self.create_session(store, clock, {"a": "x" * 90})  # 1 + 92 bytes
        write = session_write(session_id, clock, {"b": '"small"', "c": '"' + "y" * 100 + '"'},
                              max_bytes=200)
        assert await store.save_session(write) is TOO_LARGE
        loaded = await store.load_session(session_id)
        assert loaded is not None
        assert loaded.items == {"a": encode("x" * 90)}  # none of the write, not even "b"

    async def test_size_rule_counts_what_concurrent_requests_saved_first(
        self, store: Store, clock: FakeClock
    ) -> None:
        """Two requests each checked the size against the session they loaded; the second to
        save would take the session past the limit, so it is refused."""
        session_id = await self.create_session(store, clock, {})
        first = session_write(session_id, clock, {"a": encode("x" * 60)}, max_bytes=100)
        second = session_write(session_id, clock, {"b": encode("y" * 60)}, max_bytes=100)
        assert await store.save_session(first) is SAVED
        assert await store.save_session(second) is TOO_LARGE
        loaded = await store.load_session(session_id)
        assert loaded is not None
        assert set(loaded.items) == {"a"}

    async def test_size_rule_counts_utf8_bytes_and_allows_deletions(
        self, store: Store, clock: FakeClock
    ) -> None:
        session_id = await self.create_session(store, clock, {"é": "é" * 10})  # 2 + 22 bytes
        exact = session_write(session_id, clock, {"k": '"é"'}, max_bytes=24 + 1 + 4)
        assert await store.save_session(exact) is SAVED
        shrink = session_write(session_id, clock, {"k": None}, max_bytes=1)
        assert await store.save_session(shrink) is SAVED  # deleting never breaks the rule

    async def test_delete_session(self, store: Store, clock: FakeClock) -> None:
        session_id = await self.create_session(store, clock, {"a": 1})
        await store.delete_session(session_id)
        assert await store.load_session(session_id) is None
        assert await store.save_session(session_write(session_id, clock, {"b": "2"})) is ENDED
        await store.delete_session("never-existed")

    # -- claim-once records ------------------------------------------------------------------

    async def test_claim_succeeds_once(self, store: Store) -> None:
        assert await store.claim("jti:1", 60) is True
        assert await store.claim("jti:1", 60) is False
        assert await store.claim("jti:2", 60) is True

    async def test_claim_is_refused_until_the_record_expires(
        self, store: Store, clock: FakeClock
    ) -> None:
        assert await store.claim("jti:1", 60)
        clock.advance(59)
        assert await store.claim("jti:1", 60) is False
        clock.advance(1)
        assert await store.claim("jti:1", 60) is True
        assert await store.claim("jti:1", 60) is False

    async def test_claim_once_across_threads(
        self, store: Store, store_url: tuple[str, Path]
    ) -> None:
        url, root = store_url
        keys = [f"jti:{n}" for n in range(60)]
        calls = [(url, root, keys, 60, soon()) for _ in range(THREADS)]
        claimed = await anyio.to_thread.run_sync(run_in_threads, workers.claim_keys, calls)
        assert sorted(key for got in claimed for key in got) == sorted(keys)

    async def test_claim_once_across_processes(
        self, store: Store, store_url: tuple[str, Path], process_pool: ProcessPoolExecutor
    ) -> None:
        url, root = store_url
        keys = [f"jti:{n}" for n in range(100)]
        calls = [(url, root, keys, 60, soon()) for _ in range(3)]
        claimed = await anyio.to_thread.run_sync(
            run_in_processes, process_pool, workers.claim_keys, calls
        )
        assert sorted(key for got in claimed for key in got) == sorted(keys)

    # -- counters ----------------------------------------------------------------------------

    async def test_counter_counts_up_from_zero(self, store: Store) -> None:
        assert await store.count("quota") == 0
        assert await store.increment("quota", 3600) == 1
        assert await store.increment("quota", 3600) == 2
        assert await store.increment("quota", 3600, amount=5) == 7
        assert await store.count("quota") == 7
        assert await store.count("other") == 0

    async def test_counter_window_is_fixed_from_the_first_increment(
        self, store: Store, clock: FakeClock
    ) -> None:
        await store.increment("quota", 3600)
        clock.advance(3000)
        assert await store.increment("quota", 3600) == 2
        clock.advance(599)
        assert await store.count("quota") == 2
        clock.advance(1)
        assert await store.count("quota") == 0
        assert await store.increment("quota", 3600) == 1
        clock.advance(3599)
        assert await store.count("quota") == 1

    async def test_concurrent_increments_are_all_counted(
        self, store: Store, store_url: tuple[str, Path], process_pool: ProcessPoolExecutor
    ) -> None:
        url, root = store_url
        calls = [(url, root, "quota", 50, soon()) for _ in range(3)]
        await anyio.to_thread.run_sync(
            run_in_processes, process_pool, workers.increment_many, calls
        )
        calls = [(url, root, "quota", 50, soon()) for _ in range(THREADS)]
        await anyio.to_thread.run_sync(run_in_threads, workers.increment_many, calls)
        assert await store.count("quota") == 50 * (3 + THREADS)

    # -- page events -------------------------------------------------------------------------

    async def test_recorded_request_comes_back_whole(self, store: Store, clock: FakeClock) -> None:
        events = [{"type": "console", "level": "warn", "args": ["x", {"n": 1}]}, {"type": "ok"}]
        record = request_record(
            "r1", clock.now, brand="b", path="/buy", method="POST", status=500,
            duration_ms=12.25, error=True, events=events,
        )
        await store.record_request(record)
        assert await store.get_request("r1") == record
        assert await store.get_request("r2") is None

    async def test_recording_a_request_id_again_replaces_it(
        self, store: Store, clock: FakeClock
    ) -> None:
        await store.record_request(request_record("r1", clock.now, status=200))
        await store.record_request(request_record("r1", clock.now, status=302))
        summaries = await store.list_requests()
        assert [(s.request_id, s.status) for s in summaries] == [("r1", 302)]

    async def test_events_that_are_not_json_are_refused(
        self, store: Store, clock: FakeClock
    ) -> None:
        with pytest.raises(StoreError) as caught:
            await store.record_request(request_record("r1", clock.now, events=[{"x": object()}]))
        assert caught.value.reason == "store_value"
        assert await store.get_request("r1") is None

    async def test_list_is_newest_first_with_event_counts(
        self, store: Store, clock: FakeClock
    ) -> None:
        t = clock.now
        await store.record_request(request_record("mid", t - 5, events=[{}, {}]))
        await store.record_request(request_record("new", t - 1, events=[]))
        await store.record_request(request_record("old", t - 9, events=[{}]))
        summaries = await store.list_requests()
        assert [(s.request_id, s.event_count) for s in summaries] == [
            ("new", 0), ("mid", 2), ("old", 1)
        ]
        first = summaries[0]
        assert (first.brand, first.path, first.method, first.status) == ("main", "/", "GET", 200)
        assert (first.started_at, first.duration_ms, first.error) == (t - 1, 1.5, False)

    async def test_list_filters(self, store: Store, clock: FakeClock) -> None:
        t = clock.now
        for n, (brand, path, status, error) in enumerate([
            ("a", "/", 200, False), ("a", "/buy", 500, True), ("b", "/", 404, False),
            ("b", "/buy", 200, True), ("a", "/", 200, False),
        ]):
            record = request_record(f"r{n}", t - 10 + n, brand=brand, path=path, status=status,
                                    error=error)
            await store.record_request(record)

        async def ids(**filters: Any) -> list[str]:
            return [s.request_id for s in await store.list_requests(**filters)]

        assert await ids() == ["r4", "r3", "r2", "r1", "r0"]
        assert await ids(brand="a") == ["r4", "r1", "r0"]
        assert await ids(path="/buy") == ["r3", "r1"]
        assert await ids(status=200) == ["r4", "r3", "r0"]
        assert await ids(errors_only=True) == ["r3", "r1"]
        assert await ids(brand="b", errors_only=True) == ["r3"]
        assert await ids(brand="a", path="/", status=200) == ["r4", "r0"]
        assert await ids(limit=2) == ["r4", "r3"]
        assert await ids(before=Cursor(t - 7, "")) == ["r2", "r1", "r0"]
        assert await ids(before=Cursor(t - 7, ""), limit=1, brand="a") == ["r1"]
        assert await ids(after=Cursor(t - 8, "r2")) == ["r4", "r3"]
        assert await ids(after=Cursor(t - 10, "r0"), limit=2) == ["r2", "r1"]  # the oldest two
        assert await ids(after=Cursor(t - 10, "r0"), brand="b") == ["r3", "r2"]
        assert await ids(brand="nope") == []

    async def test_paging_by_cursor_neither_skips_nor_repeats_requests_of_one_instant(
        self, store: Store, clock: FakeClock
    ) -> None:
        t = clock.now
        names = [f"{n:02x}" for n in range(7)]
        for name in names:  # two workers can start requests in the same microsecond
            await store.record_request(request_record(name, t))
        await store.record_request(request_record("later", t + 1))
        seen: list[str] = []
        page = await store.list_requests(limit=3)
        while page:
            seen += [s.request_id for s in page]
            page = await store.list_requests(limit=3, before=page[-1].cursor)
        assert seen == ["later", *reversed(names)]
        followed: list[str] = []
        newest = Cursor(t - 1, "")
        while page := await store.list_requests(limit=3, after=newest):
            followed = [s.request_id for s in page] + followed
            newest = page[0].cursor
        assert followed == seen

    async def test_the_outcome_of_a_script_is_listed(self, store: Store, clock: FakeClock) -> None:
        await store.record_request(request_record("plain", clock.now - 1))
        await store.record_request(request_record("ran", clock.now, outcome="timeout"))
        summaries = await store.list_requests()
        assert [(s.request_id, s.outcome) for s in summaries] == [("ran", "timeout"),
                                                                  ("plain", None)]
        record = await store.get_request("ran")
        assert record is not None and record.outcome == "timeout"

    async def test_retention_keeps_the_newest_requests_of_each_brand(
        self, store: Store, clock: FakeClock
    ) -> None:
        t = clock.now - 3000
        for n in range(REQUEST_LIMIT + 5):
            await store.record_request(request_record(f"a{n}", t + n, brand="a", events=[]))
        for n in range(3):
            await store.record_request(request_record(f"b{n}", t + n, brand="b", events=[]))
        await store.purge()
        kept = [s.request_id for s in await store.list_requests(brand="a", limit=5000)]
        assert kept == [f"a{n}" for n in reversed(range(5, REQUEST_LIMIT + 5))]
        assert await store.get_request("a4") is None
        assert len(await store.list_requests(brand="b")) == 3

    async def test_retention_by_count_holds_without_an_explicit_purge(
        self, store: Store, clock: FakeClock
    ) -> None:
        total = REQUEST_LIMIT + 2 * self.retention_slack + 10
        for n in range(total):
            await store.record_request(request_record(f"a{n}", clock.now - total + n, events=[]))
        stored = await store.list_requests(limit=5000)
        assert REQUEST_LIMIT <= len(stored) <= REQUEST_LIMIT + self.retention_slack
        assert stored[0].request_id == f"a{total - 1}"

    async def test_requests_older_than_a_day_are_gone(self, store: Store, clock: FakeClock) -> None:
        await store.record_request(request_record("old", clock.now))
        clock.advance(REQUEST_MAX_AGE_S - 1)
        await store.record_request(request_record("new", clock.now))
        assert [s.request_id for s in await store.list_requests()] == ["new", "old"]
        clock.advance(1)
        assert await store.get_request("old") is not None
        clock.advance(1)
        assert await store.get_request("old") is None
        assert [s.request_id for s in await store.list_requests()] == ["new"]
        await store.purge()
        assert [s.request_id for s in await store.list_requests()] == ["new"]

    # -- lifecycle ---------------------------------------------------------------------------

    async def test_purge_leaves_live_records_alone(self, store: Store, clock: FakeClock) -> None:
        session_id = await self.create_session(store, clock, {"a": 1})
        await store.claim("jti", 60)
        await store.increment("quota", 60)
        await store.record_request(request_record("r1", clock.now))
        await store.purge()
        assert await store.load_session(session_id) is not None
        assert await store.claim("jti", 60) is False
        assert await store.count("quota") == 1
        assert await store.get_request("r1") is not None

    async def test_purge_forgets_what_expired(self, store: Store, clock: FakeClock) -> None:
        session_id = await self.create_session(store, clock, {"a": 1})
        await store.claim("jti", 60)
        await store.increment("quota", 60)
        clock.advance(LIFETIME_S)
        await store.purge()
        assert await store.load_session(session_id) is None
        assert await store.claim("jti", 60) is True
        assert await store.count("quota") == 0

    async def test_a_closed_store_refuses_calls(
        self, store_url: tuple[str, Path], clock: FakeClock
    ) -> None:
        url, root = store_url
        store = open_store(url, root, clock=clock)
        await store.close()
        await store.close()
        with pytest.raises(StoreError) as caught:
            await store.load_session("s")
        assert caught.value.reason == "store_closed"
