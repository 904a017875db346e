"""TOML for brand.toml and page front matter, with errors that carry file, line and column."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable
from typing import Any

from ..errors import Position, SiteError

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


def parse_toml(
    text: str, filename: str, *, first_line: int = 1, source: str | None = None
) -> dict[str, Any]:
    """Parse `text` (which starts at `first_line` of `filename`) or raise a positioned SiteError."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line, column = 1, 1
        if match := _TOML_POSITION.search(message):
            line, column = int(match[1]), int(match[2])
            message = message[: match.start()]
        elif match := _TOML_END.search(message):
            line = text.count("\n") + 1
            message = message[: match.start()]
        position = Position(filename, first_line + line - 1, column)
        raise SiteError(
            f"invalid TOML: {message[0].lower()}{message[1:]}",
            position,
            source=source if source is not None else text,
        ) from exc


def key_position(text: str, key: str, filename: str, *, first_line: int = 1) -> Position:
    """Where `key = …` is written (first occurrence), for errors about a key's value."""
    pattern = re.compile(rf"^([ \t]*)(\"?){re.escape(key)}\2[ \t]*=", re.MULTILINE)
    match = pattern.search(text)
    if not match:
        return Position(filename, first_line, 1)
    line = text.count("\n", 0, match.start()) + 1
    return Position(filename, first_line + line - 1, len(match[1]) + 1)


def dotted_key_position(text: str, dotted: str, filename: str) -> Position:
    """Where the key `dotted` (tables and key joined by dots: `hero.title`) is written: as
    `title = …` under `[hero]`, as `hero.title = …` or `"hero.title" = …`; else where the
    longest table or key leading to it is (an inline table), else line 1. Read line by line
    (a line of a multi-line string that looks like `x = y` can mislead it; it only places
    errors)."""
    table = ""
    best: tuple[int, Position] = (0, Position(filename, 1, 1))
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        column = len(line) - len(line.lstrip()) + 1
        if stripped.startswith("["):
            table = found = _joined(stripped.strip("[]").partition("]")[0])
        else:
            name, equals, _ = stripped.partition("=")
            if not equals or stripped.startswith("#"):
                continue
            found = ".".join(filter(None, (table, _joined(name))))
        if found == dotted:
            return Position(filename, number, column)
        if dotted.startswith(found + ".") and len(found) > best[0]:
            best = (len(found), Position(filename, number, column))
    return best[1]


def _joined(key: str) -> str:
    """A TOML key as written (`a . "b.c"`, `'x'`) as the dotted text of its parts."""
    key = key.strip()
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'" and key.count(key[0]) == 2:
        return key[1:-1]
    return ".".join(part.strip().strip("\"'") for part in key.split("."))


def unknown_key_message(kind: str, key: str, known: Iterable[str]) -> str:
    """"unknown <kind> key 'x' (did you mean 'y'?); expected one of a, b"."""
    known = sorted(known)
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown {kind} key '{key}'{hint}; expected one of {', '.join(known)}"


def type_name(value: Any) -> str:
    return {
        bool: "a boolean", int: "an integer", float: "a number", str: "a string",
        list: "a list", dict: "a table",
    }.get(type(value), type(value).__name__)
