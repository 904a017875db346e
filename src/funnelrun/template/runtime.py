"""What compiled templates call while rendering: components, layouts, session items, values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from funnelrun.asset_urls import asset_path, asset_url
from funnelrun.errors import Position, TemplateNotFound, TemplateRuntimeError
from funnelrun.template import values
from funnelrun.template.stringify import json_value, to_json
from funnelrun.template.values import UNDEFINED, to_str

# How deep @component and @extends may nest: a template including itself must stop somewhere.
MAX_DEPTH = 48
EMPTY_BLOCKS: dict[str, Any] = {}  # shared, never written to


class SessionItems(Protocol):
    """The visitor's template session items, implemented by the app on its session."""

    def get_item(self, key: str) -> Any:
        """The item's value, or '' when there is none."""

    def set_item(self, key: str, value: Any) -> None:
        """Store a value; None deletes the item."""

    def clear_item(self, key: str) -> None:
        """Delete the item."""


class Translator(Protocol):
    """The request's language and dictionary, implemented by the app (funnelrun.i18n)."""

    @property
    def language(self) -> str:
        """The resolved language code (`{{ locale }}`)."""

    def translate(self, key: str, params: Mapping[str, str] | None = None) -> str:
        """The text for `key` ('' when there is none), `{{ name }}` placeholders filled."""

    def translations(self) -> dict[str, str]:
        """A copy of the whole dictionary."""

    def locales(self) -> list[str]:
        """The brand's language codes, in order."""

    def default_locale(self) -> str:
        """The brand's default language code, or ''."""


class AssetLinker(Protocol):
    """The brand's asset URLs, implemented by the app (funnelrun.asset_urls.AssetLinks)."""

    def url(self, argument: str) -> str:
        """`asset(argument)`: the asset's URL, with `?v=<hash>` when it exists."""


class _ContextKey:
    """A context key of the runtime's (the translator, the asset links): not a string, so no
    name or object literal key of a template can reach or replace it."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


TRANSLATOR: Any = _ContextKey("TRANSLATOR")
ASSETS: Any = _ContextKey("ASSETS")


class Renderable(Protocol):
    """What the runtime needs of a compiled template (environment.Template)."""

    @property
    def environment(self) -> TemplateLookup: ...

    @property
    def name(self) -> str | None: ...

    @property
    def filename(self) -> str: ...

    def render_into(
        self, ctx: Any, items: Any, blocks: Any, buf: list[str], chain: tuple[Renderable, ...],
        depth: int,
    ) -> None: ...

    @property
    def error_source(self) -> str: ...


class TemplateLookup(Protocol):
    """Where @extends and @component names are looked up (environment.Environment)."""

    def get_template(self, name: str) -> Renderable: ...


# -- session items -----------------------------------------------------------------------------


def get_item(items: SessionItems | None, key: Any) -> Any:
    if items is None:
        return ""
    return items.get_item(to_str(key))


def set_item(items: SessionItems | None, key: Any, value: Any) -> None:
    if items is not None:
        items.set_item(to_str(key), _plain(value))


def clear_item(items: SessionItems | None, key: Any) -> None:
    if items is not None:
        items.clear_item(to_str(key))


def _plain(value: Any) -> Any:
    """A template value as JSON-like Python data for the app (undefined becomes None)."""
    return None if value is UNDEFINED else json_value(value)


# -- translations ------------------------------------------------------------------------------


def translate(ctx: Any, key: Any, params: Any = UNDEFINED) -> str:
    """`t(key, params)` and `key | t:params`: '' without a translator or for a key that is not
    a string or number; `params`, an object, fills the text's `{{ name }}` placeholders."""
    translator: Translator | None = ctx.get(TRANSLATOR)
    if translator is None or not isinstance(key, str | int | float) or isinstance(key, bool):
        return ""
    texts = ({name: to_str(value) for name, value in params.items()}
             if isinstance(params, Mapping) else None)
    return translator.translate(to_str(key), texts)


def locales(ctx: Any) -> list[str]:
    translator: Translator | None = ctx.get(TRANSLATOR)
    return [] if translator is None else translator.locales()


def default_locale(ctx: Any) -> str:
    translator: Translator | None = ctx.get(TRANSLATOR)
    return "" if translator is None else translator.default_locale()


