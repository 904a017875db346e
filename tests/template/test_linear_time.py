"""Every regular expression of the template engine that sees visitor text, fed 100 KB built to
make it backtrack: each finishes in linear time (the quadratic versions took many seconds)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from funnelrun.template import FILTERS
from funnelrun.template.values import to_number

SIZE = 100_000
BUDGET_SECONDS = 0.5  # linear code takes milliseconds; the quadratic code took 10 s and more

ADVERSARIAL: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
    # values._NUMBER_TEXT: `[0-9]+\.?[0-9]*` could split a run of digits every way
    "number: digits then a letter": (to_number, ("1" * SIZE + "x",)),
    "number: digits, point, digits, letter": (to_number, ("1" * SIZE + "." + "1" * SIZE + "x",)),
    "number: fraction then a bad exponent": (to_number, ("." + "1" * SIZE + "e+",)),
    "number: exponent digits then a letter": (to_number, ("1e" + "1" * SIZE + "x",)),
    # values._RADIX_TEXT
    "radix: hex digits then a bad one": (to_number, ("0x" + "f" * SIZE + "g",)),
    "radix: binary digits then a bad one": (to_number, ("0b" + "1" * SIZE + "2",)),
    # filters.strip_tags (was `<!--.*?-->|<[^>]*>`, rescanning to the end at every `<`)
    "strip_tags: unclosed tags": (FILTERS["strip_tags"], ("<" * SIZE,)),
    "strip_tags: unclosed comments": (FILTERS["strip_tags"], ("<!--<" * (SIZE // 5),)),
    "strip_tags: many tags": (FILTERS["strip_tags"], ("<a>x" * (SIZE // 4),)),
    "strip_tags: comments then no end": (FILTERS["strip_tags"], ("<!---->" * SIZE + "<",)),
    # filters._WORD (title), filters._DATE_TOKEN (a format a visitor may choose)
    "title: many words": (FILTERS["title"], ("a " * SIZE,)),
    "title: one long word": (FILTERS["title"], ("a" * SIZE,)),
    "date: a long format": (FILTERS["date"], ("2024-01-02", "MMMMyyyyddHHmmss" * (SIZE // 16))),
    "date: a long timestamp": (FILTERS["date"], ("1" * SIZE,)),
    "date: a long ISO-looking text": (FILTERS["date"], ("2024-" + "1" * SIZE,)),
    "number_format: a long number": (FILTERS["number_format"], ("9" * SIZE + ".5",)),
    "url_encode: surrogates": (FILTERS["url_encode"], ("\ud800" * SIZE,)),
}


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_visitor_text_is_processed_in_linear_time(name):
    function, args = ADVERSARIAL[name]
    start = time.perf_counter()
    function(*args)
    assert time.perf_counter() - start < BUDGET_SECONDS
