"""Every action function of the API page, run through real executor processes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnelrun.jsondata import MAX_DEPTH, depth_refusal
from funnelrun.script import CookieEffect, Redirect, SessionOp, run_inline
from funnelrun.session import MAX_SESSION_BYTES, MAX_VALUE_BYTES, RESERVED_KEYS, key_refusal

from .conftest import REQUEST, Sandbox, page_job, warnings_of

IGNORED = "ignored: the script already ended with redirect()"


def values(result) -> dict[str, Any]:
    assert result.outcome == "ok", result.error
    return dict(result.effects.variables)


# -- session.get / session.set ---------------------------------------------------------------


def test_session_set_then_get_sees_the_write(sandbox: Sandbox) -> None:
    result = sandbox("""
        setVariable('before', session.get('visits'));
        setVariable('ok', session.set('visits', 5));
        session.set('profile', {plan: 'pro', tags: ['a']});
        setVariable('after', session.get('visits'));
        setVariable('profile', session.get('profile'));
        setVariable('missing', session.get('nonexistent'));
    """, session={"visits": 4})
    assert values(result) == {"before": 4, "ok": True, "after": 5,
                              "profile": {"plan": "pro", "tags": ["a"]}, "missing": None}
    assert result.effects.session == (SessionOp("set", "visits", "5"),
                                      SessionOp("set", "profile", '{"plan":"pro","tags":["a"]}'))


def test_session_set_null_deletes_the_key(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('ok', session.set('cart', null)); "
                     "setVariable('cart', session.get('cart'));", session={"cart": [1]})
    assert values(result) == {"ok": True, "cart": None}
    assert result.effects.session == (SessionOp("delete", "cart"),)


def test_session_get_returns_a_copy(sandbox: Sandbox) -> None:
    result = sandbox("const p = session.get('p'); p.x = 2; setVariable('p', session.get('p'));",
                     session={"p": {"x": 1}})
    assert values(result) == {"p": {"x": 1}}


KEYS = [*sorted(RESERVED_KEYS), "_quota_id", "_anything"]


def test_reserved_session_keys_cannot_be_read_or_written(sandbox: Sandbox) -> None:
    result = sandbox(f"""
        const out = {{}};
        for (const key of {json.dumps(KEYS)}) out[key] = [session.get(key), session.set(key, 1)];
        setVariable('out', out);
    """, session={"email": "x@y.z"}, customer={"email": "x@y.z"}, is_customer=True)
    assert values(result)["out"] == {key: [None, False] for key in KEYS}
    assert result.effects.session == ()
    assert ("session.get", "'email' is a reserved key") in warnings_of(result)
    assert ("session.set", "'_anything' is a reserved key") in warnings_of(result)


@pytest.mark.parametrize("key", ["", "a b", "k" * 129, "é", "a/b", "a:b"])
def test_session_set_refuses_bad_keys(sandbox: Sandbox, key: str) -> None:
    result = sandbox(f"setVariable('ok', session.set({json.dumps(key)}, 1));")
    assert values(result) == {"ok": False}
    assert warnings_of(result) == [("session.set",
                                    "key must be 1-128 characters of A-Z a-z 0-9 _ . -")]


@pytest.mark.parametrize(("value", "reason"), [
    ("undefined", "value must be JSON data, got undefined"),
    ("function () {}", "value must be JSON data, got function"),
    ("NaN", "value must be a finite number"),
    ("10n", "value must be JSON data, got bigint"),
    ("(() => { const o = {}; o.o = o; return o })()",
     "value could not be converted to JSON: TypeError: circular reference"),
])
def test_session_set_refuses_values_that_are_not_json(sandbox: Sandbox, value: str,
                                                      reason: str) -> None:
    result = sandbox(f"setVariable('ok', session.set('k', {value}));")
    assert values(result) == {"ok": False}
    assert warnings_of(result) == [("session.set", reason)]


def test_unpaired_surrogates_are_stored_as_replacement_characters(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('ok', session.set('k', 'a\\ud800b'));")
    assert values(result) == {"ok": True}
    assert result.effects.session == (SessionOp("set", "k", '"a\ufffdb"'),)


def test_session_set_refuses_values_over_64_kb(sandbox: Sandbox) -> None:
    fits = MAX_VALUE_BYTES - 2  # the JSON text has two quotes
    result = sandbox(f"setVariable('ok', [session.set('a', 'x'.repeat({fits})), "
                     f"session.set('b', 'x'.repeat({fits + 1})), "
                     f"session.set('c', 'é'.repeat({fits // 2 + 1}))]);")
    assert values(result) == {"ok": [True, False, False]}
    assert [k for k, _ in warnings_of(result)] == ["session.set", "session.set"]
    assert [op.key for op in result.effects.session] == ["a"]


def test_session_set_refuses_a_session_over_256_kb(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('ok', [session.set('a', 'x'.repeat(60000)), "
                     "session.set('b', 'x'.repeat(60000))]);",
                     session_bytes=MAX_SESSION_BYTES - 100_000)
    assert values(result) == {"ok": [True, False]}
    [(call, reason)] = warnings_of(result)
    assert call == "session.set" and reason.endswith(f"the limit is {MAX_SESSION_BYTES}")


NEST = """const nest = (n, mixed) => {
  let v = 1; for (let i = 0; i < n; i++) v = mixed && i % 2 ? {k: v, x: 'y'} : [1, v]; return v;
};"""
TOO_DEEP = depth_refusal(json.loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)))


@pytest.mark.parametrize("mixed", [False, True], ids=["arrays", "arrays-and-objects"])
@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 900])
def test_js_and_python_agree_on_session_values_nested_deep(sandbox: Sandbox, depth: int,
                                                           mixed: bool) -> None:
    """Contract: session.set answers false exactly when Python refuses the value's depth."""
    value = f"nest({depth}, {str(mixed).lower()})"
    result = sandbox(f"{NEST} setVariable('ok', session.set('k', {value}));")
    allowed = depth <= MAX_DEPTH
    assert values(result) == {"ok": allowed}
    assert bool(result.effects.session) is allowed
    assert warnings_of(result) == ([] if allowed else [("session.set", TOO_DEEP)])


