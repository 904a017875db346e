"""Turns a template's syntax tree into the Python source of one `root` render function.

The generated code calls the helpers of `runtime` by name (the environment executes it in a
namespace that holds them); this module only writes text, so it imports no later stage.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, NoReturn

from funnelrun.template import html_context, nodes
from funnelrun.template.html_context import Context
from funnelrun.template.lexer import PLACEHOLDER_VALUES, TemplateSource, fail

# Built-in functions: name → (runtime helper, whether it needs the session items first).
FUNCTIONS: dict[str, tuple[str, bool]] = {
    "dump": ("dump", False),
    "getSessionItem": ("get_item", True),
}
# Functions of the request's language (README "Translations") and of the brand's assets
# (README "Assets"): name → (runtime helper, fewest and most arguments). The helper gets the
# context first, where the translator and the asset links are.
CONTEXT_FUNCTIONS: dict[str, tuple[str, int, int]] = {
    "t": ("translate", 1, 2),
    "locales": ("locales", 0, 0),
    "defaultLocale": ("default_locale", 0, 0),
    "getResolvedLanguage": ("resolved_language", 0, 0),
    "getTranslations": ("translations", 0, 0),
    "asset": ("asset", 1, 1),
}
TRANSLATE_FILTER = "t"  # `'key' | t` and `'key' | t:params`: t() as a filter
_ARITHMETIC = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod"}
_COMPARISONS = {"===": "strict_eq", "==": "loose_eq", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_NEGATED = {"!==": "strict_eq", "!=": "loose_eq"}
_LOOP_FIELDS = ("index", "first", "last")

# The runtime function that prints an output, by where it sits (values.py has them all).
_PRINTERS = {
    html_context.TEXT: "out",
    html_context.COMMENT: "out",
    html_context.STYLE: "out",
    html_context.DOUBLE_QUOTED: "out",
    html_context.SINGLE_QUOTED: "out",
    html_context.SCRIPT: "out_script",
    html_context.TAG: "out_tag",
    html_context.VALUE_START: "out_value",
    html_context.UNQUOTED: "out_unquoted",
}
_UNQUOTED_KINDS = frozenset({html_context.VALUE_START, html_context.UNQUOTED})
# Filters whose result holds no quote of their input: text they encode, or numbers and dates.
_QUOTE_FREE_FILTERS = frozenset({
    "url_encode", "nl2br", "length", "size", "round", "floor", "ceil", "abs", "number_format",
    "currency", "date", "date_add", "timeago",
})


@dataclass(frozen=True, slots=True)
class Dependency:
    """A template named by a string literal in `@extends` or `@component`."""

    directive: str
    name: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class GeneratedCode:
    code: str  # defines `root(ctx, items, blocks, buf, chain, depth)`
    filters: dict[str, str]  # identifier in the code → filter name
    dependencies: tuple[Dependency, ...]


def generate(
    tree: nodes.Template, source: TemplateSource, filters: Mapping[str, Callable[..., Any]]
) -> GeneratedCode:
    """Write the render function of `tree`. Raises TemplateSyntaxError for unknown filters and
    functions, wrong argument counts and repeated block names."""
    return _CodeGenerator(tree, source, filters).run()


def dependencies_of(tree: nodes.Template) -> tuple[Dependency, ...]:
    """Templates named by literals in `@extends` / `@component`, in document order, once each."""
    found: list[Dependency] = []
    if tree.extends is not None:
        found.extend(_literal_dependency("extends", tree.extends))
    for statement in tree.body:
        for node in statement.walk():
            if isinstance(node, nodes.Component):
                found.extend(_literal_dependency("component", node))
    unique: dict[str, Dependency] = {}
    for dependency in found:
        unique.setdefault(dependency.name, dependency)
    return tuple(unique.values())


def translation_keys(tree: nodes.Template) -> tuple[tuple[str, int, int], ...]:
    """Keys given as string literals to `t('key', …)` and `'key' | t`, with the line and
    column of the literal: `funnelrun check` looks each one up in the brand's dictionaries."""
    found: list[tuple[str, int, int]] = []
    for node in tree.walk():
        match node:
            case (nodes.Call(func=nodes.Name(name="t"), args=[nodes.Literal() as key, *_])
                  | nodes.Filter(name="t", value=nodes.Literal() as key)):
                if isinstance(key.value, str):
                    found.append((key.value, key.line, key.column))
    return tuple(found)


