"""The public API of funnelrun.template, pinned."""

from __future__ import annotations

import inspect

import funnelrun.template as template
from funnelrun.template import Environment, Template, TemplateSource


def test_public_names():
    assert sorted(template.__all__) == sorted([
        "FILTERS", "UNDEFINED", "Environment", "Loader", "SessionItems", "Template",
        "TemplateSource", "Token", "lex", "parse",
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
        "session: 'SessionItems | None' = None) -> 'str'"
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
    """lexer → parser → compiler; runtime, filters and values import no earlier stage."""
    import funnelrun.template.compiler as compiler
    import funnelrun.template.filters as filters
    import funnelrun.template.lexer as lexer
    import funnelrun.template.nodes as nodes
    import funnelrun.template.parser as parser
    import funnelrun.template.runtime as runtime
    import funnelrun.template.values as values

    def imported(module) -> set[str]:
        source = inspect.getsource(module)
        return {name for name in ("lexer", "parser", "nodes", "compiler", "runtime", "filters",
                                  "values", "environment")
                if f"funnelrun.template.{name} import" in source
                or f"from funnelrun.template import {name}" in source}

    assert imported(lexer) == set()
    assert imported(nodes) == set()
    assert imported(parser) == {"lexer", "nodes"}
    assert imported(compiler) == {"lexer", "nodes"}
    assert imported(values) == set()
    assert imported(filters) == {"values"}
    assert imported(runtime) == {"values"}
