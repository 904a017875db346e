"""The small tokenizer that finds import and export statements."""

from __future__ import annotations

import pytest

from funnelrun.script.jslex import lex, over_closing, tokenize


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


# -- reading code as QuickJS does ---------------------------------------------------------


def texts(code: str) -> list[str]:
    return [t.text for t in tokenize(code)]


@pytest.mark.parametrize(("code", "expected"), [
    ("a <!-- b ) c\nd", ["a", "d"]),  # `<!--` comments out the rest of its line, anywhere
    ("a\n--> b ) c\nd", ["a", "d"]),  # `-->` does at the start of a line
    ("--> b ) c\nd", ["d"]),  # the start of the code is a line start
    ("a\n  /* x */ --> ) c\nd", ["a", "d"]),
    ("a /* x\n */ --> ) c\nd", ["a", "d"]),  # a comment holding a line break counts as one
    ("a --> b", ["a", "--", ">", "b"]),  # elsewhere it is `--` then `>`
    ("a // b\r) c", ["a", ")", "c"]),  # CR, LS and PS end a line comment too
    ("a // b\u2028) c", ["a", ")", "c"]),
    ("a // b\u2029) c", ["a", ")", "c"]),
    ("a\u00a0b\ufeffc", ["a", "b", "c"]),  # JavaScript's white space is no part of a name
    ("'a\\\r\nb' c", ["'a\\\r\nb'", "c"]),  # a line continuation inside a string
])
def test_comments_and_white_space_end_where_quickjs_ends_them(code: str, expected: list[str]) -> None:
    assert texts(code) == expected


def test_line_breaks_of_every_kind_flag_the_next_token() -> None:
    assert [t.newline for t in tokenize("a\rb\u2028c\u2029d /*\r*/ e")] == \
        [False, True, True, True, True]


def slash(code: str) -> str:
    """How the `/` at the first `@` of `code` is read: regex or division."""
    at = code.index("@")
    [token] = [t for t in tokenize(code.replace("@", "/", 1)) if t.start == at]
    return "regex" if token.kind == "regex" else "division"


@pytest.mark.parametrize("code", [
    "if (x) @re/.test(s)", "while (x) @re/", "for (;;) @re/", "with (o) @re/",
    "for (x of @re/);", "do {} while (0) @re/",
    "{} @re/", "x = 1; {} @re/", "a\n{}\n@re/", "label: {} @re/",
    "function f() {} @re/", "class A {} @re/", "x = () => {}\n@re/",
    "return\n@re/", "a: while (1) { break a\n@re/ }", "a\n++\n@re/",
    "x = async () => await @re/", "x = y\nawait @re/", "function* g() { yield @re/ }",
    "x = a => b, await @re/", "x = y ? a => b : await @re/",
    "class A { [await @re/] = 1 }", "try {} catch {} @re/",
])
def test_slash_starts_a_regular_expression_where_an_expression_may_start(code: str) -> None:
    assert slash(code) == "regex"


@pytest.mark.parametrize("code", [
    "f(x) @ 2", "x = {a: 1} @ 2", "x = function () {} @ 2", "x = class {} @ 2",
    "x = y ? z : {} @ 2", "x = {}\n@ 2", "a++ @ 2", "x.return @ 2", "x?.typeof @ 2",
    "function f() { await @ 2 }", "x = () => await @ 2", "function f() { yield @ 2 }",
    "class A { x = await @ 2 }", "x = {m() { await @ 2 }}", "x = a\n@re/g",
    "x = `${1}` @ 2", "let @ 2", "async @ 2",
])
def test_slash_divides_after_an_expression(code: str) -> None:
    assert slash(code) == "division"


def test_brackets_left_open_decide_how_the_next_code_reads() -> None:
    _, after = lex("var f = function () {")
    assert after.depth == 1
    token, depth = over_closing(tokenize("} /1}); ran(); (async function () { 1 /\n2", after),
                                after.depth)
    assert token is not None and token.text == "}" and depth < 0  # `/` divides after the `}`


@pytest.mark.parametrize("code", [
    "<!-- /*\n}); globalThis.ran = 1; (async function () {\n// */",
    "a\n--> /*\n}); globalThis.ran = 1; (async function () {\n// */",
    "// \r}); globalThis.ran = 1; (async function () {",
    "if (x) /re/.test(1); }); globalThis.ran = 1; (async function () {",
    "x ? y : {} / 1 }); globalThis.ran = 1; (async function () { 1 /\n2",
    "a\n{}\n/{/; }); globalThis.ran = 1; (async function () {",
    "yield /1}); globalThis.ran = 1; (async function () { 1 /\n2",
    "x = () => await /1}); globalThis.ran = 1; (async function () { 1 /\n2",
    "x\u2028--> ({\n}); globalThis.ran = 1; (async function () {",
])
def test_escapes_found_by_attacking_the_old_lexer_close_a_bracket_never_opened(code: str) -> None:
    token, _ = over_closing(tokenize(code))
    assert token is not None


def test_an_import_statement_over_several_lines_ends_at_its_module_name() -> None:
    # The bundle blanks the whole statement, so the engine sees the `/` begin a statement.
    assert slash('import {\n  a\n}\nfrom "m"\n@re/.test(x)') == "regex"
    assert slash('x = {\n  a\n}\nfrom\n@ 2') == "division"
