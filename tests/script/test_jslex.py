"""The small tokenizer that finds import and export statements."""

from __future__ import annotations

import pytest

from funnelrun.script.jslex import over_closing, tokenize


def names_at_depth_zero(code: str) -> list[str]:
    return [t.text for t in tokenize(code) if t.kind == "name" and t.depth == 0]


@pytest.mark.parametrize(("code", "kinds"), [
    ("a = b / c / d", ["name", "punct", "name", "punct", "name", "punct", "name"]),
    ("x = /re/g.test(s)", ["name", "punct", "regex", "punct", "name", "punct", "name", "punct"]),
    ("return /a/", ["name", "regex"]),
    ("f(x) / 2", ["name", "punct", "name", "punct", "punct", "number"]),
])
def test_tells_regular_expressions_from_division(code: str, kinds: list[str]) -> None:
    assert [t.kind for t in tokenize(code)] == kinds


def test_strings_comments_and_regexes_hide_what_looks_like_code() -> None:
    code = ('"export a" // export b\n/* export c */ \'export d\'; /export e/; '
            "`export ${ f } g` export")
    assert names_at_depth_zero(code) == ["export"]


def test_template_substitutions_nest() -> None:
    tokens = tokenize("`a ${ `b ${ c } d` } e` + z")
    assert [t.text for t in tokens if t.kind == "name"] == ["c", "z"]
    assert tokens[-1].depth == 0


def test_depth_counts_open_brackets() -> None:
    depths = {t.text: t.depth for t in tokenize("a ( b [ c { d } ] ) e") if t.kind == "name"}
    assert depths == {"a": 0, "b": 1, "c": 2, "d": 3, "e": 0}


def test_newline_flags_tokens_after_a_line_break() -> None:
    assert [t.newline for t in tokenize("a /* x\n */ b\nc")] == [False, True, True]


def test_malformed_code_still_tokenizes() -> None:
    assert tokenize("'unterminated\nnext `open ${") != []


@pytest.mark.parametrize("code", [
    "if (a) { b([1, 2]) }",
    "s = '}'; t = \"])\"; u = `x ${ {a: 1}.a } }`; // } comment\n/* ) */",
    "r = /[}\\])]+/g.test(x)",
    "f(`${`${1}`}`)",
])
def test_balanced_code_closes_nothing_it_did_not_open(code: str) -> None:
    assert over_closing(tokenize(code)) == (None, 0)


@pytest.mark.parametrize(("code", "closer"), [
    ("}); evil(); (async function () {", "}"),
    ("a = 1; ) ", ")"),
    ("x[0]]", "]"),
    ("`a ${ b }} ` }", "}"),
])
def test_closing_more_than_was_opened_is_found(code: str, closer: str) -> None:
    token, depth = over_closing(tokenize(code))
    assert token is not None and token.text.startswith(closer) and depth < 0


def test_depth_carries_over_from_code_before() -> None:
    assert over_closing(tokenize("} finally { done() }"), depth=1) == (None, 0)
    assert over_closing(tokenize("if (a) {"))[1] == 1
