"""build_bundle: imports of each form, modules, and positions mapped back to the right file."""

from __future__ import annotations

import pytest

from funnelrun.errors import Position, ScriptImportError, ScriptSyntaxError
from funnelrun.script import (
    ScriptJob,
    build_bundle,
    find_backend_scripts,
    module_name,
    run_inline,
)

from .conftest import PAGE, REQUEST, page_job, resolver

HELPERS = """import { suffix } from "text";
export function greet(name) { return "hi " + name + suffix }
export const one = 1, two = {
  nested: [1, 2],
}, three = 3;
export let counter = 0;
"""
TEXT = """export const suffix = "!";
export default function shout(s) { return s.toUpperCase() }
const hidden = 5;
export { hidden as revealed };
console.log("text module ran");
"""
MODULES = {"helpers": HELPERS, "text": TEXT}


def variables(code: str, modules: dict[str, str] | None = None) -> dict:
    result = run_inline(page_job(code, modules=MODULES if modules is None else modules))
    assert result.outcome == "ok", result.error
    return dict(result.effects.variables)


def test_named_imports_with_and_without_alias() -> None:
    assert variables('import { greet, one as uno } from "helpers";\n'
                     'setVariable("g", greet("ann")); setVariable("n", uno);') == \
        {"g": "hi ann!", "n": 1}


def test_namespace_import_sees_every_export() -> None:
    code = 'import * as h from "helpers";\nsetVariable("keys", Object.keys(h).sort());'
    assert variables(code) == {"keys": ["counter", "greet", "one", "three", "two"]}


def test_default_import_and_named_list_export_with_alias() -> None:
    code = ('import shout from "text";\nimport { revealed } from "text";\n'
            'setVariable("s", shout("a") + revealed);')
    assert variables(code) == {"s": "A5"}


def test_default_and_named_in_one_import() -> None:
    assert variables('import shout, { suffix } from "text"; setVariable("s", shout(suffix));') \
        == {"s": "!"}


def test_anonymous_default_export_of_an_expression() -> None:
    modules = {"config": "export default {\n  price: 49,\n};\n"}
    assert variables('import config from "config"; setVariable("p", config.price);', modules) \
        == {"p": 49}


def test_export_var_async_function_and_class() -> None:
    modules = {"m": "export var v = 2;\nexport async function later() { await null; return 3 }\n"
                    "export class Box { get size() { return 4 } }\n"}
    code = ('import { v, later, Box } from "m";\n'
            'setVariable("sum", v + await later() + new Box().size);')
    assert variables(code, modules) == {"sum": 9}


def test_nested_imports_run_each_module_once_in_dependency_order() -> None:
    code = ('import { greet } from "helpers";\nimport { suffix } from "text";\n'
            'setVariable("g", greet(suffix));')
    result = run_inline(page_job(code, modules=MODULES))
    assert result.effects.variables == {"g": "hi !!"}
    assert [entry.text for entry in result.console] == ["text module ran"]


@pytest.mark.parametrize("specifier", ["helpers", "./helpers", "helpers.js", "../helpers.js"])
def test_specifier_spellings_name_the_same_module(specifier: str) -> None:
    assert variables(f'import {{ one }} from "{specifier}"; setVariable("o", one);') == {"o": 1}


@pytest.mark.parametrize(("specifier", "expected"), [
    ("a", "a"), ("./a.js", "a"), ("utils/helpers", "utils/helpers"), ("../../a", "a"),
    ("", None), ("/etc/passwd", None), ("a/../b", None), ("a b", None), ("a\\b", None),
])
def test_module_name_normalises_specifiers(specifier: str, expected: str | None) -> None:
    assert module_name(specifier) == expected


def test_module_bodies_may_await() -> None:
    modules = {"slow": "await null;\nexport const ready = true;\n"}
    assert variables('import { ready } from "slow"; setVariable("r", ready);', modules) == \
        {"r": True}


def test_top_level_await_and_return_work() -> None:
    assert variables('await null;\nsetVariable("a", 1);\nreturn;\nsetVariable("b", 2);') == \
        {"a": 1}


def test_two_blocks_may_import_the_same_name() -> None:
    source = ('<script scope="backend">import { one } from "helpers";</script>'
              '<script scope="backend">import { one } from "helpers"; setVariable("o", one);'
              "</script>")
    bundle = build_bundle([(PAGE, find_backend_scripts(source))], resolver(MODULES))
    assert run_inline(ScriptJob(bundle, REQUEST)).effects.variables == {"o": 1}


