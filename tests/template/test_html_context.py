"""The HTML context scanner: where each output of a template sits in its markup."""

from __future__ import annotations

import pytest

from funnelrun.template import nodes, parse
from funnelrun.template.html_context import (
    COMMENT,
    DOUBLE_QUOTED,
    SCRIPT,
    SINGLE_QUOTED,
    STYLE,
    TAG,
    TEXT,
    UNQUOTED,
    VALUE_START,
    output_contexts,
)


def contexts(source: str) -> list[tuple[str, str]]:
    """(kind, attribute) of each output of `source`, in document order."""
    tree = parse(source)
    found = output_contexts(tree)
    outputs = [node for node in tree.walk() if isinstance(node, nodes.Output)]
    return [(found[id(node)].kind, found[id(node)].attribute_label) for node in outputs]


@pytest.mark.parametrize(("source", "expected"), [
    ("<p>{{ a }}</p>", [(TEXT, "")]),
    ('<a class="{{ a }}" data-x=\'{{ b }}\'>',
     [(DOUBLE_QUOTED, "class"), (SINGLE_QUOTED, "data-x")]),
    ("<a title={{ a }} alt=x{{ b }}>", [(VALUE_START, "title"), (UNQUOTED, "alt")]),
    ('<a b = "{{ a }}" c= {{ b }} D =x{{ c }}>',
     [(DOUBLE_QUOTED, "b"), (VALUE_START, "c"), (UNQUOTED, "d")]),
    ('<a href="x"b="{{ a }}">', [(DOUBLE_QUOTED, "b")]),
    ('<input {{ a }} type="checkbox" {{ b }}>', [(TAG, ""), (TAG, "")]),
    ('<div data-{{ a }}="{{ b }}">', [(TAG, ""), (DOUBLE_QUOTED, "data-{{…}}")]),
    ('<{{ a }} class="{{ b }}">{{ c }}', [(TAG, ""), (DOUBLE_QUOTED, "class"), (TEXT, "")]),
    ('<img src=x/>{{ a }}<br/ class="{{ b }}">', [(TEXT, ""), (DOUBLE_QUOTED, "class")]),
])
def test_attribute_values_know_their_quoting(source, expected):
    assert contexts(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ('<script>var a = "{{ a }}";</script>{{ b }}', [(SCRIPT, ""), (TEXT, "")]),
    ("<SCRIPT>{{ a }}</SCRIPT><StYlE>{{ b }}</style>{{ c }}",
     [(SCRIPT, ""), (STYLE, ""), (TEXT, "")]),
    ('<script>if (a < b) x = "</scripts>" + {{ a }};</script >{{ b }}',
     [(SCRIPT, ""), (TEXT, "")]),
    ('<script type="application/ld+json">{{ a }}</script>', [(SCRIPT, "")]),
    ("<script type=module>{{ a }}</script>", [(SCRIPT, "")]),
    ('<script type="text/javascript; charset=utf-8">{{ a }}</script>', [(SCRIPT, "")]),
    ('<script type="text/template"><b title="{{ a }}">{{ b }}</b></script>',
     [(TEXT, ""), (TEXT, "")]),
    ('<script type="{{ t }}">{{ a }}</script>', [(DOUBLE_QUOTED, "type"), (SCRIPT, "")]),
    ('<textarea><b class="{{ a }}"></textarea><title>{{ b }}</title>', [(TEXT, ""), (TEXT, "")]),
])
def test_script_style_and_raw_text_elements(source, expected):
    assert contexts(source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ('<!-- <a href="{{ a }}"> --> {{ b }}', [(COMMENT, ""), (TEXT, "")]),
    ("<!--> {{ a }} <!---> {{ b }} <!-- x --!> {{ c }}", [(TEXT, ""), (TEXT, ""), (TEXT, "")]),
    ("<!DOCTYPE {{ a }}> <?xml {{ b }}?> {{ c }}", [(COMMENT, ""), (COMMENT, ""), (TEXT, "")]),
    ("x < y {{ a }} </ {{ b }}> </> {{ c }}", [(TEXT, ""), (COMMENT, ""), (TEXT, "")]),
])
def test_comments_and_stray_angle_brackets(source, expected):
    assert contexts(source) == expected


def test_directives_are_opaque_and_branches_are_read_in_document_order():
    source = (
        '<p class="{{ a }}" @if(x)hidden@endif>{{ b }}</p>'
        '@foreach(i in items)<li data-i="{{ i }}">{{ i }}</li>@endforeach'
        '<a class="x @component("c") {{ c }}">'
    )
    assert contexts(source) == [
        (DOUBLE_QUOTED, "class"), (TEXT, ""), (DOUBLE_QUOTED, "data-i"), (TEXT, ""),
        (DOUBLE_QUOTED, "class"),
    ]


def test_blocks_are_scanned_where_they_are_written():
    source = (
        '<title>@yield("title")</title><body class="@block("body"){{ a }}@endblock">'
        "@block(\"main\")<script>{{ b }}</script>@endblock"
    )
    assert contexts(source) == [(DOUBLE_QUOTED, "class"), (SCRIPT, "")]


def test_a_nul_in_the_text_is_not_taken_for_an_output():
    assert contexts('<a title="\x00{{ a }}">\x00{{ b }}') == [
        (DOUBLE_QUOTED, "title"), (TEXT, ""),
    ]


def test_an_unfinished_tag_at_the_end_is_no_error():
    for source in ("<", "<a", "<a b", "<a b=", '<a b="', "<!--", "</", "<script>", "<a/"):
        assert contexts(source + "{{ x }}")  # one context, and no exception
