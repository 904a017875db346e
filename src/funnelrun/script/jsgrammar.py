"""Just enough of JavaScript's grammar to tell what a `/` begins, after acorn's token contexts.

A `/` starts a regular expression where an expression may start and divides after one. Which
it is depends on what each open bracket is (a block, an object literal, a function body, a
statement head), whether the last token ended an expression, where statements begin
(automatic semicolons included) and whether the function around is async or a generator
(elsewhere `await` and `yield` are plain names). `Grammar` follows code token by token and
keeps exactly that; funnelrun.script.jslex asks it before reading a `/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# After these words an expression starts (so `/` begins a regular expression).
_BEFORE_EXPRESSION = frozenset({
    "return", "typeof", "instanceof", "in", "new", "delete", "void", "throw", "case", "extends",
    "default", "var", "const", "if", "for", "while", "with", "switch", "catch", "import",
})
_BEFORE_STATEMENT = frozenset({"else", "do", "try", "finally", "debugger"})
_HEADS = frozenset({"if", "while", "with", "switch", "catch"})  # `(` after them: a statement head
_RESTRICTED = frozenset({"return", "break", "continue"})  # a line break after them ends the statement
_MODIFIERS = frozenset({"async", "get", "set", "static", "accessor", "*"})

Kind = tuple[bool, bool]  # a function's (async, generator)
_SYNC: Kind = (False, False)
_ASYNC: Kind = (True, False)  # bundles wrap every script and module in an async function


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


@dataclass(frozen=True, slots=True)
class Bracket:
    """An open bracket and what the grammar knows about the code inside it.

    `role`: for `{` block (a statement list: blocks, function bodies), object or class (a class
    body); for `(` head (of if/while/with/switch/catch), for, params or group; `[` group; `${`
    template. `function` is the function the code inside belongs to; `ends_expression` says
    whether an expression has ended after the closing bracket (a `/` there divides)."""

    char: str
    role: str
    function: Kind
    ends_expression: bool = True
    opened_at: int = -1  # index of the opening token in its code (-1: opened by earlier code)
    body: _Header | None = None  # role params: the function whose body follows
    outer: Kind = _SYNC  # role class: the function around the class (for computed keys)
    marks: tuple[tuple[str, Kind], ...] = ()  # `?` awaiting its `:`, arrow bodies without braces


@dataclass(frozen=True, slots=True)
class _Header:
    """A function whose body is still to come. `ends_expression` None: `export default
    function`, a declaration if it has a name."""

    function: Kind
    ends_expression: bool | None
    keyword: int = -1  # index of its `function` or `class` token


_TOP = Bracket("", "block", _ASYNC, ends_expression=False)  # the function a bundle wraps code in


@dataclass(frozen=True, slots=True)
class Brackets:
    """Where earlier code left off: the function it runs in, then the brackets it left open.
    A page's blocks run as one script, so a block may close what an earlier block opened; the
    bundle separates them with `;`."""

    stack: tuple[Bracket, ...] = (_TOP,)

    @property
    def depth(self) -> int:
        return len(self.stack) - 1


NOTHING_OPEN = Brackets()
# For finding where a backend block ends: `yield` is a keyword there (see jslex.iter_tokens).
IN_GENERATOR = Brackets((replace(_TOP, function=(True, True)),))


class Grammar:
    """Follows code token by token (`read`): whether a `/` would begin a regular expression
    (`regex_allowed`), and the brackets open."""

    def __init__(self, outer: Brackets) -> None:
        # The `;` the bundle puts before this code ended any conditional or arrow body.
        self.stack: list[Bracket] = [*outer.stack[:-1], replace(outer.stack[-1], marks=())]
        self.base = len(self.stack)  # brackets below this were opened by earlier code
        self.tokens: list[Token] = []
        self.starts: list[bool] = []  # per token: did it begin a statement?
        self.ended = False  # an expression just ended: `/` divides
        self.statement = True  # the next token begins a statement (or a class member)
        self.restricted = False  # a line break here ends the statement (after `return`, ...)
        self.headers = _Headers()

    @property
    def regex_allowed(self) -> bool:
        return not self.ended

    @property
    def in_substitution(self) -> bool:
        """Whether a `}` here closes a template's `${`."""
        return self.stack[-1].char == "${"

    def depth(self, closing: bool) -> int:
        """Brackets this code opened and still open around a token (a closer: after it)."""
        return max(len(self.stack) - self.base - (closing and len(self.stack) > 1), 0)

    def left_open(self) -> Brackets:
        return Brackets(tuple(replace(bracket, opened_at=-1) for bracket in self.stack))

    def read(self, token: Token) -> None:
        previous = self.tokens[-1] if self.tokens else None
        self._before(token, previous)
        self.tokens.append(token)
        self.starts.append(self.statement)
        self._after(token, previous)

    def _before(self, token: Token, previous: Token | None) -> None:
        if previous is not None and _is(previous, "=>") and token.text != "{":
            self._mark("=>", self.headers.arrow)  # a body without braces begins
        if token.newline and previous is not None and self._semicolon_inserted(token):
            self._end_statement()

    def _semicolon_inserted(self, token: Token) -> bool:
        """Automatic semicolon insertion at the line break before `token`."""
        if self.stack[-1].role not in ("block", "class") or self.headers.importing:
            return False  # an import statement may span lines: the bundle blanks it whole
        return self.restricted or (self.ended and _cannot_continue(token))

    def _after(self, token: Token, previous: Token | None) -> None:
        self.restricted = False
        headers = self.headers.next_token(token)
        if token.kind == "name":
            self._name(token, previous)
        elif token.kind == "punct":
            self._punct(token, previous, headers)
        elif token.kind == "template":
            self._template(token)
        elif token.kind == "string" and self.headers.importing and previous is not None and \
                previous.text in ("from", "import"):
            self._end_statement()  # the module name ends an import statement
        else:
            self._operand()

    def _name(self, token: Token, previous: Token | None) -> None:
        word = token.text
        if _after_dot(previous) or word.startswith("#"):
            self._operand()
        elif previous is not None and previous.text in ("break", "continue") and not token.newline:
            self._end_statement()  # a label
        elif word == "function" or word == "class":
            self._function_keyword(word)
            self._expect()
        elif word in _BEFORE_STATEMENT:
            self._end_statement()
        elif word == "export":
            self.ended = False  # a declaration follows; the statement has not begun
        elif word in _BEFORE_EXPRESSION or word in _RESTRICTED:
            self.headers.importing = self.headers.importing or (word == "import" and self.starts[-1])
            self._expect()
            self.restricted = word in _RESTRICTED
        elif (word == "await" and self._function()[0]) or (word == "yield" and self._function()[1]):
            self._expect()
            self.restricted = word == "yield"
        elif word == "of" and self.ended and self.stack[-1].role == "for":
            self._expect()
        else:
            self._operand()

    def _punct(self, token: Token, previous: Token | None, body: _Header | None) -> None:
        text = token.text
        if text in ("(", "[", "{"):
            self._open(text, previous, body)
        elif text in (")", "]", "}"):
            self._close()
        elif text == ";":
            self._semicolon()
        elif text == ",":
            self._clear_marks()
            self._expect()
        elif text == "?":
            self._mark("?", _SYNC)
            self._expect()
        elif text == ":":
            self._colon()
        elif text == "=>":
            self.headers.arrow = self._arrow(previous)
            self._expect()
        elif not (text in ("++", "--") and self.ended):  # a postfix ++/-- leaves it ended
            self.headers.star(text, previous)
            self._expect()

    def _template(self, token: Token) -> None:
        if token.text.startswith("}"):
            self._pop()
        if len(token.text) >= 2 and token.text.endswith("${"):
            self._push(Bracket("${", "template", self._function()))
            self._expect()
        else:
            self._operand()

    # -- brackets ----------------------------------------------------------------------------

    def _open(self, char: str, previous: Token | None, body: _Header | None) -> None:
        if char == "(":
            self._push(self._paren(previous))
            self._expect()
        elif char == "[":
            key = self._member_kind(len(self.tokens) - 1) if self.stack[-1].role == "class" else None
            self._push(Bracket("[", "group", self.stack[-1].outer if key else self._function()))
            self._expect()
        else:
            self._push(self._brace(previous, body))
            if self.stack[-1].role == "object":
                self._expect()
            else:
                self._end_statement()

    def _paren(self, previous: Token | None) -> Bracket:
        index = len(self.tokens) - 1
        method = self._method(previous)
        if method is not None:
            ends = self.stack[-1].role == "object"
            self.headers.function = None
            return Bracket("(", "params", method, opened_at=index, body=_Header(method, ends))
        if (header := self.headers.function) is not None:
            self.headers.function = None
            header = _named(header, previous is not None and previous.kind == "name" and
                            previous.text != "function")
            return Bracket("(", "params", header.function, opened_at=index, body=header)
        word = previous.text if previous is not None and previous.kind == "name" and \
            not self._after_dot_at(index - 2) else ""
        if word in _HEADS:
            return Bracket("(", "head", self._function(), opened_at=index)
        if word == "for" or (word == "await" and index >= 2 and self.tokens[index - 2].text == "for"):
            return Bracket("(", "for", self._function(), opened_at=index)
        return Bracket("(", "group", self._function(), opened_at=index)

    def _brace(self, previous: Token | None, body: _Header | None) -> Bracket:
        index = len(self.tokens) - 1
        function = self._function()
        if (header := self.headers.take_class(self, previous)) is not None:
            return Bracket("{", "class", _SYNC, header.ends_expression is not False, index,
                           outer=function)
        if body is not None and previous is not None and _is(previous, ")"):
            return Bracket("{", "block", body.function, body.ends_expression is not False, index)
        if previous is not None and _is(previous, "=>"):
            return Bracket("{", "block", self.headers.arrow, False, index)
        if previous is not None and previous.kind == "name" and not self._after_dot_at(index - 2):
            if previous.text in ("var", "let", "const"):
                return Bracket("{", "object", function, True, index)  # a destructuring pattern
            if previous.text == "catch":  # `catch {` without a binding
                return Bracket("{", "block", function, False, index)
            if previous.text == "static" and self.stack[-1].role == "class":
                return Bracket("{", "block", _SYNC, False, index)  # a static initialization block
        if self.statement:
            return Bracket("{", "block", function, False, index)
        return Bracket("{", "object", function, True, index)

    def _close(self) -> None:
        if len(self.stack) == 1:  # closes a bracket nobody opened: over_closing reports it
            self._end_statement()
            return
        bracket = self._pop()
        if bracket.role == "params":
            self.headers.body = bracket.body
            self._expect()
        elif bracket.role in ("head", "for") or not bracket.ends_expression:
            self._end_statement()
        else:
            self._operand()

    def _push(self, bracket: Bracket) -> None:
        self.stack.append(bracket)

    def _pop(self) -> Bracket:
        bracket = self.stack.pop()
        self.base = min(self.base, len(self.stack))
        self.headers.closed(bracket, len(self.stack))
        return bracket

    # -- statements, marks and functions ------------------------------------------------------

    def _function_keyword(self, word: str) -> None:
        """`function` or `class` just read: a declaration where a statement starts (after
        `export default`, where it has a name), else an expression."""
        index = len(self.tokens) - 1
        is_async = word == "function" and index >= 1 and self._is_async_keyword(index - 1)
        first = index - 1 if is_async else index
        ends: bool | None = not self.starts[first]
        if first >= 2 and self.tokens[first - 1].text == "default" and \
                self.tokens[first - 2].text == "export":
            ends = None
        header = _Header((is_async, False), ends, index)
        if word == "function":
            self.headers.function = header
        else:
            self.headers.classes.append((len(self.stack), header))

    def _operand(self) -> None:
        self.ended, self.statement = True, False

    def _expect(self) -> None:
        self.ended, self.statement = False, False

    def _end_statement(self) -> None:
        self.ended = False
        self.statement = self.stack[-1].role in ("block", "class")
        self.headers.importing = False
        self._clear_marks()

    def _semicolon(self) -> None:
        if self.stack[-1].role in ("block", "class"):
            self._end_statement()
        else:  # inside a `for (;;)` head
            self._clear_marks()
            self._expect()

    def _colon(self) -> None:
        marks = self.stack[-1].marks
        questions = [i for i, (mark, _) in enumerate(marks) if mark == "?"]
        if questions:  # the `:` of a conditional; arrow bodies begun after its `?` are over
            self.stack[-1] = replace(self.stack[-1], marks=marks[:questions[-1]])
            self._expect()
        elif self.stack[-1].role == "block":  # a label, `case x:` or `default:`
            self._end_statement()
        else:  # a property value
            self._expect()

    def _mark(self, mark: str, kind: Kind) -> None:
        top = self.stack[-1]
        self.stack[-1] = replace(top, marks=(*top.marks, (mark, kind)))

    def _clear_marks(self) -> None:
        if self.stack[-1].marks:
            self.stack[-1] = replace(self.stack[-1], marks=())

    def _function(self) -> Kind:
        """The function the next token belongs to: an arrow body without braces, or the
        function around the innermost bracket."""
        top = self.stack[-1]
        for mark, kind in reversed(top.marks):
            if mark == "=>":
                return kind
        return top.function

    def _arrow(self, previous: Token | None) -> Kind:
        """The kind of the arrow function whose `=>` follows `previous`."""
        closed = self.headers.last_closed
        if previous is not None and _is(previous, ")") and closed is not None:
            first = closed.opened_at
        elif previous is not None and previous.kind == "name":
            first = len(self.tokens) - 2
        else:
            return _SYNC
        return (first >= 1 and self._is_async_keyword(first - 1), False)

    def _method(self, previous: Token | None) -> Kind | None:
        """If a `(` after `previous` opens a method's parameters, the method's kind."""
        if previous is None or self.stack[-1].role not in ("object", "class"):
            return None
        key = len(self.tokens) - 2
        closed = self.headers.last_closed
        if _is(previous, "]") and closed is not None and closed.opened_at >= 0:
            key = closed.opened_at
        elif previous.kind not in ("name", "string", "number"):
            return None
        return self._member_kind(key)

    def _member_kind(self, key: int) -> Kind | None:
        """If the member key starting at token `key` stands where an object literal or class
        body expects one, the (async, generator) its modifiers give."""
        tokens, at = self.tokens, key - 1
        is_async = generator = False
        while at >= 0 and tokens[at].text in _MODIFIERS and tokens[at].kind != "string":
            if tokens[at + 1].newline and self.starts[at + 1]:
                break  # a field named like a modifier, ended by a line break
            is_async = is_async or (tokens[at].text == "async" and not tokens[at + 1].newline)
            generator = generator or tokens[at].text == "*"
            at -= 1
        if self.stack[-1].role == "class":
            fits = self.starts[at + 1]  # the member's first token began a member
        else:
            fits = at < 0 or (tokens[at].kind == "punct" and tokens[at].text in ("{", ","))
        return (is_async, generator) if fits else None

    def _is_async_keyword(self, index: int) -> bool:
        """Whether token `index` is `async` modifying what follows on the same line."""
        token = self.tokens[index]
        return token.kind == "name" and token.text == "async" and \
            not self.tokens[index + 1].newline and not self._after_dot_at(index - 1)

    def _after_dot_at(self, index: int) -> bool:
        return index >= 0 and _after_dot(self.tokens[index])