def test_bundle_lists_its_files() -> None:
    bundle = page_job('import { greet } from "helpers";', modules=MODULES).bundle
    assert bundle.files == (PAGE, "modules/text.js", "modules/helpers.js")


# -- import errors, with the position of the offending import ------------------------------------


def import_error(code: str, modules: dict[str, str] | None = None) -> ScriptImportError:
    with pytest.raises(ScriptImportError) as caught:
        page_job(code, modules=MODULES if modules is None else modules)
    return caught.value


def test_missing_module_names_the_import_line() -> None:
    error = import_error('\nimport { x } from "nowhere";')
    assert error.headline() == \
        f"{PAGE}:2:1: module 'nowhere' not found (expected modules/nowhere.js)"


def test_missing_module_imported_by_a_module_points_into_that_module() -> None:
    error = import_error('import { a } from "m";', {"m": '// m\nimport { b } from "gone";'})
    assert error.position == Position("modules/m.js", 2, 1)


def test_import_cycle_is_an_error_at_the_import_closing_it() -> None:
    modules = {"a": 'import { b } from "b";\nexport const a = 1;',
               "b": '// b\nimport { a } from "a";\nexport const b = 2;'}
    error = import_error('import { a } from "a";', modules)
    assert error.message == "import cycle: a -> b -> a"
    assert error.position == Position("modules/b.js", 2, 1)


def test_self_import_is_a_cycle() -> None:
    error = import_error('import { a } from "a";', {"a": 'import { a } from "a";'})
    assert error.message == "import cycle: a -> a"


def test_missing_export_is_an_error() -> None:
    error = import_error('import { nope } from "text";')
    assert error.message == "module 'text' has no export 'nope'"
    assert error.position == Position(PAGE, 1, 25)


@pytest.mark.parametrize(("code", "message"), [
    ('import { a from "text";', "bad import: expected a name, found '\"text\"'"),
    ("import a from text;", "bad import: expected a string, found 'text'"),
    ('import { suffix } from "text" setVariable(1)',
     "bad import: expected ';' or a new line after \"text\""),
    ('import * from "text";', "bad import: expected 'as', found 'from'"),
    ('import x from "../../../etc/passwd/..";',
     'bad import: "../../../etc/passwd/.." is not a module name; expected a name like '
     '"validators" (modules/validators.js)'),
    ('let a = 1;\nimport { suffix } from "text";',
     "import statements must come first in a script, before other code"),
])
def test_bad_import_lines_are_errors(code: str, message: str) -> None:
    assert import_error(code).message == message


def test_dynamic_import_is_left_to_the_engine_and_finds_nothing() -> None:
    result = run_inline(page_job('await import("text");'))
    assert result.outcome == "error"
    assert "could not load module" in result.error.message


def test_export_outside_a_module_is_a_syntax_error() -> None:
    with pytest.raises(ScriptSyntaxError) as caught:
        page_job("export const a = 1;")
    assert caught.value.headline() == \
        f"{PAGE}:1:25: export is only allowed in modules (modules/*.js)"


@pytest.mark.parametrize(("module", "message"), [
    ("export * from 'x';", "bad export: expected default, const"),
    ("const a = 1;\nexport { a } from 'x';", "re-exports (export ... from) are not supported"),
    ("export const { a } = {};", "bad export: destructuring is not supported"),
    ("export const a = 1;\nexport { a };", "'a' is exported twice"),
])
def test_unsupported_exports_are_errors(module: str, message: str) -> None:
    assert import_error('import * as m from "m";', {"m": module}).message.startswith(message)


def test_strings_and_comments_that_look_like_exports_are_left_alone() -> None:
    modules = {"m": 'const s = "export const x = 1"; // export const y\n'
                    "/* export function z() {} */ export const t = `${s} export`;\n"}
    assert variables('import * as m from "m"; setVariable("k", Object.keys(m));', modules) == \
        {"k": ["t"]}


# -- positions of errors in the bundle ---------------------------------------------------------


def failure(parts: list[tuple[str, str]], modules: dict[str, str] | None = None):
    bundle = build_bundle([(name, find_backend_scripts(source)) for name, source in parts],
                          resolver(modules or {}))
    result = run_inline(ScriptJob(bundle, REQUEST))
    assert result.outcome == "error"
    return result.error


