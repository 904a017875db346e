"""Stage 6: a script's effects applied to its visit, in the order asked; a redirect or custom
response ends the page. On a real visit, session and SQLite store."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conftest import visit_of, write_site
from funnelrun.effects import apply_effects
from funnelrun.login_quota import QUOTA_ID_KEY, LoginQuota
from funnelrun.script import CookieEffect, CustomResponse, Effects, Redirect, SessionOp
from funnelrun.session import Session
from funnelrun.store import Store, open_store
from funnelrun.visit import Visit

pytestmark = pytest.mark.anyio

ANN = {"email": "ann@example.test", "name": "Ann"}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = open_store("sqlite:///state.db", tmp_path)
    yield store
    await store.close()


@pytest.fixture
def quota(store: Store) -> LoginQuota:
    return LoginQuota(store, per_session=1, per_ip=100)


@pytest.fixture
async def visit(tmp_path: Path) -> Visit:
    root = write_site(tmp_path / "site", {"brands/acme/pages/p.html": "page"})
    return await visit_of(root, "/p", session=Session(brand="acme", id="S" * 27, created_at=1.0,
                                                items={"old": '"kept"'}))


def set_(key: str, text: str) -> SessionOp:
    return SessionOp("set", key=key, text=text)


def delete(key: str) -> SessionOp:
    return SessionOp("delete", key=key)


def warnings(visit: Visit) -> list[tuple[str, str]]:
    return [(e["call"], e["reason"]) for e in visit.events.items if e["type"] == "warning"]


async def test_session_changes_are_applied_in_the_order_asked(visit: Visit, quota: LoginQuota
                                                              ) -> None:
    ops = (set_("a", '"x"'), delete("a"), delete("old"), set_("old", '"new"'), set_("b", "2"))
    assert await apply_effects(visit, Effects(session=ops), quota) is None
    assert visit.session.items == {"old": '"new"', "b": "2"}
    assert visit.session.changes == {"a": None, "old": '"new"', "b": "2"}


async def test_a_login_spends_the_quota_and_regenerates_the_id(
    visit: Visit, quota: LoginQuota
) -> None:
    effects = Effects(session=(SessionOp("login", fields=ANN), set_("after", "1")))
    assert await apply_effects(visit, effects, quota) is None
    session = visit.session
    assert session.is_customer and session.get("email") == ANN["email"]
    assert session.customer == {"email": ANN["email"], "name": "Ann"}
    assert (session.replaces, session.id != session.replaces) == ("S" * 27, True)
    assert session.get("after") == 1
    assert await quota.left(session, visit.client) == 0
    assert warnings(visit) == []


async def test_a_login_is_refused_when_a_concurrent_request_spent_the_quota(
    visit: Visit, quota: LoginQuota
) -> None:
    # The script was told one login was left; another request of the visitor spent it since.
    visit.session.write_value(QUOTA_ID_KEY, "q" * 27)
    concurrent = Session(brand="acme", items={QUOTA_ID_KEY: visit.session.items[QUOTA_ID_KEY]})
    assert await quota.spend(concurrent, visit.client)
    effects = Effects(session=(SessionOp("login", fields=ANN), set_("after", "1")))
    assert await apply_effects(visit, effects, quota) is None
    assert not visit.session.is_customer
    assert visit.session.replaces is None and visit.session.id == "S" * 27  # not regenerated
    assert visit.session.get("after") == 1  # what came after still applies
    assert warnings(visit) == [
        ("session.setCustomer", "the login quota is spent (perhaps by a concurrent request)")]


async def test_a_login_counts_against_the_clients_address(
    visit: Visit, store: Store
) -> None:
    quota = LoginQuota(store, per_session=100, per_ip=1)
    assert visit.client == ipaddress.ip_address("203.0.113.7")
    await apply_effects(visit, Effects(session=(SessionOp("login", fields=ANN),)), quota)
    assert await quota.left(Session(brand="acme"), visit.client) == 0


async def test_cookies_headers_variables_and_status_go_to_the_visit(
    visit: Visit, quota: LoginQuota
) -> None:
    earlier = CookieEffect("earlier", "1")
    visit.cookies.append(earlier)
    visit.variables["v"] = "before"
    visit.headers["x-kept"] = "1"
    effects = Effects(
        cookies=(CookieEffect("a", "1", max_age=60), CookieEffect("b", delete=True)),
        headers=(("x-one", "1"), ("x-two", "2")),
        variables={"v": "after", "w": [1, {"x": True}]},
        status=418,
    )
    assert await apply_effects(visit, effects, quota) is None  # the page still renders
    assert visit.cookies == [earlier, *effects.cookies]
    assert visit.headers == {"x-kept": "1", "x-one": "1", "x-two": "2"}
    assert visit.variables == {"v": "after", "w": [1, {"x": True}]}
    assert visit.status == 418


async def test_no_status_keeps_the_visits(visit: Visit, quota: LoginQuota) -> None:
    visit.status = 201
    assert await apply_effects(visit, Effects(), quota) is None
    assert visit.status == 201
    assert (visit.cookies, visit.headers, visit.variables) == ([], {}, {})


async def test_a_redirect_ends_the_page_after_the_effects_before_it(
    visit: Visit, quota: LoginQuota
) -> None:
    effects = Effects(session=(set_("a", "1"),), cookies=(CookieEffect("c", "1"),),
                      redirect=Redirect("/next?é=1", 303))
    response = await apply_effects(visit, effects, quota)
    assert response is not None
    assert response.status_code == 303
    assert response.headers["location"] == "/next?%C3%A9=1"
    assert visit.session.get("a") == 1 and visit.cookies == [CookieEffect("c", "1")]


async def test_a_custom_response_ends_the_page_with_the_scripts_status_and_type(
    visit: Visit, quota: LoginQuota
) -> None:
    effects = Effects(status=401, response=CustomResponse("application/json", '{"error":"é"}'))
    response = await apply_effects(visit, effects, quota)
    assert response is not None
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.body == '{"error":"é"}'.encode()


async def test_a_custom_response_is_200_by_default(visit: Visit, quota: LoginQuota) -> None:
    effects = Effects(response=CustomResponse("text/html; charset=utf-8", "<p>hi</p>"))
    response = await apply_effects(visit, effects, quota)
    assert response is not None
    assert (response.status_code, response.body) == (200, b"<p>hi</p>")
    assert response.headers["content-type"] == "text/html; charset=utf-8"


async def test_a_lone_surrogate_in_a_body_is_sent_as_a_replacement_character(
    visit: Visit, quota: LoginQuota
) -> None:
    effects = Effects(response=CustomResponse("text/html; charset=utf-8", "a\ud800b"))
    response = await apply_effects(visit, effects, quota)
    assert response is not None
    assert response.body == "a\ufffdb".encode()
