"""The reference's page-text syntax (script-library §2.8): `not` as a word operator,
`{{ var.path=default value }}`, and the percent placeholders (`%YEAR%`, `%CUSTOMER_FNAME%,`),
which print the values the render context holds under PLACEHOLDER_VALUES."""

from __future__ import annotations

import pytest

from funnelrun.errors import TemplateSyntaxError
from funnelrun.template import lex, nodes, parse
from funnelrun.template.lexer import DEFAULT_TEXT, NAME, OP, OUTPUT_BEGIN, OUTPUT_END, PLACEHOLDER
from funnelrun.template.lexer import PLACEHOLDER_VALUES as VALUES

PLACEHOLDERS = {"DAY_NAME": "Monday", "DAY": "15", "DAY_POSTFIX": "th", "MONTH_NAME": "January",
                "MONTH": "0", "YEAR": "2024", "HOUR": "14", "CUSTOMER_FNAME": "John",
                "CUSTOMER_FNAME,": " John,"}
NO_NAME = {**PLACEHOLDERS, "CUSTOMER_FNAME": "", "CUSTOMER_FNAME,": ""}


# -- not ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b", "shown"), [(True, False, "yes"), (True, True, "no"),
                                               (False, False, "no"), (False, True, "no")])
def test_not_in_the_docs_condition(render, a, b, shown):
    """customer-care.mdx:255 writes `@if(a and not b)`."""
    assert render("@if(a and not b)yes@else no@endif", {"a": a, "b": b}).strip() == shown


def test_not_binds_tighter_than_comparisons_and_logic(render):
    context = {"a": 0, "b": "", "c": 1}
    assert render("{{ not a == true }}|{{ not a and not b }}|{{ not (a or c) }}|{{ not not c }}",
                  context) == "true|true|false|true"


def test_not_is_no_name(render):
    with pytest.raises(TemplateSyntaxError, match="expected an expression"):
        render("{{ not }}")


# -- {{ var.path=default value }} ------------------------------------------------------------------


def test_the_docs_default_examples_unchanged(render):
    page = ("<p>Phone: {{ var.company.phone=Not available }}</p>\n"
            "<p>Support: {{ var.support.email=support@example.com }}</p>")
    assert render(page, {"var": {}}) == (
        "<p>Phone: Not available</p>\n<p>Support: support@example.com</p>")
    given = {"var": {"company": {"phone": "1-800-123-4567"}, "support": {"email": "a@b.test"}}}
    assert render(page, given) == "<p>Phone: 1-800-123-4567</p>\n<p>Support: a@b.test</p>"


@pytest.mark.parametrize(("value", "shown"), [(None, ""), ("", ""), (0, "0"), (False, "false"),
                                               ([], ""), ("x", "x")])
def test_a_default_is_used_only_when_the_value_is_undefined(render, value, shown):
    assert render("[{{ var.x=fallback }}]", {"var": {"x": value}}) == f"[{shown}]"


@pytest.mark.parametrize(("source", "shown"), [
    ("{{ var.x=  spaced out  }}", "spaced out"),
    ('{{ var.x="quoted text" }}', "quoted text"),
    ("{{ var.x='it''s' }}", "it&#39;&#39;s"),
    ("{{ var.x='half }}", "&#39;half"),
    ("{{ var.x= }}", ""),
    ("{{var.x=tight}}", "tight"),
    ("{{ var.x = a b | upper }}", "a b | upper"),  # literal text: no filters after `=`
    ("{{ x=<b>bold</b> & co }}", "&lt;b&gt;bold&lt;/b&gt; &amp; co"),
    ("{{ var.items.0=none }}", "none"),
])
def test_the_default_is_literal_text_up_to_the_closing_braces(render, source, shown):
    assert render(source, {"var": {"items": []}}) == shown


def test_a_default_is_escaped_for_where_it_sits(render):
    assert render("<script>var p = '{{ var.p=it's }}';</script>") == (
        "<script>var p = 'it\\u0027s';</script>")
    assert render('<a title="{{ var.t="x" }}">') == '<a title="x">'


def test_equality_is_still_a_comparison(render):
    assert render("{{ a == 1 }} {{ a === 1 }} {{ a != 1 }} {{ a>=1 }}", {"a": 1}) == (
        "true true false true")


