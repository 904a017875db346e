"""JavaScript value semantics for template values: truthiness, printing, equality, arithmetic;
and the printers that escape outputs for where they sit."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any, cast

from markupsafe import Markup


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
# Numbers are JavaScript doubles. An integer stays a Python int while a double holds it
# exactly; beyond that it becomes the float JavaScript would hold (±Infinity past the largest
# double), so integers never grow without bound and always print.
EXACT_INTEGER = 2**53
# Possessive quantifiers (`++`, `*+`) never give back what they matched, so a long run of
# digits that fails to match at its end is rejected in one pass, not by trying every split.
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]++(?:\.[0-9]*+)?|\.[0-9]++)(?:[eE][+-]?[0-9]++)?")
_RADIX_TEXT = re.compile(r"0(?:[xX][0-9a-fA-F]++|[oO][0-7]++|[bB][01]++)")
_SHORT_INTEGER = 15  # digits any integer of which a double holds exactly (10**15 < 2**53)


# -- printing ----------------------------------------------------------------------------------


def to_str(value: Any) -> str:
    """JavaScript `String(value)`, except that null and undefined print as nothing."""
    # Here and below: one type() call, then identity tests, the fastest dispatch there is.
    # mypy cannot narrow `value` through `kind`: where it is returned as is, it goes through a
    # typed local (`text: str = value`), which costs nothing, unlike a call to cast().
    kind = type(value)
    if kind is str:
        text: str = value
        return text
    if value is None or value is UNDEFINED:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        try:
            return str(value)
        except ValueError:  # over Python's 4300-digit limit: no double is that precise anyway
            return number_to_str(as_double(value))
    if kind is float:
        return number_to_str(value)
    if kind is list or kind is tuple:
        return _join_array(value)
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, str):  # Markup and other str subclasses
        return str(value)
    if isinstance(value, datetime | date):
        return iso_datetime(value)
    if isinstance(value, int | float):
        return to_str(float(value) if isinstance(value, float) else int(value))
    return ""  # never show a Python repr on a page


def _join_array(array: list[Any] | tuple[Any, ...]) -> str:
    """String(array): the items comma-joined, nested arrays likewise, at any depth.

    Without recursion, so that no nesting can exhaust Python's stack. As in JavaScript, an
    array inside itself prints as nothing.
    """
    # One frame per array being joined: its remaining items and the texts of those done.
    frames: list[tuple[Iterator[Any], list[str], int]] = [(iter(array), [], id(array))]
    open_arrays = {id(array)}
    while True:
        items, texts, _ = frames[-1]
        for item in items:
            kind = type(item)
            if kind is not list and kind is not tuple:
                texts.append(to_str(item))
            elif id(item) in open_arrays:
                texts.append("")
            else:
                frames.append((iter(item), [], id(item)))
                open_arrays.add(id(item))
                break
        else:
            text = ",".join(texts)
            open_arrays.discard(frames.pop()[2])
            if not frames:
                return text
            frames[-1][1].append(text)


def number_to_str(number: float) -> str:
    """JavaScript's Number#toString: `3.0` → `3`, `1e21` → `1e+21`, `1e-7` → `1e-7`."""
    if number != number:
        return "NaN"
    if number in (math.inf, -math.inf):
        return "Infinity" if number > 0 else "-Infinity"
    if number.is_integer():
        if abs(number) <= EXACT_INTEGER:
            return str(int(number))
    elif "e" not in (text := repr(number)):
        # Both print the shortest digits that read back as the number; without an exponent
        # (1e-4 <= |number| < 1e16) and with a fraction, Python writes them as JavaScript does.
        return text
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
        text: str = value
    elif kind is int:
        try:
            return str(value)
        except ValueError:  # see to_str
            return number_to_str(as_double(value))
    elif kind is Markup:
        return cast(Markup, value)
    else:
        text = to_str(value)
    # What markupsafe.escape writes, as a plain str: it wraps each result in a Markup built in
    # Python, which cost more than the escaping. Most texts hold none of the five characters:
    # five scans in C, and the text comes back as it is.
    if "&" in text or "<" in text or ">" in text or "'" in text or '"' in text:
        return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("'", "&#39;").replace('"', "&#34;"))
    return text


