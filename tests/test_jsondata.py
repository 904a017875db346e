"""JSON data crossing a boundary: strict parsing, the depth rule, clean text."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import math
import uuid

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnelrun.jsondata import (
    MAX_DEPTH,
    JSONDataError,
    clean_text,
    decode_json,
    depth_refusal,
    encode_compact,
    nesting_bound,
    parse_strict,
    too_deep,
    utf8,
)


def nested(depth: int, container: str = "list") -> object:
    value: object = 1
    for _ in range(depth):
        value = [value] if container == "list" else {"k": value}
    return value


@pytest.mark.parametrize("container", ["list", "dict"])
def test_data_as_deep_as_the_limit_passes_and_one_more_level_does_not(container):
    assert not too_deep(nested(MAX_DEPTH, container))
    assert too_deep(nested(MAX_DEPTH + 1, container))
    assert depth_refusal(nested(MAX_DEPTH + 1, container)) == (
        f"value is nested deeper than {MAX_DEPTH} levels of arrays and objects")


def test_depth_counts_the_deepest_branch_and_any_limit():
    wide = {"a": [1, 2, {"b": [3]}], "c": "text"}  # 4 levels down the deepest branch
    assert not too_deep(wide, 4) and too_deep(wide, 3)
    assert not too_deep("a string", 0) and too_deep([], 0)


@pytest.mark.parametrize(("text", "bound"), [
    ("1", 0), ("[]", 1), ('{"a": [1, {"b": [2]}]}', 4), ('[{"k": "[{"}, [[]]]', 6),
])
def test_the_nesting_bound_of_a_text_is_never_below_its_depth(text, bound):
    assert nesting_bound(text) == bound
    assert not too_deep(json.loads(text), bound)


def test_depth_of_data_far_past_python_recursion_limit_is_answered():
    assert too_deep(nested(100_000))


@pytest.mark.parametrize(("text", "value"), [
    ('{"a": [1, 2.5, "x", null, true]}', {"a": [1, 2.5, "x", None, True]}),
    ("123456789012345", 123456789012345),
    ("12345678901234567890", 1.2345678901234567e19),  # past 15 digits: a double, as JSON.parse
    ('"a\\ud800b"', "a\ufffdb"),
    ('"\\ud83d\\ude00"', "\U0001f600"),
])
def test_strict_parsing_reads_json_as_javascript_does(text, value):
    assert parse_strict(text) == value


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", "-Infinity", "1e999", "1" * 400,
                                  "{bad", "[" * 65 + "]" * 65, "[" * 5000 + "]" * 5000])
def test_strict_parsing_refuses_what_is_not_json_data(text):
    with pytest.raises(JSONDataError):
        parse_strict(text)


def test_sandbox_json_too_deep_for_python_is_a_value_error_not_a_crash():
    with pytest.raises(ValueError, match="too deep"):
        decode_json("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="too deep"):
        decode_json("[" * 900 + '"\\ud800"' + "]" * 900)


def test_text_is_made_valid_unicode():
    assert clean_text("ok") == "ok"
    assert clean_text("a\ud800") == "a\ufffd"
    assert clean_text("\ud83d\ude00") == "\U0001f600"
    assert utf8("é\udfff") == "é\ufffd".encode()


# -- encode_compact: orjson, with the standard library's text wherever orjson refuses ---------


def stdlib(value, **options):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), **options)


# Strings with any code point, unpaired surrogates often (hypothesis leaves them out unless
# told), and what an encoder escapes; integers of any size; floats tiny, huge, negative zero.
TEXT = st.text(st.characters(exclude_categories=())
               | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=())
               | st.sampled_from('"\\/\x00\x1f\x7f\u2028é🎉'), max_size=12)
INTEGERS = st.integers() | st.integers(min_value=2**63 - 2, max_value=2**64 + 1) | st.integers(
    min_value=-(2**63) - 1, max_value=-(2**63) + 1)
FLOATS = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [-0.0, 5e-324, 1e-05, 1.5e-07, 9.99e-05, 1e-4, 1e16, 1.7976931348623157e308])
SCALARS = st.none() | st.booleans() | INTEGERS | TEXT


def json_data(scalars):
    return st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                        | st.dictionaries(TEXT, children, max_size=4), max_leaves=20)


@given(json_data(SCALARS | FLOATS))
def test_encode_compact_gives_the_data_the_standard_library_gives(value):
    assert json.loads(encode_compact(value)) == json.loads(stdlib(value))


@given(json_data(SCALARS))
def test_without_floats_the_text_is_the_standard_librarys_to_the_byte(value):
    assert encode_compact(value) == stdlib(value)


@given(FLOATS)
def test_floats_differ_only_in_form_and_only_under_1e_4(number):
    text = encode_compact(number)
    assert float(text) == number and math.copysign(1, float(text)) == math.copysign(1, number)
    if number == 0 or abs(number) >= 1e-4:
        assert text == stdlib(number)


def test_the_float_forms_that_differ():
    assert encode_compact([1e-05, 1.5e-07, 1e16, 1e22, -0.0]) == "[0.00001,1.5e-7,1e+16,1e+22,-0.0]"
    assert stdlib([1e-05, 1.5e-07, 1e16, 1e22, -0.0]) == "[1e-05,1.5e-07,1e+16,1e+22,-0.0]"


def test_nan_and_infinity_become_null():
    assert encode_compact([math.nan, math.inf, -math.inf]) == "[null,null,null]"
    assert stdlib([math.nan, math.inf, -math.inf]) == "[NaN,Infinity,-Infinity]"


def nested_lists(depth):
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("value", [
    ["a\ud800b", {"k\udfff": 1}],
    [2**64, -(2**63) - 1, 10**40],
    {1: "a", None: "b", False: "c", 2.5: "d"},
    nested_lists(300),
], ids=["lone surrogates", "integers beyond 64 bits", "keys not strings", "300 levels"])
def test_what_orjson_refuses_is_written_by_the_standard_library(value):
    with pytest.raises(orjson.JSONEncodeError):
        orjson.dumps(value)
    assert encode_compact(value) == stdlib(value)


def test_the_fallback_is_the_callers_encoder_with_its_options():
    ascii_only = json.JSONEncoder(separators=(",", ":")).encode
    assert encode_compact(["é", "\ud800"], ascii_only) == '["\\u00e9","\\ud800"]'
    assert encode_compact(["é", "ok"], ascii_only) == '["é","ok"]'  # orjson's, same data
    refusing = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode
    with pytest.raises(ValueError, match="Out of range float"):
        encode_compact([2**64, math.nan], refusing)


@dataclasses.dataclass
class Point:
    x: int


class Text(str):
    pass


class Number(int):
    pass


class Decimal(float):
    pass


class Size(enum.IntEnum):
    BIG = 2


class Level(enum.StrEnum):
    LOW = "low"


@pytest.mark.parametrize("value", [
    {"at": datetime.datetime(2024, 5, 6, 7, 8, 9)}, [datetime.date(2024, 5, 6)], [Point(1)],
    [Text("t"), Number(7), Decimal(0.5), Size.BIG, Level.LOW], [{"a": {1, 2}}, b"x"],
], ids=["datetime", "date", "dataclass", "subclasses", "other types"])
def test_other_types_are_written_as_the_standard_library_writes_them(value):
    with_default = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
    assert encode_compact(value, with_default) == stdlib(value, default=str)
    if stdlib(value, default=lambda _: None) != stdlib(value, default=str):  # `default` was called
        with pytest.raises(TypeError, match="is not JSON serializable"):
            encode_compact(value)


def test_what_default_raises_is_raised():
    def refuse(value):
        raise ValueError(f"no {type(value).__name__}")
    encoder = json.JSONEncoder(separators=(",", ":"), default=refuse).encode
    with pytest.raises(ValueError, match="no Point"):
        encode_compact([Point(1)], encoder)


def test_enum_members_and_uuids_orjson_writes_itself():
    class Colour(enum.Enum):
        RED = "red"
    value = [Colour.RED, uuid.UUID(int=1)]
    assert encode_compact(value) == '["red","00000000-0000-0000-0000-000000000001"]'
    assert stdlib(value, default=str) == '["Colour.RED","00000000-0000-0000-0000-000000000001"]'