def asset_paths(tree: nodes.Template) -> tuple[tuple[str, int, int], ...]:
    """Paths given as string literals to `asset('…')`, with the line and column of the
    literal: start-up and `funnelrun check` look each one up in the brand's assets."""
    found: list[tuple[str, int, int]] = []
    for node in tree.walk():
        match node:
            case nodes.Call(func=nodes.Name(name="asset"), args=[nodes.Literal() as path]):
                if isinstance(path.value, str):
                    found.append((path.value, path.line, path.column))
    return tuple(found)


def _literal_dependency(directive: str, node: nodes.Extends | nodes.Component) -> list[Dependency]:
    name = node.name
    if isinstance(name, nodes.Literal) and isinstance(name.value, str):
        return [Dependency(directive, name.value, node.line, node.column)]
    return []


class _Loop:
    """One `@foreach` being generated: the Python names of its item, index and last index."""

    def __init__(self, target: str, item: str) -> None:
        self.target = target
        self.item = item
        self.index = ""
        self.last = ""


class _CodeGenerator:
    def __init__(
        self, tree: nodes.Template, source: TemplateSource, filters: Mapping[str, Callable[..., Any]]
    ) -> None:
        self.tree = tree
        self.source = source
        self.filters = filters
        self.is_child = tree.extends is not None
        self.lines: list[str] = []
        self.indent = 1
        self.ids = itertools.count()
        self.context: dict[str, str] = {}  # context name → Python local read at the start
        self.variables: dict[str, str] = {}  # @set name → Python local
        self.filter_ids: dict[str, str] = {}
        self.loops: list[_Loop] = []
        self.nonlocals: set[str] | None = None  # inside a block function of a child template
        self.contexts = html_context.output_contexts(tree)

    # -- output plumbing -------------------------------------------------------------------

    def new(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids)}"

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def capture(self, write: Callable[[], None]) -> list[str]:
        saved, self.lines = self.lines, []
        write()
        captured, self.lines = self.lines, saved
        return captured

    def fail(self, message: str, node: nodes.Node) -> NoReturn:
        fail(message, node, self.source)

    # -- the function ----------------------------------------------------------------------

    def run(self) -> GeneratedCode:
        for node in self.tree.walk():
            if isinstance(node, nodes.Set) and node.name not in self.variables:
                self.variables[node.name] = self.new("v")
        blocks = self.collect_blocks()
        body = self.capture(lambda: self.statements(self.tree.body, discard=self.is_child))
        definitions: list[str] = []
        tail: list[str] = []
        if self.is_child:
            for block, ident in blocks:
                definitions += self.capture(partial(self.block_function, block, ident))
            tail = self.capture(lambda: self.extend_call(blocks))
        header = ["def root(ctx, items, blocks, buf, chain, depth):",
                  "    w = buf.append", "    e = buf.extend"]
        header += [f"    {ident} = ctx.get({name!r}, U)" for name, ident in self.context.items()]
        header += [f"    {ident} = ctx.get({name!r}, U)" for name, ident in self.variables.items()]
        code = "\n".join([*header, *definitions, *body, *tail]) + "\n"
        filters = {ident: name for name, ident in self.filter_ids.items()}
        return GeneratedCode(code, filters, dependencies_of(self.tree))

    def collect_blocks(self) -> list[tuple[nodes.Block, str]]:
        """Every block, checking names are unique; a child template defines them as functions."""
        found: dict[str, nodes.Block] = {}
        idents: list[tuple[nodes.Block, str]] = []
        for statement in self.tree.body:
            for node in statement.walk():
                if not isinstance(node, nodes.Block):
                    continue
                if node.name in found:
                    first = found[node.name]
                    self.fail(f"block '{node.name}' is defined twice; the first is at "
                              f"{first.line}:{first.column}", node)
                found[node.name] = node
                idents.append((node, self.new("block")))
        return idents

    def block_function(self, block: nodes.Block, ident: str) -> None:
        """A child's override of a block: a closure, so it sees the child's @set variables."""
        self.emit(f"def {ident}(buf, blocks):")
        self.indent += 1
        saved, self.nonlocals = self.nonlocals, set()
        body = self.capture(lambda: self.statements(block.body))
        prologue = ["w = buf.append", "e = buf.extend"]
        if self.nonlocals:
            prologue.insert(0, "nonlocal " + ", ".join(sorted(self.nonlocals)))
        for line in prologue:
            self.emit(line)
        self.lines += body
        self.nonlocals = saved
        self.indent -= 1

    def extend_call(self, blocks: list[tuple[nodes.Block, str]]) -> None:
        extends = self.tree.extends
        if extends is None:
            return
        own = self.new("own")
        pairs = ", ".join(f"{block.name!r}: {ident}" for block, ident in blocks)
        self.emit(f"{own} = {{{pairs}}}")
        self.emit("if blocks:")  # a deeper child's overrides win over this template's
        self.emit(f"    {own}.update(blocks)")
        name = self.expr(extends.name)
        self.emit(f"extend(TPL, {name}, {own}, ctx, items, buf, chain, depth, "
                  f"{extends.line}, {extends.column})")

    # -- statements ------------------------------------------------------------------------

    def statements(self, body: list[nodes.Stmt], discard: bool = False) -> None:
        """Write a statement list; consecutive text and outputs become one write.

        With `discard` (the top level of a child template) text and outputs are checked but
        not written: only what the layout's blocks show appears.
        """
        run: list[str] = []
        for node in body:
            if isinstance(node, nodes.Text):
                run.append(repr(node.value))
            elif isinstance(node, nodes.Output):
                run.append(self.output(node))
            else:
                self.write(run, discard)
                run = []
                self.statement(node, discard)
        self.write(run, discard)

    def output(self, node: nodes.Output) -> str:
        """The code printing `{{ expr }}`, escaped for where it sits; refuses what no escaping
        can make safe there."""
        context = self.contexts[id(node)]
        self.check_markup(node, context)
        code = self.expr(node.expr)
        # An event handler is JavaScript in an attribute: values are escaped for a JavaScript
        # string, except JSON, which is a JavaScript value as it is: HTML-escaped, it decodes
        # back to itself (`onclick="track({{ x | json }})"`).
        if context.attribute.startswith("on") and not _is_json(node.expr):
            code = f"out_script({code})"
            if context.kind not in _UNQUOTED_KINDS:
                return code
        return f"{_PRINTERS[context.kind]}({code})"

    def check_markup(self, node: nodes.Output, context: Context) -> None:
        """Refuse markup where it breaks the page whatever the value: `| raw` or `| nl2br` in
        an unquoted attribute value (a space or `>` ends it), and `| raw` of JSON in a
        double-quoted one (the JSON's own `"` ends it)."""
        markup = _markup_filters(node.expr)
        if not markup:
            return
        name = context.attribute_label
        if context.kind in _UNQUOTED_KINDS:
            self.fail(f"'| {markup[0].name}' in the unquoted value of attribute '{name}': a "
                      f"space or '>' in the value would end it and start new markup; quote the "
                      f'value: {name}="{{{{ … }}}}"', node)
        raw_values = [part.value for part in markup if part.name == "raw"]
        if context.kind == html_context.DOUBLE_QUOTED and any(map(_carries_json, raw_values)):
            self.fail(f"'| json | raw' in the double-quoted value of attribute '{name}': the "
                      f"JSON's own '\"' would end the attribute; leave out '| raw' — "
                      f"{{{{ … | json }}}} is escaped, and the browser decodes it back to the "
                      f"same JSON", node)

    def write(self, run: list[str], discard: bool) -> None:
        if discard or not run:
            return
        if len(run) == 1:
            self.emit(f"w({run[0]})")
        else:
            self.emit(f"e(({', '.join(run)},))")

    def suite(self, body: list[nodes.Stmt], discard: bool) -> None:
        self.indent += 1
        before = len(self.lines)
        self.statements(body, discard)
        if len(self.lines) == before:
            self.emit("pass")
        self.indent -= 1

    def statement(self, node: nodes.Stmt, discard: bool) -> None:
        match node:
            case nodes.If():
                self.if_statement(node, discard)
            case nodes.ForEach():
                self.foreach(node, discard)
            case nodes.Set(name=name, value=value):
                self.emit(f"{self.assign(name)} = {self.expr(value)}")
            case nodes.Component(name=name, args=args):
                call = (f"component(TPL, {self.expr(name)}, "
                        f"{'None' if args is None else self.expr(args)}, ctx, items, buf, depth, "
                        f"{node.line}, {node.column})")
                if not discard:
                    self.emit(call)
            case nodes.Block(name=name, body=body):
                if not self.is_child:
                    self.slot(name, body)
                elif not discard:
                    self.slot(name, None)
            case nodes.Yield(name=name):
                if not discard:
                    self.slot(name, None)
            case nodes.SetSessionItem(key=key, value=value):
                item = "None" if value is None else self.expr(value)
                self.emit(f"set_item(items, {self.expr(key)}, {item})")
            case nodes.ClearSessionItem(key=key):
                self.emit(f"clear_item(items, {self.expr(key)})")

    def if_statement(self, node: nodes.If, discard: bool) -> None:
        for number, (test, body) in enumerate(node.branches):
            keyword = "if" if number == 0 else "elif"
            self.emit(f"{keyword} {self.condition(test)}:")
            self.suite(body, discard)
        if node.otherwise is not None:
            self.emit("else:")
            self.suite(node.otherwise, discard)

    def foreach(self, node: nodes.ForEach, discard: bool) -> None:
        iterable = self.expr(node.iterable)
        loop = _Loop(node.target, self.new("item"))
        if _mentions_loop(node.body):
            sequence, loop.index, loop.last = self.new("seq"), self.new("i"), self.new("last")
            self.emit(f"{sequence} = iterate({iterable})")
            self.emit(f"{loop.last} = len({sequence}) - 1")
            self.emit(f"for {loop.index}, {loop.item} in enumerate({sequence}):")
        else:
            self.emit(f"for {loop.item} in iterate({iterable}):")
        self.loops.append(loop)
        self.suite(node.body, discard)
        self.loops.pop()

    def slot(self, name: str, default: list[nodes.Stmt] | None) -> None:
        """Where a block or yield shows: the override passed down in `blocks`, else `default`."""
        ident = self.new("slot")
        self.emit(f"{ident} = blocks.get({name!r})")
        self.emit(f"if {ident} is not None:")
        self.emit(f"    {ident}(buf, blocks)")
        if default:
            self.emit("else:")
            self.suite(default, False)

    def assign(self, name: str) -> str:
        for loop in reversed(self.loops):
            if loop.target == name:
                return loop.item
        ident = self.variables[name]
        if self.nonlocals is not None:
            self.nonlocals.add(ident)
        return ident

    # -- expressions -----------------------------------------------------------------------

    def expr(self, node: nodes.Expr) -> str:
        match node:
            case nodes.Literal(value=value):
                return _literal(value)
            case nodes.Name(name=name):
                return self.resolve(name)
            case nodes.GetAttr(obj=obj, name=name):
                loop = self.loop_named(obj)
                if loop is not None and name in _LOOP_FIELDS:
                    return _loop_field(loop, name)
                return f"ga({self.expr(obj)}, {name!r})"
            case nodes.GetItem(obj=obj, key=key):
                return f"gi({self.expr(obj)}, {self.expr(key)})"
            case nodes.Call():
                return self.call(node)
            case nodes.Filter():
                return self.filter(node)
            case nodes.Binary():
                return self.binary(node)
            case nodes.Unary(op="!", operand=operand):
                return f"(not {self.condition(operand)})"
            case nodes.Unary(op=op, operand=operand):
                return f"{'neg' if op == '-' else 'to_number'}({self.expr(operand)})"
            case nodes.Conditional(test=test, then=then, otherwise=otherwise):
                return (f"({self.expr(then)} if {self.condition(test)} "
                        f"else {self.expr(otherwise)})")
            case nodes.Defaulted(value=value, text=text):
                temp = self.new("t")
                return f"({text!r} if ({temp} := {self.expr(value)}) is U else {temp})"
            case nodes.Placeholder(name=name):
                return f"ga({self.resolve(PLACEHOLDER_VALUES)}, {name!r})"
            case nodes.ArrayLiteral(items=items):
                return "[" + "".join(f"{self.expr(item)}, " for item in items) + "]"
            case nodes.ObjectLiteral(pairs=pairs):
                return "{" + ", ".join(f"{key!r}: {self.expr(value)}" for key, value in pairs) + "}"
        raise TypeError(f"not an expression node: {node!r}")

    def condition(self, node: nodes.Expr) -> str:
        """An expression as a Python bool, skipping `truthy()` where the result already is one."""
        match node:
            case nodes.Unary(op="!", operand=operand):
                return f"(not {self.condition(operand)})"
            case nodes.Binary(op="&&" | "||" as op, left=left, right=right):
                word = "and" if op == "&&" else "or"
                return f"({self.condition(left)} {word} {self.condition(right)})"
            case nodes.Binary(op=op) if op in _COMPARISONS or op in _NEGATED:
                return self.binary(node)
            case nodes.GetAttr(obj=obj, name="first" | "last") if self.loop_named(obj) is not None:
                return self.expr(node)  # `loop.first`, `loop.last`: a comparison of indexes
        return f"truthy({self.expr(node)})"

    def binary(self, node: nodes.Binary) -> str:
        left, right = self.expr(node.left), self.expr(node.right)
        if node.op in _ARITHMETIC:
            return f"{_ARITHMETIC[node.op]}({left}, {right})"
        if node.op in _COMPARISONS:
            return f"{_COMPARISONS[node.op]}({left}, {right})"
        if node.op in _NEGATED:
            return f"(not {_NEGATED[node.op]}({left}, {right}))"
        # && and || give one of their operands, as in JavaScript.
        temp = self.new("t")
        if node.op == "&&":
            return f"({right} if truthy({temp} := {left}) else {temp})"
        return f"({temp} if truthy({temp} := {left}) else {right})"

    def resolve(self, name: str) -> str:
        for loop in reversed(self.loops):
            if loop.target == name:
                return loop.item
            if name == "loop":
                fields = ", ".join(f"{field!r}: {_loop_field(loop, field)}"
                                   for field in _LOOP_FIELDS)
                return "{" + fields + "}"
        if name in self.variables:
            return self.variables[name]
        if name not in self.context:
            self.context[name] = self.new("c")
        return self.context[name]

    def loop_named(self, node: nodes.Expr) -> _Loop | None:
        """The loop whose `loop` variable `node` is, if it is one."""
        if not isinstance(node, nodes.Name) or node.name != "loop" or not self.loops:
            return None
        innermost = self.loops[-1]
        return None if innermost.target == "loop" else innermost

    def call(self, node: nodes.Call) -> str:
        known = ", ".join([*FUNCTIONS, *CONTEXT_FUNCTIONS])
        if isinstance(node.func, nodes.Name) and node.func.name in CONTEXT_FUNCTIONS:
            return self.context_call(node, node.func.name)
        if not isinstance(node.func, nodes.Name) or node.func.name not in FUNCTIONS:
            path = _path_text(node.func)
            if path is None:
                self.fail(f"only built-in functions can be called; known functions: {known}",
                          node)
            self.fail(f"unknown function '{path}'; known functions: {known}", node)
        name = node.func.name
        if len(node.args) != 1:
            self.fail(f"{name}() takes 1 argument, got {len(node.args)}", node)
        helper, needs_items = FUNCTIONS[name]
        args = [self.expr(arg) for arg in node.args]
        return f"{helper}({', '.join((['items'] if needs_items else []) + args)})"

    def context_call(self, node: nodes.Call, name: str) -> str:
        helper, low, high = CONTEXT_FUNCTIONS[name]
        if not low <= len(node.args) <= high:
            wanted = f"{low} to {high} arguments" if low != high else _count(low, "argument")
            self.fail(f"{name}() takes {wanted}, got {len(node.args)}", node)
        return f"{helper}({', '.join(['ctx', *(self.expr(arg) for arg in node.args)])})"

    def filter(self, node: nodes.Filter) -> str:
        if node.name == TRANSLATE_FILTER:  # reads the context's translator: not in FILTERS
            if len(node.args) > 1:
                self.fail(_arity_message(node.name, 0, 1, len(node.args)), node)
            args = [self.expr(node.value), *(self.expr(arg) for arg in node.args)]
            return f"translate(ctx, {', '.join(args)})"
        function = self.filters.get(node.name)
        if function is None:
            names = [*self.filters, TRANSLATE_FILTER]
            close = difflib.get_close_matches(node.name, names, n=1, cutoff=0.75)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.fail(f"unknown filter '{node.name}'{hint}", node)
        low, high = filter_arity(function)
        if not low <= len(node.args) <= high:
            self.fail(_arity_message(node.name, low, high, len(node.args)), node)
        if node.name not in self.filter_ids:
            self.filter_ids[node.name] = self.new("f")
        args = [self.expr(node.value), *(self.expr(arg) for arg in node.args)]
        return f"{self.filter_ids[node.name]}({', '.join(args)})"


