"""A login handed between domains: tokens for a session's customer, taken into another session
once, on a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import ada_url
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import FakeClock
from funnelrun.errors import HandoffError
from funnelrun.handoff import issue_token
from funnelrun.login_handoff import Handover, same_page_location, token_in_query
from funnelrun.login_quota import QUOTA_ID_KEY
from funnelrun.session import Session, encode
from funnelrun.store import SQLiteStore

pytestmark = pytest.mark.anyio

SECRET = bytes(range(32))
CUSTOMER = {"email": "ann@example.test", "name": "Ann", "id": 7}


@pytest.fixture
async def handover(tmp_path: Path) -> AsyncIterator[Handover]:
    clock = FakeClock()
    store = SQLiteStore(tmp_path / "state.db", clock=clock)
    yield Handover(SECRET, store, clock)
    await store.close()


def visitor(**items: object) -> Session:
    return Session(brand="acme", id="old-session-id-0123", created_at=1.0,
                   items={key: encode(value) for key, value in items.items()})


def customer_session() -> Session:
    session = visitor()
    session.login({"email": "ann@example.test", "name": "Ann", "id": 7})
    return session


async def test_a_token_for_the_customer_logs_another_session_in(handover):
    token = handover.token_for("acme", customer_session())
    other = visitor(utm_source="mail", cart=[1, 2], note="private", email_hint="x")
    handoff = await handover.take_in("acme", other, token)
    assert handoff.customer["email"] == "ann@example.test"
    assert other.is_customer and other.customer == CUSTOMER
    assert other.get("customer_id") == 7
    assert other.replaces == "old-session-id-0123" and other.id != "old-session-id-0123"
    assert set(other.public_items()) == {"utm_source", "cart"}  # tracking keys only
    assert other.keep is not None and "note" not in other.keep


async def test_the_runtimes_own_keys_survive_a_handoff(handover):
    other = visitor(utm_term="x")
    other.write_value(QUOTA_ID_KEY, "quota-1")
    await handover.take_in("acme", other, handover.token_for("acme", customer_session()))
    assert other.get(QUOTA_ID_KEY) == "quota-1"


async def test_a_token_is_spent_once(handover):
    token = handover.token_for("acme", customer_session())
    await handover.take_in("acme", visitor(), token)
    second = visitor(note="kept")
    with pytest.raises(HandoffError) as caught:
        await handover.take_in("acme", second, token)
    assert caught.value.reason == "replayed"
    assert not second.is_customer and second.replaces is None  # untouched


async def test_a_forged_token_never_spends_the_real_ones_jti(handover):
    token = handover.token_for("acme", customer_session())
    forged = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    with pytest.raises(HandoffError) as caught:
        await handover.take_in("acme", visitor(), forged)
    assert caught.value.reason == "tampered"
    assert (await handover.take_in("acme", visitor(), token)).customer == CUSTOMER


async def test_without_a_customer_or_a_secret_there_is_no_token(handover):
    with pytest.raises(HandoffError) as caught:
        handover.token_for("acme", visitor())
    assert caught.value.reason == "no_customer"
    handover.secret = None
    with pytest.raises(HandoffError) as caught:
        handover.token_for("acme", customer_session())
    assert caught.value.reason == "no_secret"
    with pytest.raises(HandoffError) as caught:
        await handover.take_in("acme", visitor(), "v1.anything")
    assert caught.value.reason == "no_secret"


async def test_a_token_of_another_brand_is_refused(handover):
    token = issue_token(SECRET, "beta", CUSTOMER, now=handover.clock())
    with pytest.raises(HandoffError) as caught:
        await handover.take_in("acme", visitor(), token)
    assert caught.value.reason == "tampered"


@pytest.mark.parametrize(("query", "found"), [
    ("", None),
    ("a=1&b=2", None),
    ("ef_session=TOKEN", ("TOKEN", "")),
    ("x=1&ef_session=TOK%2BEN&y=2&x=3", ("TOK+EN", "x=1&y=2&x=3")),
    ("setSessionToken=T&utm_source=m", ("T", "utm_source=m")),
    ("setSessionToken=S&ef_session=E&z", ("E", "z")),  # both go; ef_session wins
    ("ef%5Fsession=T&q=a+b%20c", ("T", "q=a+b%20c")),  # other spellings kept exactly
    ("ef_session&k=", ("", "k=")),
])
def test_the_token_leaves_the_query_and_everything_else_stays(query, found):
    assert token_in_query(query) == found


@pytest.mark.parametrize(("raw_path", "query", "location"), [
    ("/members", "", "/members"),
    ("/members", "x=1", "/members?x=1"),
    ("//", "", "/"),  # the index page, reached as `//`
    ("//evil.test/", "a=1", "/evil.test/?a=1"),
    ("/\\evil.test", "", "/%5Cevil.test"),  # a [slug] page: `/\x` is `//x` to a browser
    ("/a\\b/c", "", "/a%5Cb/c"),
])
def test_the_way_back_to_the_page_stays_on_this_host(raw_path, query, location):
    assert same_page_location(raw_path, query) == location


@given(st.text(alphabet="/\\.:@%?#abc ", max_size=12), st.text(alphabet="=&/\\x", max_size=6))
def test_no_requested_path_makes_the_way_back_leave_the_host(raw_path, query):
    location = same_page_location("/" + raw_path, query)
    resolved = ada_url.URL(location, base="http://shop.test/start")
    assert resolved.host == "shop.test"
