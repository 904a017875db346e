"""The public API of funnelrun.template, pinned."""

from __future__ import annotations

import ast
import inspect

import funnelrun.template as template
from funnelrun.template import Environment, Template, TemplateSource


def test_public_names():
    assert sorted(template.__all__) == sorted([
        "FILTERS", "UNDEFINED", "AssetLinker", "Environment", "Loader", "SessionItems",
        "Template", "TemplateSource", "Token", "Translator", "lex", "parse",
    ])
    for name in template.__all__:
        assert hasattr(template, name)


def test_signatures():
    assert str(inspect.signature(Environment)) == "(loader: 'Loader | None' = None) -> 'None'"
    assert str(inspect.signature(Environment.compile)) == (
        "(self, source: 'str', filename: 'str' = '<template>', first_line: 'int' = 1) "
        "-> 'Template'"
    )
    assert str(inspect.signature(Environment.get_template)) == (
        "(self, name: 'str') -> 'Template'"
    )
    assert str(inspect.signature(Template.render)) == (
        "(self, context: 'Mapping[str, Any] | None' = None, *, "
        "session: 'SessionItems | None' = None, translator: 'Translator | None' = None, "
        "assets: 'AssetLinker | None' = None) -> 'str'"
    )


def test_template_source_defaults_to_line_one():
    assert TemplateSource("x", "f.html") == TemplateSource("x", "f.html", 1)


def test_template_attributes():
    page = Environment().compile("{{ x }}", "pages/a.html", first_line=3)
    assert page.filename == "pages/a.html"
    assert page.name is None
    assert page.dependencies == ()
    assert page.extends is None
    assert page.source == TemplateSource("{{ x }}", "pages/a.html", 3)


def test_module_imports_flow_downstream_only():
    """lexer → parser → compiler; runtime, filters, stringify and values import no earlier
    stage."""
    import funnelrun.template.compiler as compiler
    import funnelrun.template.filters as filters
    import funnelrun.template.html_context as html_context
    import funnelrun.template.lexer as lexer
    import funnelrun.template.nodes as nodes
    import funnelrun.template.parser as parser
    import funnelrun.template.runtime as runtime
    import funnelrun.template.stringify as stringify
    import funnelrun.template.values as values

    stages = {"lexer", "parser", "nodes", "html_context", "compiler", "runtime", "filters",
              "stringify", "values", "environment"}

    def imported(module) -> set[str]:
        found = set()
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.ImportFrom) and node.module == "funnelrun.template":
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module.removeprefix("funnelrun.template."))
        return found & stages

    assert imported(lexer) == set()
    assert imported(nodes) == set()
    assert imported(parser) == {"lexer", "nodes"}
    assert imported(html_context) == {"nodes"}
    assert imported(compiler) == {"lexer", "nodes", "html_context"}
    assert imported(values) == set()
    assert imported(stringify) == {"values"}
    assert imported(filters) == {"values", "stringify"}
    assert imported(runtime) == {"values", "stringify"}
