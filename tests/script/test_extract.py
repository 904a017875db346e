"""find_backend_scripts: every spelling of the tag, positions, comments, unclosed blocks."""

from __future__ import annotations

import pytest

from funnelrun.script import find_backend_scripts


@pytest.mark.parametrize("tag", [
    '<script scope="backend">',
    "<script scope='backend'>",
    "<script scope=backend>",
    "<SCRIPT Scope='BACKEND' type=x>",
    '<script type="text/javascript" scope="backend">',
    '<script scope = "backend" >',
    '<script\n  data-x="a>b"\n  scope="backend"\n>',
    '<script scope=" Backend ">',
    '<Script SCOPE=BACKEND defer>',
])
def test_finds_every_spelling_of_the_backend_tag(tag: str) -> None:
    source = f"<p>x</p>{tag}let a = 1;</script><p>y</p>"
    [block] = find_backend_scripts(source)
    assert block.code == "let a = 1;"
    assert source[block.start:block.end] == f"{tag}let a = 1;</script>"


@pytest.mark.parametrize("closing", ["</script>", "</SCRIPT>", "</script >", "</Script\n>"])
def test_block_ends_at_the_next_closing_tag_in_any_case(closing: str) -> None:
    [block] = find_backend_scripts(f'<script scope="backend">a()\n{closing}rest')
    assert block.code == "a()\n"


@pytest.mark.parametrize("tag", [
    "<script>",
    '<script scope="frontend">',
    '<script type="module">',
    '<script data-scope="backend">',
    '<script scope="backend-ish">',
    "<scripts scope=backend>",
])
def test_leaves_other_scripts_alone(tag: str) -> None:
    assert find_backend_scripts(f"{tag}alert(1)</script>") == []


def test_reports_line_and_column_where_the_code_begins() -> None:
    source = 'line 1\n  <b>2</b> <script scope="backend">x()\ny()</script>\n<script scope=backend>\nz()'
    first, second = find_backend_scripts(source)
    assert (first.line, first.column) == (2, 36)
    assert (second.line, second.column) == (4, 23)


def test_first_line_shifts_line_numbers_for_front_matter() -> None:
    [block] = find_backend_scripts('\n<script scope="backend">x</script>', first_line=5)
    assert (block.line, block.column) == (6, 25)


def test_finds_blocks_in_document_order() -> None:
    source = "".join(f'<script scope="backend">b{i}</script><p>{i}</p>' for i in range(3))
    assert [b.code for b in find_backend_scripts(source)] == ["b0", "b1", "b2"]


def test_finds_blocks_inside_html_comments() -> None:
    [block] = find_backend_scripts('<!-- <script scope="backend">secret()</script> -->')
    assert block.code == "secret()"


def test_finds_a_backend_block_written_inside_another_script() -> None:
    source = '<script>var s = 1;</script><script>x<script scope="backend">k()</script>'
    [block] = find_backend_scripts(source)
    assert block.code == "k()"


def test_unclosed_block_runs_to_the_end_of_the_file() -> None:
    source = '<p>a</p><script scope="backend">let k = 1;\n<p>never sent</p>'
    [block] = find_backend_scripts(source)
    assert block.code == "let k = 1;\n<p>never sent</p>"
    assert not block.closed