def test_error_on_a_blocks_first_line_counts_the_columns_before_the_block() -> None:
    error = failure([(PAGE, '<p>hi</p> <script scope="backend">  missing();</script>')])
    assert error.position == Position(PAGE, 1, 37)
    assert error.message == "ReferenceError: missing is not defined"


def test_error_in_a_later_block_of_the_page() -> None:
    page = ('<script scope="backend">let a = 1;</script>\n<h1>x</h1>\n'
            '<script scope="backend">\nlet b = 2;\n  a.b.c;\n</script>')
    assert failure([(PAGE, page)]).position == Position(PAGE, 5, 3)


def test_errors_in_layout_and_component_parts_point_at_those_files() -> None:
    layout = ("components/layout.html", '<script scope="backend">\nvar fromLayout = 1;\n</script>')
    component = ("components/card.html", '<div>\n  <script scope="backend">boom();</script>')
    page = (PAGE, '<script scope="backend">fine();</script>')
    error = failure([layout, component, page])
    assert error.position == Position("components/card.html", 2, 27)


def test_error_in_a_module_points_at_the_module() -> None:
    modules = {"m": "export function f() {\n  return undefinedThing;\n}\n"}
    error = failure([(PAGE, '<script scope="backend">import { f } from "m";\nf();</script>')],
                    modules)
    assert error.position == Position("modules/m.js", 2, 10)


def test_columns_count_characters_not_bytes() -> None:
    error = failure([(PAGE, '<script scope="backend">const s = "ééé"; nope();</script>')])
    assert error.position == Position(PAGE, 1, 42)


def test_thrown_value_without_a_stack_has_no_position() -> None:
    error = failure([(PAGE, '<script scope="backend">throw "plain";</script>')])
    assert error.message == "uncaught exception: plain"
    assert error.position is None


def test_a_block_that_closes_the_bundle_wrapper_is_a_syntax_error() -> None:
    source = '<p>\n<script scope="backend">\n  }); globalThis.ran = 1; (async function () {\n</script>'
    with pytest.raises(ScriptSyntaxError) as caught:
        build_bundle([(PAGE, find_backend_scripts(source))], resolver({}))
    assert caught.value.position == Position(PAGE, 3, 3)
    assert "closes a bracket this script never opened" in caught.value.message


def test_a_module_that_closes_its_wrapper_is_a_syntax_error() -> None:
    source = '<script scope="backend">import { a } from "evil";</script>'
    with pytest.raises(ScriptSyntaxError) as caught:
        build_bundle([(PAGE, find_backend_scripts(source))],
                     resolver({"evil": "export const a = 1;\n})(); ran(); (async function () {"}))
    assert caught.value.position == Position("modules/evil.js", 2, 1)


def test_a_bracket_opened_in_one_block_may_close_in_the_next() -> None:
    source = ('<script scope="backend">try {\n  setVariable("a", 1);</script>'
              '<p>between</p><script scope="backend">} finally { setVariable("b", 2); }</script>')
    result = run_inline(ScriptJob(build_bundle([(PAGE, find_backend_scripts(source))],
                                               resolver({})), REQUEST))
    assert result.outcome == "ok", result.error
    assert dict(result.effects.variables) == {"a": 1, "b": 2}


def test_a_later_block_reads_slash_as_the_brackets_earlier_blocks_opened_say() -> None:
    # Block 1 leaves a function expression open; after its `}` in block 2, `/` divides. Read
    # as a regular expression (as if block 2 stood alone), `/1}); … /` would hide the `})`
    # that closes the bundle's wrapper.
    source = ('<script scope="backend">var f = function () {\n</script>'
              '<script scope="backend">} /1}); globalThis.ran = 1; (async function () { 1 /\n2'
              '</script>')
    with pytest.raises(ScriptSyntaxError, match="closes a bracket this script never opened"):
        build_bundle([(PAGE, find_backend_scripts(source))], resolver({}))


@pytest.mark.parametrize(("code", "modules", "says"), [
    ("setVariable('t', request.device.type);", {}, True),
    ("const {device} = request;", {}, True),
    ('import { kind } from "d"; setVariable("k", kind());', {"d": "export const kind = () => "
                                                                  "request.device.type;"}, True),
    ("setVariable('m', request.is_mobile);", {}, False),
])
def test_a_bundle_knows_whether_its_code_says_device(code, modules, says) -> None:
    """Only then does a run get `request.device` (parsed from the User-Agent)."""
    assert page_job(code, modules=modules).bundle.names_device is says
