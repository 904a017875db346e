"""The catalogue of template filters (`{{ value | name:arg }}`) and their registry, FILTERS.

A filter is a function of the value and its arguments; an argument left out arrives as
UNDEFINED. Filters never raise: a value they cannot use gives an empty result.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from funnelrun.jsondata import clean_text
from funnelrun.template.stringify import to_json
from funnelrun.template.values import (
    UNDEFINED,
    ga,
    iso_datetime,
    js_integer,
    to_number,
    to_str,
    truthy,
)

# ISO 4217 code → (symbol, decimal places), as en-US Intl.NumberFormat prints them.
CURRENCIES: dict[str, tuple[str, int]] = {
    "USD": ("$", 2), "EUR": ("€", 2), "GBP": ("£", 2), "JPY": ("¥", 0), "CNY": ("CN¥", 2),
    "INR": ("₹", 2), "KRW": ("₩", 0), "BRL": ("R$", 2), "CAD": ("CA$", 2), "AUD": ("A$", 2),
    "NZD": ("NZ$", 2), "MXN": ("MX$", 2), "HKD": ("HK$", 2), "TWD": ("NT$", 2),
    "ILS": ("₪", 2), "VND": ("₫", 0), "PHP": ("₱", 2), "NGN": ("₦", 2), "TRY": ("₺", 2),
    "UAH": ("₴", 2), "THB": ("฿", 2),
}
# Codes printed as `CODE 1,234` with no decimals although they have no symbol above.
_ZERO_DECIMAL_CODES = frozenset({"CLP", "ISK", "PYG", "UGX", "XAF", "XOF", "HUF"})

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
# Literal alternatives, each tried once per position: linear in the format's length.
_DATE_TOKEN = re.compile(r"yyyy|yy|MMMM|MMM|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s")
_DATE_FIELDS: dict[str, Callable[[datetime], str]] = {
    "yyyy": lambda d: f"{d.year:04d}",
    "yy": lambda d: f"{d.year % 100:02d}",
    "MMMM": lambda d: MONTHS[d.month - 1],
    "MMM": lambda d: MONTHS[d.month - 1][:3],
    "MM": lambda d: f"{d.month:02d}",
    "M": lambda d: str(d.month),
    "dd": lambda d: f"{d.day:02d}",
    "d": lambda d: str(d.day),
    "HH": lambda d: f"{d.hour:02d}",
    "H": lambda d: str(d.hour),
    "hh": lambda d: f"{d.hour % 12 or 12:02d}",
    "h": lambda d: str(d.hour % 12 or 12),
    "mm": lambda d: f"{d.minute:02d}",
    "m": lambda d: str(d.minute),
    "ss": lambda d: f"{d.second:02d}",
    "s": lambda d: str(d.second),
}
_TIMEAGO_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400),
                  ("hour", 3600), ("minute", 60))
_WORD = re.compile(r"\S+")  # each match consumes its run of non-space: linear
# 10**-places for the decimals `round` and `number_format` round at, made once.
_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(-20, 21)}


def _now() -> datetime:
    """The current time; tests replace it."""
    return datetime.now(UTC)


# -- helpers -----------------------------------------------------------------------------------


def _given(arg: Any, fallback: Any) -> Any:
    """An argument, or `fallback` when it was left out or names nothing."""
    return fallback if arg is UNDEFINED or arg is None else arg


def _number(value: Any) -> int | float | None:
    """The value as a finite number, or None for null, '', NaN, Infinity and non-numbers."""
    if type(value) is float:  # the usual case, decided at once
        return value if math.isfinite(value) else None
    if value is None or value is UNDEFINED or value == "":
        return None
    number = to_number(value)
    if isinstance(number, float) and not math.isfinite(number):
        return None
    return number


def _integer(arg: Any, fallback: int) -> int:
    """An integer argument (JavaScript ToIntegerOrInfinity, within reason)."""
    if type(arg) is int:
        return arg
    number = _number(arg)
    return fallback if number is None else int(number)


def _decimal(number: int | float, places: int) -> Decimal:
    """Round half away from zero at `places` decimals (-20 to 20), on the number as it prints."""
    exact = Decimal(number) if isinstance(number, int) else Decimal(repr(number))
    try:
        return exact.quantize(_QUANTA[places], rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the context holds: leave it as it is
        return exact


def _grouped(number: int | float, places: int) -> str:
    """`number` rounded as _decimal rounds it, with `places` decimals, `,` between thousands
    and never `-0`: `1234.5` → `1,234.50`."""
    if type(number) is int:
        text = f"{number:,}"
        return f"{text}.{'0' * places}" if places else text
    printed = repr(number)
    whole, _, fraction = printed.partition(".")
    if number and "e" not in printed and len(fraction) <= places:
        # Nothing to round (a price such as 12.5 at 2 places): the digits as printed, padded,
        # are what the Decimal below gives, at a fraction of its cost. A float prints at least
        # one decimal, so places > 0 here; 0 and -0.0 take the Decimal way (no "-0.00"). Below
        # 1000 there is no `,` to add (and int() would drop the sign of `-0.5`).
        text = whole if -1000 < number < 1000 else f"{int(whole):,}"
        return text + "." + fraction.ljust(places, "0")
    rounded = _decimal(number, places)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0.00"
    return f"{rounded:,.{places}f}"


def to_datetime(value: Any) -> datetime | None:
    """A datetime from a datetime, a date, a ms timestamp, an ISO string or 'now' (UTC)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text == "now":
            return _now()
        if not _is_integer_text(text):
            try:
                return to_datetime(datetime.fromisoformat(text))
            except ValueError:
                return None
        value = to_number(text)  # long digit strings become a double, not int()'s ValueError
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _is_integer_text(text: str) -> bool:
    """Whether `text` is `-?[0-9]+` (a ms timestamp)."""
    digits = text[1:] if text.startswith("-") else text
    return digits.isdigit() and digits.isascii()


