"""A page's backend script: its blocks cut out of the templates, and joined with those of its
layouts and components into one bundle (SPEC §2 step 5)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

from ..script import Bundle, ScriptBlock, build_bundle, find_backend_scripts
from ..template import Environment, Template, TemplateSource
from ..template.lexer import COMMENT_CLOSE, COMMENT_OPEN, comment_spans

Parts = list[tuple[str, list[ScriptBlock]]]  # (file, its blocks), in run order


class ScriptSources(Protocol):
    """Where a page's layouts, components and modules come from (a brand)."""

    @property
    def env(self) -> Environment: ...

    @property
    def components(self) -> Mapping[str, TemplateSource]: ...

    @property
    def component_scripts(self) -> Mapping[str, list[ScriptBlock]]: ...

    def resolve_module(self, name: str) -> tuple[str, str] | None: ...


def split_scripts(source: str, filename: str,
                  first_line: int = 1) -> tuple[str, list[ScriptBlock]]:
    """A template's backend script blocks, and the template without them.

    Each block becomes a template comment of the same lines and columns, so the template
    engine drops lines that held only a script and error positions stay those of the file.
    A block inside a `{{-- --}}` comment is commented out: removed, never run. Comments are
    found by the template lexer in the template with every block blanked: a `{{--` or `--}}`
    inside a script's code is code. A block that never ends is a SiteError.
    """
    blocks = find_backend_scripts(source, first_line, filename=filename)
    if not blocks:
        return source, []
    masked = "".join(_pieces(source, blocks, lambda block, text: _blank(text, as_comment=False)))
    comments = comment_spans(TemplateSource(masked, filename, first_line))
    running = [b for b in blocks if not any(start < b.start < end for start, end in comments)]
    starts = {block.start for block in running}
    template = "".join(_pieces(source, blocks,
                               lambda block, text: _blank(text, as_comment=block.start in starts)))
    return template, running


def page_bundle(sources: ScriptSources, filename: str, blocks: list[ScriptBlock],
                template: Template) -> Bundle | None:
    """The one script of a page: its layouts' blocks (outermost first), its own, then its
    components' in order of first use (each once); None when none of them has a block.
    Raises ScriptError for a bad import or a missing module."""
    seen: set[str] = set()  # component names already included
    parts = [*_layout_parts(sources, template, seen), (filename, blocks)]
    parts += _component_parts(sources, template, seen)
    parts = [(name, found) for name, found in parts if found]
    return build_bundle(parts, sources.resolve_module) if parts else None


def _layout_parts(sources: ScriptSources, template: Template, seen: set[str]) -> Parts:
    """Scripts of the layouts a template extends, outermost layout first."""
    name = template.extends
    if name is None or name in seen or name not in sources.components:
        return []
    seen.add(name)
    layout = sources.env.get_template(name)
    own = (sources.components[name].filename, sources.component_scripts[name])
    return [*_layout_parts(sources, layout, seen), own, *_component_parts(sources, layout, seen)]


def _component_parts(sources: ScriptSources, template: Template, seen: set[str]) -> Parts:
    """Scripts of the components a template uses, each once, in order of first use."""
    parts: Parts = []
    for name in template.dependencies:
        if name == template.extends or name in seen or name not in sources.components:
            continue
        seen.add(name)
        parts.append((sources.components[name].filename, list(sources.component_scripts[name])))
        parts += _component_parts(sources, sources.env.get_template(name), seen)
    return parts


def _pieces(source: str, blocks: list[ScriptBlock],
            replace: Callable[[ScriptBlock, str], str]) -> Iterator[str]:
    """`source` with each block's text replaced by `replace(block, text)`."""
    position = 0
    for block in blocks:
        yield source[position:block.start]
        yield replace(block, source[block.start:block.end])
        position = block.end
    yield source[position:]


def _blank(removed: str, *, as_comment: bool) -> str:
    """Text with the newlines of `removed` and the same length of its last line: spaces, or a
    template comment (whose delimiters take the place of the first and last characters)."""
    newlines = removed.count("\n")
    tail = len(removed) - removed.rfind("\n") - 1 if newlines else len(removed)
    if not as_comment:
        return "\n" * newlines + " " * tail
    opening, closing = len(COMMENT_OPEN), len(COMMENT_CLOSE)
    if newlines == 0:
        return COMMENT_OPEN + " " * max(tail - opening - closing, 0) + COMMENT_CLOSE
    return COMMENT_OPEN + "\n" * newlines + " " * max(tail - closing, 0) + COMMENT_CLOSE
