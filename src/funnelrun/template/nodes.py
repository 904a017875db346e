"""The syntax tree a parsed template becomes: statement nodes and expression nodes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields


@dataclass(slots=True)
class Node:
    """Base of every node. Positions are left out of equality so tests compare shapes."""

    line: int = field(kw_only=True, compare=False, default=0)
    column: int = field(kw_only=True, compare=False, default=0)

    def children(self) -> Iterator[Node]:
        """The nodes directly below this one, in document order."""
        for item in fields(self):
            yield from _nodes_in(getattr(self, item.name))

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, depth first."""
        yield self
        for child in self.children():
            yield from child.walk()


def _nodes_in(value: object) -> Iterator[Node]:
    if isinstance(value, Node):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _nodes_in(item)


# -- expressions -------------------------------------------------------------------------------


@dataclass(slots=True)
class Expr(Node):
    """Base of expression nodes."""


@dataclass(slots=True)
class Literal(Expr):
    value: str | int | float | bool | None


@dataclass(slots=True)
class Name(Expr):
    name: str


@dataclass(slots=True)
class GetAttr(Expr):
    """`obj.name`."""

    obj: Expr
    name: str


@dataclass(slots=True)
class GetItem(Expr):
    """`obj[key]`, and `obj.0`."""

    obj: Expr
    key: Expr


@dataclass(slots=True)
class Call(Expr):
    """`func(args)`; only built-in functions may be called (the compiler checks)."""

    func: Expr
    args: list[Expr]


@dataclass(slots=True)
class Filter(Expr):
    """`value | name:arg:arg`."""

    value: Expr
    name: str
    args: list[Expr]


@dataclass(slots=True)
class Binary(Expr):
    """`left op right`; word operators are stored as their symbols (`eq` as `==`, `and` as `&&`)."""

    op: str
    left: Expr
    right: Expr


@dataclass(slots=True)
class Unary(Expr):
    """`!x` (also `not x`), `-x`, `+x`."""

    op: str
    operand: Expr


@dataclass(slots=True)
class Conditional(Expr):
    """`test ? then : otherwise`."""

    test: Expr
    then: Expr
    otherwise: Expr


@dataclass(slots=True)
class Defaulted(Expr):
    """`{{ var.path=default value }}`: `text` when `value` is undefined (not when null or '')."""

    value: Expr
    text: str


@dataclass(slots=True)
class Placeholder(Expr):
    """`%YEAR%` in page text (`name` "YEAR"; "CUSTOMER_FNAME," for the comma form)."""

    name: str


@dataclass(slots=True)
class ArrayLiteral(Expr):
    items: list[Expr]


@dataclass(slots=True)
class ObjectLiteral(Expr):
    pairs: list[tuple[str, Expr]]


# -- statements --------------------------------------------------------------------------------


@dataclass(slots=True)
class Stmt(Node):
    """Base of statement nodes."""


@dataclass(slots=True)
class Text(Stmt):
    value: str


@dataclass(slots=True)
class Output(Stmt):
    """`{{ expr }}`."""

    expr: Expr


@dataclass(slots=True)
class If(Stmt):
    """`@if` with its `@elseif` branches (test, body) and an optional `@else` body."""

    branches: list[tuple[Expr, list[Stmt]]]
    otherwise: list[Stmt] | None = None


@dataclass(slots=True)
class ForEach(Stmt):
    target: str
    iterable: Expr
    body: list[Stmt]


@dataclass(slots=True)
class Set(Stmt):
    name: str
    value: Expr


@dataclass(slots=True)
class Component(Stmt):
    name: Expr
    args: Expr | None = None


@dataclass(slots=True)
class Extends(Stmt):
    name: Expr


@dataclass(slots=True)
class Block(Stmt):
    """`@block("name") … @endblock`: a slot with default content, or an override in a child."""

    name: str
    body: list[Stmt]


@dataclass(slots=True)
class Yield(Stmt):
    """`@yield("name")`: a slot with no default content."""

    name: str


@dataclass(slots=True)
class SetSessionItem(Stmt):
    key: Expr
    value: Expr | None = None


@dataclass(slots=True)
class ClearSessionItem(Stmt):
    key: Expr


@dataclass(slots=True)
class Template(Node):
    """A whole template; `extends` is set when it begins with `@extends`."""

    body: list[Stmt]
    extends: Extends | None = None
