"""The parser alone: tree shapes, operator precedence, and syntax errors with their wording."""

from __future__ import annotations

import pytest

from funnelrun.errors import TemplateSyntaxError
from funnelrun.template import Environment, nodes, parse
from funnelrun.template.nodes import (
    ArrayLiteral,
    Binary,
    Call,
    Conditional,
    Filter,
    GetAttr,
    GetItem,
    Literal,
    Name,
    ObjectLiteral,
    Output,
    Text,
    Unary,
)


def expr(source: str) -> nodes.Expr:
    """The expression of `{{ source }}`."""
    (output,) = parse("{{ " + source + " }}").body
    assert isinstance(output, Output)
    return output.expr


def error(source: str, first_line: int = 1) -> TemplateSyntaxError:
    with pytest.raises(TemplateSyntaxError) as caught:
        parse(source, "page.html", first_line)
    return caught.value


# -- expressions -------------------------------------------------------------------------------


def test_text_and_output_become_nodes():
    assert parse("a{{ x }}b").body == [Text("a"), Output(Name("x")), Text("b")]


def test_dotted_path_and_indexes():
    assert expr('a.b[0]["c"]') == GetItem(
        GetItem(GetAttr(Name("a"), "b"), Literal(0)), Literal("c")
    )


def test_dot_number_indexes_like_brackets():
    assert expr("items.0.title") == GetAttr(GetItem(Name("items"), Literal(0)), "title")


def test_literals():
    assert expr("[1, 2.5, 'x', true, false, null]") == ArrayLiteral(
        [Literal(1), Literal(2.5), Literal("x"), Literal(True), Literal(False), Literal(None)]
    )


def test_multiplication_binds_tighter_than_addition():
    assert expr("1 + 2 * 3") == Binary("+", Literal(1), Binary("*", Literal(2), Literal(3)))


def test_addition_is_left_associative():
    assert expr("a - b - c") == Binary("-", Binary("-", Name("a"), Name("b")), Name("c"))


def test_comparison_binds_tighter_than_and_which_binds_tighter_than_or():
    assert expr("a or b and c == d") == Binary(
        "||", Name("a"), Binary("&&", Name("b"), Binary("==", Name("c"), Name("d")))
    )


@pytest.mark.parametrize(
    ("word", "symbol"),
    [("eq", "=="), ("neq", "!="), ("lt", "<"), ("lte", "<="), ("gt", ">"), ("gte", ">="),
     ("and", "&&"), ("or", "||")],
)
def test_word_operators_are_stored_as_symbols(word, symbol):
    assert expr(f"a {word} b") == Binary(symbol, Name("a"), Name("b"))


def test_not_and_bang_are_the_same_operator():
    assert expr("not a") == expr("!a") == Unary("!", Name("a"))


def test_unary_minus_on_a_path():
    assert expr("-a.b") == Unary("-", GetAttr(Name("a"), "b"))


def test_conditional_is_right_associative():
    assert expr("a ? b : c ? d : e") == Conditional(
        Name("a"), Name("b"), Conditional(Name("c"), Name("d"), Name("e"))
    )


def test_filter_applies_to_everything_on_its_left():
    assert expr("a + b | upper") == Filter(Binary("+", Name("a"), Name("b")), "upper", [])


def test_filter_arguments_are_literals_or_paths():
    assert expr("price | currency:product.code | slice:0:-1") == Filter(
        Filter(Name("price"), "currency", [GetAttr(Name("product"), "code")]),
        "slice",
        [Literal(0), Unary("-", Literal(1))],
    )


def test_parentheses_group_before_filtering():
    assert expr("(a | default:'A') | slice:0:1") == Filter(
        Filter(Name("a"), "default", [Literal("A")]), "slice", [Literal(0), Literal(1)]
    )


def test_function_call():
    assert expr("getSessionItem('k')") == Call(Name("getSessionItem"), [Literal("k")])


def test_object_literal_with_shorthand_quoted_keys_and_trailing_comma():
    assert expr("{a: 1, 'b-c': x | upper, d,}") == ObjectLiteral(
        [("a", Literal(1)), ("b-c", Filter(Name("x"), "upper", [])), ("d", Name("d"))]
    )


def test_nodes_carry_line_and_column():
    node = expr("a.b | upper")
    assert isinstance(node, Filter)
    assert (node.line, node.column) == (1, 10)
    assert (node.value.line, node.value.column) == (1, 5)


# -- directives --------------------------------------------------------------------------------


