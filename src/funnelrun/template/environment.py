"""Compiles templates once (lex, parse, generate, exec), caches named ones, and renders them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from funnelrun.errors import Position, TemplateNotFound
from funnelrun.template.compiler import Dependency, asset_paths, generate, translation_keys
from funnelrun.template.filters import FILTERS
from funnelrun.template.lexer import TemplateSource
from funnelrun.template.parser import parse
from funnelrun.template.runtime import (
    ASSETS,
    EMPTY_BLOCKS,
    NAMESPACE,
    TRANSLATOR,
    AssetLinker,
    Renderable,
    SessionItems,
    Translator,
)

Loader = Callable[[str], TemplateSource | None]


class Template:
    """A compiled template: render it as often as you like, from any thread."""

    __slots__ = ("_root", "asset_paths", "dependencies", "environment", "extends", "name",
                 "source", "translation_keys")

    def __init__(
        self,
        environment: Environment,
        name: str | None,
        source: TemplateSource,
        root: Callable[..., None],
        dependencies: tuple[str, ...],
        extends: str | None = None,
        translation_keys: tuple[tuple[str, int, int], ...] = (),
        asset_paths: tuple[tuple[str, int, int], ...] = (),
    ) -> None:
        self.environment = environment
        self.name = name  # the loader's name; None for a page compiled from text
        self.source = source
        # Names given as string literals to @extends / @component, in document order, once
        # each; the site follows them to find the backend scripts of layouts and components.
        self.dependencies = dependencies
        self.extends = extends  # the @extends name when it is a string literal
        # String-literal keys of t() and `| t`, with line and column, for `funnelrun check`.
        self.translation_keys = translation_keys
        # String-literal paths of asset('…'), with line and column: missing ones are warned of.
        self.asset_paths = asset_paths
        self._root = root

    @property
    def filename(self) -> str:
        return self.source.filename

    @property
    def error_source(self) -> str:
        """The text errors show a caret under (padded to the file's own line numbers)."""
        return self.source.file_text

    def render(
        self, context: Mapping[str, Any] | None = None, *, session: SessionItems | None = None,
        translator: Translator | None = None, assets: AssetLinker | None = None,
    ) -> str:
        """The template's HTML for `context`. Missing names print nothing; only a broken
        @extends/@component (unknown template, cycle) raises. `translator` answers t() and
        the other language functions; without one they answer '' (and [] and {}). `assets`
        answers asset(); without it asset() gives plain `/assets/…` URLs."""
        buf: list[str] = []
        ctx: Mapping[Any, Any] = context if context is not None else {}
        if translator is not None or assets is not None:
            ctx = {**ctx, TRANSLATOR: translator, ASSETS: assets}
        self._root(ctx, session, EMPTY_BLOCKS, buf, (self,), 0)
        return "".join(buf)

    def render_into(
        self, ctx: Any, items: Any, blocks: Any, buf: list[str], chain: tuple[Renderable, ...],
        depth: int,
    ) -> None:
        """Render as a layout or component of another template, into its buffer."""
        self._root(ctx, items, blocks, buf, chain, depth)

    def __repr__(self) -> str:
        return f"<Template {self.name or self.filename!r}>"


class Environment:
    """Where templates are compiled and where `@extends` / `@component` names are looked up."""

    def __init__(self, loader: Loader | None = None) -> None:
        self.loader = loader
        self._cache: dict[str, Template] = {}
        self._compiling: set[str] = set()  # names being compiled; a cycle must not recurse
        self._lock = threading.RLock()

    def compile(self, source: str, filename: str = "<template>", first_line: int = 1) -> Template:
        """Parse and compile a template (a page) once. Raises TemplateSyntaxError, or
        TemplateNotFound when a literal @extends/@component name is unknown."""
        with self._lock:
            return self._compile(TemplateSource(source, filename, first_line), None)

    def get_template(self, name: str) -> Template:
        """The template the loader has for `name`, compiled on first use and then cached."""
        template = self._cache.get(name)
        if template is not None:
            return template
        with self._lock:
            template = self._cache.get(name)
            if template is not None:
                return template
            loaded = self.loader(name) if self.loader is not None else None
            if loaded is None:
                raise TemplateNotFound(f"template '{name}' not found", None)
            self._compiling.add(name)
            try:
                template = self._compile(loaded, name)
            finally:
                self._compiling.discard(name)
            self._cache[name] = template
            return template

    def clear_cache(self) -> None:
        """Forget compiled templates, so changed files are read again."""
        with self._lock:
            self._cache.clear()

    def _compile(self, source: TemplateSource, name: str | None) -> Template:
        tree = parse(source)
        generated = generate(tree, source, FILTERS)
        namespace = dict(NAMESPACE)
        namespace.update({ident: FILTERS[filter_name]
                          for ident, filter_name in generated.filters.items()})
        code = compile(generated.code, f"<template {source.filename}>", "exec")
        exec(code, namespace)  # our own generated code: names and literals are all repr()'d
        names = tuple(dependency.name for dependency in generated.dependencies)
        layout = next(
            (d.name for d in generated.dependencies if d.directive == "extends"), None
        )
        template = Template(self, name, source, namespace["root"], names, layout,
                            translation_keys(tree), asset_paths(tree))
        namespace["TPL"] = template
        for dependency in generated.dependencies:
            self._require(dependency, source)
        return template

    def _require(self, dependency: Dependency, source: TemplateSource) -> None:
        """Fail now, at the directive, when a literal template name is unknown."""
        if dependency.name in self._cache or dependency.name in self._compiling:
            return
        try:
            self.get_template(dependency.name)
        except TemplateNotFound as error:
            if error.position is not None:
                raise
            where = Position(source.filename, dependency.line, dependency.column)
            raise TemplateNotFound(
                f"@{dependency.directive}: template '{dependency.name}' not found",
                where,
                source=source.file_text,
            ) from None