def _markup_filters(expr: nodes.Expr) -> list[nodes.Filter]:
    """The `| raw` and `| nl2br` filters whose markup an output prints: at its end, or behind
    `default`, `? :`, `&&` and `||`, which return their operands as they are."""
    match expr:
        case nodes.Filter(name="raw" | "nl2br"):
            return [expr]
        case nodes.Filter(name="default" | "default_if_none", value=value, args=args):
            return [part for item in (value, *args) for part in _markup_filters(item)]
        case nodes.Conditional(then=then, otherwise=otherwise):
            return _markup_filters(then) + _markup_filters(otherwise)
        case nodes.Binary(op="&&" | "||", left=left, right=right):
            return _markup_filters(left) + _markup_filters(right)
    return []


def _is_json(expr: nodes.Expr) -> bool:
    """Whether an output prints JSON text: `x | json` or `dump(x)`."""
    match expr:
        case nodes.Filter(name="json") | nodes.Call(func=nodes.Name(name="dump")):
            return True
    return False


def _carries_json(expr: nodes.Expr) -> bool:
    """Whether the text of `expr` may hold JSON (with its `"`): a `| json` or `dump()` result
    not turned into something quote-free (a number, a date, an encoded URL) on the way."""
    match expr:
        case nodes.Filter(name="json") | nodes.Call(func=nodes.Name(name="dump")):
            return True
        case nodes.Filter(name=name) if name in _QUOTE_FREE_FILTERS:
            return False
        case nodes.Binary(op=op, left=left, right=right):
            return op in ("+", "&&", "||") and (_carries_json(left) or _carries_json(right))
        case nodes.Conditional(then=then, otherwise=otherwise):
            return _carries_json(then) or _carries_json(otherwise)
        case nodes.Unary() | nodes.GetAttr() | nodes.ObjectLiteral():
            return False  # a boolean, a number, `.length` or undefined, `[object Object]`
    return any(_carries_json(child) for child in expr.children() if isinstance(child, nodes.Expr))


