"""Login quotas: counted per session and per client address within a brand, in a real SQLite
store; the window ends on a frozen clock; concurrent logins never spend more than the quota."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest

from conftest import ClockedStore, FakeClock, FrozenClock
from funnelrun.events import PageEvents
from funnelrun.inbound import Address
from funnelrun.login_quota import QUOTA_ID_KEY, WINDOW_S, LoginQuota
from funnelrun.session import Session
from funnelrun.sessions import SessionKeeper
from funnelrun.settings import SessionSettings
from funnelrun.store import Store, open_store

pytestmark = pytest.mark.anyio

ANN = ipaddress.ip_address("203.0.113.7")
BOB = ipaddress.ip_address("2001:db8::7")


class TestLoginQuota(ClockedStore):
    """The counters, on the real clock; TestLoginQuotaWindow runs them again frozen."""

    async def spend(self, quota: LoginQuota, session: Session, client: Address | None,
                    times: int) -> list[bool]:
        return [await quota.spend(session, client) for _ in range(times)]

    async def test_a_new_visitor_has_the_smaller_allowance(self, store: Store) -> None:
        assert await LoginQuota(store, per_session=3, per_ip=5).left(Session(brand="a"), ANN) == 3
        assert await LoginQuota(store, per_session=5, per_ip=2).left(Session(brand="a"), ANN) == 2

    async def test_a_session_may_log_in_its_quota_and_no_more(self, store: Store) -> None:
        quota = LoginQuota(store, per_session=2, per_ip=100)
        session = Session(brand="acme")
        assert await self.spend(quota, session, ANN, 3) == [True, True, False]
        assert await quota.left(session, ANN) == 0
        assert await quota.left(Session(brand="acme"), ANN) == 2  # another visitor, same address

    async def test_the_session_counter_survives_a_new_session_id(
        self, store: Store, clock: Callable[[], float]
    ) -> None:
        quota = LoginQuota(store, per_session=2, per_ip=100)
        keeper = SessionKeeper(store, SessionSettings(), clock=clock)
        session = Session(brand="acme")
        assert await quota.spend(session, ANN)
        session.login({"email": "ann@example.test"})
        cookie = await keeper.save(session, PageEvents(), secure=False)
        assert cookie is not None
        again = await keeper.load("acme", {"fr_session": cookie.value}, PageEvents())
        assert again.get(QUOTA_ID_KEY) == session.get(QUOTA_ID_KEY)
        assert await quota.left(again, ANN) == 1  # logging in again did not reset it

    async def test_an_address_may_log_in_its_quota_per_brand_whatever_the_sessions(
        self, store: Store
    ) -> None:
        quota = LoginQuota(store, per_session=100, per_ip=2)
        spent = [await quota.spend(Session(brand="acme"), ANN) for _ in range(3)]
        assert spent == [True, True, False]
        assert await quota.left(Session(brand="acme"), ANN) == 0
        assert await quota.left(Session(brand="beta"), ANN) == 2  # another brand
        assert await quota.left(Session(brand="acme"), BOB) == 2  # another address

    async def test_without_an_address_only_the_session_counts(self, store: Store) -> None:
        quota = LoginQuota(store, per_session=2, per_ip=1)
        session = Session(brand="acme")
        assert await self.spend(quota, session, None, 3) == [True, True, False]
        assert await quota.left(Session(brand="acme"), None) == 1

    async def test_the_quota_id_is_internal_to_the_runtime(self, store: Store) -> None:
        session = Session(brand="acme")
        await LoginQuota(store).spend(session, ANN)
        assert session.get(QUOTA_ID_KEY) is not None
        assert session.public_items() == {}  # scripts and templates never see it

    async def test_concurrent_logins_never_spend_more_than_the_quota(
        self, store: Store, tmp_path: Path, clock: Callable[[], float]
    ) -> None:
        session = Session(brand="acme")
        await LoginQuota(store).spend(session, ANN)  # an earlier login gave it its counter
        quota_id = session.get(QUOTA_ID_KEY)
        barrier = threading.Barrier(8, timeout=10)

        def one_request() -> bool:
            """A request of the same visitor in another worker: its own store connection."""
            async def run() -> bool:
                own = open_store(self.store_url, tmp_path, clock=clock)
                try:
                    mine = Session(brand="acme")
                    mine.write_value(QUOTA_ID_KEY, quota_id)
                    barrier.wait()
                    return await LoginQuota(own, per_session=4).spend(mine, ANN)
                finally:
                    await own.close()
            return asyncio.run(run())

        def all_at_once() -> list[bool]:
            with ThreadPoolExecutor(8) as pool:
                return [f.result() for f in [pool.submit(one_request) for _ in range(8)]]

        spent = await anyio.to_thread.run_sync(all_at_once)
        assert spent.count(True) == 3  # 4 per session, one spent before
        assert await LoginQuota(store, per_session=4).left(session, ANN) == 0


class TestLoginQuotaWindow(FrozenClock, TestLoginQuota):
    """Every quota test again on a frozen clock, and the window: a counter lasts WINDOW_S from
    its first login."""

    async def test_the_quota_comes_back_when_the_window_ends(
        self, store: Store, clock: FakeClock
    ) -> None:
        quota = LoginQuota(store, per_session=2, per_ip=3)
        session = Session(brand="acme")
        assert await self.spend(quota, session, ANN, 3) == [True, True, False]
        clock.advance(WINDOW_S - 1)
        assert await quota.left(session, ANN) == 0
        assert not await quota.spend(Session(brand="acme"), ANN)  # the address's fourth
        clock.advance(1)
        assert await quota.left(session, ANN) == 2
        assert await self.spend(quota, session, ANN, 3) == [True, True, False]

    async def test_the_window_starts_with_the_first_login_not_the_last(
        self, store: Store, clock: FakeClock
    ) -> None:
        quota = LoginQuota(store, per_session=2, per_ip=100)
        session = Session(brand="acme")
        assert await quota.spend(session, ANN)
        clock.advance(WINDOW_S - 10)
        assert await quota.spend(session, ANN)
        clock.advance(10)
        assert await quota.left(session, ANN) == 2
