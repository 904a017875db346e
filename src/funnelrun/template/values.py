"""JavaScript value semantics for template values: truthiness, printing, equality, arithmetic."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from markupsafe import Markup, escape


class Undefined:
    """The value of a missing name or path (JavaScript's `undefined`); prints as nothing."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __str__(self) -> str:
        return ""

    def __bool__(self) -> bool:
        return False


UNDEFINED = Undefined()
NAN = float("nan")

_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_RADIX_TEXT = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
_JSON_UNSAFE = str.maketrans({
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027",
    "\u2028": "\\u2028", "\u2029": "\\u2029",
})


# -- printing ----------------------------------------------------------------------------------


def to_str(value: Any) -> str:
    """JavaScript `String(value)`, except that null and undefined print as nothing."""
    kind = type(value)
    if kind is str:
        return value
    if value is None or value is UNDEFINED:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return number_to_str(value)
    if kind is list or kind is tuple:
        return ",".join([to_str(item) for item in value])
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, str):  # Markup and other str subclasses
        return str(value)
    if isinstance(value, datetime | date):
        return iso_datetime(value)
    if isinstance(value, int | float):
        return to_str(float(value) if isinstance(value, float) else int(value))
    return ""  # never show a Python repr on a page


def number_to_str(number: float) -> str:
    """JavaScript's Number#toString: `3.0` → `3`, `1e21` → `1e+21`, `1e-7` → `1e-7`."""
    if number != number:
        return "NaN"
    if number in (math.inf, -math.inf):
        return "Infinity" if number > 0 else "-Infinity"
    if number.is_integer() and abs(number) < 1e21:
        return str(int(number))
    text = repr(abs(number))
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    leading_zeros = len(whole + fraction) - len(digits)
    digits = digits.rstrip("0") or "0"
    point = len(whole) + int(exponent or 0) - leading_zeros  # value = 0.digits × 10^point
    sign = "-" if number < 0 else ""
    if len(digits) <= point <= 21:
        return sign + digits + "0" * (point - len(digits))
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    power = point - 1
    head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{head}e{'+' if power >= 0 else '-'}{abs(power)}"


def iso_datetime(value: date) -> str:
    """JavaScript's Date#toISOString (UTC, milliseconds, `Z`)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def out(value: Any) -> str:
    """A value as HTML: escaped, unless it is already markup (`| raw`, `| nl2br`)."""
    kind = type(value)
    if kind is str:
        return escape(value)
    if kind is int:
        return str(value)
    if kind is Markup:
        return value
    return escape(to_str(value))


# -- truthiness and conversions ----------------------------------------------------------------


def truthy(value: Any) -> bool:
    """JavaScript truthiness: 0, NaN, '', null, undefined and false are false; [] and {} true."""
    if value is None or value is UNDEFINED:
        return False
    kind = type(value)
    if kind is list or kind is dict or kind is tuple:
        return True
    if kind is float:
        return value == value and value != 0
    if isinstance(value, str | int | float):
        return bool(value)
    return True


def to_number(value: Any) -> int | float:
    """JavaScript `Number(value)`; NaN when the value is no number."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is bool:
        return int(value)
    if value is None:
        return 0
    if isinstance(value, str):
        return _parse_number(value.strip())
    if kind is list or kind is tuple:
        return to_number(to_str(value))
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return NAN


def _parse_number(text: str) -> int | float:
    if not text:
        return 0
    if _NUMBER_TEXT.fullmatch(text):
        if text.lstrip("+-").isdigit():
            return int(text)
        return float(text)
    if _RADIX_TEXT.fullmatch(text):
        return int(text, 0)
    if text.lstrip("+-") == "Infinity":
        return -math.inf if text.startswith("-") else math.inf
    return NAN


def to_primitive(value: Any) -> Any:
    """Arrays, objects and dates become strings, as JavaScript's ToPrimitive does."""
    kind = type(value)
    if kind is list or kind is tuple or kind is dict or isinstance(value, Mapping | date):
        return to_str(value)
    return value


