"""check_script_syntax: bundles compiled in a checker process, errors mapped to their files."""

from __future__ import annotations

import sys

import _quickjs
import pytest

from funnelrun.errors import Position, ScriptSyntaxError
from funnelrun.script import Bundle, build_bundle, check_script_syntax, find_backend_scripts, syntax
from funnelrun.script.engine import compile_error

from .conftest import PAGE, page_job, resolver


def bundle_of(code: str, modules: dict[str, str] | None = None) -> Bundle:
    return page_job(code, modules=modules).bundle


def test_reports_each_pages_syntax_errors_in_the_right_file_once() -> None:
    broken_module = {"m": "export const a = 1;\nexport function f( {\n"}
    module_page = build_bundle(
        [(PAGE, find_backend_scripts('<script scope="backend">\nimport { a } from "m";</script>'))],
        resolver(broken_module))
    problems = check_script_syntax([
        (PAGE, bundle_of("let a = 1;\nlet b = = 2;")),
        (PAGE, bundle_of('import { a } from "m";', broken_module)),
        ("pages/other.html", module_page),  # the same module error: reported once
        (PAGE, bundle_of("setVariable('fine', 1);")),
    ])
    assert [p.headline() for p in problems] == [
        f"{PAGE}:2:9: SyntaxError: unexpected token in expression: '='",
        "modules/m.js:3:1: SyntaxError: invalid property name",  # the end of the module
    ]
    assert all(isinstance(p, ScriptSyntaxError) for p in problems)


def test_no_scripts_start_no_checker(monkeypatch) -> None:
    monkeypatch.setattr(syntax, "executor_command", lambda memory_mb: pytest.fail("started"))
    assert check_script_syntax([]) == []


def test_code_that_escapes_its_wrapper_is_compiled_but_never_run() -> None:
    # The bundler refuses such code (test_bundle); the check must not depend on that.
    escaping = Bundle('(async function () {\n}); throw new Error("escaped code ran"); '
                      "(async function () {\n})", (), (PAGE,))
    assert check_script_syntax([(PAGE, escaping)]) == []


def test_a_checker_that_runs_out_of_time_is_a_problem_of_that_page_only() -> None:
    slow = Bundle("(async function () {\n" + "x=1;" * 800_000 + "\n})", (), (PAGE,))
    problems = check_script_syntax([("pages/slow.html", slow), (PAGE, bundle_of("let b = = 2;"))],
                                   timeout_s=0.05)  # compiling `slow` takes about 0.3 s
    assert [p.headline() for p in problems] == [
        "pages/slow.html:1:1: the syntax check of this script failed: it was still compiling "
        "after 0.05 s",
        f"{PAGE}:1:33: SyntaxError: unexpected token in expression: '='",  # a fresh checker's
    ]


def test_a_checker_that_crashes_is_named_with_its_last_words(monkeypatch) -> None:
    dies = ("import os, sys; from funnelrun.script.frames import dump, write_fd; "
            "write_fd(1, dump({'t': 'ready'})); sys.stdin.buffer.read(4); "
            "sys.exit('checker: out of cheese')")
    monkeypatch.setattr(syntax, "executor_command", lambda memory_mb: [sys.executable, "-c", dies])
    [problem] = check_script_syntax([(PAGE, bundle_of("let a = 1;"))])
    assert problem.position == Position(PAGE, 1, 25)
    assert problem.message == ("the syntax check of this script failed: the checker exited with "
                               "status 1: checker: out of cheese")


def test_compile_error_never_runs_the_code() -> None:
    assert compile_error("while (true) {}") is None  # compiled, not run: no time limit hit
    assert compile_error("(async function () {\n}); throw 1; (async function () {\n})") is None
    message, line, column = compile_error("(async function () {\nlet b = = 2;\n})")
    assert (message, line, column) == ("SyntaxError: unexpected token in expression: '='", 2, 9)


def test_compile_error_refuses_a_nul_character() -> None:
    assert compile_error("var a = 1;\0") == ("SyntaxError: the script contains a NUL character",
                                             None, None)


def test_this_process_never_compiles_for_the_check(monkeypatch) -> None:
    monkeypatch.setattr(_quickjs, "Context", lambda: pytest.fail("compiled in this process"))
    assert check_script_syntax([(PAGE, bundle_of("let b = = 2;"))]) != []


def test_a_checker_that_cannot_start_is_tried_once(monkeypatch) -> None:
    starts = []

    def command(memory_mb: int) -> list[str]:
        starts.append(memory_mb)
        return [sys.executable, "-c", "import sys; sys.exit('no engine here')"]

    monkeypatch.setattr(syntax, "executor_command", command)
    problems = check_script_syntax([(PAGE, bundle_of("a()")), ("pages/b.html", bundle_of("b()"))])
    assert len(starts) == 1  # not once per page
    assert [p.headline() for p in problems] == [
        f"{PAGE}:1:25: the syntax check of this script failed: the checker exited with "
        "status 1: no engine here",
        "pages/b.html:1:1: the syntax check of this script failed: the checker exited with "
        "status 1: no engine here",
    ]
