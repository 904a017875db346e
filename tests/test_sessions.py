"""Sessions between requests: loading from the cookie, saving through a real SQLite store, the
cookie sent back, and the lifetime counted from creation on a frozen clock."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from conftest import ClockedStore, FakeClock, FrozenClock
from funnelrun.events import PageEvents
from funnelrun.session import MAX_SESSION_BYTES, SESSION_COOKIE, Session, decode, encode
from funnelrun.sessions import SessionKeeper, store_id
from funnelrun.settings import SessionSettings
from funnelrun.store import Store

pytestmark = pytest.mark.anyio

LIFETIME_S = 3600
ENDED = ("the session ended (expired, or replaced by a concurrent login) before this "
         "request's writes were saved; not saved: {}")
GONE = {"type": "session", "state": "unknown, expired or of another brand"}


def session_events(events: PageEvents) -> list[dict]:
    """The `session` and `warning` events, without their timestamps."""
    return [{k: v for k, v in event.items() if k != "at_ms"} for event in events.items
            if event["type"] in ("session", "warning")]


class TestSessionKeeper(ClockedStore):
    """Loading and saving, on the real clock; TestSessionLifetime runs them again frozen."""

    @pytest.fixture
    def keeper(self, store: Store, clock: Callable[[], float]) -> SessionKeeper:
        return SessionKeeper(store, SessionSettings(lifetime_s=LIFETIME_S), clock=clock)

    async def stored_session(self, keeper: SessionKeeper, brand: str = "acme",
                             **items: object) -> str:
        """A session of `brand` holding `items`, saved; its cookie's id."""
        session = Session(brand=brand)
        for key, value in items.items():
            session.write_value(key, value)
        cookie = await keeper.save(session, PageEvents(), secure=False)
        assert cookie is not None
        return cookie.value

    async def load(self, keeper: SessionKeeper, cookie: str | None, brand: str = "acme",
                   events: PageEvents | None = None) -> Session:
        cookies = {} if cookie is None else {SESSION_COOKIE: cookie}
        return await keeper.load(brand, cookies, events or PageEvents())

    # -- loading -------------------------------------------------------------------------------

    async def test_no_cookie_is_an_empty_session_of_the_brand_and_no_event(
        self, keeper: SessionKeeper
    ) -> None:
        events = PageEvents()
        session = await keeper.load("acme", {"other": "x"}, events)
        assert (session.brand, session.id, session.items) == ("acme", None, {})
        assert events.items == []

    async def test_a_stored_session_is_loaded_with_its_items_and_creation_time(
        self, keeper: SessionKeeper, store: Store
    ) -> None:
        session_id = await self.stored_session(keeper, n=2, name="Ann")
        stored = await store.load_session(store_id("acme", session_id))
        assert stored is not None
        session = await self.load(keeper, session_id)
        assert session.id == session_id
        assert session.created_at == stored.created_at
        assert session.items == {"n": "2", "name": '"Ann"'}
        assert not session.dirty  # loading writes nothing back

    @pytest.mark.parametrize("cookie", [
        "short", "x" * 129, "has spaces in it ok", "acme:AAAAAAAAAAAAAAAAAAAA", "é" * 20,
    ])
    async def test_a_malformed_cookie_is_no_session_and_an_event(
        self, keeper: SessionKeeper, cookie: str
    ) -> None:
        events = PageEvents()
        session = await self.load(keeper, cookie, events=events)
        assert (session.brand, session.id, session.items) == ("acme", None, {})
        assert session_events(events) == [{"type": "session", "state": "malformed cookie"}]

    async def test_an_unknown_id_is_no_session_and_is_never_adopted(
        self, keeper: SessionKeeper
    ) -> None:
        events = PageEvents()
        chosen = "A" * 27  # well-formed, but no session has it: an attacker's choice, say
        session = await self.load(keeper, chosen, events=events)
        assert session.id is None
        assert session_events(events) == [GONE]
        session.write_value("k", 1)
        cookie = await keeper.save(session, events, secure=False)
        assert cookie is not None and cookie.value != chosen  # no session fixation

    async def test_another_brands_session_is_no_session_here(
        self, keeper: SessionKeeper
    ) -> None:
        session_id = await self.stored_session(keeper, "acme", secret="acme's")
        events = PageEvents()
        session = await self.load(keeper, session_id, "beta", events)
        assert (session.brand, session.id, session.items) == ("beta", None, {})
        assert session_events(events) == [GONE]
        assert (await self.load(keeper, session_id, "acme")).get("secret") == "acme's"

    # -- saving --------------------------------------------------------------------------------

    async def test_an_unchanged_session_is_not_saved_and_gets_no_cookie(
        self, keeper: SessionKeeper, store: Store
    ) -> None:
        events = PageEvents()
        session = Session(brand="acme")
        assert await keeper.save(session, events, secure=False) is None
        assert session.id is None and events.items == []

    async def test_the_first_write_creates_the_session_and_sends_its_cookie(
        self, keeper: SessionKeeper, store: Store, clock: Callable[[], float]
    ) -> None:
        events = PageEvents()
        session = Session(brand="acme")
        session.write_value("b", 2)
        session.write_value("a", 1)
        before = clock()
        cookie = await keeper.save(session, events, secure=True)
        assert cookie is not None and session.id is not None
        assert (cookie.name, cookie.value, cookie.path, cookie.delete) == (
            SESSION_COOKIE, session.id, "/", False)
        assert cookie.max_age == LIFETIME_S
        assert session_events(events) == [
            {"type": "session", "saved": ["a", "b"], "created": True, "regenerated": False}]
        stored = await store.load_session(store_id("acme", session.id))
        assert stored is not None
        assert stored.items == {"a": "1", "b": "2"}
        assert before <= stored.created_at <= clock()
        assert stored.expires_at == stored.created_at + LIFETIME_S

    async def test_later_writes_send_no_cookie_and_keep_the_other_keys(
        self, keeper: SessionKeeper, store: Store
    ) -> None:
        session_id = await self.stored_session(keeper, a=1, b=2)
        session = await self.load(keeper, session_id)
        session.write_value("a", 10)
        session.write_value("b", None)
        events = PageEvents()
        assert await keeper.save(session, events, secure=False) is None
        assert session_events(events) == [
            {"type": "session", "saved": ["a", "b"], "created": False, "regenerated": False}]
        assert (await self.load(keeper, session_id)).items == {"a": "10"}

    async def test_a_regenerated_id_gets_a_cookie_and_the_old_id_is_gone(
        self, keeper: SessionKeeper
    ) -> None:
        old_id = await self.stored_session(keeper, a=1)
        session = await self.load(keeper, old_id)
        session.login({"email": "ann@example.test"})
        events = PageEvents()
        cookie = await keeper.save(session, events, secure=False)
        assert cookie is not None and cookie.value == session.id != old_id
        assert session_events(events)[-1]["regenerated"] is True
        renewed = await self.load(keeper, cookie.value)
        assert renewed.get("a") == 1 and renewed.is_customer
        assert (await self.load(keeper, old_id)).id is None

    async def test_the_writes_of_a_session_a_concurrent_login_replaced_are_dropped_with_a_warning(
        self, keeper: SessionKeeper
    ) -> None:
        old_id = await self.stored_session(keeper, a=1)
        late = await self.load(keeper, old_id)  # a request that loaded before the login
        login = await self.load(keeper, old_id)
        login.login({"email": "ann@example.test"})
        new_cookie = await keeper.save(login, PageEvents(), secure=False)
        assert new_cookie is not None
        late.write_value("late", 1)
        events = PageEvents()
        assert await keeper.save(late, events, secure=False) is None
        assert session_events(events) == [
            {"type": "warning", "call": "session", "reason": ENDED.format("late")}]
        assert (await self.load(keeper, new_cookie.value)).get("late") is None

    async def test_writes_that_would_overfill_the_session_together_with_concurrent_ones_are_refused(
        self, keeper: SessionKeeper
    ) -> None:
        session_id = await self.stored_session(keeper, a=1)
        first = await self.load(keeper, session_id)
        second = await self.load(keeper, session_id)  # loaded before the first one saved
        big = "x" * 60_000
        for key in ("f1", "f2", "f3"):
            first.write_value(key, big)
        assert await keeper.save(first, PageEvents(), secure=False) is None
        for key in ("s2", "s1"):
            second.write_value(key, big)
        assert second.refusal_for_write("s3", encode(big)) is None  # alone, it would fit
        events = PageEvents()
        assert await keeper.save(second, events, secure=False) is None
        assert session_events(events) == [{
            "type": "warning", "call": "session",
            "reason": (f"with the writes of concurrent requests the session would pass "
                       f"{MAX_SESSION_BYTES} bytes; none of this request's writes were saved: "
                       "s1, s2"),
        }]
        stored = await self.load(keeper, session_id)
        assert sorted(stored.items) == ["a", "f1", "f2", "f3"]

    async def test_a_session_without_a_brand_is_refused(self, keeper: SessionKeeper) -> None:
        session = Session()
        session.write_value("k", 1)
        with pytest.raises(ValueError, match="must belong to a brand"):
            await keeper.save(session, PageEvents(), secure=False)

    async def test_the_store_key_is_the_brand_then_the_id(self, keeper: SessionKeeper,
                                                           store: Store) -> None:
        session_id = await self.stored_session(keeper, "beta", k=1)
        assert store_id("beta", session_id) == f"beta:{session_id}"
        assert await store.load_session(session_id) is None
        assert await store.load_session(f"beta:{session_id}") is not None


