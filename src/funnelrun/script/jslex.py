"""A small JavaScript tokenizer that reads code the way QuickJS does where it matters.

It finds import and export statements, the `</script>` that ends a backend block, and code
that closes brackets it never opened. All three need strings, comments (HTML-like ones too),
template literals and regular expressions to end exactly where the engine ends them: a bracket
the lexer thinks is hidden in a comment but the engine reads as code could close the function
a bundle wraps the code in. Whether a `/` begins a regular expression is for the grammar to
say (funnelrun.script.jsgrammar).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .jsgrammar import IN_GENERATOR, NOTHING_OPEN, Brackets, Grammar, Token

_LINE_BREAK = re.compile(r"[\n\r\u2028\u2029]")
_SPACE = re.compile(
    r"[\t\v\f \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff\n\r\u2028\u2029]+"
    r"|(?://|<!--)[^\n\r\u2028\u2029]*"  # `<!--` comments out the rest of its line (Annex B)
    r"|/\*[\s\S]*?(?:\*/|\Z)"
)
_HTML_CLOSE_COMMENT = re.compile(r"-->[^\n\r\u2028\u2029]*")  # ... but only at a line start
_NAME_CHAR = r"[\w$]|[^\x00-\x7f\s\ufeff]|\\u(?:[\da-fA-F]{4}|\{[\da-fA-F]+\})"
_NAME = re.compile(rf"#?(?![0-9])(?:{_NAME_CHAR})(?:{_NAME_CHAR})*")
_NUMBER = re.compile(
    r"0[xXoObB][\da-fA-F_]+n?|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?n?"
)
_STRING = re.compile(r""""(?:[^"\\\n\r]|\\(?:\r\n|[\s\S]))*"?|'(?:[^'\\\n\r]|\\(?:\r\n|[\s\S]))*'?""")
_TEMPLATE_CHARS = re.compile(r"(?:[^`\\$]|\\[\s\S]|\$(?!\{))*")
_REGEX = re.compile(
    r"/(?:[^/\\\[\n\r\u2028\u2029]|\\[^\n\r\u2028\u2029]"
    r"|\[(?:[^\]\\\n\r\u2028\u2029]|\\[^\n\r\u2028\u2029])*\])*/?[\w$]*"
)
_PUNCT = re.compile(
    r">>>=|\.\.\.|===|!==|\*\*=|<<=|>>=|>>>|&&=|\|\|=|\?\?=|=>|==|!=|<=|>=|&&|\|\||\?\?"
    r"|\?\.(?!\d)|\+\+|--|[-+*%&|^/]=|\*\*|<<|>>|[^\s]"
)
_OPENERS = frozenset("([{")
_CLOSERS = frozenset(")]}")


def tokenize(code: str, outer: Brackets = NOTHING_OPEN) -> list[Token]:
    """The tokens of `code`. Never fails: malformed code yields best-effort tokens, and the
    engine reports the real syntax error later."""
    return lex(code, outer)[0]


def lex(code: str, outer: Brackets = NOTHING_OPEN) -> tuple[list[Token], Brackets]:
    """The tokens of `code`, which follows code that left `outer` open, and the brackets still
    open after it."""
    lexer = _Lexer(code, 0, outer)
    tokens = list(lexer.run())
    return tokens, lexer.grammar.left_open()


def iter_tokens(code: str, start: int = 0) -> Iterator[Token]:
    """The tokens of a backend block that starts at offset `start` of a page, as they are read
    (the caller stops at the block's end).

    `yield` is read as a keyword (so `yield /…/` is a regular expression): the block may go on
    with a generator an earlier block began, and reading more of it as a literal only keeps
    more of it from the browser."""
    return _Lexer(code, start, IN_GENERATOR).run()


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


class _Lexer:
    def __init__(self, code: str, start: int, outer: Brackets) -> None:
        self.code = code
        self.at = start
        self.newline = False  # a line break since the last token
        self.grammar = Grammar(outer)

    def run(self) -> Iterator[Token]:
        while self._skip_space():
            token = self._read()
            self.grammar.read(token)
            yield token

    def _skip_space(self) -> bool:
        """Skip white space and comments; False at the end of the code."""
        code = self.code
        while True:
            match = _SPACE.match(code, self.at)
            if match is None and code.startswith("-->", self.at) and (
                self.newline or not self.grammar.tokens
            ):
                match = _HTML_CLOSE_COMMENT.match(code, self.at)
            if match is None:
                return self.at < len(code)
            if not match.group().startswith(("//", "<!--", "-->")):
                self.newline = self.newline or _LINE_BREAK.search(match.group()) is not None
            self.at = match.end()

    def _read(self) -> Token:
        code, at = self.code, self.at
        char = code[at]
        if char in "\"'":
            return self._take("string", _STRING)
        if char == "`" or (char == "}" and self.grammar.in_substitution):
            return self._template_part()
        if char == "/" and self.grammar.regex_allowed:
            return self._take("regex", _REGEX)
        if "0" <= char <= "9" or (char == "." and "0" <= code[at + 1:at + 2] <= "9"):
            return self._take("number", _NUMBER)
        if (name := _NAME.match(code, at)) is not None:
            return self._make("name", name.end())
        match = _PUNCT.match(code, at)
        return self._make("punct", match.end() if match else at + 1)

    def _take(self, kind: str, pattern: re.Pattern[str]) -> Token:
        match = pattern.match(self.code, self.at)
        return self._make(kind, match.end() if match and match.end() > self.at else self.at + 1)

    def _template_part(self) -> Token:
        """Template text from a backquote, or from the `}` closing a substitution, up to the
        closing backquote or the next `${`."""
        match = _TEMPLATE_CHARS.match(self.code, self.at + 1)  # `(…)*`: matches, perhaps nothing
        end = match.end() if match else self.at + 1
        if self.code.startswith("${", end):
            return self._make("template", end + 2)
        return self._make("template", min(end + 1, len(self.code)))

    def _make(self, kind: str, end: int) -> Token:
        text = self.code[self.at:end]
        closes = text in _CLOSERS or (kind == "template" and text.startswith("}"))
        token = Token(kind, text, self.at, end, self.grammar.depth(closes), self.newline)
        self.newline = False
        self.at = end
        return token