# -- values and text ---------------------------------------------------------------------------


def default(value: Any, fallback: Any = "") -> Any:
    """`fallback` when the value is null, undefined or ''."""
    return fallback if value is None or value is UNDEFINED or value == "" else value


def default_if_none(value: Any, fallback: Any = "") -> Any:
    """`fallback` only when the value is null or undefined."""
    return fallback if value is None or value is UNDEFINED else value


def upper(value: Any) -> str:
    return to_str(value).upper()


def lower(value: Any) -> str:
    return to_str(value).lower()


def capitalize(value: Any) -> str:
    """The first character in upper case; the rest unchanged."""
    text = to_str(value)
    return text[:1].upper() + text[1:]


def title(value: Any) -> str:
    """Every word's first character in upper case and the rest in lower case."""
    return _WORD.sub(lambda m: m.group()[:1].upper() + m.group()[1:].lower(), to_str(value))


def trim(value: Any) -> str:
    return to_str(value).strip()


def _sequence(value: Any) -> list[Any] | tuple[Any, ...] | str:
    if isinstance(value, list | tuple):
        return value
    return "" if isinstance(value, dict) else to_str(value)


def first(value: Any) -> Any:
    """The first item of an array or character of a string; undefined when empty."""
    sequence = _sequence(value)
    return sequence[0] if sequence else UNDEFINED


def last(value: Any) -> Any:
    sequence = _sequence(value)
    return sequence[-1] if sequence else UNDEFINED


def slice_(value: Any, start: Any = UNDEFINED, end: Any = UNDEFINED) -> Any:
    """Like JavaScript's slice: negative positions count from the end."""
    begin = _integer(start, 0)
    stop = None if end is UNDEFINED else _integer(end, 0)
    if isinstance(value, list | tuple):
        return list(value[begin:stop])
    return to_str(value)[begin:stop]


def replace(value: Any, old: Any, new: Any = "") -> str:
    """Replace every occurrence of `old`, as plain text (no patterns)."""
    return to_str(value).replace(to_str(old), to_str(new))


def truncate(value: Any, length: Any = 50, ending: Any = "...") -> str:
    """At most `length` characters, then `ending` when something was cut."""
    text, limit = to_str(value), max(_integer(length, 50), 0)
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + to_str(_given(ending, "..."))


def truncatewords(value: Any, count: Any = 15, ending: Any = "...") -> str:
    """At most `count` words, then `ending` when something was cut."""
    text, limit = to_str(value), max(_integer(count, 15), 0)
    words = text.split()
    if len(words) <= limit:
        return text
    return " ".join(words[:limit]) + to_str(_given(ending, "..."))


def nl2br(value: Any) -> Markup:
    """HTML-escape, then turn line breaks into <br>; the result is markup."""
    text = str(escape(to_str(value)))
    return Markup(text.replace("\r\n", "<br>").replace("\r", "<br>").replace("\n", "<br>"))


