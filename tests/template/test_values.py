"""JavaScript value semantics: printing, truthiness, equality, order, arithmetic, access."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
from markupsafe import Markup

from funnelrun.template import Environment
from funnelrun.template.stringify import json_value, to_json
from funnelrun.template.values import (
    UNDEFINED,
    add,
    div,
    ga,
    gi,
    gt,
    iterate,
    le,
    loose_eq,
    lt,
    mod,
    mul,
    number_to_str,
    out,
    strict_eq,
    sub,
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
        (-123.5, "-123.5"),
        (-0.0001, "-0.0001"),
        (0.00001, "0.00001"),
        (9999999999999998.0, "9999999999999998"),
        (1e16, "10000000000000000"),
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


def test_numbers_compare_as_doubles():
    assert lt(2.5, 3) is True
    assert lt(math.nan, 1) is False
    assert le(1, math.nan) is False
    assert lt(2**53, 2**53 + 1) is False  # 2**53 + 1 is 2**53 as a double
    assert le(2**53 + 1, 2.0**53) is True
    assert lt(True, 2) is True  # a boolean is a number only once converted


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


def test_integers_beyond_2_to_the_53_become_doubles_as_in_javascript():
    assert add(2**53, 1) == 2**53 and type(add(2**53, 1)) is float  # 2**53 + 1 is no double
    assert add(2**53 - 1, 1) == 2**53 and type(add(2**53 - 1, 1)) is int
    assert mul(10**15, 10**15) == 1e30
    assert sub(-(2**53), 2) == -(2**53) - 2
    assert add(10**400, 0.5) == math.inf  # an integer past the largest double is Infinity
    assert mul(10**400, -1) == -math.inf
    assert div(10**400, 3) == math.inf


def test_integer_arithmetic_never_grows_past_printing():
    page = Environment().compile("@set(n = 9)@foreach(i in list)@set(n = n * n)@endforeach{{ n }}",
                                 "p")
    assert page.render({"list": list(range(20))}) == "Infinity"


def test_doubles_beyond_2_to_the_53_print_with_javascripts_digits():
    assert to_str(2.0**60) == "1152921504606847000"  # not 1152921504606846976
    assert to_str(2.0**53) == "9007199254740992"
    assert to_str(1e21) == "1e+21"


def test_integers_too_long_for_python_to_print_still_print():
    assert to_str(10**5000) == "Infinity"
    assert to_str(-(10**5000)) == "-Infinity"
    assert out(10**5000) == "Infinity"
    assert to_json([10**5000]) == "[null]"


@pytest.mark.parametrize(("text", "number"), [
    ("1" * 15, 111111111111111),
    ("9007199254740993", 9007199254740992.0),  # rounded to a double, as Number() does
    ("1" * 400, float("1" * 400)),
    ("1" * 4301, math.inf),
    ("-" + "1" * 4301, -math.inf),
    ("0." + "0" * 5000 + "1", 0.0),
    ("0x" + "f" * 300, math.inf),
    ("0x20000000000001", 9007199254740992.0),
    ("+Infinity", math.inf),
    ("+-Infinity", math.nan),
    ("1" * 5000 + "x", math.nan),
])
def test_numbers_of_any_length_convert_as_javascript_number_does(text, number):
    converted = to_number(text)
    assert converted == number or (math.isnan(number) and math.isnan(converted))


def test_comparing_a_4301_digit_number_is_an_ordinary_comparison():
    assert gt("1" * 4301, 5) is True
    assert lt("-" + "1" * 4301, 5) is True
    assert loose_eq("1" * 4301, math.inf) is True


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


def test_an_index_of_any_length_is_just_out_of_range():
    assert gi([1, 2], "1" * 4301) is UNDEFINED
    assert gi([1, 2], "9" * 16) is UNDEFINED
    assert gi([1, 2], 1e300) is UNDEFINED
    assert gi("ab", "01") is UNDEFINED  # not an index: a key no string has
    assert gi([1, 2], "1") == 2


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


def test_json_of_numbers_as_json_stringify_writes_them():
    assert to_json([3.0, 2.0**60, 2**53 + 1, 1e21, 0.5]) == (
        "[3,1152921504606847000,9007199254740992,1e+21,0.5]"
    )


def test_json_writes_lone_surrogates_as_escapes_like_json_stringify():
    assert to_json({"k\ud800": "\udfff"}) == '{"k\\ud800":"\\udfff"}'
    assert to_json("\ud83d\ude00 \U0001f600") == '"\\ud83d\\ude00 \U0001f600"'


# -- nesting -----------------------------------------------------------------------------------


def nested(depth: int, leaf=1) -> list:
    value = [leaf]
    for _ in range(depth - 1):
        value = [value]
    return value


def unnest(value) -> tuple[int, object]:
    """(depth, leaf) of a value built by nested(); Python's == would recurse."""
    depth = 0
    while type(value) is list and len(value) == 1:
        value, depth = value[0], depth + 1
    return depth, value


@pytest.mark.parametrize("depth", [600, 10_000])
def test_arrays_nested_at_any_depth_print_like_javascript(depth):
    assert to_str(nested(depth)) == "1"
    assert to_str([nested(depth), [], [2, [3]]]) == "1,,2,3"
    assert unnest(json_value(nested(depth, {"a": UNDEFINED, "b": 2}))) == (depth, {"b": 2})
    text = to_json(nested(depth, "<"))
    assert text == "[" * depth + '"\\u003c"' + "]" * depth


@pytest.mark.parametrize("depth", [600, 10_000])
def test_deep_values_print_through_every_printer(depth, items):
    value = {"a": nested(depth)}
    page = Environment().compile(
        "{{ v.a }}|{{ v | json | length }}|{{ v.a | join:'-' }}@setSessionItem('k', v)", "p"
    )
    rendered = page.render({"v": value}, session=items)
    assert rendered == f"1|{len(to_json(value))}|1"
    assert unnest(items.items["k"]["a"]) == (depth, 1)


def test_dump_prints_a_deep_value():
    # Pretty JSON of n nested arrays is O(n²) characters (the indentation), as in JavaScript.
    page = Environment().compile("{{ dump(v) | length }}", "p")
    assert page.render({"v": nested(1000)}) == str(len(to_json(nested(1000), indent=2)))


def test_dump_of_a_deep_value_is_the_same_pretty_json_as_a_shallow_one_would_be():
    value = nested(200, {"k": [1, {"x": None}], "e": [], "o": {}})
    assert to_json(value, indent=2, script_safe=False) == json.dumps(
        json_value(value), indent=2, ensure_ascii=False
    )
    assert to_json(value) == json.dumps(json_value(value), separators=(",", ":"))


def test_an_array_inside_itself_prints_as_nothing_and_as_null_in_json():
    array: list = [1]
    array.append(array)
    assert to_str(array) == "1,"
    assert to_json(array) == "[1,null]"
    obj: dict = {"a": 1}
    obj["self"] = obj
    assert json_value(obj) == {"a": 1, "self": None}
