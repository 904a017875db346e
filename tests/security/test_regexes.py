"""Every regular expression in funnelrun that can see visitor text is linear (issue 6, item 4).

The inventory below lists each compiled pattern of the package: those that can see what a
visitor sends are run against long adversarial inputs under a time budget; the others read
only what the site author wrote, and say so. A new pattern fails the inventory test until it is
placed in one list or the other.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import time
from pathlib import Path

import _quickjs
import pytest

import funnelrun

# (module, name): patterns that can see visitor-controlled text, where it comes from, and how
# the code applies the pattern (a `match` is anchored: only a `search` or `sub` tries every
# starting position, which is where a pattern can turn quadratic).
VISITOR = {
    ("funnelrun.jsondata", "_SURROGATE"): ("request bodies, the sandbox's output", "search"),
    ("funnelrun.jsondata", "_ESCAPED_SURROGATE"): ("request bodies, sandbox output", "search"),
    ("funnelrun.inbound", "_HOST"): ("the Host header", "fullmatch"),
    ("funnelrun.inbound", "_TABLET"): ("the User-Agent header", "search"),
    ("funnelrun.inbound", "_MOBILE"): ("the User-Agent header", "search"),
    ("funnelrun.inbound", "_TABLET_ANY_CASE"): ("the User-Agent header", "search"),
    ("funnelrun.inbound", "_MOBILE_ANY_CASE"): ("the User-Agent header", "search"),
    ("funnelrun.inbound", "_PLAIN_PATH"): ("the request's path", "fullmatch"),
    ("funnelrun.sessions", "_SESSION_ID"): ("the session cookie", "fullmatch"),
    ("funnelrun.session", "KEY_PATTERN"): ("session keys from the request", "fullmatch"),
    ("funnelrun.session", "_ITEM_KEY_STRIP"): ("template session item keys", "sub"),
    ("funnelrun.script.engine", "KEY_PATTERN"): ("the same rule, in the prelude", "fullmatch"),
    ("funnelrun.script.engine", "_FRAME"): ("error messages holding visitor text", "finditer"),
    ("funnelrun.script.cookies", "TOKEN"): ("cookie names from the request", "fullmatch"),
    ("funnelrun.script.cookies", "_PATH"): ("cookie paths from the request", "fullmatch"),
    ("funnelrun.script.headers", "TOKEN"): ("header names from the request", "fullmatch"),
    ("funnelrun.script.headers", "_CONTROL"): ("header values from the request", "sub"),
    ("funnelrun.script.redirects", "_SCHEME"): ("redirect targets from the request", "match"),
    ("funnelrun.script.redirects", "_AUTHORITY_END"): ("redirect targets, likewise", "search"),
    ("funnelrun.server_log", "_UNSAFE"): ("log messages holding visitor text", "sub"),
    ("funnelrun.tracking", "_CLICK_ID"): ("the click_id query parameter", "fullmatch"),
    ("funnelrun.template.filters", "_DATE_TOKEN"): ("a date format from the request", "sub"),
    ("funnelrun.template.filters", "_WORD"): ("values printed through | title", "sub"),
    ("funnelrun.template.values", "_NUMBER_TEXT"): ("values converted to numbers", "fullmatch"),
    ("funnelrun.template.values", "_RADIX_TEXT"): ("values converted to numbers", "fullmatch"),
    ("funnelrun.template.stringify", "_SURROGATE"): ("values printed through | json", "sub"),
}
# Patterns that read only files of the site (templates, scripts, TOML), or the messages of
# parsers reading them.
AUTHOR_ONLY = {
    "funnelrun.script.bundle",  # which translation functions a page's script names
    "funnelrun.script.extract", "funnelrun.script.jslex", "funnelrun.script.modules",
    "funnelrun.site.brand", "funnelrun.site.loader", "funnelrun.site.pages",
    "funnelrun.site.routes", "funnelrun.site.tomltext", "funnelrun.template.lexer",
    "funnelrun.template.html_context",
}

SMALL, LARGE = 4_000, 16_000  # characters; linear work grows 4x between them, quadratic 16x
BUDGET_S = 0.25  # for LARGE, on any machine
NOISE_S = 0.002  # below this on LARGE, timings say nothing either way
# Runs of each atom, alone and before a character no pattern wants at the end: the shapes
# that make a backtracking engine try every split of the run.
ATOMS = ["a", "A", "1", "0x1", ".", "-", "_", "/", ":", " ", "\t", "<", ">", "[", "]", "{",
         "\\", "\\u", "\\ud8", "%", "\ud800", "\x00", "e1", "1.", "+1", "Android", "Mobile",
         "iPad", "http:", "<input>:1:", "--", "yyyy", "M", "x y", "a.", "[1", "é"]
TAILS = ["", "\x00", "!", "\n"]


def patterns() -> dict[tuple[str, str], re.Pattern[str]]:
    found = {}
    for module_info in pkgutil.walk_packages(funnelrun.__path__, "funnelrun."):
        if module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                found[(module_info.name, name)] = value
    return found


def test_every_pattern_is_audited_or_reads_only_author_files():
    unknown = [key for key in patterns()
               if key not in VISITOR and key[0] not in AUTHOR_ONLY]
    assert unknown == [], "place each new pattern in VISITOR (and keep it linear) or AUTHOR_ONLY"
    gone = [key for key in VISITOR if key not in patterns()]
    assert gone == [], "a pattern in VISITOR no longer exists: update the inventory"


def growth(apply, atom: str, tail: str) -> tuple[float, float]:
    """The best of three times of `apply` on SMALL and on LARGE characters of `atom` runs."""
    times = []
    for length in (SMALL, LARGE):
        text = atom * (length // len(atom)) + tail
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            apply(text)
            best = min(best, time.perf_counter() - started)
        times.append(best)
    return times[0], times[1]


def superlinear(small: float, large: float) -> bool:
    return large > BUDGET_S or (large > NOISE_S and large > 10 * max(small, 1e-7))


@pytest.mark.parametrize("key", sorted(VISITOR), ids=lambda key: f"{key[0]}.{key[1]}")
def test_a_visitor_facing_pattern_is_linear_on_adversarial_input(key):
    pattern, (_, mode) = patterns()[key], VISITOR[key]
    apply = {"search": pattern.search, "match": pattern.match, "fullmatch": pattern.fullmatch,
             "sub": lambda text: pattern.sub("", text),
             "finditer": lambda text: list(pattern.finditer(text))}[mode]
    slow = [(atom, tail, times) for atom in ATOMS for tail in TAILS
            if superlinear(*(times := growth(apply, atom, tail)))]
    assert slow == [], f"{key} grows faster than its input: {slow[:3]}"


def test_the_method_catches_a_quadratic_pattern():
    """The device check's old lookahead is found with the same method."""
    old = re.compile(r"Android(?!.*Mobile)", re.IGNORECASE)
    # Measured up to three times: on a loaded machine one measurement of the short text can
    # be stretched enough to hide the growth (a false alarm the other way is not possible).
    assert any(superlinear(*growth(old.search, "Android", "Mobile")) for _ in range(3))


