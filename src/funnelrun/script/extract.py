"""Find the `<script scope="backend">` blocks of an HTML template, with their positions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Position, SiteError
from .jslex import iter_tokens

# `<script` then attributes up to the `>` that closes the tag; a `>` inside a quoted value
# does not close it (as in the HTML tokenizer).
_OPEN_TAG = re.compile(r"""<script(?=[\s/>])((?:"[^"]*"|'[^']*'|[^'">])*)>""", re.IGNORECASE)
_CLOSE_TAG = re.compile(r"</script\s*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(
    r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?"""
)


@dataclass(frozen=True, slots=True)
class ScriptBlock:
    """One backend script: its code, where the whole element sits in the source (`start`/`end`
    offsets, for removing it), and the 1-based line and column where `code` begins."""

    code: str
    start: int
    end: int
    line: int
    column: int


def find_backend_scripts(source: str, first_line: int = 1, *,
                         filename: str = "<template>") -> list[ScriptBlock]:
    """Every `<script scope="backend">` block of `source` (the text of `filename`), in order.

    `first_line` is the file line `source` starts on (after front matter, say). Blocks inside
    HTML comments and inside other scripts are found too: a backend block must never reach
    the browser. A block ends at the first `</script>` in its code: one inside a string, a
    comment, a template literal or a regular expression does not end it. A block that never
    ends is a SiteError: where its code stops cannot be known, so none of it may be served.
    """
    blocks: list[ScriptBlock] = []
    lines = _LineCounter(source, first_line)
    at = 0
    while (tag := _OPEN_TAG.search(source, at)) is not None:
        if not _is_backend(tag.group(1)):
            at = tag.end()  # not skipping its body: a backend block there is still found
            continue
        tag_line, tag_column = lines.position(tag.start())
        close = _closing_tag(source, tag.end())
        if close is None:
            raise SiteError(
                "this backend script is never closed: no </script> follows in its code (one "
                "inside a string, comment, template or regular expression does not count)",
                Position(filename, tag_line, tag_column),
            )
        line, column = lines.position(tag.end())
        blocks.append(ScriptBlock(source[tag.end():close.start()], tag.start(), close.end(),
                                  line, column))
        at = close.end()
    return blocks


def _closing_tag(source: str, start: int) -> re.Match[str] | None:
    """The `</script>` ending a script whose code starts at `start`: the first in code.

    Only a punctuator can hold its `<` (`a </script>`, `a <</script>`); the JavaScript
    tokenizer reads strings, comments, templates and regular expressions whole."""
    for token in iter_tokens(source, start):
        if token.kind != "punct" or "<" not in token.text:
            continue
        for offset in range(token.start, token.end):
            if source[offset] == "<" and (close := _CLOSE_TAG.match(source, offset)):
                return close
    return None


def _is_backend(attributes: str) -> bool:
    for match in _ATTRIBUTE.finditer(attributes):
        if match.group(1).lower() != "scope":
            continue
        value = next((v for v in match.group(2, 3, 4) if v is not None), "")
        if value.strip().lower() == "backend":
            return True
    return False


class _LineCounter:
    """Line and column of offsets visited in increasing order, counting each newline once."""

    def __init__(self, source: str, first_line: int) -> None:
        self.source = source
        self.offset = 0
        self.line = first_line
        self.line_start = 0

    def position(self, offset: int) -> tuple[int, int]:
        newlines = self.source.count("\n", self.offset, offset)
        if newlines:
            self.line += newlines
            self.line_start = self.source.rindex("\n", self.offset, offset) + 1
        self.offset = offset
        return self.line, offset - self.line_start + 1