def test_if_elseif_else():
    (node,) = parse("@if(a)A@elseif(b)B@else C@endif").body
    assert node == nodes.If(
        [(Name("a"), [Text("A")]), (Name("b"), [Text("B")])], [Text(" C")]
    )


def test_foreach():
    (node,) = parse("@foreach(item in list | sort)x@endforeach").body
    assert node == nodes.ForEach("item", Filter(Name("list"), "sort", []), [Text("x")])


def test_set():
    (node,) = parse('@set(label = "Order #" + order.id)').body
    assert node == nodes.Set(
        "label", Binary("+", Literal("Order #"), GetAttr(Name("order"), "id"))
    )


def test_component_with_and_without_arguments():
    body = parse('@component("hero")@component("card", {title: t})').body
    assert body == [
        nodes.Component(Literal("hero")),
        nodes.Component(Literal("card"), ObjectLiteral([("title", Name("t"))])),
    ]


def test_extends_is_taken_out_of_the_body():
    tree = parse('\n  @extends("layout")\n@block("x")X@endblock')
    assert tree.extends == nodes.Extends(Literal("layout"))
    assert tree.body[-1] == nodes.Block("x", [Text("X")])
    assert not any(isinstance(node, nodes.Extends) for node in tree.body)


def test_block_and_yield():
    assert parse('@yield("a")@block("b")B@endblock').body == [
        nodes.Yield("a"),
        nodes.Block("b", [Text("B")]),
    ]


def test_session_directives():
    assert parse("@setSessionItem('k', 1)@setSessionItem('k')@clearSessionItem('k')").body == [
        nodes.SetSessionItem(Literal("k"), Literal(1)),
        nodes.SetSessionItem(Literal("k")),
        nodes.ClearSessionItem(Literal("k")),
    ]


def test_template_children_walk_in_document_order():
    tree = parse("@if(a)@component('x')@else@component('y')@endif")
    names = [n.name.value for n in tree.walk() if isinstance(n, nodes.Component)]
    assert names == ["x", "y"]


# -- errors ------------------------------------------------------------------------------------


def test_unclosed_if_names_its_opening_position():
    err = error("<p>\n  @if(a)\n  yes\n")
    assert err.message == "unclosed @if opened at 2:3; expected @elseif, @else or @endif"


def test_unclosed_if_after_else_expects_only_endif():
    assert error("@if(a)x@else y").message == "unclosed @if opened at 1:1; expected @endif"


def test_unclosed_foreach():
    err = error("\n@foreach(i in x)\n")
    assert err.message == "unclosed @foreach opened at 2:1; expected @endforeach"


def test_unclosed_block():
    assert error('@block("a")').message == "unclosed @block opened at 1:1; expected @endblock"


def test_stray_endif_says_no_if_is_open():
    err = error("a\n  @endif")
    assert err.headline() == "page.html:2:3: unexpected @endif; no @if is open"


def test_stray_else_and_endforeach_and_endblock():
    assert error("@else").message == "unexpected @else; no @if is open"
    assert error("@endforeach").message == "unexpected @endforeach; no @foreach is open"
    assert error("@endblock").message == "unexpected @endblock; no @block is open"


def test_wrong_closer_names_what_is_open():
    err = error("@foreach(i in x)\n@endif")
    assert err.message == (
        "unexpected @endif; expected @endforeach to close @foreach opened at 1:1"
    )


def test_second_else_is_an_error():
    err = error("@if(a)1@else 2@else 3@endif")
    assert err.message == "unexpected @else; expected @endif to close @if opened at 1:1"


def test_foreach_of_instead_of_in_points_at_the_word():
    err = error("<ul>\n@foreach(item of list)@endforeach", first_line=7)
    assert err.headline() == "page.html:8:15: expected 'in' after 'item' in @foreach, got 'of'"


def test_foreach_needs_a_loop_variable():
    err = error("@foreach(1 in list)@endforeach")
    assert err.message == "expected a name for the loop variable after '@foreach(', got '1'"


def test_if_without_parentheses():
    err = error("Hi @if x")
    assert err.message == "expected '(' after @if"
    assert (err.line, err.column) == (1, 7)


def test_if_with_two_conditions():
    assert error("@if(a, b)@endif").message == "@if takes 1 argument, got 2"


def test_component_takes_one_or_two_arguments():
    assert error("@component()").message == "@component takes 1 to 2 arguments, got 0"


def test_set_needs_an_equals_sign():
    assert error("@set(a == 1)").message == "expected '=' after 'a' in @set, got '=='"


def test_set_cannot_assign_a_keyword():
    err = error("@set(null = 1)")
    assert err.message == "expected a name to assign after '@set(', got 'null'"