@pytest.mark.parametrize("row", ["[1]", "{k: 1}", "[{k: [1]}]"])
def test_a_wide_value_with_more_brackets_than_the_depth_limit_is_kept(sandbox: Sandbox,
                                                                    row: str) -> None:
    """Counting "[" and "{" only decides whether the depth is measured: a shallow value with
    more of them than MAX_DEPTH is kept whole."""
    result = sandbox(f"const rows = Array.from({{ length: {MAX_DEPTH + 1} }}, () => ({row}));"
                     "setVariable('ok', session.set('rows', rows)); setVariable('rows', rows);")
    assert values(result)["ok"] is True and len(values(result)["rows"]) == MAX_DEPTH + 1
    assert warnings_of(result) == []


def test_an_argument_nested_too_deep_is_refused_alone(sandbox: Sandbox) -> None:
    result = sandbox(f"{NEST} setVariable('a', 1); setVariable('deep', nest(900));"
                     "setVariable('fits', nest(3)); setVariable('b', 2);"
                     "response.json({ data: nest(900) });")
    assert values(result) == {"a": 1, "fits": [1, [1, [1, 1]]], "b": 2}
    assert result.effects.response is None
    assert warnings_of(result) == [("setVariable", TOO_DEEP),
                                   ("response.json", f"{TOO_DEEP}; the page is shown instead")]


@settings(max_examples=150, deadline=None)
@given(st.one_of(
    st.text(alphabet=st.sampled_from("aZ09_.-_ é$/"), max_size=8),
    st.sampled_from([*sorted(RESERVED_KEYS), "k" * 128, "k" * 129, "_", "email.x", "Email"]),
    st.text(max_size=4),
))
def test_js_and_python_agree_on_session_keys(key: str) -> None:
    """Contract: the prelude's key rule (from funnelrun.session's constants) is Python's."""
    result = run_inline(page_job(f"setVariable('ok', session.set({json.dumps(key)}, 1));"))
    assert result.effects.variables["ok"] is (key_refusal(key) is None)
    assert bool(result.effects.session) is (key_refusal(key) is None)


# -- session.setCustomer -----------------------------------------------------------------------


def test_set_customer_logs_in_and_globals_follow(sandbox: Sandbox) -> None:
    result = sandbox("""
        setVariable('before', [is_customer, customer]);
        setVariable('ok', session.setCustomer({email: 'jane@x.test', first_name: 'Jane',
                                               last_name: 'Doe', id: 42}));
        setVariable('after', [is_customer, customer]);
    """)
    assert values(result) == {
        "before": [False, None], "ok": True,
        "after": [True, {"email": "jane@x.test", "first_name": "Jane", "last_name": "Doe",
                         "id": 42, "name": "Jane Doe"}],
    }
    assert result.effects.session == (SessionOp("login", fields={
        "email": "jane@x.test", "first_name": "Jane", "last_name": "Doe", "id": 42}),)


