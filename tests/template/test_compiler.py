"""The code generator: compile-time checks, and the shape of the code it writes."""

from __future__ import annotations

import re

import pytest

from funnelrun.errors import TemplateSyntaxError
from funnelrun.template import FILTERS, TemplateSource, parse
from funnelrun.template.compiler import Dependency, dependencies_of, generate


def code_of(text: str) -> str:
    source = TemplateSource(text, "page.html")
    return generate(parse(source), source, FILTERS).code


def error(text: str, first_line: int = 1) -> TemplateSyntaxError:
    source = TemplateSource(text, "page.html", first_line)
    with pytest.raises(TemplateSyntaxError) as caught:
        generate(parse(source), source, FILTERS)
    return caught.value


def test_unknown_filter_suggests_the_closest_name():
    err = error("<p>\n  {{ name | uper }}</p>")
    assert err.headline() == "page.html:2:13: unknown filter 'uper'; did you mean 'upper'?"


def test_unknown_filter_without_a_close_name_lists_nothing():
    assert error("{{ x | frobnicate }}").message == "unknown filter 'frobnicate'"


def test_unknown_filter_position_counts_from_first_line():
    err = error("{{ x | lenght }}", first_line=12)
    assert err.headline() == "page.html:12:8: unknown filter 'lenght'; did you mean 'length'?"


def test_unknown_filter_in_a_branch_never_taken_is_still_an_error():
    assert error("@if(false){{ x | nope }}@endif").message == "unknown filter 'nope'"


def test_filter_argument_counts_are_checked():
    assert error("{{ x | upper:1 }}").message == "filter 'upper' takes 0 arguments, got 1"
    assert error("{{ x | slice:1:2:3 }}").message == (
        "filter 'slice' takes at most 2 arguments, got 3"
    )
    assert error("{{ x | replace }}").message == (
        "filter 'replace' needs at least 1 argument, got 0"
    )


def test_unknown_function_lists_the_known_ones():
    err = error("{{ foo('x') }}")
    assert err.message == ("unknown function 'foo'; known functions: dump, getSessionItem, t, "
                           "locales, defaultLocale, getResolvedLanguage, getTranslations, asset")
    assert (err.line, err.column) == (1, 4)


def test_method_calls_are_unknown_functions():
    assert error("{{ user.name.toUpperCase() }}").message == (
        "unknown function 'user.name.toUpperCase'; known functions: dump, getSessionItem, t, "
        "locales, defaultLocale, getResolvedLanguage, getTranslations, asset"
    )


def test_calling_a_computed_value_is_refused():
    assert error("{{ (a)[0]() }}").message == (
        "only built-in functions can be called; known functions: dump, getSessionItem, t, "
        "locales, defaultLocale, getResolvedLanguage, getTranslations, asset"
    )


def test_built_in_functions_take_one_argument():
    assert error("{{ dump() }}").message == "dump() takes 1 argument, got 0"
    assert error("{{ getSessionItem('a', 'b') }}").message == (
        "getSessionItem() takes 1 argument, got 2"
    )


def test_block_names_are_unique():
    err = error('@block("a")@endblock\n@if(x)@block("a")@endblock@endif')
    assert err.message == "block 'a' is defined twice; the first is at 1:1"


def test_checks_also_run_outside_the_blocks_of_a_child_template():
    assert error('@extends("layout")\n{{ x | nope }}').message == "unknown filter 'nope'"


def test_code_defines_one_root_function():
    code = code_of("Hello {{ name }}")
    assert code.startswith("def root(ctx, items, blocks, buf, chain, depth):")
    namespace: dict = {}
    exec(compile(code, "<test>", "exec"), namespace)
    assert set(namespace) - {"__builtins__"} == {"root"}


def test_context_names_are_read_once_at_the_start():
    code = code_of("{{ var.a }}{{ var.b }}{{ var.c }}")
    assert code.count("ctx.get('var', U)") == 1


def test_adjacent_text_and_outputs_are_written_together():
    code = code_of("a{{ x }}b{{ y }}c")
    assert code.count("e((") == 1
    assert "w(" not in code.replace("w = buf.append", "")