def _literal(value: object) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "float('nan')" if value != value else f"float('{value}')"
    return repr(value)


def _loop_field(loop: _Loop, field: str) -> str:
    if field == "index":
        return loop.index
    if field == "first":
        return f"({loop.index} == 0)"
    return f"({loop.index} == {loop.last})"


def _mentions_loop(body: list[nodes.Stmt]) -> bool:
    """Whether `loop` is read anywhere inside (nested loops included: cheap to over-count)."""
    return any(
        isinstance(node, nodes.Name) and node.name == "loop" for node in _walk_all(body)
    )


def _walk_all(body: list[nodes.Stmt]) -> Iterator[nodes.Node]:
    for statement in body:
        yield from statement.walk()


def _path_text(node: nodes.Expr) -> str | None:
    """`a.b.c` for a dotted path, else None."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.GetAttr):
        head = _path_text(node.obj)
        return None if head is None else f"{head}.{node.name}"
    return None


@lru_cache(maxsize=256)
def filter_arity(function: Callable[..., Any]) -> tuple[int, float]:
    """How many arguments a filter takes besides the value: (at least, at most)."""
    parameters = list(inspect.signature(function).parameters.values())[1:]
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    low = sum(1 for p in positional if p.default is p.empty)
    if any(p.kind == p.VAR_POSITIONAL for p in parameters):
        return low, math.inf
    return low, len(positional)


def _count(n: float, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _arity_message(name: str, low: int, high: float, got: int) -> str:
    def count(n: float) -> str:
        return _count(n, "argument")

    if low == high:
        return f"filter '{name}' takes {count(low)}, got {got}"
    if got < low:
        return f"filter '{name}' needs at least {count(low)}, got {got}"
    return f"filter '{name}' takes at most {count(high)}, got {got}"
