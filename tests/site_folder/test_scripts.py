"""A page's backend script: blocks cut out of templates, comments respected, positions kept."""

from __future__ import annotations

from funnelrun.site.scripts import split_scripts
from funnelrun.template import Environment


def test_split_scripts_keeps_positions_and_drops_script_only_lines():
    source = '<p>a</p>\n<script scope="backend">\n  x();\n</script>\n<p>{{ 1 }}</p>'
    template, blocks = split_scripts(source, "t.html")
    assert template.splitlines()[-1] == source.splitlines()[-1]  # same line, same columns
    assert template.count("\n") == source.count("\n")
    assert [(b.code, b.line, b.column) for b in blocks] == [("\n  x();\n", 2, 25)]
    rendered = Environment().compile(template, "t.html").render({})
    assert rendered == "<p>a</p>\n<p>1</p>"


def test_split_scripts_inline_block_keeps_the_columns_after_it():
    source = 'a<script scope="backend">x()</script>{{ 1 | nofilter }}'
    template, _ = split_scripts(source, "t.html")
    assert template.index("{{ 1") == source.index("{{ 1")


def test_script_inside_a_template_comment_is_commented_out():
    source = '{{-- <script scope="backend">redirect("/x")</script> --}}ok'
    template, blocks = split_scripts(source, "t.html")
    assert blocks == []
    assert "redirect" not in template
    assert Environment().compile(template, "t.html").render({}) == "ok"


def test_split_scripts_keeps_other_scripts_and_text():
    source = 'A<script scope="backend">1</script>B<script>front()</script>C<script scope=backend>2</script>D'
    template, blocks = split_scripts(source, "t.html")
    assert [b.code for b in blocks] == ["1", "2"]
    assert Environment().compile(template, "t.html").render({}) == "AB<script>front()</script>CD"


def test_template_comment_marks_inside_script_code_are_code():
    source = ('<script scope="backend">var open = "{{--";</script><p>shown</p>'
              '<script scope="backend">guard()</script>{{-- note --}}')
    template, blocks = split_scripts(source, "t.html")
    assert [b.code for b in blocks] == ['var open = "{{--";', "guard()"]  # both run
    assert Environment().compile(template, "t.html").render({}) == "<p>shown</p>"