def test_a_default_lexes_as_the_path_then_its_text():
    tokens = [(t.kind, t.value) for t in lex("{{ var.a = b c }}")][:-1]
    assert tokens == [(OUTPUT_BEGIN, "{{"), (NAME, "var"), (OP, "."), (NAME, "a"),
                      (DEFAULT_TEXT, "b c"), (OUTPUT_END, "}}")]
    output = parse("{{ var.a = b c }}").body[0]
    assert output == nodes.Output(nodes.Defaulted(
        nodes.GetAttr(nodes.Name("var"), "a"), "b c"))


def test_an_unclosed_default_says_what_is_open():
    with pytest.raises(TemplateSyntaxError) as caught:
        lex("<p>\n{{ var.a=never closed")
    assert caught.value.headline() == "<template>:2:22: unclosed '{{' opened at 2:1; expected '}}'"


# -- percent placeholders --------------------------------------------------------------------------


def test_the_docs_date_example_unchanged(render):
    page = ('<div class="date-display">\n'
            "  <p>Today is %DAY_NAME%, %MONTH_NAME% %DAY%%DAY_POSTFIX%, %YEAR%</p>\n"
            "  <p>Current time: %HOUR%:00</p>\n</div>")
    assert render(page, {VALUES: PLACEHOLDERS}) == (
        '<div class="date-display">\n  <p>Today is Monday, January 15th, 2024</p>\n'
        "  <p>Current time: 14:00</p>\n</div>")
    assert render("<p>Month number: %MONTH%</p>", {VALUES: PLACEHOLDERS}) == (
        "<p>Month number: 0</p>")


def test_the_docs_first_name_examples_unchanged(render):
    hello = "<p>Hello, %CUSTOMER_FNAME%!</p>"
    welcome = "<p>Welcome%CUSTOMER_FNAME%, to our store!</p>"
    assert render(hello, {VALUES: PLACEHOLDERS}) == "<p>Hello, John!</p>"
    assert render(welcome, {VALUES: PLACEHOLDERS}) == "<p>Welcome John, to our store!</p>"
    assert render(welcome, {VALUES: NO_NAME}) == "<p>Welcome to our store!</p>"


def test_only_the_known_names_are_placeholders(render):
    text = "width: 100%; %FOO% %year% %YEAR %%YEAR%% %DAY_NAMES% 50%YEAR%"
    assert render(text, {VALUES: PLACEHOLDERS}) == (
        "width: 100%; %FOO% %year% %YEAR %2024% %DAY_NAMES% 502024")


def test_placeholders_are_escaped_for_where_they_sit(render):
    values = {**PLACEHOLDERS, "CUSTOMER_FNAME": "<O'Neil>"}
    page = ("<p>%CUSTOMER_FNAME%</p><a title='%CUSTOMER_FNAME%'>"
            "<script>var n = '%CUSTOMER_FNAME%';</script>")
    assert render(page, {VALUES: values}) == (
        "<p>&lt;O&#39;Neil&gt;</p><a title='&lt;O&#39;Neil&gt;'>"
        "<script>var n = '\\u003cO\\u0027Neil\\u003e';</script>")


def test_placeholders_stay_as_written_in_verbatim_text_comments_and_strings(render):
    page = "[[ %YEAR% ]] {{-- %YEAR% --}}{{ '%YEAR%' }} @@%YEAR%"
    assert render(page, {VALUES: PLACEHOLDERS}) == "[[ %YEAR% ]] %YEAR% @2024"


def test_without_values_a_placeholder_prints_nothing(render):
    assert render("[%YEAR%][%CUSTOMER_FNAME%,]") == "[][]"


def test_a_line_of_only_a_placeholder_keeps_its_line_break(render):
    assert render("@if(true)\n%YEAR%\n@endif\n", {VALUES: PLACEHOLDERS}) == "2024\n"


def test_placeholders_reach_components_and_layouts(render):
    templates = {"layout": "<b>%YEAR%</b>@yield('x')", "card": "<i>%DAY%</i>"}
    page = "@extends('layout')\n@block('x')@component('card')%HOUR%@endblock"
    assert render(page, {VALUES: PLACEHOLDERS}, templates=templates) == "<b>2024</b><i>15</i>14"


def test_a_placeholder_lexes_as_one_token():
    tokens = [(t.kind, t.value, t.column) for t in lex("a %CUSTOMER_FNAME%, b")][:-1]
    assert tokens == [("text", "a ", 1), (PLACEHOLDER, "CUSTOMER_FNAME,", 3), ("text", " b", 20)]
