"""The backend template engine: `{{ }}` outputs and `@` directives, compiled once to Python.

    env = Environment(loader=load)              # load(name) -> TemplateSource | None
    page = env.compile(text, "pages/index.html", first_line=4)
    html = page.render(context, session=items, translator=language, assets=links)
"""

from funnelrun.template.environment import Environment, Loader, Template
from funnelrun.template.filters import FILTERS
from funnelrun.template.lexer import TemplateSource, Token, lex
from funnelrun.template.parser import parse
from funnelrun.template.runtime import AssetLinker, SessionItems, Translator
from funnelrun.template.values import UNDEFINED

__all__ = [
    "FILTERS",
    "UNDEFINED",
    "AssetLinker",
    "Environment",
    "Loader",
    "SessionItems",
    "Template",
    "TemplateSource",
    "Token",
    "Translator",
    "lex",
    "parse",
]
