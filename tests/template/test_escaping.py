"""Escaping: hostile values cannot leave the text or attribute they are printed in."""

from __future__ import annotations

import html
import json
import time
from html.parser import HTMLParser

import pytest
import quickjs
from hypothesis import given, settings
from hypothesis import strategies as st

from funnelrun.template import Environment, TemplateSource

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><script>alert(1)</script>',
    "'><script>alert(1)</script>",
    '" onmouseover="alert(1)',
    "' onmouseover='alert(1)",
    '" autofocus onfocus=alert(1) x="',
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "&quot; onfocus=&quot;alert(1)",
    "&#x27; onfocus=&#x27;alert(1)",
    "</p><p>injected",
    "<!-- comment",
    "]]><![CDATA[<script>",
    "<scr<script>ipt>alert(1)</script>",
    "`onmouseover=alert(1)`",
    "\\u003cscript\\u003e",
    "＜script＞alert(1)＜/script＞",
    "\u2028\u2029<b>line separators</b>",
    "\u202e<b>rtl</b>",
    "<a href=\"x\" style=\"x:expression(alert(1))\">",
    "{{ 7 * 7 }} @if(true)x@endif",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "\t\n<b\n>",
]

PAGE = (
    "<p>{{ x }}</p>"
    '<a title="{{ x }}" data-y=\'{{ x }}\' href="/go?to={{ x }}">{{ x | upper | lower }}</a>'
)


