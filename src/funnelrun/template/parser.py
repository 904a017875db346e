"""Builds the syntax tree of a template from its tokens, reporting errors with line and column."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import NoReturn

from funnelrun.template import nodes
from funnelrun.template.lexer import (
    ARGS_BEGIN,
    ARGS_END,
    DEFAULT_TEXT,
    DIRECTIVE,
    EOF,
    NAME,
    NUMBER,
    OP,
    OUTPUT_BEGIN,
    OUTPUT_END,
    PLACEHOLDER,
    STRING,
    TEXT,
    Located,
    TemplateSource,
    Token,
    describe,
    fail,
    lex,
)

# Binary operators from the loosest to the tightest; word forms map to their symbols.
_BINARY_LEVELS: tuple[dict[str, str], ...] = (
    {"||": "||", "or": "||"},
    {"&&": "&&", "and": "&&"},
    {"===": "===", "!==": "!==", "==": "==", "!=": "!=", "eq": "==", "neq": "!="},
    {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="},
    {"+": "+", "-": "-"},
    {"*": "*", "/": "/", "%": "%"},
)
_WORD_OPERATORS = frozenset({"and", "or", "not", "eq", "neq", "lt", "lte", "gt", "gte", "in"})
_LITERALS = {"true": True, "false": False, "null": None}
_RESERVED = _WORD_OPERATORS | _LITERALS.keys()
_CLOSERS = frozenset({"elseif", "else", "endif", "endforeach", "endblock"})
# How deep a template may nest: far beyond real templates, and well within what Python's
# recursion limit and its compiler (20 nested loops, 100 indentation levels, 200 nested
# parentheses in the generated code) take, so deep nesting is a syntax error, not a crash.
MAX_NESTING = 32  # brackets, `!`/`-` and `? :` inside one another; @if/@foreach/@block
MAX_LOOPS = 16  # @foreach inside one another
MAX_CHAIN = 64  # an expression's depth, each link counted (`a + b + …`, `x | f | …`, `a.b.…`)


def parse(
    source: str | TemplateSource, filename: str = "<template>", first_line: int = 1
) -> nodes.Template:
    """Parse a template into its syntax tree. Raises TemplateSyntaxError."""
    if not isinstance(source, TemplateSource):
        source = TemplateSource(source, filename, first_line)
    return Parser(lex(source), source).parse_template()


class Parser:
    def __init__(self, tokens: list[Token], source: TemplateSource) -> None:
        self.tokens = tokens
        self.source = source
        self.pos = 0
        self.extends: nodes.Extends | None = None
        self.loop_depth = 0
        self.directive_depth = 0
        self.expression_depth = 0
        self.statements: dict[str, Callable[[Token], nodes.Stmt]] = {
            "if": self.parse_if,
            "foreach": self.parse_foreach,
            "set": self.parse_set,
            "component": self.parse_component,
            "extends": self.parse_extends,
            "block": self.parse_block,
            "yield": self.parse_yield,
            "setSessionItem": self.parse_set_session_item,
            "clearSessionItem": self.parse_clear_session_item,
        }

    # -- token helpers ---------------------------------------------------------------------

    def fail(self, message: str, token: Located) -> NoReturn:
        fail(message, token, self.source)

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != EOF:
            self.pos += 1
        return token

    def at_op(self, value: str) -> bool:
        token = self.tokens[self.pos]
        return token.kind == OP and token.value == value

    def expect_op(self, value: str, context: str) -> Token:
        token = self.next()
        if token.kind != OP or token.value != value:
            self.fail(f"expected '{value}' {context}, got {describe(token)}", token)
        return token

    def expect_name(self, context: str) -> Token:
        token = self.next()
        if token.kind != NAME or token.value in _RESERVED:
            self.fail(f"expected a name {context}, got {describe(token)}", token)
        return token

    @contextlib.contextmanager
    def nested(self, token: Token, *, directive: bool = False) -> Iterator[None]:
        """One level deeper, in a directive's body or inside an expression; past MAX_NESTING
        it is an error at `token`."""
        attribute = "directive_depth" if directive else "expression_depth"
        depth = getattr(self, attribute) + 1
        if depth > MAX_NESTING:
            what = "@if, @foreach and @block" if directive else "the expression"
            self.fail(f"{what} nested more than {MAX_NESTING} deep; split it (with @set or a "
                      "@component)", token)
        setattr(self, attribute, depth)
        try:
            yield
        finally:
            setattr(self, attribute, depth - 1)

    def parse_expression(self) -> nodes.Expr:
        """A whole expression (of an output or a directive argument), checked for depth."""
        expr = self.parse_pipe()
        stack: list[tuple[nodes.Node, int]] = [(expr, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_CHAIN:
                self.fail(f"the expression is more than {MAX_CHAIN} operations deep; split it "
                          "with @set", node)
            stack.extend((child, depth + 1) for child in node.children())
        return expr

    # -- the template level ----------------------------------------------------------------

    def parse_template(self) -> nodes.Template:
        body = self.parse_body(None, "")
        if self.extends is not None:
            body = [node for node in body if node is not self.extends]
        return nodes.Template(body, self.extends, line=self.source.first_line, column=1)

    def parse_body(self, opener: Token | None, expected: str, ends: tuple[str, ...] = ()) -> list[nodes.Stmt]:
        """Statements up to one of the directives in `ends` (left as the next token) or the end."""
        body: list[nodes.Stmt] = []
        while True:
            token = self.peek()
            if token.kind == TEXT:
                self.next()
                body.append(nodes.Text(str(token.value), line=token.line, column=token.column))
            elif token.kind == OUTPUT_BEGIN:
                body.append(self.parse_output())
            elif token.kind == PLACEHOLDER:
                self.next()
                where = {"line": token.line, "column": token.column}
                body.append(nodes.Output(nodes.Placeholder(str(token.value), **where), **where))
            elif token.kind == EOF:
                if opener is not None:
                    self.fail(
                        f"unclosed @{opener.value} opened at {opener.line}:{opener.column}; "
                        f"expected {expected}",
                        token,
                    )
                return body
            elif token.kind != DIRECTIVE:  # expression tokens never reach this level
                self.fail(f"unexpected {describe(token)}", token)
            elif token.value in ends:
                return body
            elif token.value in _CLOSERS:
                self.fail_stray_closer(token, opener, expected)
            else:
                self.next()
                if token.value == "extends":
                    self.check_extends_position(token, body, opener)
                body.append(self.statements[str(token.value)](token))

    def fail_stray_closer(self, token: Token, opener: Token | None, expected: str) -> NoReturn:
        if opener is None:
            owner = "foreach" if token.value == "endforeach" else "block"
            owner = "if" if token.value in ("elseif", "else", "endif") else owner
            self.fail(f"unexpected @{token.value}; no @{owner} is open", token)
        self.fail(
            f"unexpected @{token.value}; expected {expected} to close @{opener.value} "
            f"opened at {opener.line}:{opener.column}",
            token,
        )

    def check_extends_position(self, token: Token, body: list[nodes.Stmt], opener: Token | None) -> None:
        if self.extends is not None:
            first = self.extends
            self.fail(f"only one @extends is allowed; the first is at {first.line}:{first.column}",
                      token)
        blank = all(isinstance(node, nodes.Text) and not node.value.strip() for node in body)
        if opener is not None or not blank:
            self.fail(
                "@extends must come first; only whitespace and comments may come before it", token
            )

    def parse_output(self) -> nodes.Output:
        begin = self.next()
        expr = self.parse_expression()
        default = self.peek()
        if default.kind == DEFAULT_TEXT:  # `{{ var.path=default value }}`
            self.next()
            expr = nodes.Defaulted(expr, str(default.value), line=default.line,
                                   column=default.column)
        end = self.next()
        if end.kind != OUTPUT_END:
            self.fail(f"expected '}}}}' to end the expression, got {describe(end)}", end)
        return nodes.Output(expr, line=begin.line, column=begin.column)

    # -- directives ------------------------------------------------------------------------

    def parse_args(self, directive: Token, low: int, high: int) -> list[nodes.Expr]:
        """The comma-separated arguments of `@name(…)`, between `low` and `high` of them."""
        name = directive.value
        if self.peek().kind != ARGS_BEGIN:
            self.fail(f"expected '(' after @{name}", self.peek())
        self.next()
        args: list[nodes.Expr] = []
        if self.peek().kind != ARGS_END:
            args.append(self.parse_expression())
            while self.at_op(","):
                self.next()
                args.append(self.parse_expression())
        self.expect_args_end(directive)
        if not low <= len(args) <= high:
            count = str(low) if low == high else f"{low} to {high}"
            plural = "" if high == 1 else "s"
            self.fail(f"@{name} takes {count} argument{plural}, got {len(args)}", directive)
        return args

    def expect_args_end(self, directive: Token) -> None:
        token = self.next()
        if token.kind != ARGS_END:
            self.fail(f"expected ')' to end @{directive.value}(…), got {describe(token)}", token)

    def parse_if(self, token: Token) -> nodes.If:
        branches: list[tuple[nodes.Expr, list[nodes.Stmt]]] = [(self.parse_args(token, 1, 1)[0], [])]
        expected = "@elseif, @else or @endif"
        ends = ("elseif", "else", "endif")
        with self.nested(token, directive=True):
            while True:
                branches[-1][1].extend(self.parse_body(token, expected, ends))
                end = self.next()
                if end.value != "elseif":
                    break
                branches.append((self.parse_args(end, 1, 1)[0], []))
            otherwise = None
            if end.value == "else":
                otherwise = self.parse_body(token, "@endif", ("endif",))
                self.next()
        return nodes.If(branches, otherwise, line=token.line, column=token.column)

    def parse_foreach(self, token: Token) -> nodes.ForEach:
        if self.peek().kind != ARGS_BEGIN:
            self.fail("expected '(' after @foreach", self.peek())
        self.next()
        target = self.expect_name("for the loop variable after '@foreach('")
        word = self.next()
        if word.kind != NAME or word.value != "in":
            self.fail(f"expected 'in' after '{target.value}' in @foreach, got {describe(word)}",
                      word)
        iterable = self.parse_expression()
        self.expect_args_end(token)
        if self.loop_depth >= MAX_LOOPS:
            self.fail(f"@foreach nested more than {MAX_LOOPS} deep", token)
        self.loop_depth += 1
        with self.nested(token, directive=True):
            body = self.parse_body(token, "@endforeach", ("endforeach",))
        self.loop_depth -= 1
        self.next()
        return nodes.ForEach(str(target.value), iterable, body, line=token.line,
                             column=token.column)

    def parse_set(self, token: Token) -> nodes.Set:
        if self.peek().kind != ARGS_BEGIN:
            self.fail("expected '(' after @set", self.peek())
        self.next()
        name = self.expect_name("to assign after '@set('")
        self.expect_op("=", f"after '{name.value}' in @set")
        value = self.parse_expression()
        self.expect_args_end(token)
        return nodes.Set(str(name.value), value, line=token.line, column=token.column)

    def parse_component(self, token: Token) -> nodes.Component:
        args = self.parse_args(token, 1, 2)
        extra = args[1] if len(args) > 1 else None
        return nodes.Component(args[0], extra, line=token.line, column=token.column)

    def parse_extends(self, token: Token) -> nodes.Extends:
        name = self.parse_args(token, 1, 1)[0]
        self.extends = nodes.Extends(name, line=token.line, column=token.column)
        return self.extends

    def parse_block(self, token: Token) -> nodes.Block:
        name = self.literal_name(token)
        if self.loop_depth:
            self.fail("@block cannot be inside @foreach; a block is rendered once", token)
        with self.nested(token, directive=True):
            body = self.parse_body(token, "@endblock", ("endblock",))
        self.next()
        return nodes.Block(name, body, line=token.line, column=token.column)

    def parse_yield(self, token: Token) -> nodes.Yield:
        return nodes.Yield(self.literal_name(token), line=token.line, column=token.column)

    def literal_name(self, token: Token) -> str:
        arg = self.parse_args(token, 1, 1)[0]
        if not isinstance(arg, nodes.Literal) or not isinstance(arg.value, str):
            self.fail(f'@{token.value} needs a quoted name, like @{token.value}("content")', token)
        return arg.value

    def parse_set_session_item(self, token: Token) -> nodes.SetSessionItem:
        args = self.parse_args(token, 1, 2)
        value = args[1] if len(args) > 1 else None
        return nodes.SetSessionItem(args[0], value, line=token.line, column=token.column)

    def parse_clear_session_item(self, token: Token) -> nodes.ClearSessionItem:
        key = self.parse_args(token, 1, 1)[0]
        return nodes.ClearSessionItem(key, line=token.line, column=token.column)

    # -- expressions, loosest first --------------------------------------------------------

    def parse_pipe(self) -> nodes.Expr:
        """`expr | filter:arg | filter`: filters apply to everything on their left."""
        expr = self.parse_conditional()
        while self.at_op("|"):
            self.next()
            name = self.next()
            if name.kind != NAME:
                self.fail(f"expected a filter name after '|', got {describe(name)}", name)
            args: list[nodes.Expr] = []
            while self.at_op(":"):
                self.next()
                args.append(self.parse_unary())
            expr = nodes.Filter(expr, str(name.value), args, line=name.line, column=name.column)
            self.check_nothing_follows_filter(expr)
        return expr

    def check_nothing_follows_filter(self, expr: nodes.Filter) -> None:
        """`x | length gt 2` reads as a filter with a comparison glued on: say how to write it."""
        token = self.peek()
        is_operator = any(token.value in level for level in _BINARY_LEVELS) or token.value == "?"
        if token.kind in (OP, NAME) and is_operator:
            self.fail(
                f"unexpected {describe(token)} after the filter '{expr.name}'; a filter applies "
                f"to everything on its left, so wrap it in parentheses: (x | {expr.name}) "
                f"{token.value} …",
                token,
            )

    def parse_conditional(self) -> nodes.Expr:
        test = self.parse_binary(0)
        if not self.at_op("?"):
            return test
        question = self.next()
        with self.nested(question):
            then = self.parse_conditional()
            self.expect_op(":", "in the conditional expression")
            otherwise = self.parse_conditional()
        return nodes.Conditional(test, then, otherwise, line=test.line, column=test.column)

    def parse_binary(self, level: int) -> nodes.Expr:
        if level == len(_BINARY_LEVELS):
            return self.parse_unary()
        operators = _BINARY_LEVELS[level]
        left = self.parse_binary(level + 1)
        while True:
            token = self.peek()
            if token.kind not in (OP, NAME) or token.value not in operators:
                return left
            self.next()
            right = self.parse_binary(level + 1)
            op = operators[str(token.value)]
            left = nodes.Binary(op, left, right, line=token.line, column=token.column)

    def parse_unary(self) -> nodes.Expr:
        token = self.peek()
        if (token.kind == OP and token.value in ("!", "-", "+")) or (
            token.kind == NAME and token.value == "not"
        ):
            self.next()
            op = "!" if token.value == "not" else str(token.value)
            with self.nested(token):
                operand = self.parse_unary()
            return nodes.Unary(op, operand, line=token.line, column=token.column)
        return self.parse_postfix()

    def parse_postfix(self) -> nodes.Expr:
        expr = self.parse_primary()
        while True:
            token = self.peek()
            if token.kind != OP or token.value not in (".", "[", "("):
                return expr
            self.next()
            where = {"line": token.line, "column": token.column}
            if token.value == ".":
                expr = self.parse_member(expr, where)
            elif token.value == "[":
                with self.nested(token):
                    key = self.parse_pipe()
                self.expect_op("]", "to close '['")
                expr = nodes.GetItem(expr, key, **where)
            else:
                with self.nested(token):
                    args = self.parse_sequence(")", "to end the function call")
                expr = nodes.Call(expr, args, line=expr.line, column=expr.column)

    def parse_member(self, expr: nodes.Expr, where: dict[str, int]) -> nodes.Expr:
        token = self.next()
        if token.kind == NAME:
            return nodes.GetAttr(expr, str(token.value), **where)
        if token.kind == NUMBER and isinstance(token.value, int):  # items.0 like items[0]
            return nodes.GetItem(expr, nodes.Literal(token.value, **where), **where)
        self.fail(f"expected a name after '.', got {describe(token)}", token)

    def parse_sequence(self, closing: str, context: str) -> list[nodes.Expr]:
        """Comma-separated expressions up to `closing`; a trailing comma is allowed."""
        items: list[nodes.Expr] = []
        while not self.at_op(closing):
            items.append(self.parse_pipe())
            if not self.at_op(","):
                break
            self.next()
        self.expect_op(closing, context)
        return items

    def parse_primary(self) -> nodes.Expr:
        token = self.next()
        where = {"line": token.line, "column": token.column}
        if token.kind in (NUMBER, STRING):
            return nodes.Literal(token.value, **where)
        if token.kind == NAME and token.value in _LITERALS:
            return nodes.Literal(_LITERALS[str(token.value)], **where)
        if token.kind == NAME and token.value not in _WORD_OPERATORS:
            return nodes.Name(str(token.value), **where)
        if token.kind == OP and token.value in ("(", "[", "{"):
            with self.nested(token):
                return self.parse_bracketed(token)
        self.fail(f"expected an expression, got {describe(token)}", token)

    def parse_bracketed(self, opening: Token) -> nodes.Expr:
        """After `(`, `[` or `{`: a parenthesised expression, an array or an object literal."""
        if opening.value == "(":
            expr = self.parse_pipe()
            self.expect_op(")", "to close '('")
            return expr
        if opening.value == "[":
            where = {"line": opening.line, "column": opening.column}
            return nodes.ArrayLiteral(self.parse_sequence("]", "to close '['"), **where)
        return self.parse_object(opening)

    def parse_object(self, opening: Token) -> nodes.ObjectLiteral:
        pairs: list[tuple[str, nodes.Expr]] = []
        while not self.at_op("}"):
            key = self.next()
            if key.kind not in (NAME, STRING, NUMBER):
                self.fail(f"expected a key in the object, got {describe(key)}", key)
            if key.kind == NAME and not self.at_op(":"):  # shorthand {title}
                value: nodes.Expr = nodes.Name(str(key.value), line=key.line, column=key.column)
            else:
                self.expect_op(":", f"after the key {describe(key)}")
                value = self.parse_pipe()
            pairs.append((_key_text(key.value), value))
            if not self.at_op(","):
                break
            self.next()
        self.expect_op("}", "to close the object")
        return nodes.ObjectLiteral(pairs, line=opening.line, column=opening.column)


def _key_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