def resolved_language(ctx: Any) -> str:
    translator: Translator | None = ctx.get(TRANSLATOR)
    return "" if translator is None else translator.language


def translations(ctx: Any) -> dict[str, str]:
    translator: Translator | None = ctx.get(TRANSLATOR)
    return {} if translator is None else translator.translations()


# -- assets ------------------------------------------------------------------------------------


def asset(ctx: Any, path: Any) -> str:
    """`asset('css/site.css')`: the URL of a file of the brand's assets folder, with its
    content hash; without asset links (a template rendered on its own) the plain URL."""
    links: AssetLinker | None = ctx.get(ASSETS)
    text = to_str(path)
    return links.url(text) if links is not None else asset_url(asset_path(text))


def dump(value: Any) -> str:
    """Pretty JSON with a 2-space indent; escaped like any other text when printed."""
    return to_json(value, indent=2, script_safe=False)


# -- components and layouts --------------------------------------------------------------------


def _lookup(caller: Renderable, name: Any, directive: str, line: int, column: int) -> Renderable:
    """The template `name` names, or TemplateNotFound at the directive's position."""
    text = to_str(name)
    try:
        return caller.environment.get_template(text)
    except TemplateNotFound as error:
        if error.position is not None:
            raise
        where = Position(caller.filename, line, column)
        raise TemplateNotFound(
            f"@{directive}: template '{text}' not found", where, source=caller.error_source
        ) from None


def _check_depth(caller: Renderable, depth: int, directive: str, line: int, column: int) -> None:
    if depth >= MAX_DEPTH:
        raise TemplateRuntimeError(
            f"templates nest more than {MAX_DEPTH} deep through @component and @extends; "
            "does a component include itself?",
            Position(caller.filename, line, column),
            source=caller.error_source,
        )


def component(
    caller: Renderable, name: Any, args: Any, ctx: Any, items: Any, buf: list[str], depth: int,
    line: int, column: int,
) -> None:
    """Render a component: the caller's context overlaid by `args`, none of its variables."""
    _check_depth(caller, depth, "component", line, column)
    template = _lookup(caller, name, "component", line, column)
    if isinstance(args, dict) and args:
        ctx = {**ctx, **args}
    template.render_into(ctx, items, EMPTY_BLOCKS, buf, (template,), depth + 1)


def extend(
    caller: Renderable, name: Any, blocks: dict[str, Any], ctx: Any, items: Any, buf: list[str],
    chain: tuple[Renderable, ...], depth: int, line: int, column: int,
) -> None:
    """Render the layout a child template extends, with the child's blocks."""
    _check_depth(caller, depth, "extends", line, column)
    layout = _lookup(caller, name, "extends", line, column)
    if layout in chain:
        names = " → ".join(_label(template) for template in (*chain, layout))
        raise TemplateRuntimeError(
            f"@extends cycle: {names}", Position(caller.filename, line, column),
            source=caller.error_source,
        )
    layout.render_into(ctx, items, blocks, buf, (*chain, layout), depth + 1)


def _label(template: Renderable) -> str:
    return template.name or template.filename


# The names generated code uses; the environment adds the filters and `TPL` (the template).
NAMESPACE: dict[str, Any] = {
    "U": UNDEFINED,
    "out": values.out,
    "out_script": values.out_script,
    "out_tag": values.out_tag,
    "out_value": values.out_value,
    "out_unquoted": values.out_unquoted,
    "to_str": values.to_str,
    "to_number": values.to_number,
    "truthy": values.truthy,
    "ga": values.ga,
    "gi": values.gi,
    "iterate": values.iterate,
    "add": values.add,
    "sub": values.sub,
    "mul": values.mul,
    "div": values.div,
    "mod": values.mod,
    "neg": values.neg,
    "strict_eq": values.strict_eq,
    "loose_eq": values.loose_eq,
    "lt": values.lt,
    "le": values.le,
    "gt": values.gt,
    "ge": values.ge,
    "dump": dump,
    "translate": translate,
    "locales": locales,
    "default_locale": default_locale,
    "resolved_language": resolved_language,
    "translations": translations,
    "asset": asset,
    "get_item": get_item,
    "set_item": set_item,
    "clear_item": clear_item,
    "component": component,
    "extend": extend,
}