def test_set_customer_merges_over_the_existing_customer(sandbox: Sandbox) -> None:
    existing = {"email": "old@x.test", "total": 49, "currency": "USD", "order_ids": [1]}
    result = sandbox("session.setCustomer({email: 'new@x.test', name: 'N'}); "
                     "setVariable('c', customer);", customer=existing, is_customer=True)
    assert values(result)["c"] == {"email": "new@x.test", "total": 49, "currency": "USD",
                                   "order_ids": [1], "name": "N"}


@pytest.mark.parametrize(("fields", "reason"), [
    ("undefined", "fields must be an object"),
    ("'a@b.c'", "fields must be an object"),
    ("[]", "fields must be an object"),
    ("{}", "email is required and must contain '@'"),
    ("{email: 'nobody'}", "email is required and must contain '@'"),
    ("{email: 5}", "email is required and must contain '@'"),
    ("{email: 'a@b.c', name: 5}", "name must be a string"),
    ("{email: 'a@b.c', first_name: {}}", "first_name must be a string"),
    ("{email: 'a@b.c', id: {}}", "id must be a string or a finite number"),
    ("{email: 'a@b.c', id: NaN}", "id must be a string or a finite number"),
    ("{email: 'a@b.c' + 'x'.repeat(300)}", "email is too long"),
])
def test_set_customer_refuses_invalid_input(sandbox: Sandbox, fields: str, reason: str) -> None:
    result = sandbox(f"setVariable('r', [session.setCustomer({fields}), is_customer]);")
    assert values(result) == {"r": [False, False]}
    assert warnings_of(result) == [("session.setCustomer", reason)]


