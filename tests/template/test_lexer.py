"""The lexer alone: token kinds, values, positions, whitespace trimming and its errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnelrun.errors import TemplateSyntaxError
from funnelrun.template import TemplateSource, Token, lex
from funnelrun.template.lexer import (
    ARGS_BEGIN,
    ARGS_END,
    DIRECTIVE,
    EOF,
    NAME,
    NUMBER,
    OP,
    OUTPUT_BEGIN,
    OUTPUT_END,
    STRING,
    TEXT,
)


def kinds(source: str) -> list[tuple[str, object]]:
    return [(token.kind, token.value) for token in lex(source)]


def test_plain_text_is_one_text_token_then_eof():
    assert kinds("<p>hello</p>") == [(TEXT, "<p>hello</p>"), (EOF, None)]


def test_empty_source_is_only_eof():
    assert lex("") == [Token(EOF, None, 1, 1)]


def test_output_is_bracketed_by_begin_and_end_tokens():
    assert kinds("a{{ user.name }}b") == [
        (TEXT, "a"),
        (OUTPUT_BEGIN, "{{"),
        (NAME, "user"),
        (OP, "."),
        (NAME, "name"),
        (OUTPUT_END, "}}"),
        (TEXT, "b"),
        (EOF, None),
    ]


def test_tokens_carry_line_and_column():
    tokens = lex("ab\n  {{ x }}")
    name = next(token for token in tokens if token.kind == NAME)
    begin = next(token for token in tokens if token.kind == OUTPUT_BEGIN)
    assert (begin.line, begin.column) == (2, 3)
    assert (name.line, name.column) == (2, 6)


def test_first_line_offsets_every_line_number():
    tokens = lex("x\n{{ y }}", "page.html", first_line=10)
    begin = next(token for token in tokens if token.kind == OUTPUT_BEGIN)
    assert (begin.line, begin.column) == (11, 1)


def test_lex_accepts_a_template_source():
    tokens = lex(TemplateSource("{{ a }}", "f.html", 3))
    assert tokens[0].line == 3


def test_numbers_strings_and_operators():
    values = [token.value for token in lex("{{ 12 + 1.5e2 === 'a\\'b' && \"c\" }}")[1:-2]]
    assert values == [12, "+", 150.0, "===", "a'b", "&&", "c"]


def test_number_values_are_int_or_float():
    tokens = [t for t in lex("{{ 3 2.50 }}") if t.kind == NUMBER]
    assert [type(t.value) for t in tokens] == [int, float]


def test_string_escapes_follow_javascript():
    token = next(t for t in lex(r"{{ 'a\nb\tc\\d\u00e9\x41\q' }}") if t.kind == STRING)
    assert token.value == "a\nb\tc\\déAq"


def test_longest_operator_wins():
    ops = [t.value for t in lex("{{ a !== b != c == d === e <= f >= g || h }}") if t.kind == OP]
    assert ops == ["!==", "!=", "==", "===", "<=", ">=", "||"]


def test_directive_with_arguments():
    assert kinds("@if(a > 1)") == [
        (DIRECTIVE, "if"),
        (ARGS_BEGIN, "("),
        (NAME, "a"),
        (OP, ">"),
        (NUMBER, 1),
        (ARGS_END, ")"),
        (EOF, None),
    ]


def test_directive_arguments_end_at_the_matching_parenthesis():
    tokens = kinds("@if((a) && f(b))x")
    assert tokens[-3:] == [(ARGS_END, ")"), (TEXT, "x"), (EOF, None)]


def test_parenthesis_inside_a_string_does_not_end_the_arguments():
    tokens = kinds("@set(x = ')')y")
    assert (STRING, ")") in tokens
    assert tokens[-2] == (TEXT, "y")


def test_space_between_directive_and_parenthesis_is_allowed():
    assert kinds("@if (a)")[:2] == [(DIRECTIVE, "if"), (ARGS_BEGIN, "(")]


def test_directive_without_parenthesis_is_left_for_the_parser():
    assert kinds("@if x") == [(DIRECTIVE, "if"), (TEXT, " x"), (EOF, None)]


def test_closing_brace_of_an_object_is_not_the_end_of_output():
    values = [t.value for t in lex("{{ {a: {b: 1}} }}")]
    assert values.count("}") == 2
    assert values[-2] == "}}"


def test_double_at_is_a_literal_at():
    assert kinds("@@if(x)") == [(TEXT, "@if(x)"), (EOF, None)]


@pytest.mark.parametrize(
    "text",
    [
        "write to help@acme.test",
        "info@block.com and sales@if.org",
        "@media (max-width: 600px) { a { b: c } }",
        "@import url('x.css'); @font-face { } @keyframes spin { }",
        "@charset 'utf-8'; @supports (display: grid) {}",
        "@ alone, and a trailing @",
        "@iffy @sets @blocks",
    ],
)
def test_at_signs_that_are_not_directives_stay_text(text):
    assert kinds(text) == [(TEXT, text), (EOF, None)]


def test_directive_glued_to_a_word_still_counts_when_it_needs_no_arguments():
    assert [k for k, _ in kinds("last@endif")] == [TEXT, DIRECTIVE, EOF]


def test_verbatim_brackets_pass_through_uninterpreted():
    text = "[[ item.name ]] [[ {{ not_backend }} ]] [[ @if(x) ]]"
    assert kinds(text) == [(TEXT, text), (EOF, None)]


def test_lone_double_bracket_is_text():
    assert kinds("a [[ b {{ c }}")[:2] == [(TEXT, "a [[ b "), (OUTPUT_BEGIN, "{{")]


def test_comments_vanish_even_across_lines():
    assert kinds("a{{-- x\n{{ y }} @if --}}b") == [(TEXT, "ab"), (EOF, None)]


def test_line_with_only_a_directive_leaves_no_blank_line():
    assert kinds("<ul>\n  @foreach(i in x)\n<li>\n  @endforeach\n</ul>") == [
        (TEXT, "<ul>\n"),
        (DIRECTIVE, "foreach"),
        (ARGS_BEGIN, "("),
        (NAME, "i"),
        (NAME, "in"),
        (NAME, "x"),
        (ARGS_END, ")"),
        (TEXT, "<li>\n"),
        (DIRECTIVE, "endforeach"),
        (TEXT, "</ul>"),
        (EOF, None),
    ]


def test_line_with_only_a_comment_leaves_no_blank_line():
    assert kinds("a\n  {{-- note --}}\nb") == [(TEXT, "a\nb"), (EOF, None)]


def test_directive_inside_text_keeps_the_line_break():
    assert kinds("a @endif b\nc")[-2] == (TEXT, " b\nc")


def test_line_with_a_directive_and_an_output_is_kept_whole():
    tokens = kinds("  @if(x){{ y }}@endif\nz")
    assert tokens[0] == (TEXT, "  ")
    assert tokens[-2] == (TEXT, "\nz")


def test_windows_line_endings_are_trimmed_too():
    assert kinds("a\r\n@if(x)\r\nb")[0] == (TEXT, "a\r\n")
    assert kinds("a\r\n@if(x)\r\nb")[-2] == (TEXT, "b")


def test_multiline_directive_arguments_count_as_one_line():
    tokens = kinds('x\n@component("card", {\n  a: 1,\n})\ny')
    assert tokens[0] == (TEXT, "x\n")
    assert tokens[-2] == (TEXT, "y")


def error(source: str, first_line: int = 1) -> TemplateSyntaxError:
    with pytest.raises(TemplateSyntaxError) as caught:
        lex(source, "page.html", first_line)
    return caught.value


def test_unclosed_output_names_where_it_opened():
    err = error("ab\n {{ x + ")
    assert err.message == "unclosed '{{' opened at 2:2; expected '}}'"


def test_unclosed_directive_arguments_name_where_they_opened():
    err = error("@if(a && (b)\nmore")
    assert err.message == "unclosed @if( opened at 1:4; expected ')'"


def test_unclosed_comment_is_an_error():
    assert error("x {{-- y").message == "unclosed comment opened at 1:3; expected --}}"


def test_unclosed_string_stops_at_the_end_of_the_line():
    err = error("{{ 'abc\n' }}")
    assert err.message == "unclosed string opened at 1:4; expected ' before the end of the line"
    assert (err.line, err.column) == (1, 4)


def test_unexpected_character_is_reported_where_it_is():
    err = error("\n{{ a # b }}", first_line=5)
    assert err.headline() == "page.html:6:6: unexpected character '#' in an expression"


def test_error_prints_the_source_line_and_a_caret_at_file_lines():
    err = error("x\n{{ a # }}", first_line=3)
    assert str(err) == (
        "page.html:4:6: unexpected character '#' in an expression\n    {{ a # }}\n         ^"
    )


_TEMPLATE_ALPHABET = st.sampled_from(
    ["{{", "}}", "{{--", "--}}", "@", "@@", "@if", "@endif", "@foreach", "(", ")", "[[", "]]",
     "'", '"', "\\", "\n", " ", "a", "1", ".", "|", ":", "{", "}", "[", "]", "#", "é", "\r"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEMPLATE_ALPHABET, max_size=40).map("".join))
def test_lexer_never_crashes_on_template_like_input(text):
    try:
        tokens = lex(text)
    except TemplateSyntaxError as err:
        assert err.line is not None and err.column is not None
    else:
        assert tokens[-1].kind == EOF


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_lexer_never_crashes_on_arbitrary_text(text):
    try:
        tokens = lex(text)
    except TemplateSyntaxError as err:
        assert err.line is not None
    else:
        assert tokens[-1].kind == EOF