class TestSessionLifetime(FrozenClock, TestSessionKeeper):
    """Every keeper test again on a frozen clock, and the lifetime rule of SPEC §5: a session
    lasts `lifetime_s` from its creation, whatever the visitor does meanwhile."""

    async def test_a_session_lives_its_lifetime_from_creation_and_not_a_second_more(
        self, keeper: SessionKeeper, clock: FakeClock
    ) -> None:
        session_id = await self.stored_session(keeper, a=1)
        clock.advance(LIFETIME_S - 1)
        assert (await self.load(keeper, session_id)).get("a") == 1
        clock.advance(1)
        events = PageEvents()
        assert (await self.load(keeper, session_id, events=events)).id is None
        assert session_events(events) == [GONE]

    async def test_activity_does_not_extend_the_session(
        self, keeper: SessionKeeper, clock: FakeClock
    ) -> None:
        session_id = await self.stored_session(keeper, n=1)
        for n in range(2, 5):
            clock.advance(LIFETIME_S / 4)
            session = await self.load(keeper, session_id)
            session.write_value("n", n)
            assert await keeper.save(session, PageEvents(), secure=False) is None
        assert (await self.load(keeper, session_id)).get("n") == 4
        clock.advance(LIFETIME_S / 4)
        assert (await self.load(keeper, session_id)).id is None

    async def test_a_regenerated_session_keeps_its_creation_time_and_the_cookie_says_what_is_left(
        self, keeper: SessionKeeper, clock: FakeClock
    ) -> None:
        old_id = await self.stored_session(keeper, a=1)
        clock.advance(1000)
        session = await self.load(keeper, old_id)
        session.login({"email": "ann@example.test"})
        cookie = await keeper.save(session, PageEvents(), secure=False)
        assert cookie is not None
        assert cookie.max_age == LIFETIME_S - 1000
        clock.advance(LIFETIME_S - 1000)
        assert (await self.load(keeper, cookie.value)).id is None

    async def test_the_writes_of_a_session_that_expired_after_loading_are_dropped_with_a_warning(
        self, keeper: SessionKeeper, clock: FakeClock
    ) -> None:
        session_id = await self.stored_session(keeper, a=1)
        clock.advance(LIFETIME_S - 1)
        session = await self.load(keeper, session_id)
        session.write_value("late", 1)
        clock.advance(1)  # the request was slow
        events = PageEvents()
        assert await keeper.save(session, events, secure=False) is None
        assert session_events(events) == [
            {"type": "warning", "call": "session", "reason": ENDED.format("late")}]

    async def test_a_new_session_after_expiry_starts_a_whole_lifetime(
        self, keeper: SessionKeeper, clock: FakeClock
    ) -> None:
        old_id = await self.stored_session(keeper, a=1)
        clock.advance(LIFETIME_S + 5)
        session = await self.load(keeper, old_id)
        session.write_value("b", 2)
        cookie = await keeper.save(session, PageEvents(), secure=False)
        assert cookie is not None and cookie.value != old_id
        assert cookie.max_age == LIFETIME_S
        assert (await self.load(keeper, cookie.value)).items == {"b": "2"}


# -- values as stored ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "3", '"Ann"', '[1,{"a":null}]', "true", '"é\\u00e9"', "1e400",  # as encode writes them
    " 3", "3 ", "\t[]\n", "", "[1,", '{"a":1}x', "01", "nul", '"a\nb"',  # and what it never does
])
def test_a_stored_value_reads_as_json_loads_reads_it(text: str) -> None:
    try:
        expected: object = json.loads(text)
    except json.JSONDecodeError as exc:
        with pytest.raises(json.JSONDecodeError) as raised:
            decode(text)
        assert str(raised.value) == str(exc)
    else:
        assert decode(text) == expected
        assert Session(items={"k": text}).get("k") == expected


def test_stored_values_are_compact_json_as_javascript_writes_it() -> None:
    assert encode({"a": [1, 2.5, "é", None]}) == '{"a":[1,2.5,"é",null]}'
    with pytest.raises(ValueError):
        encode(float("nan"))