class _Structure(HTMLParser):
    """Records start tags with their attributes, and text, with entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.tags.append(("!--", [(data, None)]))


def structure(markup: str) -> _Structure:
    parser = _Structure()
    parser.feed(markup)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def page():
    return Environment().compile(PAGE, "pages/xss.html")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_stays_inside_text_and_quoted_attributes(page, payload):
    parsed = structure(page.render({"x": payload}))
    assert parsed.tags == [
        ("p", []),
        ("a", [("title", payload), ("data-y", payload), ("href", "/go?to=" + payload)]),
    ]
    assert "".join(parsed.text) == payload + payload.lower()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escaped_payload_has_no_markup_characters_left(page, payload):
    rendered = Environment().compile("{{ x }}", "p").render({"x": payload})
    assert not set("<>\"'") & set(rendered)
    assert html.unescape(rendered) == payload


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_through_component_args_filters_and_lists_is_escaped(payload):
    sources = {"c": "<i title='{{ v }}'>{{ v }}</i>"}
    env = Environment(loader=lambda name: _source(sources, name))
    source = (
        '@component("c", {v: x | default:"d"})'
        "<b>{{ [x, x] | join:' ' }}{{ x | truncate:1000 }}{{ (x + x) | trim }}</b>"
    )
    rendered = env.compile(source, "p").render({"x": payload})
    parsed = structure(rendered)
    assert [tag for tag, _ in parsed.tags] == ["i", "b"]
    assert parsed.tags[0][1] == [("title", payload)]


def _source(sources, name):
    return TemplateSource(sources[name], f"{name}.html") if name in sources else None


def test_json_raw_inside_a_script_cannot_close_it():
    page = Environment().compile("<script>var d = {{ d | json | raw }};</script>", "p")
    rendered = page.render({"d": {"a": "</script><script>alert(1)</script>", "b": "'\u2028"}})
    assert rendered.count("</script>") == 1
    assert "\u2028" not in rendered


def test_raw_is_the_one_way_to_print_markup():
    page = Environment().compile("{{ h }}|{{ h | raw }}", "p")
    assert page.render({"h": "<b>"}) == "&lt;b&gt;|<b>"


def test_values_are_never_evaluated_as_template_code():
    page = Environment().compile("{{ x }}", "p")
    assert page.render({"x": "{{ secret }} @component('x')"}) == (
        "{{ secret }} @component(&#39;x&#39;)"
    )


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_string_prints_without_markup_characters(text):
    rendered = Environment().compile("{{ x }}", "p").render({"x": text})
    assert not set("<>\"'") & set(rendered)
    assert html.unescape(rendered) == text


@settings(max_examples=150, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
))
def test_any_json_value_prints_and_dumps_without_markup_characters(value):
    rendered = Environment().compile("{{ x }}{{ dump(x) }}{{ x | json }}", "p").render({"x": value})
    assert not set("<>\"'") & set(rendered)


_PLAIN_TEXT = st.text().filter(lambda t: "{{" not in t and "@" not in t and "[[" not in t)


@settings(max_examples=300, deadline=None)
@given(_PLAIN_TEXT)
def test_text_without_template_syntax_renders_unchanged(text):
    assert Environment().compile(text, "p").render({}) == text


# -- outputs escaped for where they sit ----------------------------------------------------------


def _evaluate(script: str):
    """Run JavaScript in QuickJS; its value as Python data (through JSON)."""
    return json.loads(quickjs.Context().eval(f"JSON.stringify((function () {{ {script} }})())"))


def _script_body(rendered: str) -> str:
    return rendered.split("<script>", 1)[1].rsplit("</script>", 1)[0]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_in_an_unquoted_attribute_stays_its_value(payload):
    page = Environment().compile('<a title={{ x }} class=big-{{ x }} href="/">', "p")
    parsed = structure(page.render({"x": payload}))
    assert parsed.tags == [("a", [("title", payload), ("class", "big-" + payload), ("href", "/")])]


def test_an_empty_unquoted_value_does_not_take_the_next_attribute():
    page = Environment().compile('<a title={{ x }} href="/home">', "p")
    assert page.render({"x": ""}) == '<a title="" href="/home">'
    assert structure(page.render({})).tags == [("a", [("title", ""), ("href", "/home")])]


def test_a_value_where_attribute_names_go_adds_no_attribute_with_a_value():
    page = Environment().compile('<input {{ x }} type="checkbox">', "p")
    assert page.render({"x": "checked"}) == '<input checked type="checkbox">'
    parsed = structure(page.render({"x": 'onfocus=alert(1) autofocus x="y" /a'}))
    [(_, attributes)] = parsed.tags
    assert attributes[-1] == ("type", "checkbox")
    assert all(value is None for _, value in attributes[:-1])


SCRIPT_PAYLOADS = [
    *PAYLOADS,
    "\\",  # with a second output: ends the first string early, the second runs as code
    ";alert(1)//",
    "${alert(1)}",
    "`;alert(1);`",
    "</script><script>alert(1)</script>",
    "<!--<script>",
    "line\nbreak\r\u2028\u2029",
    "O'Brien said \"hi\" & left",
]


@pytest.mark.parametrize("payload", SCRIPT_PAYLOADS)
def test_payload_in_a_script_string_is_that_string_in_javascript(payload):
    page = Environment().compile(
        "<script>var a = '{{ x }}', b = \"{{ x }}\", c = `{{ x }}`, d = '{{ y }}';</script>", "p"
    )
    rendered = page.render({"x": payload, "y": ";alert(1)//"})
    assert rendered.count("</script>") == 1
    assert _evaluate(_script_body(rendered) + "return [a, b, c, d];") == [
        payload, payload, payload, ";alert(1)//",
    ]


@pytest.mark.parametrize("payload", SCRIPT_PAYLOADS)
def test_payload_in_an_event_handler_is_that_string_in_javascript(payload):
    page = Environment().compile("<button onclick=\"f('{{ x }}')\">go</button>", "p")
    [(_, [(_, handler)])] = structure(page.render({"x": payload})).tags
    assert _evaluate(f"function f(s) {{ return s; }} return {handler};") == payload


def test_json_in_an_event_handler_is_that_value_in_javascript():
    data = {"a": "</button>'\"\\", "n": [1, None, 2.5]}
    for source in ('<b onclick="f({{ d | json }})">', "<b onclick='f({{ d | json | raw }})'>"):
        rendered = Environment().compile(source, "p").render({"d": data})
        [(_, [(_, handler)])] = structure(rendered).tags
        assert _evaluate(f"function f(v) {{ return v; }} return {handler};") == data


def test_raw_markup_where_attribute_names_go_prints_as_it_is():
    page = Environment().compile("<div {{ a | raw }}>", "p")
    assert page.render({"a": 'class="x" id="y"'}) == '<div class="x" id="y">'


def test_script_of_another_type_is_escaped_as_html():
    page = Environment().compile('<script type="text/template"><b>{{ x }}</b></script>', "p")
    assert page.render({"x": "<i>'"}) == (
        '<script type="text/template"><b>&lt;i&gt;&#39;</b></script>'
    )


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_any_string_in_a_script_string_is_that_string(text):
    page = Environment().compile("<script>var a = '{{ x }}', b = `{{ x }}`;</script>", "p")
    assert _evaluate(_script_body(page.render({"x": text})) + "return [a, b];") == [text, text]


def test_json_escaped_in_a_double_quoted_attribute_decodes_to_the_same_json():
    data = {"a": "\"quoted\" 'single' <b> & é", "n": [1, 2.5, None]}
    for source in ('<div data-x="{{ d | json }}">', "<div data-x='{{ d | json | raw }}'>"):
        [(_, [(_, value)])] = structure(Environment().compile(source, "p").render({"d": data})).tags
        assert json.loads(value) == data


_VISITOR_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers(min_value=-(10**400), max_value=10**400)
    | st.text(st.characters(codec=None, exclude_categories=()))  # lone surrogates too
    | st.sampled_from(["1" * 4301, "-" + "9" * 5000, "0x" + "f" * 500, "<!--<" * 50]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=10,
)
EVERY_PLACE = (
    '<p title="{{ v }}" data-j="{{ v | json }}" alt={{ v }} {{ v }}>{{ v }}{{ v | json }}'
    "{{ dump(v) }}{{ v | join:'-' }}{{ v | length }}{{ v | url_encode }}{{ v | strip_tags }}"
    "{{ v + 1 }}{{ v * 3 }}{{ v > 5 }}{{ [1, 2][v] }}{{ v | number_format }}{{ v | date }}"
    "</p><script>var s = '{{ v }}', d = {{ v | json | raw }};</script>"
    '<button onclick="f({{ v | json }})">'
)


@settings(max_examples=150, deadline=None)
@given(_VISITOR_VALUES, st.sampled_from([0, 0, 0, 1, 5, 300]))
def test_any_visitor_value_prints_everywhere_in_bounded_time(value, depth):
    for _ in range(depth):  # nested deep, as a brand variable or a literal may be
        value = [value]
    page = Environment().compile(EVERY_PLACE, "p")
    start = time.perf_counter()
    page.render({"v": value})
    assert time.perf_counter() - start < 1.0
