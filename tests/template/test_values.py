"""JavaScript value semantics: printing, truthiness, equality, order, arithmetic, access."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from markupsafe import Markup

from funnelrun.template.values import (
    UNDEFINED,
    add,
    div,
    ga,
    gi,
    iterate,
    le,
    loose_eq,
    lt,
    mod,
    number_to_str,
    out,
    strict_eq,
    sub,
    to_json,
    to_number,
    to_str,
    truthy,
)

# -- printing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("x", "x"),
        (None, ""),
        (UNDEFINED, ""),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (3.0, "3"),
        (-0.0, "0"),
        (2.5, "2.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (123.456, "123.456"),
        (-1.25e25, "-1.25e+25"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (math.nan, "NaN"),
        ([1, "a", None, [2, 3]], "1,a,,2,3"),
        ([], ""),
        ({"a": 1}, "[object Object]"),
        (Markup("<b>"), "<b>"),
        (datetime(2024, 3, 5, 7, 8, 9, 123000, tzinfo=UTC), "2024-03-05T07:08:09.123Z"),
        (object(), ""),
    ],
)
def test_to_str_prints_like_javascript_string(value, text):
    assert to_str(value) == text
    assert type(to_str(value)) is str


def test_number_to_str_round_trips_shortest_repr():
    for number in (0.1, 1 / 3, 2**53 + 0.0, 5e-324, 1.7976931348623157e308):
        assert float(number_to_str(number).replace("e+", "e")) == number


def test_out_escapes_text_but_not_markup():
    assert out("<a href='x'>&\"") == "&lt;a href=&#39;x&#39;&gt;&amp;&#34;"
    assert out(Markup("<br>")) == "<br>"
    assert out(["<", ">"]) == "&lt;,&gt;"
    assert out(7) == "7"


# -- truthiness --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 0.0, -0.0, math.nan, "", None, UNDEFINED, False, Markup("")])
def test_falsy_values(value):
    assert truthy(value) is False


@pytest.mark.parametrize("value", [1, -1, 0.5, "0", "false", " ", [], {}, [0], True, math.inf])
def test_truthy_values_include_empty_arrays_and_objects(value):
    assert truthy(value) is True


# -- conversions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("42", 42),
        (" 4.5 ", 4.5),
        ("", 0),
        ("0x1F", 31),
        ("1e3", 1000.0),
        ("-Infinity", -math.inf),
        (None, 0),
        (True, 1),
        ([], 0),
        ([7], 7),
    ],
)
def test_to_number_follows_javascript_number(value, number):
    assert to_number(value) == number


@pytest.mark.parametrize("value", ["abc", "1_000", "inf", "nan", UNDEFINED, {}, [1, 2], "0x"])
def test_to_number_gives_nan_for_non_numbers(value):
    assert math.isnan(to_number(value))


# -- equality ----------------------------------------------------------------------------------


def test_strict_equality_keeps_booleans_apart_from_numbers():
    assert strict_eq(True, 1) is False
    assert strict_eq(1, 1.0) is True
    assert strict_eq("a", Markup("a")) is True
    assert strict_eq(None, UNDEFINED) is False
    assert strict_eq(math.nan, math.nan) is False


def test_strict_equality_of_arrays_and_objects_is_identity():
    items = [1]
    assert strict_eq(items, items) is True
    assert strict_eq([1], [1]) is False
    assert strict_eq({}, {}) is False


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (None, UNDEFINED, True),
        (None, 0, False),
        (UNDEFINED, "", False),
        ("1", 1, True),
        ("1.0", 1, True),
        ("", 0, True),
        (True, 1, True),
        (True, "1", True),
        (False, "", True),
        ([1], 1, True),
        ([1, 2], "1,2", True),
        ([1], [1], False),
        ("a", "A", False),
        (math.nan, math.nan, False),
    ],
)
def test_loose_equality_follows_javascript(left, right, equal):
    assert loose_eq(left, right) is equal
    assert loose_eq(right, left) is equal


# -- order -------------------------------------------------------------------------------------


def test_strings_compare_as_text_and_mixed_values_as_numbers():
    assert lt("10", "9") is True
    assert lt("10", 9) is False
    assert lt(None, 1) is True
    assert lt(UNDEFINED, 1) is False
    assert lt(1, UNDEFINED) is False
    assert le(None, 0) is True
    assert le("b", "a") is False


# -- arithmetic --------------------------------------------------------------------------------


def test_plus_concatenates_when_either_side_is_a_string():
    assert add("a", 1) == "a1"
    assert add(1, "a") == "1a"
    assert add(1.5, "") == "1.5"
    assert add(True, "") == "true"
    assert add([1, 2], 3) == "1,23"


def test_plus_concatenates_missing_values_as_nothing():
    assert add("(", UNDEFINED) == "("
    assert add(None, "x") == "x"


def test_plus_adds_numbers_and_booleans():
    assert add(1, 2) == 3
    assert add(True, True) == 2
    assert add(None, 1) == 1
    assert math.isnan(add(UNDEFINED, 1))


def test_minus_converts_strings_to_numbers():
    assert sub("10", "4") == 6
    assert math.isnan(sub("a", 1))


def test_division_by_zero_gives_infinity_or_nan():
    assert div(1, 0) == math.inf
    assert div(-1, 0) == -math.inf
    assert div(1, -0.0) == -math.inf
    assert math.isnan(div(0, 0))
    assert div(7, 2) == 3.5


def test_remainder_has_the_sign_of_the_dividend():
    assert mod(7, 3) == 1
    assert mod(-7, 3) == -1
    assert mod(7, -3) == 1
    assert mod(5.5, 2) == 1.5
    assert math.isnan(mod(1, 0))
    assert math.isnan(mod(math.inf, 2))
    assert mod(3, math.inf) == 3


def test_huge_integers_do_not_raise():
    assert math.isnan(add(10**400, 0.5))


# -- access ------------------------------------------------------------------------------------


def test_attribute_of_an_object_and_length_of_arrays_and_strings():
    assert ga({"a": 1}, "a") == 1
    assert ga({"a": 1}, "b") is UNDEFINED
    assert ga([1, 2, 3], "length") == 3
    assert ga("abc", "length") == 3
    assert ga({"length": 9}, "length") == 9


@pytest.mark.parametrize("obj", [None, UNDEFINED, 5, True, "abc", [1]])
def test_attribute_of_anything_else_is_undefined(obj):
    assert ga(obj, "name") is UNDEFINED


def test_python_attributes_are_never_reachable():
    assert ga("text", "upper") is UNDEFINED
    assert ga({}, "__class__") is UNDEFINED
    assert gi([], "__class__") is UNDEFINED


def test_index_of_arrays_strings_and_objects():
    assert gi([10, 20], 1) == 20
    assert gi([10, 20], "1") == 20
    assert gi([10, 20], 1.0) == 20
    assert gi([10, 20], 2) is UNDEFINED
    assert gi([10, 20], -1) is UNDEFINED
    assert gi([10, 20], "01") is UNDEFINED
    assert gi([10, 20], True) is UNDEFINED
    assert gi("abc", 1) == "b"
    assert gi({"1": "one", "true": "yes"}, 1) == "one"
    assert gi({"true": "yes"}, True) == "yes"
    assert gi({"a": 1}, [1, 2]) is UNDEFINED
    assert gi(None, 0) is UNDEFINED


def test_iterate_arrays_object_values_and_characters():
    assert iterate([1, 2]) == [1, 2]
    assert iterate({"a": 1, "b": 2}) == [1, 2]
    assert iterate("ab") == ["a", "b"]
    for nothing in (None, UNDEFINED, 3, True):
        assert list(iterate(nothing)) == []


# -- JSON --------------------------------------------------------------------------------------


def test_json_is_compact_and_script_safe():
    assert to_json({"a": [1, "</script>"], "b": None}) == (
        '{"a":[1,"\\u003c/script\\u003e"],"b":null}'
    )


def test_json_drops_undefined_keys_and_nulls_undefined_items_like_javascript():
    assert to_json({"a": UNDEFINED, "b": [UNDEFINED, math.nan]}) == '{"b":[null,null]}'
    assert to_json(UNDEFINED) == ""


def test_json_indent_and_plain_mode():
    assert to_json({"a": "<"}, indent=2, script_safe=False) == '{\n  "a": "<"\n}'