# -- the sandbox's own patterns -------------------------------------------------------------------

# Regular expression literals of schema.js (`Schema.string().email()`, `.url()`), which see what
# a form posts. schema.js caps the text's length before applying them (254 and 2048 characters),
# and they are linear besides: checked here without the caps, in QuickJS, as the Python ones are.
# A new literal in schema.js fails the inventory until it is listed. (A script's own
# `.pattern(regex)` is the script author's, bounded by the script's CPU limit.)
SCHEMA_JS = Path(funnelrun.__file__).parent / "script" / "schema.js"
JS_VISITOR = {
    "EMAIL_PATTERN": "emails posted to a field with .email()",
    "URL_PATTERN": "URLs posted to a field with .url()",
}
JS_ATOMS = [*(atom for atom in ATOMS if "\ud800" not in atom),  # no surrogate into QuickJS
            "a@", "@a", "a@b.", "a@b", ".a", "a..", "https://", "http://a", "http://a:",
            "http://a/", "http://[", "http://[1", "a:1", "#", "?"]


def js_patterns() -> dict[str, str]:
    source = SCHEMA_JS.read_text(encoding="utf-8")
    literals = re.findall(r"=\s*/(?![/*])", source)
    named = dict(re.findall(r"^\s*const (\w+) = (/.+/[a-z]*);$", source, re.MULTILINE))
    assert len(named) == len(literals), "write each regular expression as `const NAME = /.../;`"
    return named


def test_every_pattern_of_the_sandbox_is_audited():
    assert set(js_patterns()) == set(JS_VISITOR)


@pytest.mark.parametrize("name", sorted(JS_VISITOR))
def test_a_pattern_of_the_sandbox_is_linear_on_adversarial_input(name):
    context = _quickjs.Context()
    apply = context.eval(f"(function (re) {{ return (text) => re.exec(text) !== null; }})"
                         f"({js_patterns()[name]})")
    slow = [(atom, tail, times) for atom in JS_ATOMS for tail in TAILS
            if superlinear(*(times := growth(apply, atom, tail)))]
    assert slow == [], f"{name} grows faster than its input: {slow[:3]}"