def strip_tags(value: Any) -> str:
    """Remove HTML tags and comments; the text between them stays (and is escaped on output).

    A comment runs from `<!--` to the next `-->`, a tag from `<` to the next `>`; a `<` with
    no `>` after it stays. One pass over the text, so any input takes linear time (the regular
    expression `<!--.*?-->|<[^>]*>` it replaces rescanned the rest of the text at every `<`).
    """
    text = to_str(value)
    kept: list[str] = []
    pos = 0
    comment_ends_left = True  # once no `-->` follows some point, none follows a later one
    while (start := text.find("<", pos)) >= 0:
        end = -1
        if comment_ends_left and text.startswith("<!--", start):
            end = text.find("-->", start + 4)
            comment_ends_left = end >= 0
            end = end + 3 if end >= 0 else -1
        if end < 0:
            end = text.find(">", start + 1)
            if end < 0:
                break  # no `>` after this `<`, so none after any later one either
            end += 1
        kept.append(text[pos:start])
        pos = end
    kept.append(text[pos:])
    return "".join(kept)


def url_encode(value: Any) -> str:
    """encodeURIComponent; an object becomes a query string (`a=1&b=x%20y`), its values
    printed as text (a nested object is `%5Bobject%20Object%5D`, as URLSearchParams has it).

    An unpaired surrogate, which encodeURIComponent would refuse, is encoded as U+FFFD."""
    if isinstance(value, dict):
        return "&".join(f"{_component(key)}={_component(item)}" for key, item in value.items())
    return _component(value)


def _component(value: Any) -> str:
    text = to_str(value)
    try:
        return quote(text, safe="!~*'()")
    except UnicodeEncodeError:  # an unpaired surrogate
        return quote(clean_text(text), safe="!~*'()")


def length(value: Any) -> int:
    """Characters of a string, items of an array, keys of an object; 0 for null/undefined."""
    if isinstance(value, list | tuple | dict | str):
        return len(value)
    return len(to_str(value))


def raw(value: Any) -> Markup:
    """Print without HTML escaping. The compiler refuses it inside an unquoted attribute
    value, and on JSON inside a double-quoted one (compiler.check_markup)."""
    return value if isinstance(value, Markup) else Markup(to_str(value))


def json(value: Any) -> Any:
    """JSON.stringify (with <, >, & and ' as \\u escapes). Inside a <script>, add `| raw`;
    inside an attribute, leave it escaped: the browser decodes it back to the same JSON."""
    return to_json(value) if value is not UNDEFINED else UNDEFINED


def yesno(value: Any, yes: Any = UNDEFINED, no: Any = UNDEFINED, maybe: Any = UNDEFINED) -> Any:
    """`yes` when truthy, `no` when falsy, `maybe` (if given) for null/undefined.

    A single argument with commas is split, Django-style: `yesno:'on,off,unknown'`.
    """
    if no is UNDEFINED and maybe is UNDEFINED and "," in to_str(yes):
        yes, no, *rest = to_str(yes).split(",")
        maybe = rest[0] if rest else UNDEFINED
    if (value is None or value is UNDEFINED) and maybe is not UNDEFINED:
        return maybe
    return _given(yes, "yes") if truthy(value) else _given(no, "no")


# -- numbers -----------------------------------------------------------------------------------


def round_(value: Any, places: Any = 0) -> Any:
    """Round half away from zero, to `places` decimals."""
    number = _number(value)
    if number is None:
        return UNDEFINED
    digits = min(max(_integer(places, 0), -20), 20)
    rounded = _decimal(number, digits)
    return js_integer(int(rounded)) if digits <= 0 else float(rounded)


def floor(value: Any) -> Any:
    number = _number(value)
    return UNDEFINED if number is None else js_integer(math.floor(number))


def ceil(value: Any) -> Any:
    number = _number(value)
    return UNDEFINED if number is None else js_integer(math.ceil(number))


def abs_(value: Any) -> Any:
    number = _number(value)
    return UNDEFINED if number is None else abs(number)


def number_format(
    value: Any, places: Any = 2, point: Any = ".", thousands: Any = ","
) -> Any:
    """`1234.5` → `1,234.50`; optional decimals, decimal point and thousands separator."""
    number = _number(value)
    if number is None:
        return UNDEFINED
    text = _grouped(number, min(max(_integer(places, 2), 0), 20))
    separator, decimal_point = to_str(_given(thousands, ",")), to_str(_given(point, "."))
    if separator == "," and decimal_point == ".":
        return text  # the common case, as formatted
    whole, _, fraction = text.partition(".")
    whole = whole.replace(",", separator)
    return f"{whole}{decimal_point}{fraction}" if fraction else whole


