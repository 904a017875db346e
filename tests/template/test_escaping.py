"""Escaping: hostile values cannot leave the text or attribute they are printed in."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
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