# How outputs are escaped elsewhere than in text and quoted attribute values; the compiler
# picks each output's printer by where it sits (see html_context). Browsers end an unquoted
# value only at ASCII whitespace; every Unicode space is escaped, for laxer parsers (Python's
# html.parser, some filters) reading the page too.
_SPACES = "".join(char for char in map(chr, range(0x3001)) if char.isspace())
_UNQUOTED_ESCAPES = str.maketrans({char: f"&#{ord(char)};" for char in _SPACES + "=`"})
_TAG_ESCAPES = str.maketrans({char: f"&#{ord(char)};" for char in _SPACES + "=`/"})
_SCRIPT_ESCAPES = str.maketrans({
    "\\": "\\\\", "'": "\\u0027", '"': "\\u0022", "`": "\\u0060", "$": "\\u0024",
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
    "\n": "\\n", "\r": "\\r", "\u2028": "\\u2028", "\u2029": "\\u2029",
    "\0": "\\u0000",  # a NUL in a <script> would reach JavaScript as U+FFFD
})


def out_unquoted(value: Any) -> str:
    """A value inside an unquoted attribute value: escaped, and whitespace, `=` and `` ` `` as
    character references too, so it cannot end the value and add attributes of its own.
    Markup prints as it is (the compiler refuses `| raw` and `| nl2br` here)."""
    if type(value) is Markup:
        return value
    return out(value).translate(_UNQUOTED_ESCAPES)


def out_value(value: Any) -> str:
    """A value that is a whole unquoted attribute value (`a={{ x }}`): like out_unquoted, and
    `""` when empty, or the browser would take the next attribute as this one's value."""
    if type(value) is Markup:
        return value
    return out(value).translate(_UNQUOTED_ESCAPES) or '""'


def out_tag(value: Any) -> str:
    """A value where attribute names go (`<input {{ x }}>`): as out_unquoted, and `/` too, so
    it can print a name (`checked`) but no `name=value` pair. Markup (`{{ attrs | raw }}`)
    prints as it is."""
    if type(value) is Markup:
        return value
    return out(value).translate(_TAG_ESCAPES)


def out_script(value: Any) -> str:
    """A value inside a JavaScript <script> or an event-handler attribute: escaped for a
    JavaScript string, where it reads as the same text inside '…', "…" and `…` and can end
    none of them, nor the script, nor the attribute. Markup (`| json | raw`) prints as is.

    Outside quotes a value is code whatever the escaping: print data there as
    `{{ x | json | raw }}`."""
    if type(value) is Markup:
        return value
    return to_str(value).translate(_SCRIPT_ESCAPES)


# -- truthiness and conversions ----------------------------------------------------------------


def truthy(value: Any) -> bool:
    """JavaScript truthiness: 0, NaN, '', null, undefined and false are false; [] and {} true."""
    if value is True or value is False:  # most conditions test a boolean
        return value is True
    if value is None or value is UNDEFINED:
        return False
    kind = type(value)
    if kind is list or kind is dict or kind is tuple:
        return True
    if kind is float:
        return not (value != value or value == 0)  # NaN and 0 are false
    if isinstance(value, str | int | float):
        return bool(value)
    return True


def to_number(value: Any) -> int | float:
    """JavaScript `Number(value)`; NaN when the value is no number."""
    kind = type(value)
    if kind is float:
        number: float = value
        return number
    if kind is int:
        return value if -EXACT_INTEGER <= value <= EXACT_INTEGER else as_double(value)
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
        return to_number(float(value) if isinstance(value, float) else int(value))
    return NAN