def test_set_customer_refuses_when_the_quota_is_spent(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('r', [session.setCustomer({email: 'a@b.c'}), "
                     "session.setCustomer({email: 'a@b.c'})]);", login_quota=1)
    assert values(result) == {"r": [True, False]}
    assert warnings_of(result) == [("session.setCustomer", "login quota spent")]
    assert len(result.effects.session) == 1


def test_set_customer_ignores_unknown_fields_with_a_warning(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('r', session.setCustomer({email: 'a@b.c', role: 'admin'}));")
    assert values(result) == {"r": True}
    assert warnings_of(result) == [("session.setCustomer", "unknown field 'role' ignored")]
    assert result.effects.session[0].fields == {"email": "a@b.c"}


def test_token_calls_answer_null_and_false_without_a_handoff_host(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('t', [await session.getToken(), "
                     "await session.setFromToken('v1.abc')]);")
    assert values(result) == {"t": [None, False]}


# -- cookies ---------------------------------------------------------------------------------


def test_cookie_set_and_delete(sandbox: Sandbox) -> None:
    result = sandbox("cookie.set('promo_seen', 'true', { maxAge: 3600, path: '/' });"
                     "cookie.set('n', 5); cookie.delete('old_cookie');")
    assert result.effects.cookies == (
        CookieEffect("promo_seen", "true", 3600, "/"), CookieEffect("n", "5"),
        CookieEffect("old_cookie", delete=True))
    assert result.effects.warnings == ()


@pytest.mark.parametrize("name", ["fr_session", "fr_x", "FR_Session", "bad name", "a;b", ""])
def test_cookie_refuses_reserved_and_bad_names(sandbox: Sandbox, name: str) -> None:
    result = sandbox(f"cookie.set({json.dumps(name)}, 'v'); cookie.delete({json.dumps(name)});")
    assert result.effects.cookies == ()
    assert [call for call, _ in warnings_of(result)] == ["cookie.set", "cookie.delete"]


def test_cookie_refuses_a_value_that_is_not_text(sandbox: Sandbox) -> None:
    result = sandbox("cookie.set('c', {a: 1}); cookie.set('d', undefined);")
    assert result.effects.cookies == ()
    assert warnings_of(result) == [("cookie.set", "value must be a string, got object"),
                                   ("cookie.set", "value must be a string, got undefined")]


# -- redirect and ending the script ----------------------------------------------------------


def test_redirect_ends_the_script(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('a', 1);\nif (!is_customer) redirect('/login');\n"
                     "setVariable('b', 2); session.set('x', 1);")
    assert result.outcome == "ok" and result.error is None
    assert result.effects.redirect == Redirect("/login", 302)
    assert result.effects.variables == {"a": 1}
    assert result.effects.session == () and result.effects.warnings == ()


def test_redirect_with_status_and_external_url(sandbox: Sandbox) -> None:
    assert sandbox("redirect('/new-page', 301);").effects.redirect == Redirect("/new-page", 301)
    assert sandbox("redirect('https://example.com/page');").effects.redirect == \
        Redirect("https://example.com/page", 302)


@pytest.mark.parametrize("target", [
    "//evil.com", "/\\\\evil.com", "javascript:alert(1)", "data:text/html,x", "/%09/evil",
    "java\\tscript:x", "http:evil.com", "https:/\\\\evil.com", " /x", "HTTPS://evil.com",
])
def test_refused_redirect_still_ends_the_script_and_the_page_renders(sandbox: Sandbox,
                                                                     target: str) -> None:
    result = sandbox(f"setVariable('a', 1); redirect('{target}'); setVariable('b', 2);")
    assert result.outcome == "ok"
    assert result.effects.redirect is None and not result.effects.ends_response
    assert result.effects.variables == {"a": 1}
    assert warnings_of(result)[0][0] == "redirect"


ACTIONS = [
    ("session.set", "session.set('k', 1)"),
    ("session.setCustomer", "session.setCustomer({email: 'a@b.c'})"),
    ("session.getToken", "session.getToken()"),
    ("session.setFromToken", "session.setFromToken('t')"),
    ("cookie.set", "cookie.set('c', 'v')"),
    ("cookie.delete", "cookie.delete('c')"),
    ("setVariable", "setVariable('v', 1)"),
    ("setHeader", "setHeader('X-A', 'b')"),
    ("response.status", "response.status(404)"),
    ("response.json", "response.json({})"),
    ("response.send", "response.send('x')"),
    ("redirect", "redirect('/elsewhere')"),
]


@pytest.mark.parametrize(("name", "action"), ACTIONS)
def test_actions_after_a_caught_stop_are_ignored_with_a_warning(sandbox: Sandbox, name: str,
                                                                action: str) -> None:
    result = sandbox(f"""
        try {{ redirect('/first'); }} catch (stop) {{ console.log('caught', stop.message); }}
        try {{ {action}; }} catch (again) {{ console.log('stopped again'); }}
    """)
    assert result.outcome == "ok"
    assert result.effects.redirect == Redirect("/first")
    assert warnings_of(result) == [(name, IGNORED)]
    assert [e.text for e in result.console] == [
        "caught the script ended with redirect()", "stopped again"]
    assert result.effects.session == () and result.effects.cookies == ()


def test_response_json_ends_the_script_with_its_status(sandbox: Sandbox) -> None:
    result = sandbox("response.status(401);\nresponse.json({ error: true, user: null });\n"
                     "session.set('written_after', 1);")
    assert result.effects.status == 401
    assert result.effects.response is not None
    assert json.loads(result.effects.response.body) == {"error": True, "user": None}
    assert result.effects.session == ()


def test_response_send_sends_html(sandbox: Sandbox) -> None:
    result = sandbox("response.status(403); response.send('<h1>Access Denied</h1>');")
    assert result.effects.status == 403
    assert result.effects.response is not None
    assert result.effects.response.body == "<h1>Access Denied</h1>"
    assert result.effects.response.content_type == "text/html; charset=utf-8"


@pytest.mark.parametrize("code", ["999", "100", "103", "'404'", "404.5"])
def test_response_status_refuses_bad_codes(sandbox: Sandbox, code: str) -> None:
    result = sandbox(f"response.status({code});")
    assert result.effects.status is None
    assert warnings_of(result)[0][0] == "response.status"


def test_response_status_applies_to_the_normal_page(sandbox: Sandbox) -> None:
    result = sandbox("response.status(404);")
    assert result.effects.status == 404 and not result.effects.ends_response


# -- variables, headers ------------------------------------------------------------------------


def test_set_variable_keeps_values_of_every_json_type(sandbox: Sandbox) -> None:
    result = sandbox("""
        setVariable('discount', '50%'); setVariable('show_banner', true);
        setVariable('user', { name: 'Sam', email: 'sam@example.com' });
        setVariable('categories', [{ slug: 'marketing', courses: [1, 2] }]);
        setVariable('nothing', undefined); setVariable('discount', '60%');
    """)
    assert values(result) == {
        "discount": "60%", "show_banner": True,
        "user": {"name": "Sam", "email": "sam@example.com"},
        "categories": [{"slug": "marketing", "courses": [1, 2]}], "nothing": None}


def test_set_variable_refuses_functions(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('f', () => 1); setVariable(5, 1);")
    assert result.effects.variables == {}
    assert [c for c, _ in warnings_of(result)] == ["setVariable", "setVariable"]


def test_set_header_sets_and_cleans(sandbox: Sandbox) -> None:
    result = sandbox("setHeader('X-Custom-Header', 'my-value');"
                     "setHeader('Cache-Control', 'no-store\\r\\nSet-Cookie: a=1');"
                     "setHeader('X-Evil\\r\\nX', 'v'); setHeader('Set-Cookie', 'a=1');"
                     "setHeader('X-Big', 'x'.repeat(9000)); setHeader('X-Null', 'a\\u0000b');")
    assert result.effects.headers == (("X-Custom-Header", "my-value"),
                                      ("Cache-Control", "no-storeSet-Cookie: a=1"),
                                      ("X-Null", "ab"))
    assert [c for c, _ in warnings_of(result)] == ["setHeader"] * 3


# -- console -----------------------------------------------------------------------------------


def test_console_captures_level_time_and_text(sandbox: Sandbox) -> None:
    result = sandbox("console.log('Visitor IP:', request.ip); console.info({a: [1]});"
                     "console.warn(null, undefined, 1.5, true); console.error(new TypeError('t'));")
    assert [(e.level, e.text) for e in result.console] == [
        ("log", "Visitor IP: 203.0.113.9"), ("info", '{"a":[1]}'),
        ("warn", "null undefined 1.5 true"), ("error", "TypeError: t")]
    assert all(e.time > 1_600_000_000 for e in result.console)


def test_console_keeps_200_entries_and_counts_the_rest(sandbox: Sandbox) -> None:
    result = sandbox("for (let i = 0; i < 250; i++) console.log(i);")
    assert len(result.console) == 200 and result.console_dropped == 50


def test_console_keeps_64_kb_of_text(sandbox: Sandbox) -> None:
    result = sandbox("console.log('x'.repeat(40000)); console.log('y'.repeat(40000));"
                     "console.log('z');")
    assert sum(len(e.text) for e in result.console) == 64 * 1024
    assert result.console_dropped == 1


# -- globals -----------------------------------------------------------------------------------


def test_request_globals_and_get_variable(sandbox: Sandbox) -> None:
    request = {**REQUEST, "method": "POST", "body": {"code": "body-code", "email": "e@x"}}
    result = sandbox("""
        setVariable('r', [request.method, request.path, request.query.utm_source,
            request.headers['user-agent'], request.cookies.seen, request.ip, request.ip6,
            request.is_mobile, request.is_tablet]);
        setVariable('v', [getVariable('code'), getVariable('utm_source'), getVariable('none')]);
        setVariable('c', [customer, is_customer]);
    """, request=request)
    assert values(result) == {
        "r": ["POST", "/offer", "mail", "pytest", "1", "203.0.113.9", "", False, False],
        "v": ["body-code", "mail", None], "c": [None, False]}


def test_globals_are_read_only(sandbox: Sandbox) -> None:
    result = sandbox("""
        'use strict';
        const out = [];
        for (const attempt of [() => { request.path = '/x' }, () => { request.query.a = 1 },
                               () => { session.set = null }, () => { redirect = null },
                               () => { delete globalThis.session }, () => { customer = {} }]) {
          try { attempt(); out.push('changed'); } catch (e) { out.push(e.name); }
        }
        setVariable('out', out);
        setVariable('path', request.path);
    """)
    assert values(result) == {"out": ["TypeError"] * 6, "path": "/offer"}


def test_host_capabilities_are_absent(sandbox: Sandbox) -> None:
    names = ["require", "process", "fetch", "setTimeout", "setInterval", "XMLHttpRequest",
             "std", "os", "module", "exports"]
    result = sandbox(f"setVariable('t', {json.dumps(names)}.map((n) => typeof globalThis[n]));")
    assert values(result) == {"t": ["undefined"] * len(names)}


def test_prototype_tampering_cannot_hide_or_forge_actions(sandbox: Sandbox) -> None:
    result = sandbox("""
        Object.defineProperty(Array.prototype, '0', { set(v) {}, configurable: true });
        Array.prototype.push = function () {};
        JSON.stringify = () => '{}';
        Object.freeze = (x) => x;
        RegExp.prototype.exec = () => [''];
        setVariable('a', 1);
        setVariable('ok', session.set('k', 'v'));
        setVariable('bad', session.set('email', 'x@y.z'));
        delete Array.prototype[0];
    """)
    assert result.effects.variables == {"a": 1, "ok": True, "bad": False}
    assert result.effects.session == (SessionOp("set", "k", '"v"'),)
