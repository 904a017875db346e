"""collect_effects: Python re-checks every recorded action, whatever the sandbox claims."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ada_url import URL
from hypothesis import example, given, settings
from hypothesis import strategies as st

from funnelrun.jsondata import MAX_DEPTH, depth_refusal
from funnelrun.responses import header_safe_url
from funnelrun.script import CookieEffect, Redirect, SessionOp, collect_effects
from funnelrun.script.cookies import read_cookie
from funnelrun.script.headers import REFUSED_HEADERS
from funnelrun.script.job import make_result
from funnelrun.script.limits import MAX_RECORDS
from funnelrun.script.redirects import LOCAL_ORIGIN, check_target
from funnelrun.session import MAX_SESSION_BYTES, MAX_VALUE_BYTES, RESERVED_KEYS

from .conftest import page_job


def call(op: str, *args: Any, end: bool = False) -> dict[str, Any]:
    """A record as the prelude writes it."""
    return {"op": op, "args": list(args), "missing": [], "end": end}


def only_warning(effects) -> tuple[str, str]:
    [warning] = effects.warnings
    return warning.call, warning.reason


# -- redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [
    "/", "/login", "/a/b?x=1#top", "/%7Euser", "http://example.com/", "https://example.com/p?q=1",
    "https://sub.example.com:8443/x", "http://[::1]/", "/caf%C3%A9", "/x?next=//evil.com",
])
def test_redirect_allows_local_paths_and_http_urls(target: str) -> None:
    assert check_target(target) == (target, None)


def test_redirect_percent_encodes_non_ascii_paths() -> None:
    assert check_target("/café") == ("/caf%C3%A9", None)


@pytest.mark.parametrize(("target", "canonical"), [
    ("http://example.com", "http://example.com/"),
    ("https://EXAMPLE.com:443/x/../y", "https://example.com/y"),
    ("http://0x7f.1", "http://127.0.0.1/"),
    ("http://1.2.3", "http://1.2.0.3/"),
    ("https://a.com/{x}?q=ü#top", "https://a.com/%7Bx%7D?q=%C3%BC#top"),
    ("/a/./b/../c?x=1", "/a/c?x=1"),
    ("/..", "/"),
])
def test_redirect_sends_the_form_a_browser_parses_it_to(target: str, canonical: str) -> None:
    assert check_target(target) == (canonical, None)


@pytest.mark.parametrize(("target", "reason"), [
    ("http://472.314.470.462", "'472.314.470.462' is not a valid host and port (as a browser "
                               "parses URLs)"),
    ("http://[::1", "'[::1' is not a valid host and port (as a browser parses URLs)"),
    ("https://a.com:99999/", "'a.com:99999' is not a valid host and port (as a browser parses "
                             "URLs)"),
    ("http://%65vil.com/", "target needs an ASCII host, not percent-encoded (use the punycode "
                           "form of other names)"),
    ("/.//evil.com", "target's path resolves to '//evil.com', which would leave the site"),
    ("/a/..//evil.com", "target's path resolves to '//evil.com', which would leave the site"),
    ("/%2e%2e//evil.com", "target's path resolves to '//evil.com', which would leave the site"),
])
def test_redirect_refuses_what_a_browser_cannot_parse_or_would_read_elsewhere(
        target: str, reason: str) -> None:
    assert check_target(target) == (None, reason)


URL_PIECES = st.sampled_from([
    "http://", "https://", "HTTP://", "javascript:", "/", "//", "\\", ".", "..", "%2e", "%2F",
    "%", "@", ":", "[", "]", "::1", "?", "#", "a", "é", "0x7f", "472", "1.2.3", "\t", " ",
    "\x00", "evil.com", ":99999", "%41", "{", "|",
])


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(URL_PIECES, max_size=8).map("".join)))
@example("http://[::1")
@example("/.//evil.com")
def test_any_redirect_target_is_refused_or_canonical_and_points_where_it_parses(
        target: str) -> None:
    """Property: check_target never raises; what it allows a browser parses to itself (so it
    is sent unchanged), on the host the original parses to, and a local path stays local."""
    sent, refusal = check_target(target)
    assert (sent is None) != (refusal is None)
    if sent is None:
        return
    assert header_safe_url(sent) == sent
    if target.startswith("/"):
        assert sent.startswith("/") and not sent.startswith("//")
        assert URL(sent, LOCAL_ORIGIN).href == LOCAL_ORIGIN + sent
        assert URL(target, LOCAL_ORIGIN).origin == LOCAL_ORIGIN
        return
    assert URL(sent).href == sent
    assert URL(sent).protocol in ("http:", "https:") and URL(sent).username == ""
    assert URL(sent).host == URL(target).host


@pytest.mark.parametrize("target", [
    "//evil.com", "/\\evil.com", "\\\\evil.com", "/%09/evil.com", "/%2F/evil.com", "/%5Cevil.com",
    "javascript:alert(1)", "JavaScript:alert(1)", "java\tscript:alert(1)", "data:text/html,x",
    "vbscript:x", "file:///etc/passwd", "ftp://example.com", "http:evil.com", "https:/\\evil.com",
    "http:/evil.com", " https://example.com", "https://example.com ", "\nhttps://example.com",
    "HTTP://example.com", "hTTps://example.com", "https://user:pw@evil.com",
    "https://good.com@evil.com", "http://", "https:///path", "https://exa mple.com",
    "/a\r\nSet-Cookie: x=1", "/%0d%0aSet-Cookie:x", "/\x00", "/\u202eevil", "\u3000/evil",
    "login", "./login", "?x=1", "#top", "", "https://éxample.com/",
])
def test_redirect_refuses_open_redirect_tricks(target: str) -> None:
    allowed, refusal = check_target(target)
    assert allowed is None and refusal


def test_refused_redirect_means_no_redirect_and_a_warning() -> None:
    effects = collect_effects([call("redirect", "//evil.com", end=True)])
    assert effects.redirect is None and not effects.ends_response
    assert only_warning(effects) == (
        "redirect", "target must not start with '//' (that leaves the site); the page is shown "
                    "instead")


@pytest.mark.parametrize(("status", "expected"), [
    (None, 302), (301, 301), (302, 302), (303, 303), (307, 307), (308, 308),
])
def test_redirect_statuses(status: int | None, expected: int) -> None:
    args = ("/x",) if status is None else ("/x", status)
    assert collect_effects([call("redirect", *args, end=True)]).redirect == Redirect("/x", expected)


@pytest.mark.parametrize("status", [200, 304, 404, 999, "301", True, 301.5])
def test_redirect_with_a_bad_status_still_redirects_with_302(status: Any) -> None:
    effects = collect_effects([call("redirect", "/x", status, end=True)])
    assert effects.redirect == Redirect("/x", 302)
    assert effects.warnings[0].call == "redirect"


# -- cookies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "fr_session", "fr_anything", "FR_Session", "", "a b", "a;b", "a=b", "a,b", "ä", 'a"', "a\tb",
    "(x)", "a/b", "a@b", "[x]", "{x}", "a?b", "a:b", "a\\b",
])
def test_cookie_refuses_reserved_and_invalid_names(name: str) -> None:
    cookie, notes = read_cookie(name, "v", None)
    assert cookie is None and notes


def test_cookie_values_round_trip_through_percent_encoding() -> None:
    from urllib.parse import unquote
    for value in ["plain", "a b;c,d", '"quoted"', "100%", "é😀", "a\\b", "%41", "=+&"]:
        cookie, _ = read_cookie("c", value, None)
        assert cookie is not None
        assert unquote(cookie.encoded_value) == value
        assert all(0x21 <= ord(ch) < 0x7F and ch not in '";,\\ ' for ch in cookie.encoded_value)


def test_cookie_header_is_http_only_lax_and_secure_over_https() -> None:
    cookie = CookieEffect("promo", "a b", max_age=3600, path="/offers")
    assert cookie.header(secure=False) == "promo=a%20b; Path=/offers; Max-Age=3600; HttpOnly; " \
                                          "SameSite=Lax"
    assert cookie.header(secure=True).endswith("; HttpOnly; SameSite=Lax; Secure")


def test_deleted_cookie_expires_now() -> None:
    assert CookieEffect("old", delete=True).header(secure=False) == \
        "old=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"


@pytest.mark.parametrize(("max_age", "expected"), [
    (3600, 3600), (1.9, 1), (-5, 0), (10**12, 400 * 24 * 3600), (None, None),
])
def test_cookie_max_age_is_whole_seconds_capped_at_400_days(max_age: Any, expected: Any) -> None:
    cookie, _ = read_cookie("c", "v", {"maxAge": max_age})
    assert cookie is not None and cookie.max_age == expected


@pytest.mark.parametrize("options", [
    {"maxAge": "3600"}, {"maxAge": True}, {"path": "relative"}, {"path": "/a;b"},
    {"path": "/a b"}, {"path": 5},
])
def test_cookie_with_bad_options_is_refused(options: dict[str, Any]) -> None:
    cookie, notes = read_cookie("c", "v", options)
    assert cookie is None and notes


def test_cookie_ignores_unknown_options_with_a_warning() -> None:
    cookie, notes = read_cookie("c", "v", {"domain": "evil.com", "path": "/"})
    assert cookie == CookieEffect("c", "v")
    assert notes == ["option 'domain' is not supported; ignored"]


def test_cookie_with_many_unknown_options_gives_one_warning() -> None:
    cookie, notes = read_cookie("c", "v", {f"o{n}": 1 for n in range(5000)})
    assert cookie == CookieEffect("c", "v")
    assert notes == ["options 'o0', 'o1', 'o2', 'o3', 'o4' and 4995 more are not supported; "
                     "ignored"]


def test_cookie_name_and_value_are_limited_to_4096_bytes() -> None:
    assert read_cookie("c", "x" * 4095, None)[0] is not None
    assert read_cookie("c", "x" * 4096, None)[1] == ["name and value are 4097 bytes; the limit "
                                                     "is 4096"]


def test_cookie_set_twice_keeps_the_last_value() -> None:
    effects = collect_effects([call("cookie.set", "c", "1"), call("cookie.set", "c", "2"),
                               call("cookie.delete", "d")])
    assert effects.cookies == (CookieEffect("c", "2"), CookieEffect("d", delete=True))


# -- headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    *sorted(REFUSED_HEADERS), "SET-COOKIE", "Access-Control-Allow-Origin",
    "access-control-allow-credentials", "Proxy-Authenticate", "Proxy-Authorization",
    "X Bad", "X:Bad", "", "X-Ünicode", "X-A\r\nB",
])
def test_set_header_refuses_listed_and_invalid_names(name: str) -> None:
    effects = collect_effects([call("setHeader", name, "v")])
    assert effects.headers == ()
    assert effects.warnings[0].call == "setHeader"


@pytest.mark.parametrize(("name", "reason"), [
    ("Refresh", "'Refresh' cannot be set by a script: it redirects the visitor without "
                "redirect()'s checks; use redirect()"),
    ("X-Accel-Redirect", "'X-Accel-Redirect' cannot be set by a script: a reverse proxy in "
                         "front (nginx) would act on it: an internal redirect"),
    ("X-Sendfile", "'X-Sendfile' cannot be set by a script: a reverse proxy in front would send "
                   "the file it names from its own disk"),
])
def test_set_header_refuses_headers_that_redirect_or_that_a_proxy_acts_on(
        name: str, reason: str) -> None:
    effects = collect_effects([call("setHeader", name, "0; url=javascript:alert(1)")])
    assert effects.headers == ()
    assert only_warning(effects) == ("setHeader", reason)


def test_set_header_removes_control_characters_from_values() -> None:
    effects = collect_effects([call("setHeader", "X-A", "a\r\nSet-Cookie: x=1\x00\x7f\tb")])
    assert effects.headers == (("X-A", "aSet-Cookie: x=1b"),)


def test_set_header_refuses_values_over_8_kb() -> None:
    ok = collect_effects([call("setHeader", "X-A", "x" * 8192)])
    big = collect_effects([call("setHeader", "X-A", "x" * 8193)])
    assert ok.headers and not big.headers
    assert only_warning(big) == ("setHeader", "value is 8193 bytes; the limit is 8192")


def test_set_header_twice_keeps_the_last_value_whatever_the_case() -> None:
    effects = collect_effects([call("setHeader", "X-A", "1"), call("setHeader", "x-a", 2)])
    assert effects.headers == (("x-a", "2"),)


# -- status, variables, responses ------------------------------------------------------------


@pytest.mark.parametrize("code", [999, 600, 99, 0, -1, 100, 101, 103, 199, 200.5, "404", None])
def test_status_refuses_out_of_range_and_informational_codes(code: Any) -> None:
    effects = collect_effects([call("response.status", code)])
    assert effects.status is None and effects.warnings[0].call == "response.status"


def test_status_reason_for_1xx_explains_the_decision() -> None:
    assert only_warning(collect_effects([call("response.status", 103)])) == (
        "response.status", "103 is informational (1xx) and cannot be a response's status")


@pytest.mark.parametrize("code", [200, 201, 204, 301, 404, 418, 500, 599])
def test_status_accepts_200_to_599(code: int) -> None:
    assert collect_effects([call("response.status", code)]).status == code


def test_variables_keep_objects_and_later_calls_win() -> None:
    effects = collect_effects([call("setVariable", "a", 1), call("setVariable", "u", {"n": [1]}),
                               call("setVariable", "a", "two")])
    assert effects.variables == {"a": "two", "u": {"n": [1]}}


def test_variable_with_an_undefined_value_is_null() -> None:
    effects = collect_effects([{"op": "setVariable", "args": ["a", None],
                                "missing": [[1, "undefined", "value is undefined"]]}])
    assert effects.variables == {"a": None}


def test_json_response_and_html_response() -> None:
    json_effects = collect_effects([call("response.status", 401),
                                    call("response.json", {"error": True}, end=True)])
    assert json_effects.status == 401
    assert json_effects.response is not None
    assert json_effects.response.content_type == "application/json"
    assert json_effects.response.body == '{"error":true}'
    html = collect_effects([call("response.send", "<h1>x</h1>", end=True)]).response
    assert html is not None and html.content_type == "text/html; charset=utf-8"


# -- terminal actions ------------------------------------------------------------------------


def test_actions_after_a_terminal_action_are_ignored_even_if_recorded() -> None:
    effects = collect_effects([
        call("redirect", "/login", end=True),
        {"op": "session.set", "key": "stolen", "value": "x"},
        call("response.json", {"a": 1}, end=True),
        call("setVariable", "a", 1),
    ])
    assert effects.redirect == Redirect("/login")
    assert effects.session == () and effects.response is None and effects.variables == {}
    assert [w.call for w in effects.warnings] == ["session.set", "response.json", "setVariable"]
    assert effects.warnings[0].reason == "ignored: the script already ended with redirect()"


def test_a_refused_redirect_still_ends_the_script() -> None:
    effects = collect_effects([call("redirect", "javascript:x", end=True),
                               call("response.send", "later", end=True)])
    assert effects.redirect is None and effects.response is None
    assert effects.warnings[1].reason == "ignored: the script already ended with redirect()"


# -- session: forged records are checked again ---------------------------------------------------


@pytest.mark.parametrize("key", [*sorted(RESERVED_KEYS), "_quota_id", "_x", "", "a b", "k" * 129])
def test_session_set_refuses_reserved_and_bad_keys_even_from_forged_records(key: str) -> None:
    effects = collect_effects([{"op": "session.set", "key": key, "value": "v"}])
    assert effects.session == () and effects.warnings[0].call == "session.set"


def test_session_values_are_stored_as_canonical_json() -> None:
    effects = collect_effects([{"op": "session.set", "key": "k", "value": {"a": [1, 2]}},
                               {"op": "session.set", "key": "gone", "value": None}])
    assert effects.session == (SessionOp("set", "k", '{"a":[1,2]}'), SessionOp("delete", "gone"))


def test_session_set_refuses_oversized_values() -> None:
    text = "x" * (MAX_VALUE_BYTES - 1)  # plus two quotes
    effects = collect_effects([{"op": "session.set", "key": "k", "value": text}])
    assert only_warning(effects) == ("session.set", f"value is {MAX_VALUE_BYTES + 1} bytes; the "
                                                    f"limit is {MAX_VALUE_BYTES}")


def test_session_set_refuses_a_session_over_256_kb_counting_existing_keys() -> None:
    value = "x" * 60_000
    records = [{"op": "session.set", "key": f"k{i}", "value": value} for i in range(4)]
    effects = collect_effects(records, session_bytes=30_000)
    assert len(effects.session) == 3
    assert effects.warnings[0].reason.endswith(f"the limit is {MAX_SESSION_BYTES}")


def test_session_overwrite_frees_the_old_value_size() -> None:
    value = "x" * 60_000
    items = {f"k{i}": f'"{value}"' for i in range(4)}
    effects = collect_effects([{"op": "session.set", "key": "k0", "value": value}],
                              session_items=items, session_bytes=4 * 60_004)
    assert effects.warnings == ()


def test_login_needs_a_valid_email_and_quota() -> None:
    ok = {"op": "session.setCustomer", "fields": {"email": "a@b.c", "name": "A", "id": 7}}
    assert collect_effects([ok]).session == (
        SessionOp("login", fields={"email": "a@b.c", "name": "A", "id": 7}),)
    spent = collect_effects([ok, ok], login_quota=1)
    assert len(spent.session) == 1 and spent.warnings[0].reason == "login quota spent"
    bad = collect_effects([{"op": "session.setCustomer", "fields": {"email": "nope"}}])
    assert bad.session == () and bad.warnings[0].reason == "email is required and must contain '@'"


def test_unknown_and_malformed_records_are_warnings() -> None:
    effects = collect_effects(["junk", {"op": "fs.write", "args": []}, {"op": 5}])
    assert [w.reason for w in effects.warnings] == [
        "malformed action record ignored", "unknown action 'fs.write' ignored",
        "malformed action record ignored"]


# -- caps and depth: Python's own, whatever the sandbox sends ------------------------------------


def test_records_past_the_cap_are_dropped_and_counted_even_if_the_sandbox_sent_them() -> None:
    records = [call("setVariable", f"v{n}", n) for n in range(2 * MAX_RECORDS)]
    effects = collect_effects(records)
    assert len(effects.variables) == MAX_RECORDS
    assert only_warning(effects) == ("script", f"{MAX_RECORDS} actions beyond the first "
                                               f"{MAX_RECORDS} were dropped")


def test_past_the_cap_the_first_terminal_action_still_decides() -> None:
    records = [call("setHeader", "X-A", "1")] * MAX_RECORDS + [
        call("cookie.set", "c", "v"), call("redirect", "/done", end=True),
        call("response.send", "later", end=True)]
    effects = collect_effects(records, records_dropped=5)
    assert effects.redirect == Redirect("/done") and effects.response is None
    assert effects.cookies == ()
    assert only_warning(effects) == ("script", f"7 actions beyond the first {MAX_RECORDS} were "
                                               "dropped")


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("record", [
    call("setVariable", "v", nested(MAX_DEPTH + 1)),
    {"op": "session.set", "key": "k", "value": nested(MAX_DEPTH + 1)},
    call("response.json", nested(MAX_DEPTH + 1), end=True),
])
def test_values_nested_deeper_than_the_limit_are_refused(record: dict[str, Any]) -> None:
    effects = collect_effects([record])
    assert effects.variables == {} and effects.session == () and effects.response is None
    name, reason = only_warning(effects)
    assert name == record["op"] and reason.startswith(depth_refusal(nested(MAX_DEPTH + 1)))


def test_values_nested_to_the_limit_are_kept() -> None:
    value = nested(MAX_DEPTH)
    effects = collect_effects([call("setVariable", "v", value),
                               {"op": "session.set", "key": "k", "value": value},
                               call("response.json", value, end=True)])
    assert effects.warnings == ()
    assert effects.variables == {"v": value} and len(effects.session) == 1
    assert effects.response is not None


def test_a_forged_record_nested_far_too_deep_is_refused_without_walking_it() -> None:
    effects = collect_effects([call("setVariable", "v", nested(900)),
                               {"op": "redirect", "args": [nested(900)]}, call("setVariable", "a", 1)])
    assert effects.variables == {} and effects.redirect is None
    assert [w.call for w in effects.warnings] == ["setVariable", "redirect", "setVariable"]
    assert effects.warnings[2].reason == "ignored: the script already ended with redirect()"


@pytest.mark.parametrize("records", [
    [call("setVariable", "v", nested(40))],  # few brackets in all: no record walked
    [call("setVariable", "v", nested(MAX_DEPTH))],  # more: each record walked
    [call("setVariable", f"k{n}", [[n]]) for n in range(40)],
])
def test_make_result_keeps_records_within_the_depth_limit_however_it_checks(
        records: list[dict[str, Any]]) -> None:
    result = make_result(page_job(""), {"outcome": "ok"}, json.dumps({"records": records}))
    assert result.effects.warnings == () and len(result.effects.variables) == len(records)


@pytest.mark.parametrize("extra", [0, 40])
def test_make_result_refuses_a_record_too_deep_whatever_else_the_text_holds(extra: int) -> None:
    records = [call("setVariable", f"k{n}", []) for n in range(extra)]
    records.append(call("setVariable", "deep", nested(MAX_DEPTH + 1)))
    text = json.dumps({"records": records})
    result = make_result(page_job(""), {"outcome": "ok"}, text)
    assert "deep" not in result.effects.variables and len(result.effects.variables) == extra
    assert [w.call for w in result.effects.warnings] == ["setVariable"]


def test_a_json_response_with_non_finite_numbers_is_refused() -> None:
    effects = collect_effects([call("response.json", {"n": float("nan")}, end=True)])
    assert effects.response is None
    assert only_warning(effects) == ("response.json", "data must be JSON data (no NaN or "
                                                      "Infinity); the page is shown instead")


def test_cookie_delete_takes_an_optional_path() -> None:
    effects = collect_effects([call("cookie.delete", "c", {"path": "/members", "maxAge": 5})])
    assert effects.cookies == (CookieEffect("c", path="/members", delete=True),)
    assert only_warning(effects) == ("cookie.delete", "option 'maxAge' is not supported; ignored")