def _parse_number(text: str) -> int | float:
    """Number() of trimmed text: decimal, 0x/0o/0b, Infinity; long digit strings become the
    double JavaScript reads (`'1'.repeat(400)` is 1.111e399, 4301 digits are Infinity)."""
    if not text:
        return 0
    if _NUMBER_TEXT.fullmatch(text):
        digits = text.lstrip("+-")
        if digits.isdigit() and len(digits) <= _SHORT_INTEGER:
            return int(text)
        return float(text)  # no digit limit, unlike int(), and it rounds as JavaScript does
    if _RADIX_TEXT.fullmatch(text):
        return js_integer(int(text, 0))  # base 16, 8, 2: int() has no digit limit for these
    if text in ("Infinity", "+Infinity"):
        return math.inf
    return -math.inf if text == "-Infinity" else NAN


def js_integer(number: int) -> int | float:
    """An integer as JavaScript holds it: itself while a double holds it exactly, else the
    nearest double (±Infinity past the largest)."""
    if -EXACT_INTEGER <= number <= EXACT_INTEGER:
        return number
    return as_double(number)


def as_double(number: int | float) -> float:
    """The double nearest to `number`, ±Infinity when it is beyond the largest double."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def to_primitive(value: Any) -> Any:
    """Arrays, objects and dates become strings, as JavaScript's ToPrimitive does."""
    kind = type(value)
    if kind is str or kind is int or kind is float:  # spares these the slow check for Mapping
        return value
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


def strict_eq(left: object, right: object) -> bool:
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
    return _compare(left, right, operator.lt)


def le(left: Any, right: Any) -> bool:
    return _compare(left, right, operator.le)


def _compare(left: Any, right: Any, holds: Callable[[Any, Any], bool]) -> bool:
    """JavaScript's `<` or `<=` (`holds`): two strings compare as text, anything else as
    numbers, after ToPrimitive."""
    left_kind, right_kind = type(left), type(right)
    if (left_kind is int or left_kind is float) and (right_kind is int or right_kind is float):
        return holds(to_number(left), to_number(right))  # the usual case: no ToPrimitive needed
    left, right = to_primitive(left), to_primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        return holds(str(left), str(right))
    return holds(to_number(left), to_number(right))


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
        return _arith(left, right, operator.add)
    left, right = to_primitive(left), to_primitive(right)
    if isinstance(left, str) or isinstance(right, str):
        return to_str(left) + to_str(right)
    return _arith(to_number(left), to_number(right), operator.add)


def sub(left: Any, right: Any) -> Any:
    return _arith(to_number(left), to_number(right), operator.sub)


def mul(left: Any, right: Any) -> Any:
    return _arith(to_number(left), to_number(right), operator.mul)


def div(left: Any, right: Any) -> float:
    """JavaScript `/`: dividing by zero gives Infinity, -Infinity or NaN, never an error."""
    x, y = to_number(left), to_number(right)
    if y == 0:
        if x != x or x == 0:
            return NAN
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return _arith(x, y, operator.truediv)


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


def _arith(x: Any, y: Any, operation: Callable[[Any, Any], int | float]) -> int | float:
    """`operation` on two numbers as JavaScript computes it: on doubles.

    Two integers a double holds exactly give the exact result while it stays in that range;
    everything else is computed on doubles (for integers beyond the range the double result is
    the exact one rounded, as in JavaScript), where overflow gives ±Infinity, never an error.
    """
    if type(x) is int and type(y) is int:
        if -EXACT_INTEGER <= x <= EXACT_INTEGER and -EXACT_INTEGER <= y <= EXACT_INTEGER:
            result = operation(x, y)
            if type(result) is float or -EXACT_INTEGER <= result <= EXACT_INTEGER:
                return result
    elif type(x) is float and type(y) is float:
        return operation(x, y)
    return operation(as_double(x), as_double(y))


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
    if isinstance(key, str) and key.isdigit() and key.isascii() and (key == "0" or key[0] != "0"):
        # A longer one is past the end of any array; int() would refuse 4301 digits.
        return int(key) if len(key) <= _SHORT_INTEGER else None
    return None


def iterate(value: Any) -> list[Any] | tuple[Any, ...]:
    """What `@foreach` walks: an array's items, an object's values, a string's characters."""
    kind = type(value)
    if kind is list or kind is tuple:
        return cast("list[Any] | tuple[Any, ...]", value)
    if kind is dict or isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, str):
        return list(value)
    return ()
