"""A small JavaScript tokenizer: enough to find top-level `import` and `export` statements."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPACE = re.compile(r"(?:\s+|//[^\n]*|/\*[\s\S]*?(?:\*/|$))+")
_NAME = re.compile(r"#?[A-Za-z_$\u0080-\uffff][\w$\u0080-\uffff]*")
_NUMBER = re.compile(
    r"0[xXoObB][\da-fA-F_]+n?|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?n?"
)
_STRING = re.compile(r""""(?:[^"\\\n]|\\[\s\S])*"?|'(?:[^'\\\n]|\\[\s\S])*'?""")
_TEMPLATE_CHARS = re.compile(r"(?:[^`\\$]|\\[\s\S]|\$(?!\{))*")
_REGEX = re.compile(r"/(?:[^/\\\[\n]|\\.|\[(?:[^\]\\\n]|\\.)*\])*/?[\w$]*")
_PUNCT = re.compile(
    r">>>=|\.\.\.|===|!==|\*\*=|<<=|>>=|>>>|&&=|\|\|=|\?\?=|=>|==|!=|<=|>=|&&|\|\||\?\?"
    r"|\?\.(?!\d)|\+\+|--|[-+*%&|^/]=|\*\*|<<|>>|[^\s]"
)
# After these words an expression starts, so `/` begins a regular expression.
_BEFORE_EXPRESSION = frozenset({
    "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case",
    "do", "else", "yield", "await",
})
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(_OPENERS.values())


@dataclass(frozen=True, slots=True)
class Token:
    """`kind` is name, number, string, template, regex or punct. `depth` counts the brackets
    open around the token; `newline` says whether a line break precedes it."""

    kind: str
    text: str
    start: int
    end: int
    depth: int
    newline: bool


def over_closing(tokens: list[Token], depth: int = 0) -> tuple[Token | None, int]:
    """Follow the bracket depth from `depth` (brackets left open by code before): the first
    token that closes a bracket nobody opened, if any, and the depth after the last token.

    Code that closes more than it opened is a syntax error, or an escape from the function a
    bundle wraps it in, which would let it run while the bundle is merely compiled."""
    for token in tokens:
        if token.kind == "punct" and token.text in _OPENERS:
            depth += 1
        elif token.kind == "punct" and token.text in _CLOSERS:
            depth -= 1
        elif token.kind == "template":  # `…${` opens a substitution, `}…` closes one
            depth += token.text.endswith("${") - token.text.startswith("}")
        if depth < 0:
            return token, depth
    return None, depth


def tokenize(code: str) -> list[Token]:
    """The tokens of `code`. Never fails: malformed code yields best-effort tokens, and the
    engine reports the real syntax error later."""
    return _Lexer(code).run()


class _Lexer:
    def __init__(self, code: str) -> None:
        self.code = code
        self.at = 0
        self.tokens: list[Token] = []
        self.stack: list[str] = []  # open brackets; "${" marks a template substitution
        self.newline = False

    def run(self) -> list[Token]:
        code = self.code
        while True:
            self._skip_space()
            if self.at >= len(code):
                return self.tokens
            char = code[self.at]
            if char in "\"'":
                self._take("string", _STRING)
            elif char == "`":
                self._template(self.at + 1, self.at)
            elif char == "/" and self._regex_allowed():
                self._take("regex", _REGEX)
            elif char.isdigit() or (char == "." and code[self.at + 1:self.at + 2].isdigit()):
                self._take("number", _NUMBER)
            elif (name := _NAME.match(code, self.at)) is not None:
                self._emit("name", name.end())
            elif char == "}" and self.stack and self.stack[-1] == "${":
                self.stack.pop()
                self._template(self.at + 1, self.at)
            else:
                self._punct()

    def _skip_space(self) -> None:
        space = _SPACE.match(self.code, self.at)
        if space is not None:
            self.newline = self.newline or "\n" in space.group()
            self.at = space.end()

    def _take(self, kind: str, pattern: re.Pattern[str]) -> None:
        match = pattern.match(self.code, self.at)
        self._emit(kind, match.end() if match and match.end() > self.at else self.at + 1)

    def _emit(self, kind: str, end: int, start: int | None = None) -> None:
        begin = self.at if start is None else start
        self.tokens.append(Token(kind, self.code[begin:end], begin, end, len(self.stack),
                                 self.newline))
        self.newline = False
        self.at = end

    def _template(self, at: int, start: int) -> None:
        """Template text from `at` up to its closing backquote or next `${`."""
        end = _TEMPLATE_CHARS.match(self.code, at).end()
        if self.code.startswith("${", end):
            self.stack.append("${")
            self._emit("template", end + 2, start)
        else:
            self._emit("template", min(end + 1, len(self.code)), start)

    def _punct(self) -> None:
        match = _PUNCT.match(self.code, self.at)
        text = match.group() if match else self.code[self.at]
        if text in _OPENERS:
            self._emit("punct", self.at + 1)
            self.stack.append(text)
            return
        if text in ")]}" and self.stack and self.stack[-1] != "${":
            self.stack.pop()
        self._emit("punct", self.at + len(text))

    def _regex_allowed(self) -> bool:
        if not self.tokens:
            return True
        last = self.tokens[-1]
        if last.kind == "name":
            return last.text in _BEFORE_EXPRESSION
        if last.kind == "punct":
            return last.text not in (")", "]")
        return last.kind == "template" and last.text.endswith("${")
