"""Stage 7: the template context of SPEC §4, and session items written from templates."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from conftest import visit_of, write_site
from funnelrun.events import PageEvents
from funnelrun.render import TemplateSessionItems, render_page, template_context
from funnelrun.session import MAX_SESSION_BYTES, MAX_VALUE_BYTES, Session, encode
from funnelrun.visit import Visit

pytestmark = pytest.mark.anyio

SPEC_NAMES = {"var", "request", "query", "customer", "is_customer", "is_mobile", "is_tablet",
              "session", "route_params", "brand"}
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
BRAND = '''
    name = "Acme & Co"
    [variables]
    greeting = "brand"
    kept = "brand's"
'''


def customer_session() -> Session:
    session = Session(brand="acme", id="S" * 27)
    session.login({"email": "ann@example.test", "first_name": "Ann", "last_name": "Lee"})
    session.write_value("plan", "pro")
    session.write_value("_internal", "hidden")
    return session


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site", {
        "brands/acme/brand.toml": BRAND,
        "brands/acme/pages/offers/[slug].html": "{{ var.greeting }}|{{ greeting }}|{{ var.kept }}",
    })


def warnings(events: PageEvents) -> list[tuple[str, str]]:
    return [(e["call"], e["reason"]) for e in events.items if e["type"] == "warning"]


# -- the context -------------------------------------------------------------------------------


async def test_a_template_sees_exactly_the_names_of_spec_section_4(root: Path) -> None:
    visit = await visit_of(root, "/offers/spring?utm=mail&utm=news", session=customer_session(),
                           headers={"user-agent": IPHONE})
    context = template_context(visit)
    assert set(context) == SPEC_NAMES
    assert context["query"] == {"utm": "news"}  # the last value wins
    assert context["route_params"] == {"slug": "spring"}
    assert (context["is_mobile"], context["is_tablet"]) == (True, False)
    assert context["brand"] == {"id": "acme", "name": "Acme & Co"}
    assert context["request"]["path"] == "/offers/spring"
    assert context["request"]["ip"] == "203.0.113.7"


async def test_the_customer_and_the_session_as_a_template_sees_them(root: Path) -> None:
    visit = await visit_of(root, "/offers/x", session=customer_session())
    context = template_context(visit)
    assert context["is_customer"] is True and context["request"]["is_customer"] is True
    assert context["customer"] == {"email": "ann@example.test", "first_name": "Ann",
                                   "last_name": "Lee", "name": "Ann Lee"}
    assert context["session"] == {"plan": "pro"}  # identity and internal keys hidden


async def test_a_visitor_without_a_login_is_no_customer(root: Path) -> None:
    context = template_context(await visit_of(root, "/offers/x"))
    assert (context["customer"], context["is_customer"]) == (None, False)
    assert context["request"]["is_customer"] is False
    assert context["session"] == {}


async def test_set_variable_overrides_brand_variables_for_this_visit_only(root: Path) -> None:
    visit = await visit_of(root, "/offers/x")
    visit.variables["greeting"] = "script"
    assert template_context(visit)["var"] == {"greeting": "script", "kept": "brand's"}
    assert visit.brand.settings.variables == {"greeting": "brand", "kept": "brand's"}
    assert render_page(visit) == "script||brand&#39;s"  # `{{ greeting }}` is not a variable


# -- template session items --------------------------------------------------------------------


@pytest.fixture
async def visit(root: Path) -> Visit:
    return await visit_of(root, "/offers/x")


def items_of(visit: Visit) -> TemplateSessionItems:
    return TemplateSessionItems(visit.session, visit.events)


async def test_an_item_is_kept_as_json_under_its_sanitized_custom_key(visit: Visit) -> None:
    items = items_of(visit)
    items.set_item("seen offer-1!", {"at": [1, "two"]})
    assert visit.session.changes == {"custom_seenoffer1": '{"at":[1,"two"]}'}
    assert items.get_item("seen offer-1!") == {"at": [1, "two"]}
    assert items.get_item("seenoffer1") == {"at": [1, "two"]}  # the same key once sanitized


async def test_a_missing_item_reads_as_empty_text(visit: Visit) -> None:
    assert items_of(visit).get_item("nothing") == ""


async def test_clearing_an_item_or_setting_it_to_none_deletes_it(visit: Visit) -> None:
    items = items_of(visit)
    items.set_item("a", 1)
    items.set_item("b", 2)
    items.clear_item("a")
    items.set_item("b", None)
    assert visit.session.items == {}
    assert visit.session.changes == {"custom_a": None, "custom_b": None}


async def test_a_value_over_the_value_limit_is_refused_with_a_warning(visit: Visit) -> None:
    items = items_of(visit)
    items.set_item("big", "x" * MAX_VALUE_BYTES)  # 2 bytes more with its JSON quotes
    assert visit.session.changes == {}
    assert warnings(visit.events) == [
        ("@setSessionItem('big')",
         f"value is {MAX_VALUE_BYTES + 2} bytes; the limit is {MAX_VALUE_BYTES}")]


async def test_a_value_that_would_pass_the_session_limit_is_refused_with_a_warning(
    visit: Visit
) -> None:
    filler = "x" * (MAX_VALUE_BYTES - 100)
    for n in range(MAX_SESSION_BYTES // MAX_VALUE_BYTES):
        visit.session.write(f"k{n}", encode(filler))
    items = items_of(visit)
    items.set_item("more", "y" * 2000)
    assert "custom_more" not in visit.session.items
    [(call, reason)] = warnings(visit.events)
    assert call == "@setSessionItem('more')"
    assert reason.startswith("session would be ") and reason.endswith(
        f"bytes; the limit is {MAX_SESSION_BYTES}")


@pytest.mark.parametrize("value", [math.nan, math.inf, object(), {"a": {1, 2}}])
async def test_a_value_json_cannot_hold_is_refused_with_a_warning(visit: Visit, value: object
                                                                  ) -> None:
    items_of(visit).set_item("odd", value)
    assert visit.session.changes == {}
    assert warnings(visit.events) == [("@setSessionItem('odd')", "value cannot be stored as JSON")]


async def test_a_page_writes_session_items_through_its_visits_session(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", {
        "brands/acme/pages/p.html": "@setSessionItem('k', query.v)[{{ getSessionItem('k') }}]",
    })
    visit = await visit_of(root, "/p?v=%3Cb%3E")
    assert render_page(visit) == "[&lt;b&gt;]"
    assert visit.session.changes == {"custom_k": '"<b>"'}