def test_loop_counter_is_kept_only_when_loop_is_used():
    assert "enumerate" not in code_of("@foreach(i in x){{ i }}@endforeach")
    assert "enumerate" in code_of("@foreach(i in x){{ loop.index }}@endforeach")


def test_names_and_text_cannot_inject_code(render):
    # Text that would end or escape a Python string literal were it pasted into the code as is.
    text = "'''\"\"\"\\\n')\nraise SystemExit #{0}%s\\x41\\"
    html = render("{{ a }}" + text + "{{ $b }}", {"a": "<A>", "$b": "'B'"})
    assert html == "&lt;A&gt;" + text + "&#39;B&#39;"


def test_dependencies_are_literal_names_in_document_order_once_each():
    tree = parse(
        '@extends("layout")\n@block("a")@component("x")@component(name)'
        '@component("y", {a: 1})@component("x")@endblock'
    )
    assert [d.name for d in dependencies_of(tree)] == ["layout", "x", "y"]
    assert dependencies_of(tree)[0] == Dependency("extends", "layout", 1, 1)


# -- outputs and their HTML context ------------------------------------------------------------

JSON_IN_ATTRIBUTE = (
    "'| json | raw' in the double-quoted value of attribute 'data-x': the JSON's own '\"' would "
    "end the attribute; leave out '| raw' — {{ … | json }} is escaped, and the browser decodes "
    "it back to the same JSON"
)


def test_json_raw_in_a_double_quoted_attribute_is_refused_with_its_position():
    err = error('<ul>\n  <li data-x="{{ var.d | json | raw }}">x</li>', first_line=3)
    assert err.headline() == f"page.html:4:15: {JSON_IN_ATTRIBUTE}"


@pytest.mark.parametrize("output", [
    "{{ x | json | trim | raw }}",
    "{{ x | json | default:'[]' | raw }}",
    "{{ x | json | raw | default:'' }}",
    "{{ ok ? (x | json | raw) : '' }}",
    "{{ x && (x | json | raw) }}",
    "{{ '{\"a\":' + (x | json) + '}' | raw }}",
    "{{ dump(x) | raw }}",
])
def test_json_reaching_raw_through_other_filters_and_operators_is_refused(output):
    assert error(f'<div data-x="{output}">').message == JSON_IN_ATTRIBUTE


@pytest.mark.parametrize("source", [
    "<script>var d = {{ x | json | raw }};</script>",
    "<div data-x='{{ x | json | raw }}'>",  # JSON has no ' (it is written \u0027)
    '<div data-x="{{ x | json }}">',
    '<a href="/p?d={{ x | json | url_encode | raw }}">',
    '<p title="{{ x | json | length | raw }}">',
    '<a href="{{ var.url | raw }}" class="{{ var.classes | raw }}">',
    "<div {{ var.attributes | raw }}>",
    "<p>{{ x | json | raw }}</p>",
])
def test_raw_where_it_cannot_break_the_markup_is_accepted(source):
    code_of(source)


def test_raw_in_an_unquoted_attribute_value_is_refused():
    for source in ("<p class={{ var.c | raw }}>", "<p class=big-{{ var.c | raw }}>"):
        assert error(source).message == (
            "'| raw' in the unquoted value of attribute 'class': a space or '>' in the value "
            "would end it and start new markup; quote the value: class=\"{{ … }}\""
        )
    assert error("<p title={{ x | nl2br }}>").message.startswith(
        "'| nl2br' in the unquoted value of attribute 'title': a space or '>'"
    )


def test_outputs_are_printed_for_where_they_sit():
    code = code_of(
        '<p a="{{ t }}" b={{ t }} c=x{{ t }} {{ t }} onclick="f({{ t }})" onblur={{ t }}>'
        "{{ t }}<script>{{ t }}</script><style>{{ t }}</style>"
    )
    assert re.findall(r"\bout\w*\(", code) == [
        "out(", "out_value(", "out_unquoted(", "out_tag(", "out_script(", "out_value(",
        "out_script(", "out(", "out_script(", "out(",
    ]
