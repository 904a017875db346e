"""Splits template text into tokens: text, `{{ }}` outputs, `@` directives and expression tokens."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, NoReturn, Protocol

from funnelrun.errors import Position, TemplateSyntaxError

# Token kinds. Expression tokens (name, number, string, op) appear between output_begin and
# output_end, or between args_begin and args_end right after a directive token.
TEXT = "text"
OUTPUT_BEGIN = "output_begin"
OUTPUT_END = "output_end"
DIRECTIVE = "directive"
ARGS_BEGIN = "args_begin"
ARGS_END = "args_end"
NAME = "name"
NUMBER = "number"
STRING = "string"
OP = "op"
PLACEHOLDER = "placeholder"  # `%YEAR%` in text; its value is the placeholder's name
DEFAULT_TEXT = "default_text"  # `{{ var.path=default value }}`: the text after `=`
EOF = "eof"

# Directives that take arguments in parentheses, and the ones that stand alone.
DIRECTIVES_WITH_ARGS = frozenset({
    "if", "elseif", "foreach", "set", "component", "extends", "block", "yield",
    "setSessionItem", "clearSessionItem",
})
DIRECTIVES_ALONE = frozenset({"else", "endif", "endforeach", "endblock"})
DIRECTIVES = DIRECTIVES_WITH_ARGS | DIRECTIVES_ALONE

OPERATORS = (
    "===", "!==", "==", "!=", "<=", ">=", "&&", "||",
    "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}",
    "|", "=",
)
_OPENING = {"(": ")", "[": "]", "{": "}"}
COMMENT_OPEN, COMMENT_CLOSE = "{{--", "--}}"  # `{{-- a comment --}}`

# The percent placeholders of the reference's page text (script-library §2.8). Only these
# exact names are placeholders (`width: 100%` and `%FOO%` stay text); each prints the value the
# render context holds for it under PLACEHOLDER_VALUES. `%CUSTOMER_FNAME%,` is one placeholder,
# comma included (the app prints " Ann," or nothing).
PLACEHOLDER_NAMES = ("DAY_NAME", "DAY_POSTFIX", "DAY", "MONTH_NAME", "MONTH", "YEAR", "HOUR",
                     "CUSTOMER_FNAME")
PLACEHOLDER_VALUES = "%"  # a context key no expression can name
_PLACEHOLDER = re.compile(r"%(?:" + "|".join(PLACEHOLDER_NAMES[:-1]) + r")%|%CUSTOMER_FNAME%,?")
# `{{ var.path=default value }}`: a dotted path, then `=` (not `==`), then literal text to `}}`.
_DEFAULTED_PATH = re.compile(r"\s*[A-Za-z_$][A-Za-z0-9_$]*(?:\.(?:[A-Za-z_$][A-Za-z0-9_$]*|[0-9]+))*"
                             r"\s*=(?!=)")

_SPECIAL = re.compile(r"\{\{|\[\[|@")
_DIRECTIVE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_SPACE = re.compile(r"\s+")
_OPERATOR = re.compile("|".join(re.escape(op) for op in OPERATORS))
_STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_BLANK = " \t\r\n\f\v"


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """The text of one template, its file name, and the file line its first line sits on.

    `first_line` is above 1 when the site has cut a front-matter header off the file: error
    positions must still name the file's own lines.
    """

    source: str
    filename: str
    first_line: int = 1

    @property
    def file_text(self) -> str:
        """The text padded with empty lines so that error carets line up with the file."""
        return "\n" * (self.first_line - 1) + self.source


# What a token holds: text (TEXT, NAME, OP, STRING, DIRECTIVE and the brackets), a number
# (NUMBER) or nothing (EOF).
TokenValue = str | int | float | None


class Token(NamedTuple):
    kind: str
    value: TokenValue
    line: int
    column: int


class Located(Protocol):
    """Anything with a position to report: a token or a node."""

    @property
    def line(self) -> int: ...

    @property
    def column(self) -> int: ...


def fail(message: str, token: Located, source: TemplateSource) -> NoReturn:
    """Raise the one syntax error of this package, at `token`'s line and column."""
    position = Position(source.filename, token.line, token.column)
    raise TemplateSyntaxError(message, position, source=source.file_text)


