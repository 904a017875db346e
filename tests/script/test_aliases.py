"""The reference's script aliases (script-library §2.8) through real executor processes:
getCustomer, getUser, setSessionItem / getSessionItem / clearSessionItem, `query`, `brand`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from funnelrun.script import SessionOp
from funnelrun.session import MAX_VALUE_BYTES

from .conftest import REQUEST, Sandbox, warnings_of

ANN = {"email": "ann@example.test", "name": "Ann Lee", "first_name": "Ann"}
BRAND = {"id": "acme", "name": "Acme", "code": "ACM", "currency": "EUR", "timezone": "UTC",
         "support_email": "help@acme.test", "support_phone": "", "mbg_days": 30}


def values(result) -> dict[str, Any]:
    assert result.outcome == "ok", result.error
    return dict(result.effects.variables)


# -- getCustomer, getUser -----------------------------------------------------------------------


def test_without_a_customer(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('c', getCustomer()); setVariable('u', getUser());"
                     "setVariable('email', getUser().email);")
    assert values(result) == {"c": None, "u": {"name": "", "email": ""}, "email": ""}


def test_with_a_customer(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('same', getCustomer() === customer);"
                     "setVariable('c', getCustomer()); setVariable('u', getUser());",
                     customer=ANN, is_customer=True)
    assert values(result) == {"same": True, "c": ANN,
                              "u": {"name": "Ann Lee", "email": "ann@example.test"}}


def test_they_follow_a_login_and_a_logout_in_the_same_run(sandbox: Sandbox) -> None:
    result = sandbox("""
        session.setCustomer({email: 'bo@example.test', first_name: 'Bo', last_name: 'Li'});
        setVariable('in', [getCustomer().name, getUser()]);
        session.clearCustomer();
        setVariable('out', [getCustomer(), getUser()]);
    """)
    assert values(result) == {"in": ["Bo Li", {"name": "Bo Li", "email": "bo@example.test"}],
                              "out": [None, {"name": "", "email": ""}]}


def test_get_user_is_a_fresh_object_and_the_customer_is_read_only(sandbox: Sandbox) -> None:
    result = sandbox("""
        const u = getUser(); u.name = 'changed';
        setVariable('again', getUser().name);
        setVariable('frozen', Object.isFrozen(getCustomer()));
    """, customer=ANN, is_customer=True)
    assert values(result) == {"again": "Ann Lee", "frozen": True}


def test_get_user_reads_only_text_fields(sandbox: Sandbox) -> None:
    result = sandbox("Object.prototype.email = 'x@evil.test'; setVariable('u', getUser());",
                     customer={"name": 5}, is_customer=True)
    assert values(result) == {"u": {"name": "", "email": ""}}


# -- session items -----------------------------------------------------------------------------


def test_set_session_item_writes_custom_key_as_session_set(sandbox: Sandbox) -> None:
    result = sandbox("""
        setVariable('ok', setSessionItem('seen offer-1!', {at: [1, 'two']}));
        setVariable('back', getSessionItem('seenoffer1'));
        setVariable('raw', session.get('custom_seenoffer1'));
    """)
    assert values(result) == {"ok": True, "back": {"at": [1, "two"]},
                              "raw": {"at": [1, "two"]}}
    assert result.effects.session == (SessionOp("set", "custom_seenoffer1", '{"at":[1,"two"]}'),)


def test_get_session_item_reads_what_a_template_wrote_and_is_empty_when_missing(
    sandbox: Sandbox
) -> None:
    result = sandbox("setVariable('k', getSessionItem('k')); setVariable('m', getSessionItem('m'));"
                     "setVariable('n', getSessionItem(''));",
                     session={"custom_k": "from the template"})
    assert values(result) == {"k": "from the template", "m": "", "n": ""}


def test_null_undefined_and_clear_delete(sandbox: Sandbox) -> None:
    result = sandbox("""
        setVariable('r', [setSessionItem('a', null), setSessionItem('b'),
                          clearSessionItem('c'), getSessionItem('a'), getSessionItem('c')]);
    """, session={"custom_a": 1, "custom_b": 2, "custom_c": 3})
    assert values(result) == {"r": [True, True, True, "", ""]}
    assert result.effects.session == (SessionOp("delete", "custom_a"),
                                      SessionOp("delete", "custom_b"),
                                      SessionOp("delete", "custom_c"))


@pytest.mark.parametrize(("key", "stored"), [
    ("a.b-c d", "custom_abcd"), (42, "custom_42"), ("é_ü", "custom__"), ("<script>", "custom_script"),
])
def test_keys_keep_only_letters_digits_and_underscores(sandbox: Sandbox, key, stored) -> None:
    result = sandbox(f"setSessionItem({json.dumps(key)}, 1);")
    assert result.effects.session == (SessionOp("set", stored, "1"),)


def test_a_value_over_64_kb_is_refused_with_false_and_a_warning(sandbox: Sandbox) -> None:
    result = sandbox(f"setVariable('ok', setSessionItem('big', 'x'.repeat({MAX_VALUE_BYTES})));"
                     "setVariable('back', getSessionItem('big'));")
    assert values(result) == {"ok": False, "back": ""}
    assert result.effects.session == ()
    assert warnings_of(result) == [
        ("setSessionItem", f"value is {MAX_VALUE_BYTES + 2} bytes; the limit is {MAX_VALUE_BYTES}")]


def test_a_key_too_long_for_the_session_is_refused(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('r', [setSessionItem('k'.repeat(122), 1), "
                     "getSessionItem('k'.repeat(122)), setSessionItem('k'.repeat(121), 2)]);")
    assert values(result) == {"r": [False, "", True]}
    assert warnings_of(result) == [
        ("setSessionItem", "key must be 1-128 characters of A-Z a-z 0-9 _ . -"),
        ("getSessionItem", "key must be 1-128 characters of A-Z a-z 0-9 _ . -")]


def test_a_value_json_cannot_hold_is_refused(sandbox: Sandbox) -> None:
    result = sandbox("const a = {}; a.self = a; setVariable('r', [setSessionItem('x', a),"
                     "setSessionItem('y', () => 1), setSessionItem('z', NaN)]);")
    assert values(result) == {"r": [False, False, False]}
    assert [call for call, _ in warnings_of(result)] == ["setSessionItem"] * 3


def test_session_items_after_a_redirect_are_ignored(sandbox: Sandbox) -> None:
    result = sandbox("try { redirect('/x'); } catch (e) {} setSessionItem('late', 1);")
    assert result.effects.session == ()
    assert ("setSessionItem", "ignored: the script already ended with redirect()") in \
        warnings_of(result)


def test_aliases_cannot_be_replaced(sandbox: Sandbox) -> None:
    result = sandbox("""
        'use strict';
        let threw = 0;
        for (const name of ['getUser', 'getCustomer', 'setSessionItem', 'query', 'brand']) {
          try { globalThis[name] = null; } catch (e) { threw++; }
        }
        setVariable('r', [threw, typeof getUser, query.code]);
    """)
    assert values(result) == {"r": [5, "function", "q"]}


# -- query, brand ------------------------------------------------------------------------------


def test_query_is_request_query(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('same', query === request.query); setVariable('q', query);")
    assert values(result) == {"same": True, "q": REQUEST["query"]}


def test_brand_holds_the_brand_settings(sandbox: Sandbox) -> None:
    result = sandbox("setVariable('b', brand); setVariable('frozen', Object.isFrozen(brand));",
                     brand=BRAND)
    assert values(result) == {"b": BRAND, "frozen": True}


def test_brand_is_null_for_a_run_without_one(sandbox: Sandbox) -> None:
    assert values(sandbox("setVariable('b', brand);")) == {"b": None}