def currency(value: Any, code: Any = "USD") -> Any:
    """`$1,234.56`, `€1,234.56`, `¥1,235`; a code without a known symbol: `CHF 1,234.56`."""
    number = _number(value)
    if number is None:
        return UNDEFINED
    if code != "USD":  # the default needs no cleaning
        code = to_str(_given(code, "USD")).strip().upper() or "USD"
    symbol, places = CURRENCIES.get(code, ("", 0 if code in _ZERO_DECIMAL_CODES else 2))
    body = _grouped(abs(number), places)
    sign = "-" if number < 0 and body.strip("0.,") else ""
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{code} {body}"


# -- arrays ------------------------------------------------------------------------------------


def join(value: Any, separator: Any = ",") -> str:
    if isinstance(value, list | tuple):
        return to_str(_given(separator, ",")).join(to_str(item) for item in value)
    return to_str(value)


def _order(item: Any) -> tuple[int, int | float, str]:
    """Numbers first (numerically), then everything else as text, null/undefined last."""
    if item is None or item is UNDEFINED:
        return (2, 0, "")
    if isinstance(item, int | float) and not isinstance(item, bool):
        return (0, item if item == item else math.inf, "")
    return (1, 0, to_str(item))


def sort(value: Any, key: Any = UNDEFINED) -> Any:
    """Sort an array: numbers numerically, text alphabetically; `sort:'price'` sorts objects."""
    if not isinstance(value, list | tuple):
        return value
    if key is UNDEFINED:
        return sorted(value, key=_order)
    name = to_str(key)
    return sorted(value, key=lambda item: _order(ga(item, name)))


def reverse(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return list(reversed(value))
    if isinstance(value, str):
        return to_str(value)[::-1]
    return value


def unique(value: Any) -> Any:
    """Drop repeated items, keeping the first; like JavaScript's Set (1 and '1' differ)."""
    if not isinstance(value, list | tuple):
        return value
    seen: set[tuple[bool, bool, Any] | int] = set()  # (kind, value) markers, or ids
    kept = []
    for item in value:
        marker = (type(item) is bool, type(item) is str, item) if _hashable(item) else id(item)
        if marker not in seen:
            seen.add(marker)
            kept.append(item)
    return kept


def _hashable(item: Any) -> bool:
    return item is None or item is UNDEFINED or isinstance(item, str | int | float)


# -- dates -------------------------------------------------------------------------------------


def date_(value: Any, fmt: Any = "yyyy-MM-dd") -> Any:
    """Format a date (UTC) with the tokens yyyy yy MMMM MMM MM M dd d HH H hh h mm m ss s."""
    moment = to_datetime(value)
    if moment is None:
        return UNDEFINED
    return _DATE_TOKEN.sub(lambda m: _DATE_FIELDS[m.group()](moment), to_str(_given(fmt, "")))


def date_add(value: Any, days: Any = 0) -> Any:
    """The date `days` days later (earlier when negative), as a date for `| date`."""
    moment = to_datetime(value)
    if moment is None:
        return UNDEFINED
    try:
        return moment + timedelta(days=_number(days) or 0)
    except OverflowError:
        return UNDEFINED


def timeago(value: Any) -> Any:
    """`3 days ago`, `in 2 hours`, `just now`."""
    moment = to_datetime(value)
    if moment is None:
        return UNDEFINED
    seconds = (_now() - moment).total_seconds()
    for unit, size in _TIMEAGO_UNITS:
        count = int(abs(seconds) // size)
        if count:
            phrase = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"{phrase} ago" if seconds > 0 else f"in {phrase}"
    return "just now"


FILTERS: dict[str, Callable[..., Any]] = {
    "default": default,
    "default_if_none": default_if_none,
    "upper": upper,
    "lower": lower,
    "capitalize": capitalize,
    "title": title,
    "trim": trim,
    "first": first,
    "last": last,
    "slice": slice_,
    "replace": replace,
    "truncate": truncate,
    "truncatewords": truncatewords,
    "nl2br": nl2br,
    "strip_tags": strip_tags,
    "url_encode": url_encode,
    "length": length,
    "size": length,
    "round": round_,
    "floor": floor,
    "ceil": ceil,
    "abs": abs_,
    "number_format": number_format,
    "currency": currency,
    "yesno": yesno,
    "join": join,
    "sort": sort,
    "reverse": reverse,
    "unique": unique,
    "date": date_,
    "date_add": date_add,
    "timeago": timeago,
    "raw": raw,
    "json": json,
}

__all__ = ["CURRENCIES", "FILTERS", "iso_datetime", "to_datetime"]
