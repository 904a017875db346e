"""JSON data crossing a boundary (a request body, the sandbox's output, a session value): parsed
strictly, bounded in depth, its text made valid Unicode; and funnelrun's own data encoded fast."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import orjson

# Arrays and objects nested deeper than this are refused wherever data enters: a request body
# becomes null, a session value or template variable is refused with a page-events warning.
# Printing, freezing and encoding such data walk it recursively; this keeps them far from
# Python's recursion limit and QuickJS's stack limit.
MAX_DEPTH = 64

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


class JSONDataError(ValueError):
    """Text that is not strict JSON data: malformed, non-finite numbers, or nested too deep."""


def clean_text(text: str) -> str:
    """`text` with every unpaired surrogate (JavaScript allows them, UTF-8 does not) replaced
    by U+FFFD; surrogate pairs become the character they encode."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def utf8(text: str) -> bytes:
    """`text` as UTF-8; an unpaired surrogate that got this far becomes U+FFFD, never a
    UnicodeEncodeError on the way out."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return clean_text(text).encode()


# With no `default` given, orjson refuses these instead of writing them its own way (a dataclass
# as an object, a datetime in ISO form) or handing a str or int subclass to the default (which
# the standard library writes as the str or int it is): encode_compact's fallback writes them.
_ORJSON_OPTIONS = (orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
                   | orjson.OPT_PASSTHROUGH_SUBCLASS)
_encode_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_compact(value: Any, fallback: Callable[[Any], str] = _encode_compact) -> str:
    """Compact JSON text of `value` (no spaces, non-ASCII as it is), made by orjson: ten times
    faster than the standard library. Whatever orjson refuses is written by `fallback`, the
    caller's standard-library encoder (compact, with its own `default`, ensure_ascii and
    allow_nan), so there the text — or the error — is the one it always was: an unpaired
    surrogate, an integer beyond 64 bits, a key that is not a string, nesting past orjson's
    254 levels, and any type but dict, list, tuple, str, int, float, bool and None (exact
    types: subclasses, dataclasses and datetimes included).

    Where orjson writes, its text is the standard library's (ensure_ascii=False), but for
    - floats under 1e-4 in size, written 1e-7 for 1e-07 and 0.00001 for 1e-05: the same
      number to any JSON reader (larger ones, 1e+16 say, are written alike);
    - NaN and ±Infinity, written null, where the standard library writes NaN and Infinity
      (not JSON) or, with allow_nan=False, raises ValueError;
    - members of a plain Enum, written as their value, and UUIDs, as str() gives them, where
      the standard library calls its `default` or raises TypeError.
    Callers hold none of the last two kinds (see where they use this)."""
    try:
        return orjson.dumps(value, None, _ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return fallback(value)


def decode_json(text: str) -> Any:
    """Parse JSON text from the sandbox; strings in it come back clean (see clean_text).
    Raises ValueError for text that is not JSON, or nested too deep for Python to parse."""
    try:
        value = json.loads(text)
        return _clean(value) if _ESCAPED_SURROGATE.search(text) else value
    except RecursionError as exc:  # deeper than Python parses, or than _clean walks
        raise JSONDataError("JSON nested too deep to parse") from exc


def parse_strict(text: str) -> Any:
    """Parse JSON as RFC 8259 defines it, for data a visitor sends.

    Refused with JSONDataError: malformed text, `NaN` / `Infinity` (Python's json accepts
    them), numbers too large for a double (`1e999`, a 400-digit integer), and data nested
    deeper than MAX_DEPTH. Integers of more than 15 digits become doubles, as in JavaScript.
    Unpaired surrogates (`"\\ud800"`) are replaced by U+FFFD, so every string encodes as
    UTF-8.
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float,
                           parse_int=_js_integer)
    except RecursionError as exc:
        raise JSONDataError(f"JSON nested deeper than {MAX_DEPTH} levels") from exc
    except JSONDataError:
        raise
    except ValueError as exc:  # malformed, or an integer past Python's digit limit
        raise JSONDataError(f"not valid JSON: {exc}") from exc
    if too_deep(value):
        raise JSONDataError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return _clean(value) if _ESCAPED_SURROGATE.search(text) else value


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in `value` nest deeper than `limit`. Recursive, but never
    more than `limit` calls deep: it stops at the first level past the limit."""
    kind = type(value)
    if kind is dict:
        children: Any = value.values()
    elif kind is list or kind is tuple:
        children = value
    else:
        return False
    if limit <= 0:
        return True
    for child in children:
        kind = type(child)
        if (kind is dict or kind is list or kind is tuple) and too_deep(child, limit - 1):
            return True
    return False


def nesting_bound(text: str) -> int:
    """How deep arrays and objects can nest at most in JSON `text`, known without parsing it:
    each level opens with a bracket of its own, and brackets inside strings only add to the
    count. Far cheaper than walking the parsed value (too_deep), which a bound within the
    limit makes unnecessary."""
    return text.count("[") + text.count("{")


def depth_refusal(value: Any) -> str | None:
    """Why `value` may not be stored or passed on because of its nesting, or None."""
    if too_deep(value):
        return f"value is nested deeper than {MAX_DEPTH} levels of arrays and objects"
    return None


def _refuse_constant(name: str) -> Any:
    raise JSONDataError(f"{name} is not a JSON number")


def _js_integer(text: str) -> int | float:
    """An integer as JSON.parse reads it: exact up to 15 digits, a double beyond (so a
    4301-digit number is refused as too large, not a Python int-conversion error)."""
    if len(text) <= 16:  # 15 digits and a sign: always below 2**53
        return int(text)
    return _finite_float(text)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise JSONDataError(f"the number {text[:40]} is too large for a double")
    return number


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(key): _clean(item) for key, item in value.items()}
    return value
