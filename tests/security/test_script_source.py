"""Backend script source stays on the server, and is never run while it is only compiled
(issue 6, items 2 and 9).

A `</script>` inside a JavaScript string no longer ends a backend block early (the rest of the
script used to be sent to visitors); a block whose end cannot be found stops the site. Syntax
checks compile scripts in an executor process, never in `serve` or its workers, and once at
start-up. The bracket check that keeps a block inside the function a bundle wraps it in reads
code as QuickJS does: a differential test against the real engine holds it to that.
"""

from __future__ import annotations

import subprocess
import sys

import _quickjs
import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import running_server, write_site
from funnelrun.cli import main
from funnelrun.script.jslex import over_closing, tokenize

SECRET = "sk_live_X9f2"
ESCAPE = (  # the lexer used to think line 2 sat in a block comment; QuickJS runs it
    "<!-- /*\n}); throw new Error('escaped code ran'); (async function () {\n// */"
)
FILES = {
    "brands/acme/pages/secret.html": f"""
        <script scope="backend">
          var closing = "</script>"; var key = "{SECRET}";
          setVariable("closing", closing); setVariable("length", key.length);
        </script>
        <p>[{{{{ var.closing }}}}] [{{{{ var.length }}}}]</p>
    """,
    "brands/acme/pages/escape.html": f'<script scope="backend">\n{ESCAPE}\n</script><p>escape</p>',
    "brands/acme/pages/broken.html": '<script scope="backend">\nvar = ;\n</script><p>broken</p>',
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = write_site(tmp_path_factory.mktemp("script_source") / "site", FILES)
    with running_server(root, "--workers", "2") as (base, _):
        yield base, root.parent / "server.log"


def test_a_closing_tag_in_a_string_neither_ends_the_script_nor_leaks_it(server):
    base, _ = server
    page = httpx.get(base + "/secret", timeout=30)
    assert page.status_code == 200
    assert f"[&lt;/script&gt;] [{len(SECRET)}]" in page.text  # the script saw its whole string
    assert SECRET not in page.text and "setVariable" not in page.text


def test_start_up_checks_syntax_once_and_runs_no_escaped_code(server):
    base, log_path = server
    assert httpx.get(base + "/escape", timeout=30).text.strip() == "<p>escape</p>"
    log = log_path.read_text()
    assert "escaped code ran" not in log
    assert ("brands/acme/pages/escape.html:3:1: unexpected '}': it closes a bracket this script "
            "never opened") in log
    # Compiled once, by `serve` in an executor process, not again by each worker.
    assert log.count("warning: brands/acme/pages/broken.html:2:5: SyntaxError") == 1


def test_a_block_that_never_closes_stops_serve_and_is_listed_by_check(tmp_path, capsys):
    root = write_site(tmp_path / "site", {
        "brands/acme/pages/index.html": f'<p>hi</p>\n<script scope="backend">\nvar k = "{SECRET}";\n'
                                        '// </script>\n<p>more</p>',
    })
    serve = subprocess.run(
        [sys.executable, "-m", "funnelrun", "serve", str(root), "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )
    assert serve.returncode == 1
    expected = "brands/acme/pages/index.html:2:1: this backend script is never closed"
    assert expected in serve.stderr and "not serving" in serve.stderr
    assert main(["check", str(root)]) == 1
    assert capsys.readouterr().out.startswith(expected)


# -- the lexer against the engine -----------------------------------------------------------

FRAGMENTS = [
    "<!--", "-->", "/*", "*/", "//", '"', "'", "`", "${", "}", "{", ")", "(", "/", "/x/",
    "/[/]/", "\n", "\r", "\u2028", " ", "});", "(async function () {", "globalThis.ran = 1;",
    "x", "1", ";", ",", ":", "?", "=", "[", "]", ".", "++", "if (x)", "while (x)", "for (;;)",
    "a ? b :", "function f()", "x = function ()", "() =>", "async () =>", "=>", "await",
    "yield", "return", "of", "class A", "let", "else", "label:", "function* g()", "{}", "()",
    "x =>", "*", "m()", "static", "async", "get", "try", "catch", "case 1:", "`a${", "}b`",
]
WRAPPER = "(async function () {\n%s\n;\n})"  # as the bundler wraps one block


def compiles(code: str) -> bool:
    context = _quickjs.Context()
    try:
        context.eval('throw "compiled";' + code)  # compiled whole, then stopped at once
    except _quickjs.JSException as exc:
        return str(exc).split("\n", 1)[0] == "compiled"
    return False


def escapes(snippet: str) -> bool:
    """Whether evaluating the wrapped snippet runs code outside the wrapper: a flag set, or
    a value that is not the whole wrapper function."""
    context = _quickjs.Context()
    context.set_time_limit(1)
    code = WRAPPER % snippet
    try:
        value = context.eval(code)
        whole = context.eval("String")(value) == code[1:-1]
        return not whole or context.eval("globalThis.ran") == 1
    except _quickjs.JSException:
        return True  # something ran, and threw


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12).map("".join))
@example("<!-- /*\n}); globalThis.ran = 1; (async function () {\n// */")
@example("\n--> /*\n}); globalThis.ran = 1; (async function () {\n// */")
@example("if (x) /x/; }); globalThis.ran = 1; (async function () {")
@example("x = function () {} /x/; }); globalThis.ran = 1; (async function () {")
@example("a ? b : {} /1}); globalThis.ran = 1; (async function () { 1 /\n2")
def test_code_quickjs_would_run_while_compiling_is_refused_by_the_bundler(snippet: str) -> None:
    if not compiles(WRAPPER % snippet):
        return  # nothing of a script that does not compile ever runs
    closing, depth = over_closing(tokenize(snippet))
    if escapes(snippet):
        assert closing is not None, "the bundler would accept code that runs at compile time"
    else:  # the lexer reads brackets as the engine does
        assert (closing, depth) == (None, 0)
