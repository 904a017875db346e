"""JSON.stringify for template values (`| json`, `dump()`, session items): at any depth,
with JavaScript's numbers, and safe to print raw inside a <script>."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from funnelrun.template.values import (
    EXACT_INTEGER,
    UNDEFINED,
    iso_datetime,
    js_integer,
    number_to_str,
    to_str,
)

_JSON_UNSAFE = str.maketrans({
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027",
    "\u2028": "\\u2028", "\u2029": "\\u2029",
})
_SURROGATE = re.compile("[\ud800-\udfff]")
# Above this depth `to_json` writes JSON itself rather than with json.dumps, whose encoder
# recurses; the app refuses data that deep (jsondata.MAX_DEPTH), but literals can nest too.
_DUMPS_DEPTH = 100


def json_value(value: Any) -> Any:
    """A template value as plain JSON data, the way JSON.stringify sees it: undefined keys left
    out, undefined items null, dates ISO strings, NaN and Infinity null. Any depth; an array or
    object inside itself becomes null (where JSON.stringify would throw)."""
    return _plain(value)[0]


def _plain(value: Any) -> tuple[Any, int]:
    """json_value(value) and how deep its arrays and objects nest, without recursion."""
    if not _is_container(value):
        return _plain_leaf(value), 0
    root = _empty_like(value)
    # One frame per container being copied: its remaining (key, item) pairs, the copy, its id.
    frames = [(_entries(value), root, id(value))]
    open_containers = {id(value)}
    depth = 1
    while frames:
        entries, copy, _ = frames[-1]
        for key, item in entries:
            if not _is_container(item):
                if item is not UNDEFINED or key is None:
                    _put(copy, key, _plain_leaf(item))
            elif id(item) in open_containers:
                _put(copy, key, None)
            else:
                child = _empty_like(item)
                _put(copy, key, child)
                frames.append((_entries(item), child, id(item)))
                open_containers.add(id(item))
                depth = max(depth, len(frames))
                break
        else:
            open_containers.discard(frames.pop()[2])
    return root, depth


def _is_container(value: Any) -> bool:
    kind = type(value)
    return kind is list or kind is tuple or kind is dict or isinstance(value, Mapping)


def _empty_like(container: Any) -> list[Any] | dict[str, Any]:
    return [] if type(container) is list or type(container) is tuple else {}


def _entries(container: Any) -> Iterator[tuple[str | None, Any]]:
    """(key, item) pairs: keys as strings for an object, None for an array's items."""
    if type(container) is list or type(container) is tuple:
        return ((None, item) for item in container)
    return ((to_str(key), item) for key, item in container.items())


def _put(copy: list[Any] | dict[str, Any], key: str | None, item: Any) -> None:
    """Add `item` to the copy of an array (its entries have no key) or of an object."""
    if isinstance(copy, list):
        copy.append(item)
    elif key is not None:  # always, for an object's entries
        copy[key] = item


def _plain_leaf(value: Any) -> Any:
    """json_value of anything but an array or object."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int or kind is float:
        return _json_number(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, date):
        return iso_datetime(value)
    if isinstance(value, int | float):
        return _plain_leaf(float(value) if isinstance(value, float) else int(value))
    return None


def _json_number(number: int | float) -> int | float | None:
    """A number as JSON.stringify writes it: integral values without a fraction (and beyond
    2**53 with JavaScript's digits: 2**60 is 1152921504606847000), NaN and Infinity as null."""
    if isinstance(number, int):  # an exact int or float: callers never pass a bool
        number = js_integer(number)
        if isinstance(number, int):
            return number
    if not math.isfinite(number):
        return None
    if number.is_integer() and abs(number) < 1e21:
        return int(number) if abs(number) <= EXACT_INTEGER else int(number_to_str(number))
    return number


def to_json(value: Any, indent: int | None = None, *, script_safe: bool = True) -> str:
    """JSON.stringify. With `script_safe`, `<`, `>`, `&` and `'` are written as \\u escapes
    (still the same JSON), so that `| json | raw` cannot end a <script> or a single-quoted
    attribute. Inside a double-quoted attribute the JSON's own `"` would end it: there, print
    it escaped (`{{ x | json }}`), which the compiler insists on.

    Unpaired surrogates are written as `\\udxxx` escapes, as JSON.stringify does, so the text
    is always valid Unicode."""
    if value is UNDEFINED:
        return ""
    plain, depth = _plain(value)
    if depth > _DUMPS_DEPTH:
        text = _dumps_deep(plain, indent)
    else:
        separators = (",", ": ") if indent else (",", ":")
        text = json.dumps(plain, ensure_ascii=False, indent=indent, separators=separators)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return text.translate(_JSON_UNSAFE) if script_safe else text


def _dumps_deep(plain: Any, indent: int | None) -> str:
    """json.dumps(plain, indent=indent) as `to_json` calls it, without recursion."""
    parts: list[str] = []
    key_separator = ": " if indent else ":"
    # One frame per open array or object: [its remaining (key, item) pairs, its closing
    # bracket, whether an item was written yet].
    frames: list[list[Any]] = []
    entry: tuple[str | None, Any] | None = (None, plain)  # the next value to write
    while True:
        if entry is not None:
            key, item = entry
            if key is not None:
                parts.append(json.dumps(key, ensure_ascii=False) + key_separator)
            if isinstance(item, list | dict) and item:
                parts.append("[" if isinstance(item, list) else "{")
                frames.append([_entries(item), "]" if isinstance(item, list) else "}", False])
            else:
                parts.append(json.dumps(item, ensure_ascii=False))
        if not frames:
            return "".join(parts)
        frame = frames[-1]
        entry = next(frame[0], None)
        if entry is None:
            frames.pop()
            parts.append(_line_break(indent, len(frames)) + frame[1])
        else:
            parts.append(("," if frame[2] else "") + _line_break(indent, len(frames)))
            frame[2] = True


def _line_break(indent: int | None, depth: int) -> str:
    return "\n" + " " * (indent * depth) if indent else ""