def _kind(value: Any) -> str:
    """The JavaScript type of a value: undefined, null, boolean, number, string or object."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


# -- equality and order ------------------------------------------------------------------------


def strict_eq(left: Any, right: Any) -> bool:
    """JavaScript `===`: same type and value; arrays and objects only equal themselves."""
    kind = _kind(left)
    if kind != _kind(right):
        return False
    if kind == "object":
        return left is right
    if kind == "string":
        return str(left) == str(right)
    return left == right


def loose_eq(left: Any, right: Any) -> bool:
    """JavaScript `==`: null equals undefined, numbers and strings compare as numbers."""
    left_kind, right_kind = _kind(left), _kind(right)
    if left_kind == right_kind:
        return strict_eq(left, right)
    nullish = ("null", "undefined")
    if left_kind in nullish or right_kind in nullish:
        return left_kind in nullish and right_kind in nullish
    if left_kind == "object" and right_kind == "object":
        return False
    left, right = to_primitive(left), to_primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        return str(left) == str(right)
    return to_number(left) == to_number(right)


def lt(left: Any, right: Any) -> bool:
    left, right = to_primitive(left), to_primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        return str(left) < str(right)
    return to_number(left) < to_number(right)


def le(left: Any, right: Any) -> bool:
    left, right = to_primitive(left), to_primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        return str(left) <= str(right)
    return to_number(left) <= to_number(right)


def gt(left: Any, right: Any) -> bool:
    return lt(right, left)


def ge(left: Any, right: Any) -> bool:
    return le(right, left)


# -- arithmetic --------------------------------------------------------------------------------


def add(left: Any, right: Any) -> Any:
    """JavaScript `+`: concatenation when either side is a string, else addition.

    Unlike JavaScript, null and undefined concatenate as nothing, not as "null"/"undefined".
    """
    left_kind, right_kind = type(left), type(right)
    if left_kind is str and right_kind is str:
        return left + right
    if (left_kind is int or left_kind is float) and (right_kind is int or right_kind is float):
        return _arith(left, right, _plus)
    left, right = to_primitive(left), to_primitive(right)
    if isinstance(left, str) or isinstance(right, str):
        return to_str(left) + to_str(right)
    return _arith(to_number(left), to_number(right), _plus)


def sub(left: Any, right: Any) -> Any:
    return _arith(to_number(left), to_number(right), _minus)


def mul(left: Any, right: Any) -> Any:
    return _arith(to_number(left), to_number(right), _times)


def div(left: Any, right: Any) -> float:
    """JavaScript `/`: dividing by zero gives Infinity, -Infinity or NaN, never an error."""
    x, y = to_number(left), to_number(right)
    if y == 0:
        if x != x or x == 0:
            return NAN
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return _arith(x, y, _divide)


def mod(left: Any, right: Any) -> Any:
    """JavaScript `%`: the result has the sign of the dividend; `x % 0` is NaN."""
    x, y = to_number(left), to_number(right)
    if y == 0 or x != x or y != y or x in (math.inf, -math.inf):
        return NAN
    if type(x) is int and type(y) is int:
        remainder = abs(x) % abs(y)
        return -remainder if x < 0 else remainder
    if y in (math.inf, -math.inf):
        return x
    return math.fmod(x, y)


def neg(value: Any) -> Any:
    return -to_number(value)


def _plus(x: Any, y: Any) -> Any:
    return x + y


def _minus(x: Any, y: Any) -> Any:
    return x - y


def _times(x: Any, y: Any) -> Any:
    return x * y


def _divide(x: Any, y: Any) -> Any:
    return x / y


def _arith(x: Any, y: Any, operation: Any) -> Any:
    try:
        return operation(x, y)
    except OverflowError:  # huge Python ints meeting floats; JavaScript would say Infinity
        return NAN


# -- access ------------------------------------------------------------------------------------


def ga(obj: Any, name: str) -> Any:
    """`obj.name`: a key of an object, `.length` of a string or array, else undefined."""
    kind = type(obj)
    if kind is dict:
        return obj.get(name, UNDEFINED)
    if kind is list or kind is tuple or isinstance(obj, str):
        return len(obj) if name == "length" else UNDEFINED
    if isinstance(obj, Mapping):
        return obj.get(name, UNDEFINED)
    return UNDEFINED  # never a Python attribute


def gi(obj: Any, key: Any) -> Any:
    """`obj[key]`: array and string indexes, object keys (as strings), else undefined."""
    kind = type(obj)
    if kind is dict or isinstance(obj, Mapping):
        return obj.get(key if type(key) is str else to_str(key), UNDEFINED)
    if kind is list or kind is tuple or isinstance(obj, str):
        index = _index(key)
        if index is not None:
            return obj[index] if index < len(obj) else UNDEFINED
        return len(obj) if key == "length" else UNDEFINED
    return UNDEFINED


def _index(key: Any) -> int | None:
    """The array index `key` denotes (JavaScript turns keys into strings), or None."""
    kind = type(key)
    if kind is int:
        return key if key >= 0 else None
    if kind is float and key.is_integer() and key >= 0:
        return int(key)
    if isinstance(key, str) and key.isdigit() and key.isascii() and str(int(key)) == key:
        return int(key)
    return None


def iterate(value: Any) -> list | tuple:
    """What `@foreach` walks: an array's items, an object's values, a string's characters."""
    kind = type(value)
    if kind is list or kind is tuple:
        return value
    if kind is dict or isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, str):
        return list(value)
    return ()


# -- JSON --------------------------------------------------------------------------------------


def json_value(value: Any) -> Any:
    """A template value as plain JSON data, the way JSON.stringify sees it."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is list or kind is tuple:
        return [json_value(item) for item in value]
    if isinstance(value, Mapping):
        return {
            to_str(key): json_value(item) for key, item in value.items() if item is not UNDEFINED
        }
    if isinstance(value, str):
        return str(value)
    if isinstance(value, date):
        return iso_datetime(value)
    if isinstance(value, int | float):
        return json_value(float(value) if isinstance(value, float) else int(value))
    return None


def to_json(value: Any, indent: int | None = None, *, script_safe: bool = True) -> str:
    """JSON.stringify. With `script_safe`, `<`, `>`, `&` and `'` are written as \\u escapes
    (still the same JSON) so that `| json | raw` is safe inside a <script> or an attribute."""
    if value is UNDEFINED:
        return ""
    separators = (",", ": ") if indent else (",", ":")
    text = json.dumps(json_value(value), ensure_ascii=False, indent=indent, separators=separators)
    return text.translate(_JSON_UNSAFE) if script_safe else text
