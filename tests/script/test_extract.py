"""find_backend_scripts: every spelling of the tag, positions, comments, where a block ends."""

from __future__ import annotations

import pytest

from funnelrun.errors import Position, SiteError
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
    source = ('line 1\n  <b>2</b> <script scope="backend">x()\ny()</script>\n<script scope=backend>\n'
              "z()</script>")
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


@pytest.mark.parametrize("code", [
    'var s = "</script>"; var secret = "sk_live_X";',
    "var s = '</SCRIPT >'; var secret = 'sk_live_X';",
    "var s = `a ${ '</script>' } </script>`; var secret = 1;",
    "// the end: </script>\nvar secret = 1;",
    "/* </script> */ var secret = 1;",
    "<!-- </script>\nvar secret = 1;",
    "x = 1\n--> </script>\nvar secret = 1;",
    "var r = /[</script>]/; var secret = 1;",
    "if (a) /[</script>]/.test(s); var secret = 1;",
    "yield /[</script>]/; var secret = 1;",  # may go on with a generator an earlier block began
])
def test_a_closing_tag_inside_a_literal_or_comment_does_not_end_the_block(code: str) -> None:
    [block] = find_backend_scripts(f'<script scope="backend">{code}</script><p>after</p>')
    assert block.code == code


@pytest.mark.parametrize(("code", "kept"), [
    ("a = b </script>", "a = b "),
    ("a = b <</script>", "a = b <"),
    ("a = b / 2 </script>", "a = b / 2 "),
    ("x = `${1}` + '' </script>", "x = `${1}` + '' "),
])
def test_the_first_closing_tag_in_code_ends_the_block(code: str, kept: str) -> None:
    [block] = find_backend_scripts(f'<script scope="backend">{code}<p>html</p>')
    assert block.code == kept


def test_a_block_that_never_closes_is_a_site_error_at_its_tag() -> None:
    source = '<p>a</p>\n  <script scope="backend">let k = "</script>";\n<p>never sent</p>'
    with pytest.raises(SiteError) as caught:
        find_backend_scripts(source, first_line=3, filename="pages/a.html")
    assert caught.value.position == Position("pages/a.html", 4, 3)
    assert "this backend script is never closed" in caught.value.message


def test_an_unterminated_comment_or_template_runs_to_the_end_and_fails_closed() -> None:
    for code in ("/* </script>", "`</script>", "x = '</script>\n"):
        with pytest.raises(SiteError):
            find_backend_scripts(f'<script scope="backend">{code}<p>secret</p>')
