"""JSON data crossing a boundary: strict parsing, the depth rule, clean text."""

from __future__ import annotations

import json

import pytest

from funnelrun.jsondata import (
    MAX_DEPTH,
    JSONDataError,
    clean_text,
    decode_json,
    depth_refusal,
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