def describe(token: Token) -> str:
    """How a token reads in an error message."""
    if token.kind == EOF:
        return "the end of the template"
    if token.kind == TEXT:
        return "text"
    if token.kind == DIRECTIVE:
        return f"@{token.value}"
    if token.kind == STRING:
        return f"string {token.value!r}"
    if token.kind == OUTPUT_END:
        return "'}}'"
    if token.kind == ARGS_END:
        return "')'"
    return f"'{token.value}'"


def lex(
    source: str | TemplateSource, filename: str = "<template>", first_line: int = 1
) -> list[Token]:
    """Tokenize a template; the list ends with an `eof` token. Raises TemplateSyntaxError."""
    if not isinstance(source, TemplateSource):
        source = TemplateSource(source, filename, first_line)
    return _Lexer(source).run()


def comment_spans(source: TemplateSource) -> list[tuple[int, int]]:
    """The (start, end) offsets of every `{{-- --}}` comment, found as the lexer finds them
    (so not inside an output or a `[[ ]]` passage). Raises TemplateSyntaxError."""
    lexer = _Lexer(source)
    lexer.run()
    return [(chunk.offset, chunk.end) for chunk in lexer.chunks if chunk.kind == "comment"]


class _Chunk(NamedTuple):
    """A piece of the template before whitespace trimming: text, or one tag and its tokens."""

    kind: str  # "text", "directive", "comment" or "output"
    text: str
    offset: int
    tokens: tuple[Token, ...] = ()
    end: int = -1  # where a comment ends


