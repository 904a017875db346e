"""Stage 7: the template context of SPEC §4, and session items written from templates."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import visit_of, write_site
from funnelrun.events import PageEvents
from funnelrun.inbound import referer_text
from funnelrun.render import (
    PageRequest,
    TemplateSessionItems,
    query_text,
    render_page,
    template_context,
)
from funnelrun.session import MAX_SESSION_BYTES, MAX_VALUE_BYTES, Session, encode
from funnelrun.visit import Visit

pytestmark = pytest.mark.anyio

SPEC_NAMES = {"var", "request", "query", "customer", "is_customer", "is_mobile", "is_tablet",
              "session", "route_params", "brand"}
# The reference's page variables (script-library §2.8); "%" holds the percent placeholders.
PAGE_VARIABLES = {"brand_name", "domain", "queryparams", "customer_name", "click_id", "%"}
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
    assert set(context) >= SPEC_NAMES | PAGE_VARIABLES
    assert context["query"] == {"utm": "news"}  # the last value wins
    assert context["route_params"] == {"slug": "spring"}
    assert (context["is_mobile"], context["is_tablet"]) == (True, False)
    assert context["brand"] == {"id": "acme", "name": "Acme & Co", "code": "", "currency": "",
                                "timezone": "UTC", "support_email": "", "support_phone": "",
                                "mbg_days": None}
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


async def test_an_item_key_making_a_session_key_over_128_characters_is_refused(
    visit: Visit
) -> None:
    """The rule scripts' setSessionItem follows: `custom_` and 121 characters at most."""
    items = items_of(visit)
    items.set_item("k" * 121, 1)
    items.set_item("k" * 122, 2)
    assert visit.session.changes == {"custom_" + "k" * 121: "1"}
    assert warnings(visit.events) == [(f"@setSessionItem('{'k' * 122}')",
                                       "key must be 1-128 characters of A-Z a-z 0-9 _ . -")]


# -- the reference's page variables (script-library §2.8) ----------------------------------------


async def test_the_page_variables(root: Path) -> None:
    visit = await visit_of(root, "/offers/x?aff_id=123&source=facebook",
                           session=customer_session(),
                           headers={"user-agent": IPHONE, "referer": "https://ads.test/a?b=1"})
    visit.session.write_value("click_id", "abc-1")
    context = template_context(visit)
    assert {name: context[name] for name in PAGE_VARIABLES - {"%"}} == {
        "brand_name": "Acme & Co", "domain": "acme.test",
        "queryparams": "aff_id=123&source=facebook", "customer_name": "Ann Lee",
        "click_id": "abc-1",
    }
    request = context["request"]
    assert request["referer"] == request["referrer"] == "https://ads.test/a?b=1"
    assert request["is_customer"] is True


async def test_without_a_customer_or_click_the_page_variables_are_empty(root: Path) -> None:
    context = template_context(await visit_of(root, "/offers/x"))
    assert (context["queryparams"], context["customer_name"], context["click_id"]) == ("", "", "")
    assert (context["request"]["referer"], context["request"]["referrer"]) == ("", "")


@pytest.mark.parametrize(("raw", "shown"), [
    (b"a=1&b=%20x", "a=1&b=%20x"),  # as sent, its escapes kept
    (b"q=<script>&r=\"x\"", "q=%3Cscript%3E&r=%22x%22"),
    (b"s=a b\x00\xff#f", "s=a%20b%00%FF%23f"),
    (b"u=caf\xc3\xa9&v=(1);:@/?!$*+,='~", "u=caf%C3%A9&v=(1);:@/?!$*+,='~"),
    (b"", ""),
])
def test_queryparams_is_the_query_as_sent_made_safe_for_a_url(raw: bytes, shown: str) -> None:
    assert query_text(raw) == shown


async def test_request_device_is_parsed_only_when_read(root: Path) -> None:
    visit = await visit_of(root, "/offers/x", headers={"user-agent": IPHONE})
    request = template_context(visit)["request"]
    assert isinstance(request, PageRequest) and "device" not in request._fields
    assert request["device"]["type"] == "mobile" and request["device"]["os"] == "iOS"
    assert "device" in request._fields and "device" in list(request) and len(request) == len(
        list(request))


async def test_request_get_is_mapping_get_and_parses_the_device_when_asked(root: Path) -> None:
    visit = await visit_of(root, "/offers/x", headers={"user-agent": IPHONE})
    request = template_context(visit)["request"]
    assert request.get("missing") is None and request.get("missing", 7) == 7
    assert request.get("path") == request["path"] == "/offers/x"
    assert "device" not in request._fields
    assert request.get("device", None)["type"] == "mobile" and "device" in request._fields


async def test_a_page_reads_request_device_and_referrer(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", {"brands/acme/pages/p.html":
        "{{ request.device.type }}|{{ request.device.os }}|{{ request.referrer }}"})
    visit = await visit_of(root, "/p", headers={"user-agent": IPHONE, "referer": "https://a.test/"})
    assert render_page(visit) == "mobile|iOS|https://a.test/"


@pytest.mark.parametrize(("header", "shown"), [
    ("https://a.test/\x01x\x7fy\tz", "https://a.test/xyz"),
    ("  https://a.test/  ", "https://a.test/"),
    ("https://a.test/" + "x" * 4081, "https://a.test/" + "x" * 4081),
    ("https://a.test/" + "x" * 4082, ""),  # over 4096 characters: no browser's
])
async def test_the_referer_is_cleaned_and_bounded(root: Path, header: str, shown: str) -> None:
    visit = await visit_of(root, "/offers/x", headers={"referer": header})
    assert visit.request_object["referer"] == shown == visit.request_object["referrer"]


async def test_placeholders_use_the_render_time_and_the_brand_time_zone(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", {
        "brands/acme/brand.toml": 'name = "Acme"\ntimezone = "Europe/Bucharest"\n',
        "brands/acme/pages/p.html": "%DAY_NAME% %DAY%%DAY_POSTFIX% %MONTH_NAME% %YEAR%, %HOUR%h",
    })
    visit = await visit_of(root, "/p")
    new_years_eve = datetime(2024, 12, 31, 23, 30, tzinfo=UTC).timestamp()
    assert render_page(visit, new_years_eve) == "Wednesday 1st January 2025, 1h"


def test_control_characters_of_any_kind_leave_the_referer() -> None:
    assert referer_text("https://a.test/\x00a\x1fb\x7fc\x85d\x9fe\u2028f") == (
        "https://a.test/abcde\u2028f")
    assert referer_text(None) == referer_text("") == ""
