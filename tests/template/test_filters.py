"""Every filter of the catalogue, called directly and through templates, with edge cases."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from funnelrun.template import FILTERS, UNDEFINED
from funnelrun.template import filters as catalogue
from funnelrun.template.compiler import filter_arity

NOW = datetime(2024, 6, 15, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr(catalogue, "_now", lambda: NOW)


def f(name: str, value, *args):
    return FILTERS[name](value, *args)


def test_registry_has_exactly_the_documented_filters():
    assert set(FILTERS) == {
        "default", "default_if_none", "upper", "lower", "capitalize", "title", "trim", "first",
        "last", "slice", "replace", "truncate", "truncatewords", "nl2br", "strip_tags",
        "url_encode", "length", "size", "round", "floor", "ceil", "abs", "number_format",
        "currency", "yesno", "join", "sort", "reverse", "unique", "date", "date_add", "timeago",
        "raw", "json",
    }


# -- defaults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, UNDEFINED, ""])
def test_default_replaces_null_undefined_and_empty_string(value):
    assert f("default", value, "x") == "x"


@pytest.mark.parametrize("value", [0, False, [], "0", " "])
def test_default_keeps_other_falsy_values(value):
    assert f("default", value, "x") == value


def test_default_if_none_lets_empty_string_through():
    assert f("default_if_none", "", "x") == ""
    assert f("default_if_none", None, "x") == "x"
    assert f("default_if_none", UNDEFINED, "x") == "x"


def test_default_chain_first_non_empty_wins(render):
    assert render("{{ a | default:b | default:'c' }}", {"b": ""}) == "c"
    assert render("{{ a | default:b | default:'c' }}", {"b": "B"}) == "B"


# -- text --------------------------------------------------------------------------------------


def test_case_filters():
    assert f("upper", "straße") == "STRASSE"
    assert f("lower", "ÀB") == "àb"
    assert f("capitalize", "hello World") == "Hello World"
    assert f("title", "hELLO wide  world") == "Hello Wide  World"
    assert f("upper", None) == ""
    assert f("upper", 1.5) == "1.5"


def test_trim():
    assert f("trim", "\n  a b \t") == "a b"


def test_first_and_last_of_strings_and_arrays():
    assert f("first", "abc") == "a"
    assert f("last", "abc") == "c"
    assert f("first", [1, 2]) == 1
    assert f("last", [1, 2]) == 2
    assert f("first", []) is UNDEFINED
    assert f("last", "") is UNDEFINED
    assert f("first", {"a": 1}) is UNDEFINED
    assert f("first", None) is UNDEFINED


def test_slice_like_javascript():
    assert f("slice", "abcdef", 1, 3) == "bc"
    assert f("slice", "abcdef", -2) == "ef"
    assert f("slice", [1, 2, 3, 4], 1, -1) == [2, 3]
    assert f("slice", "abc", "1") == "bc"
    assert f("slice", "abc", UNDEFINED, 2) == "ab"
    assert f("slice", None, 0, 1) == ""


def test_replace_every_occurrence_as_plain_text():
    assert f("replace", "a.b.c", ".", "-") == "a-b-c"
    assert f("replace", "a+b", "+", "") == "ab"
    assert f("replace", "x", "(", ")") == "x"
    assert f("replace", "aXa", "a") == "X"


def test_truncate():
    assert f("truncate", "hello world", 5) == "hello..."
    assert f("truncate", "hello world", 6) == "hello..."
    assert f("truncate", "hello", 5) == "hello"
    assert f("truncate", "hello", 0) == "..."
    assert f("truncate", "hello world", 5, "…") == "hello…"


def test_truncatewords():
    assert f("truncatewords", "one two  three four", 2) == "one two..."
    assert f("truncatewords", "one two", 2) == "one two"
    assert f("truncatewords", "", 2) == ""


def test_nl2br_escapes_first_and_returns_markup():
    result = f("nl2br", "a<b>\nc\r\nd")
    assert isinstance(result, Markup)
    assert result == "a&lt;b&gt;<br>c<br>d"


def test_nl2br_works_with_and_without_raw(render):
    assert render("{{ t | nl2br }}", {"t": "<i>\n"}) == "&lt;i&gt;<br>"
    assert render("{{ t | nl2br | raw }}", {"t": "<i>\n"}) == "&lt;i&gt;<br>"


def test_strip_tags():
    assert f("strip_tags", "<p class='x'>Hi <b>there</b><!-- c\n --></p>") == "Hi there"
    assert f("strip_tags", "1 < 2") == "1 < 2"


@pytest.mark.parametrize(("text", "stripped"), [
    ("a<!-- <b> -->b", "ab"),  # a comment ends at -->, not at the > inside it
    ("a<!-->b", "ab"),  # no --> after <!--: a tag up to the next >
    ("a<!-- b", "a<!-- b"),  # neither --> nor >: kept
    ("a<!-- b > c", "a c"),
    ("<<b>>", ">"),  # a tag runs from the first < to the first >
    ("1 < 2 and 3 > 2", "1  2"),
    ("x <", "x <"),
    ("<" * 5 + "a", "<<<<<a"),
    ("<!--<" * 3, "<!--<" * 3),
    ("a<!---->b<!-- -- -->c", "abc"),
])
def test_strip_tags_on_tricky_input(text, stripped):
    assert f("strip_tags", text) == stripped


_OLD_TAG = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="<!->a \n", max_size=40))
def test_strip_tags_removes_what_the_regular_expression_it_replaced_removed(text):
    assert f("strip_tags", text) == _OLD_TAG.sub("", text)


def test_url_encode_like_encode_uri_component():
    assert f("url_encode", "a b&c=d/é?") == "a%20b%26c%3Dd%2F%C3%A9%3F"
    assert f("url_encode", "-_.!~*'()") == "-_.!~*'()"
    assert f("url_encode", {"q": "a b", "n": 1}) == "q=a%20b&n=1"


def test_url_encode_prints_nested_objects_as_text_like_url_search_params():
    assert f("url_encode", {"a": {"b": 1}, "c": [1, 2]}) == "a=%5Bobject%20Object%5D&c=1%2C2"


def test_url_encode_writes_a_lone_surrogate_as_the_replacement_character():
    assert f("url_encode", "a\ud800b") == "a%EF%BF%BDb"
    assert f("url_encode", "\ud83d\ude00") == "%F0%9F%98%80"  # a pair is its character
    assert f("url_encode", {"\udc00": "\ud800"}) == "%EF%BF%BD=%EF%BF%BD"


def test_text_filters_take_a_lone_surrogate_like_any_character(render):
    text = "x\ud800y"
    assert f("length", text) == 3
    assert f("upper", text) == "X\ud800Y"
    assert f("json", text) == '"x\\ud800y"'  # as JSON.stringify writes it
    assert f("strip_tags", text) == text
    assert f("truncate", text, 2) == "x\ud800..."
    assert render("{{ s }}|{{ s | reverse }}|{{ s | title }}", {"s": text}) == (
        "x\ud800y|y\ud800x|X\ud800y"
    )


def test_length_and_size():
    assert f("length", "héllo") == 5
    assert f("length", [1, 2]) == 2
    assert f("size", {"a": 1}) == 1
    assert f("length", None) == 0
    assert f("length", UNDEFINED) == 0
    assert f("length", 1234) == 4


# -- numbers -----------------------------------------------------------------------------------


def test_round_half_away_from_zero():
    assert f("round", 2.5) == 3
    assert f("round", -2.5) == -3
    assert f("round", 1.005, 2) == 1.01
    assert f("round", 1234.5678, -2) == 1200
    assert f("round", "3.7") == 4


@pytest.mark.parametrize("name", ["round", "floor", "ceil", "abs", "number_format", "currency"])
@pytest.mark.parametrize("value", [None, UNDEFINED, "", "abc", float("nan"), float("inf")])
def test_numeric_filters_leave_non_numbers_empty(name, value):
    assert f(name, value) is UNDEFINED


@pytest.mark.parametrize("digits", [400, 4301, 100_000])
def test_numeric_filters_take_numbers_of_any_length_as_javascript_would(digits):
    many = "1" * digits  # Number() of it is a double: 1.1e399 and beyond is Infinity
    assert f("number_format", many) is UNDEFINED
    assert f("currency", many) is UNDEFINED
    assert f("round", many) is UNDEFINED
    assert f("date", many) is UNDEFINED
    assert f("timeago", many) is UNDEFINED


def test_numeric_filters_on_doubles_beyond_2_to_the_53():
    assert f("number_format", "1" * 300, 0)[:8] == "111,111,"
    assert f("floor", 1e300) == 1e300
    assert f("round", 2.0**60) == 2.0**60
    assert f("date", "1" * 300) is UNDEFINED
    assert f("date_add", "2024-01-01", "1" * 300) is UNDEFINED


def test_floor_ceil_abs():
    assert f("floor", -1.5) == -2
    assert f("ceil", 1.1) == 2
    assert f("abs", -3) == 3
    assert f("abs", "-2.5") == 2.5


def test_number_format():
    assert f("number_format", 1234.5) == "1,234.50"
    assert f("number_format", 1234567.891, 0) == "1,234,568"
    assert f("number_format", 0.125, 2) == "0.13"
    assert f("number_format", -0.001) == "0.00"
    assert f("number_format", -1234.5, 1) == "-1,234.5"
    assert f("number_format", 1234.5, 2, ",", ".") == "1.234,50"
    assert f("number_format", "99") == "99.00"


def test_number_format_pads_the_digits_the_number_prints_with():
    # No rounding needed: the digits as the number prints, padded, whatever its binary value.
    assert f("number_format", 0.5) == "0.50"
    assert f("number_format", -0.5) == "-0.50"
    assert f("number_format", -999.5, 1) == "-999.5"
    assert f("number_format", -1000.5) == "-1,000.50"
    assert f("number_format", 1234567.5, 3) == "1,234,567.500"
    assert f("number_format", 1e15 + 0.125) == "1,000,000,000,000,000.10"  # prints as ….1
    assert f("number_format", 1e-5, 5) == "0.00001"
    assert f("number_format", 12.0, 0) == "12"
    assert f("number_format", -0.0) == "0.00"
    # Rounding: half away from zero on the digits as printed (2.675 is 2.67499… in binary).
    assert f("number_format", 2.675) == "2.68"


def test_currency_symbols_and_decimals():
    assert f("currency", 1234.56) == "$1,234.56"
    assert f("currency", 1234.56, "EUR") == "€1,234.56"
    assert f("currency", 1234.56, "gbp") == "£1,234.56"
    assert f("currency", 1234.56, "JPY") == "¥1,235"
    assert f("currency", 1234.56, "CHF") == "CHF 1,234.56"
    assert f("currency", 1234.56, "XYZ") == "XYZ 1,234.56"
    assert f("currency", -5, "USD") == "-$5.00"
    assert f("currency", -0.001) == "$0.00"
    assert f("currency", 5, UNDEFINED) == "$5.00"


def test_currency_code_from_a_context_path(render):
    context = {"product": {"price": 10, "currency_code": "EUR"}}
    assert render("{{ product.price | currency:product.currency_code }}", context) == "€10.00"


def test_yesno():
    assert f("yesno", 1, "y", "n") == "y"
    assert f("yesno", 0, "y", "n") == "n"
    assert f("yesno", None, "y", "n") == "n"
    assert f("yesno", None, "y", "n", "?") == "?"
    assert f("yesno", UNDEFINED, "y", "n", "?") == "?"
    assert f("yesno", False, "y", "n", "?") == "n"
    assert f("yesno", []) == "yes"
    assert f("yesno", "", "on,off,unknown") == "off"
    assert f("yesno", None, "on,off,unknown") == "unknown"


# -- arrays ------------------------------------------------------------------------------------


def test_join():
    assert f("join", [1, None, "a"], ", ") == "1, , a"
    assert f("join", ["a", "b"]) == "a,b"
    assert f("join", "text", "-") == "text"


def test_sort_numbers_numerically_and_text_alphabetically():
    assert f("sort", [10, 9, 1.5]) == [1.5, 9, 10]
    assert f("sort", ["b", "C", "a"]) == ["C", "a", "b"]
    assert f("sort", [None, "b", 2, "a"]) == [2, "a", "b", None]
    assert f("sort", "cba") == "cba"


def test_sort_objects_by_a_key():
    items = [{"p": 3}, {"p": 1}, {}, {"p": 2}]
    assert f("sort", items, "p") == [{"p": 1}, {"p": 2}, {"p": 3}, {}]


def test_sort_does_not_change_the_context():
    items = [2, 1]
    f("sort", items)
    assert items == [2, 1]


def test_reverse():
    assert f("reverse", [1, 2, 3]) == [3, 2, 1]
    assert f("reverse", "abc") == "cba"
    assert f("reverse", 5) == 5


def test_unique_like_a_javascript_set():
    same = {"a": 1}
    assert f("unique", [1, 1.0, "1", True, None, None, same, same, {"a": 1}]) == [
        1, "1", True, None, same, {"a": 1},
    ]
    assert f("unique", "aab") == "aab"


# -- dates -------------------------------------------------------------------------------------


def test_date_tokens():
    moment = datetime(2024, 3, 5, 7, 8, 9, tzinfo=UTC)
    assert f("date", moment, "yyyy yy MMMM MMM MM M dd d") == "2024 24 March Mar 03 3 05 5"
    assert f("date", moment, "HH H hh h mm m ss s") == "07 7 07 7 08 8 09 9"
    afternoon = datetime(2024, 3, 5, 15, 0, 0, tzinfo=UTC)
    assert f("date", afternoon, "hh:mm H") == "03:00 15"
    assert f("date", datetime(2024, 3, 5, 0, 0, tzinfo=UTC), "h") == "12"


def test_date_inputs():
    assert f("date", 1700000000000, "yyyy-MM-dd HH:mm") == "2023-11-14 22:13"
    assert f("date", "1700000000000", "yyyy") == "2023"
    assert f("date", "2024-03-05T07:08:09Z", "HH:mm") == "07:08"
    assert f("date", "2024-03-05T07:08:09+02:00", "HH:mm") == "05:08"
    assert f("date", "2024-03-05", "d MMM") == "5 Mar"
    assert f("date", "now", "yyyy-MM-dd") == "2024-06-15"
    assert f("date", "2024-03-05") == "2024-03-05"


@pytest.mark.parametrize("value", ["not a date", None, UNDEFINED, {}, True, 10**30])
def test_date_of_a_non_date_is_empty(value):
    assert f("date", value, "yyyy") is UNDEFINED


def test_date_add_then_date(render):
    assert f("date_add", "2024-01-31", 1) == datetime(2024, 2, 1, tzinfo=UTC)
    assert render("{{ d | date_add:-1 | date:'yyyy-MM-dd' }}", {"d": "2024-03-01"}) == (
        "2024-02-29"
    )
    assert render("{{ 'now' | date_add:7 | date }}") == "2024-06-22"


def test_date_add_prints_as_an_iso_string(render):
    assert render("{{ d | date_add:0 }}", {"d": "2024-03-01"}) == "2024-03-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        ("2024-06-15T11:59:30Z", "just now"),
        ("2024-06-15T11:58:00Z", "2 minutes ago"),
        ("2024-06-15T11:00:00Z", "1 hour ago"),
        ("2024-06-12T12:00:00Z", "3 days ago"),
        ("2024-04-15T12:00:00Z", "2 months ago"),
        ("2022-06-15T12:00:00Z", "2 years ago"),
        ("2024-06-15T14:00:00Z", "in 2 hours"),
        ("2024-06-16T12:00:00Z", "in 1 day"),
    ],
)
def test_timeago(moment, text):
    assert f("timeago", moment) == text


def test_timeago_of_a_non_date_is_empty():
    assert f("timeago", "soon") is UNDEFINED


# -- output control ----------------------------------------------------------------------------


def test_raw_and_json(render):
    assert render("{{ h | raw }}", {"h": "<b>x</b>"}) == "<b>x</b>"
    assert render("{{ d | json }}", {"d": {"a": "<"}}) == "{&#34;a&#34;:&#34;\\u003c&#34;}"
    assert render("{{ d | json | raw }}", {"d": {"a": "<'"}}) == '{"a":"\\u003c\\u0027"}'
    assert render("{{ missing | json }}") == ""


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(["now", "2024-01-02", "1700000000000", "EUR", "a,b,c", "-3", UNDEFINED,
                       "\ud800", "1" * 4301, 10**400, "0x" + "f" * 300, 2**53 + 1]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                max_size=3),
    max_leaves=6,
)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(sorted(FILTERS)), _JSON, st.lists(_JSON, max_size=3))
def test_no_filter_raises_on_any_json_value(name, value, args):
    function = FILTERS[name]
    low, high = filter_arity(function)
    function(value, *args[: int(min(high, max(low, len(args))))], *[1] * (low - len(args)))