class _Lexer:
    def __init__(self, source: TemplateSource) -> None:
        self.source = source
        self.text = source.source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        self.chunks: list[_Chunk] = []

    # -- positions -------------------------------------------------------------------------

    def token(self, kind: str, value: TokenValue, offset: int) -> Token:
        index = bisect.bisect_right(self.line_starts, offset) - 1
        line = index + self.source.first_line
        return Token(kind, value, line, offset - self.line_starts[index] + 1)

    def fail_at(self, message: str, offset: int) -> NoReturn:
        fail(message, self.token(EOF, None, offset), self.source)

    def at(self, offset: int) -> str:
        token = self.token(EOF, None, offset)
        return f"{token.line}:{token.column}"

    # -- the template level ----------------------------------------------------------------

    def run(self) -> list[Token]:
        text, pos = self.text, 0
        while pos < len(text):
            match = _SPECIAL.search(text, pos)
            if match is None:
                self.add_page_text(text[pos:], pos)
                break
            start = match.start()
            if start > pos:
                self.add_page_text(text[pos:start], pos)
            if match.group() == "@":
                pos = self.lex_at(start)
            elif match.group() == "[[":
                pos = self.lex_verbatim(start)
            elif text.startswith(COMMENT_OPEN, start):
                pos = self.lex_comment(start)
            else:
                pos = self.lex_output(start)
        tokens = _flatten(_trim_standalone_lines(self.chunks), self.token)
        tokens.append(self.token(EOF, None, len(text)))
        return tokens

    def add_text(self, text: str, offset: int) -> None:
        self.chunks.append(_Chunk("text", text, offset))

    def add_page_text(self, text: str, offset: int) -> None:
        """Text of the page, its percent placeholders cut out as outputs of their own."""
        pos = 0
        if "%" in text:
            for match in _PLACEHOLDER.finditer(text):
                if match.start() > pos:
                    self.add_text(text[pos : match.start()], offset + pos)
                name = match.group()[1:].replace("%", "")
                token = self.token(PLACEHOLDER, name, offset + match.start())
                self.chunks.append(_Chunk("output", "", offset + match.start(), (token,)))
                pos = match.end()
        if pos < len(text):
            self.add_text(text[pos:], offset + pos)

    def lex_at(self, start: int) -> int:
        text = self.text
        if text.startswith("@@", start):
            self.add_text("@", start)
            return start + 2
        match = _DIRECTIVE_NAME.match(text, start + 1)
        name = match.group() if match else ""
        # `@media (…)` is text: only known names are directives. Glued to a word before it
        # (`info@block.com`), a directive that takes arguments needs its '(' right away;
        # `Yes@else` and `last@endif` stay directives.
        glued = start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")
        if name not in DIRECTIVES or (
            glued and name in DIRECTIVES_WITH_ARGS and not text.startswith("(", start + 1 + len(name))
        ):
            self.add_text("@", start)
            return start + 1
        pos = start + 1 + len(name)
        tokens = [self.token(DIRECTIVE, name, start)]
        if name in DIRECTIVES_WITH_ARGS:
            paren = pos
            while paren < len(text) and text[paren] in " \t":
                paren += 1
            if text.startswith("(", paren):
                # Without '(' the parser reports the missing parenthesis.
                pos = self.lex_expression(paren, tokens, f"@{name}(", ARGS_BEGIN)
        self.chunks.append(_Chunk("directive", "", start, tuple(tokens)))
        return pos

    def lex_verbatim(self, start: int) -> int:
        end = self.text.find("]]", start + 2)
        if end < 0:  # a lone '[[' is plain text
            self.add_text("[[", start)
            return start + 2
        self.add_text(self.text[start : end + 2], start)
        return end + 2

    def lex_comment(self, start: int) -> int:
        end = self.text.find(COMMENT_CLOSE, start + len(COMMENT_OPEN))
        if end < 0:
            self.fail_at(f"unclosed comment opened at {self.at(start)}; expected {COMMENT_CLOSE}",
                         start)
        end += len(COMMENT_CLOSE)
        self.chunks.append(_Chunk("comment", "", start, end=end))
        return end

    def lex_output(self, start: int) -> int:
        tokens: list[Token] = []
        defaulted = _DEFAULTED_PATH.match(self.text, start + 2)
        if defaulted:
            pos = self.lex_defaulted(start, defaulted.end(), tokens)
        else:
            pos = self.lex_expression(start, tokens, "'{{'", OUTPUT_BEGIN)
        self.chunks.append(_Chunk("output", "", start, tuple(tokens)))
        return pos

    def lex_defaulted(self, start: int, after_equals: int, tokens: list[Token]) -> int:
        """`{{ path=default text }}`: the path's tokens, then the text up to the first `}}`
        (trimmed, one pair of surrounding quotes removed) as one DEFAULT_TEXT token."""
        text = self.text
        end = text.find("}}", after_equals)
        if end < 0:
            self.fail_at(f"unclosed '{{{{' opened at {self.at(start)}; expected '}}}}'", len(text))
        tokens.append(self.token(OUTPUT_BEGIN, "{{", start))
        pos = start + 2
        while True:
            space = _SPACE.match(text, pos)
            if space:
                pos = space.end()
            if text[pos] == "=":
                break
            token, pos = self.lex_expression_token(pos)
            tokens.append(token)
        default = text[after_equals:end].strip(_BLANK)
        if len(default) >= 2 and default[0] == default[-1] and default[0] in "'\"":
            default = default[1:-1]
        tokens.append(self.token(DEFAULT_TEXT, default, after_equals))
        tokens.append(self.token(OUTPUT_END, "}}", end))
        return end + 2

    # -- expressions -----------------------------------------------------------------------

    def lex_expression(self, start: int, tokens: list[Token], opener: str, kind: str) -> int:
        """Lex from an opening `{{` or `(` to its matching close; return the offset after it."""
        text = self.text
        closing = "}}" if kind == OUTPUT_BEGIN else ")"
        tokens.append(self.token(kind, "{{" if kind == OUTPUT_BEGIN else "(", start))
        pos = start + (2 if kind == OUTPUT_BEGIN else 1)
        depth: list[str] = []  # brackets opened inside the expression
        while True:
            space = _SPACE.match(text, pos)
            if space:
                pos = space.end()
            if pos >= len(text):
                self.fail_at(
                    f"unclosed {opener} opened at {self.at(start)}; expected '{closing}'", pos
                )
            if _closes(text, pos, kind, depth):
                end_kind = OUTPUT_END if kind == OUTPUT_BEGIN else ARGS_END
                tokens.append(self.token(end_kind, closing, pos))
                return pos + len(closing)
            token, pos = self.lex_expression_token(pos)
            tokens.append(token)
            if token.kind == OP:
                if token.value in _OPENING:
                    depth.append(token.value)
                elif depth and token.value == _OPENING[depth[-1]]:
                    depth.pop()

    def lex_expression_token(self, pos: int) -> tuple[Token, int]:
        text = self.text
        char = text[pos]
        if char in "'\"":
            return self.lex_string(pos)
        match = _NUMBER.match(text, pos)
        if match:
            return self.token(NUMBER, _number_value(match.group()), pos), match.end()
        match = _NAME.match(text, pos)
        if match:
            return self.token(NAME, match.group(), pos), match.end()
        match = _OPERATOR.match(text, pos)
        if match:
            return self.token(OP, match.group(), pos), match.end()
        self.fail_at(f"unexpected character {char!r} in an expression", pos)

    def lex_string(self, start: int) -> tuple[Token, int]:
        text, quote = self.text, self.text[start]
        parts: list[str] = []
        pos = start + 1
        while pos < len(text) and text[pos] not in (quote, "\n"):
            if text[pos] == "\\" and pos + 1 < len(text):
                escaped, pos = _unescape(text, pos + 1)
                parts.append(escaped)
            else:
                parts.append(text[pos])
                pos += 1
        if pos >= len(text) or text[pos] != quote:
            self.fail_at(
                f"unclosed string opened at {self.at(start)}; expected {quote} before the end "
                "of the line",
                start,
            )
        return self.token(STRING, "".join(parts), start), pos + 1