def test_extends_must_come_first():
    err = error('<p>hi</p>\n@extends("layout")')
    assert err.message == (
        "@extends must come first; only whitespace and comments may come before it"
    )
    assert (err.line, err.column) == (2, 1)


def test_extends_may_follow_whitespace_and_comments():
    tree = parse('\n{{-- layout --}}\n  @extends("layout")')
    assert tree.extends is not None


def test_only_one_extends():
    err = error('@extends("a")\n@extends("b")')
    assert err.message == "only one @extends is allowed; the first is at 1:1"


def test_block_needs_a_quoted_name():
    assert error("@block(name)@endblock").message == (
        '@block needs a quoted name, like @block("content")'
    )


def test_block_cannot_be_inside_a_loop():
    err = error('@foreach(i in x)@block("a")@endblock@endforeach')
    assert err.message == "@block cannot be inside @foreach; a block is rendered once"


def test_missing_end_of_output():
    assert error("{{ a b }}").message == "expected '}}' to end the expression, got 'b'"


def test_empty_output():
    assert error("{{ }}").message == "expected an expression, got '}}'"


def test_unbalanced_parenthesis_in_output():
    assert error("{{ (a }}").message == "expected ')' to close '(', got '}}'"


def test_filter_needs_a_name():
    assert error("{{ a | 'x' }}").message == "expected a filter name after '|', got string 'x'"


def test_dangling_operator():
    assert error("{{ a + }}").message == "expected an expression, got '}}'"


def test_conditional_needs_a_colon():
    assert error("{{ a ? b }}").message == "expected ':' in the conditional expression, got '}}'"


def test_directive_argument_left_open_by_a_bracket():
    assert error("@if(a[0)x@endif").message == "expected ']' to close '[', got ')'"


def test_operator_after_a_filter_asks_for_parentheses():
    err = error("@if(items | length gt 2)x@endif")
    assert err.message == (
        "unexpected 'gt' after the filter 'length'; a filter applies to everything on its left, "
        "so wrap it in parentheses: (x | length) gt …"
    )
    assert (err.line, err.column) == (1, 20)


def test_filtered_value_in_parentheses_can_be_compared():
    (node,) = parse("@if((items | length) gt 2)x@endif").body
    assert isinstance(node, nodes.If)
    assert node.branches[0][0] == Binary(
        ">", Filter(Name("items"), "length", []), Literal(2)
    )


# -- nesting limits ----------------------------------------------------------------------------


@pytest.mark.parametrize("source", [
    "(" * 33 + "1" + ")" * 33,
    "[" * 33 + "]" * 33,
    "!" * 33 + "x",
    "a ? " * 33 + "1" + " : 0" * 33,
    "f(" * 33 + ")" * 33,
    "x" + "[y" * 33 + "]" * 33,
])
def test_brackets_and_operators_nested_too_deep_are_a_syntax_error(source):
    err = error("<p>\n{{ " + source + " }}")
    assert err.message == (
        "the expression nested more than 32 deep; split it (with @set or a @component)"
    )
    assert err.line == 2


@pytest.mark.parametrize("source", [
    " + ".join(["1"] * 66), "x" + " | upper" * 66, "x" + ".a" * 66, " && ".join(["a"] * 66),
])
def test_chains_too_long_are_a_syntax_error(source):
    assert error("{{ " + source + " }}").message == (
        "the expression is more than 64 operations deep; split it with @set"
    )


def test_directives_nested_too_deep_are_a_syntax_error():
    err = error("@if(1)" * 33 + "x" + "@endif" * 33)
    assert (err.message, err.column) == (
        "@if, @foreach and @block nested more than 32 deep; split it (with @set or a "
        "@component)", 1 + 6 * 32,
    )
    loops = error("@foreach(a in b)" * 17 + "@endforeach" * 17)
    assert loops.message == "@foreach nested more than 16 deep"


def test_a_thousand_levels_are_a_syntax_error_not_a_crash():
    for source in ("{{ " + "(" * 1000 + "1" + ")" * 1000 + " }}", "@if(1)" * 1000,
                   "{{ " + "-" * 1000 + "1 }}", "{{ " + "1+" * 1000 + "1 }}"):
        error(source)


def test_nesting_up_to_the_limits_compiles_and_renders():
    source = (
        "@foreach(a in [1])" * 16 + "@if(1)" * 16
        + "{{ " + "(" * 31 + " + ".join(["1"] * 32) + ")" * 31 + " }}"
        + "@endif" * 16 + "@endforeach" * 16
    )
    assert Environment().compile(source, "p").render({}) == "32"