@dataclass(slots=True)
class _Headers:
    """Functions and classes whose body has not begun yet, and the last bracket closed."""

    function: _Header | None = None  # after `function`, until its parameters open
    body: _Header | None = None  # after parameters close, for the `{` right after
    classes: list[tuple[int, _Header]] = field(default_factory=list)  # (depth, header)
    arrow: Kind = _SYNC  # the last `=>`'s function
    importing: bool = False  # inside an import statement
    last_closed: Bracket | None = None

    def next_token(self, token: Token) -> _Header | None:
        """Forget what only the token just read could use; the pending body, for a `{`."""
        body, self.body = self.body, None
        if self.function is not None and token.kind != "name" and token.text not in ("*", "("):
            self.function = None
        return body

    def star(self, text: str, previous: Token | None) -> None:
        if text == "*" and self.function is not None and previous is not None and \
                previous.text == "function":
            self.function = replace(self.function, function=(self.function.function[0], True))

    def take_class(self, grammar: Grammar, previous: Token | None) -> _Header | None:
        """The class whose body the `{` just read opens, if any."""
        if not self.classes or self.classes[-1][0] != len(grammar.stack):
            return None
        if previous is None or not (grammar.ended or previous.text == "class"):
            return None  # `class A extends {} ...`: that brace is an object
        _, header = self.classes.pop()
        name = grammar.tokens[header.keyword + 1] if header.keyword + 1 < len(grammar.tokens) else None
        return _named(header, name is not None and name.kind == "name" and name.text != "extends")

    def closed(self, bracket: Bracket, depth: int) -> None:
        self.last_closed = bracket
        self.classes = [(d, h) for d, h in self.classes if d <= depth]


def _named(header: _Header, has_name: bool) -> _Header:
    """`export default function f` is a declaration; without a name it is an expression."""
    if header.ends_expression is not None:
        return header
    return replace(header, ends_expression=not has_name)


def _is(token: Token, text: str) -> bool:
    return token.kind == "punct" and token.text == text


def _after_dot(token: Token | None) -> bool:
    return token is not None and token.kind == "punct" and token.text in (".", "?.")


def _cannot_continue(token: Token) -> bool:
    """Whether `token` cannot go on with an expression (so a line break before it ends one)."""
    if token.kind in ("number", "string"):
        return True
    if token.kind == "name":
        return token.text not in ("in", "instanceof")
    return token.kind == "punct" and token.text in ("{", "++", "--", "!", "~")