def _number_value(literal: str) -> int | float:
    """A number literal as JavaScript reads it: a double. Integers of up to 15 digits (all
    exact in a double) stay ints; longer ones round, and past the largest double are Infinity,
    where int() would refuse more than 4300 digits."""
    if literal.isdigit() and len(literal) <= 15:
        return int(literal)
    return float(literal)


def _closes(text: str, pos: int, kind: str, depth: list[str]) -> bool:
    """Whether the expression ends at `pos`: `}}` outside an object literal, or the `)` that
    matches the directive's opening parenthesis."""
    if kind == OUTPUT_BEGIN:
        return text.startswith("}}", pos) and (not depth or depth[-1] != "{")
    return text[pos] == ")" and "(" not in depth


def _unescape(text: str, pos: int) -> tuple[str, int]:
    """Decode the JavaScript escape whose letter is at `pos`; unknown escapes mean the letter."""
    char = text[pos]
    if char in "ux":
        digits = 4 if char == "u" else 2
        code = text[pos + 1 : pos + 1 + digits]
        if len(code) == digits and all(c in "0123456789abcdefABCDEF" for c in code):
            return chr(int(code, 16)), pos + 1 + digits
    return _STRING_ESCAPES.get(char, char), pos + 1


def _trim_standalone_lines(chunks: list[_Chunk]) -> list[_Chunk]:
    """Drop the indentation and line break of lines that hold only directives and comments.

    Like Jinja's trim_blocks + lstrip_blocks, but per whole line (as Mustache does), so a
    directive inside a line of text never eats the text's line break.
    """
    kept: list[_Chunk] = []
    line: list[_Chunk] = []
    for chunk in chunks:
        if chunk.kind != "text":
            line.append(chunk)
            continue
        start = 0
        while (newline := chunk.text.find("\n", start)) >= 0:
            line.append(_Chunk("text", chunk.text[start : newline + 1], chunk.offset + start))
            kept.extend(_keep(line))
            line = []
            start = newline + 1
        if start < len(chunk.text):
            line.append(_Chunk("text", chunk.text[start:], chunk.offset + start))
    kept.extend(_keep(line))
    return kept


def _keep(line: list[_Chunk]) -> list[_Chunk]:
    tags = [chunk.kind for chunk in line if chunk.kind != "text"]
    standalone = (
        bool(tags)
        and "output" not in tags
        and all(not chunk.text.strip(_BLANK) for chunk in line if chunk.kind == "text")
    )
    if standalone:
        return [chunk for chunk in line if chunk.kind != "text"]
    return line


def _flatten(chunks: list[_Chunk], make_token: Callable[[str, TokenValue, int], Token]) -> list[Token]:
    """Merge neighbouring text and drop comments: the token list the parser reads."""
    tokens: list[Token] = []
    pending: list[str] = []
    pending_offset = 0
    for chunk in chunks:
        if chunk.kind == "text":
            if not pending:
                pending_offset = chunk.offset
            pending.append(chunk.text)
            continue
        if chunk.kind == "comment":
            continue
        if pending:
            tokens.append(make_token(TEXT, "".join(pending), pending_offset))
            pending = []
        tokens.extend(chunk.tokens)
    if pending:
        tokens.append(make_token(TEXT, "".join(pending), pending_offset))
    return tokens
