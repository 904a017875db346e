"""Read the import and export statements of backend scripts, and load the modules imported.

Imports (`import { a, b as c } from "name"`, `import * as ns from "name"`, `import d from
"name"`, `import d, { a } from "name"`, `import "name"`) must come first in a script. Modules
use `export const|let|var|function|async function|class`, `export default ...` and
`export { a, b as c }`. Statements are blanked out in place (same length, newlines kept) so
that every other character keeps its line and column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

from ..errors import Position, ScriptError, ScriptImportError, ScriptSyntaxError
from .jsgrammar import NOTHING_OPEN, Brackets, Token
from .jslex import lex, over_closing

ModuleResolver = Callable[[str], "tuple[str, str] | None"]

_MODULE_NAME = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_\-][A-Za-z0-9_.\-]*)*")
DEFAULT_EXPORT = "__frd"  # holds an anonymous `export default` value; as long as "export"
MAX_MODULES = 100


@dataclass(frozen=True, slots=True)
class Import:
    """One import statement: the module, what it binds, and where it was written."""

    module: str
    bindings: tuple[tuple[str, str], ...]  # (exported name, local name); "*" = namespace
    position: Position


@dataclass(slots=True)
class Unit:
    """A block or module after rewriting: imports removed, exports blanked."""

    filename: str
    code: str
    line: int
    column: int
    imports: list[Import]
    exports: dict[str, str] = field(default_factory=dict)  # exported name -> local name
    open_brackets: Brackets = NOTHING_OPEN  # still open at its end (a later block may close them)


def module_name(specifier: str) -> str | None:
    """The module a specifier names: `./a.js`, `../a` and `a` all name `a`; None if invalid."""
    name = specifier
    while name.startswith(("./", "../")):
        name = name.split("/", 1)[1]
    name = name.removesuffix(".js")
    return name if _MODULE_NAME.fullmatch(name) and ".." not in name.split("/") else None


# -- reading import and export statements ----------------------------------------------------


class _Reader:
    """Tokens of one unit with positions in its file."""

    def __init__(self, filename: str, code: str, line: int, column: int,
                 outer: Brackets = NOTHING_OPEN) -> None:
        self.filename, self.code, self.line, self.column = filename, code, line, column
        self.tokens, self.open_after = lex(code, outer)
        self.chars = list(code)

    def position(self, offset: int) -> Position:
        newlines = self.code.count("\n", 0, offset)
        if newlines == 0:
            return Position(self.filename, self.line, self.column + offset)
        return Position(self.filename, self.line + newlines,
                        offset - self.code.rindex("\n", 0, offset))

    def blank(self, start: int, end: int, text: str = "") -> None:
        """Overwrite code[start:end] with `text` then spaces, keeping every newline."""
        for at in range(start, end):
            if self.chars[at] != "\n":
                self.chars[at] = " "
        for at, char in enumerate(text):
            self.chars[start + at] = char

    def token(self, index: int) -> Token | None:
        return self.tokens[index] if index < len(self.tokens) else None

    def fail(self, message: str, token: Token | None,
             error: type[ScriptError] = ScriptImportError) -> NoReturn:
        offset = token.start if token is not None else len(self.code)
        raise error(message, self.position(offset))


def parse_unit(filename: str, code: str, line: int, column: int, *, module: bool,
               open_brackets: Brackets = NOTHING_OPEN) -> Unit:
    """Read and rewrite one block or module. `open_brackets`: brackets the page's earlier
    blocks left open, which this block may close (a page's blocks run as one script)."""
    reader = _Reader(filename, code, line, column, open_brackets)
    closing, _ = over_closing(reader.tokens, open_brackets.depth)
    if closing is not None:
        reader.fail(f"unexpected '{closing.text[0]}': it closes a bracket this script never "
                    "opened", closing, ScriptSyntaxError)
    unit = Unit(filename, code, line, column, [], open_brackets=reader.open_after)
    index = 0
    while (token := reader.token(index)) is not None and _is_import(reader, index):
        imported, index = _read_import(reader, index)
        unit.imports.append(imported)
    for at in range(index, len(reader.tokens)):
        token = reader.tokens[at]
        if token.depth or token.kind != "name" or _after_dot(reader, at):
            continue
        if token.text == "import" and _is_import(reader, at):
            reader.fail("import statements must come first in a script, before other code", token)
        if token.text == "export":
            if not module:
                reader.fail("export is only allowed in modules (modules/*.js)", token,
                            ScriptSyntaxError)
            _read_export(reader, at, unit.exports)
    unit.code = "".join(reader.chars)
    return unit


def _after_dot(reader: _Reader, index: int) -> bool:
    return index > 0 and reader.tokens[index - 1].text in (".", "?.")


def _is_import(reader: _Reader, index: int) -> bool:
    token, following = reader.token(index), reader.token(index + 1)
    if token is None or token.kind != "name" or token.text != "import" or token.depth:
        return False
    return following is None or following.text not in ("(", ".")


def _read_import(reader: _Reader, index: int) -> tuple[Import, int]:
    """Parse the import statement at `index`; blank it; return it and the next token index."""
    cursor = _Cursor(reader, index + 1)
    bindings: list[tuple[str, str]] = []
    if cursor.kind() == "name" and cursor.text() != "from":
        bindings.append(("default", cursor.expect(kind="name").text))
        cursor.skip(",")
    if cursor.skip("*"):
        cursor.expect("as")
        bindings.append(("*", cursor.expect(kind="name").text))
    elif cursor.skip("{"):
        while cursor.text() not in ("}", ""):
            exported = local = cursor.expect(kind="name").text
            if cursor.skip("as"):
                local = cursor.expect(kind="name").text
            bindings.append((exported, local))
            cursor.skip(",")
        cursor.expect("}")
    if bindings:
        cursor.expect("from")
    specifier = cursor.expect(kind="string")
    end = specifier.end
    if cursor.text() == ";":
        end = cursor.expect(";").end
    elif (following := cursor.token()) is not None and not following.newline \
            and following.text != "}":
        reader.fail(f"bad import: expected ';' or a new line after {specifier.text}", following)
    name = module_name(specifier.text[1:-1]) if "\\" not in specifier.text else None
    if name is None:
        reader.fail(f"bad import: {specifier.text} is not a module name; expected a name "
                    "like \"validators\" (modules/validators.js)", specifier)
    start = reader.tokens[index].start
    reader.blank(start, end)
    return Import(str(name), tuple(bindings), reader.position(start)), cursor.at


class _Cursor:
    """Steps through the tokens of an import statement."""

    def __init__(self, reader: _Reader, at: int) -> None:
        self.reader, self.at = reader, at

    def token(self) -> Token | None:
        return self.reader.token(self.at)

    def text(self) -> str:
        token = self.token()
        return token.text if token is not None else ""

    def kind(self) -> str:
        token = self.token()
        return token.kind if token is not None else ""

    def skip(self, text: str) -> bool:
        if self.text() == text:
            self.at += 1
            return True
        return False

    def expect(self, text: str | None = None, kind: str | None = None) -> Token:
        token = self.token()
        if token is None or (text and token.text != text) or (kind and token.kind != kind):
            wanted = f"'{text}'" if text else f"a {kind}"
            found = f"'{token.text}'" if token is not None else "the end of the script"
            raise ScriptImportError(f"bad import: expected {wanted}, found {found}",
                                    self.reader.position(token.start if token else
                                                         len(self.reader.code)))
        self.at += 1
        return token


def _read_export(reader: _Reader, index: int, exports: dict[str, str]) -> None:
    """Blank the `export` at `index` and record what it exports."""
    export = reader.tokens[index]
    token = reader.token(index + 1)
    text = token.text if token is not None else ""
    if text == "default":
        _export_default(reader, index, exports)
    elif text in ("function", "class", "async"):
        name = _declared_name(reader, index + 1)
        if name is None:
            reader.fail("bad export: expected a function or class name", token)
        _add_export(reader, exports, name, name, export)
        reader.blank(export.start, export.end)
    elif text in ("const", "let", "var"):
        for name in _declared_names(reader, index + 2):
            _add_export(reader, exports, name, name, export)
        reader.blank(export.start, export.end)
    elif text == "{":
        _export_list(reader, index, exports)
    else:
        reader.fail("bad export: expected default, const, let, var, function, async function, "
                    "class or { names }", token or export)


def _export_default(reader: _Reader, index: int, exports: dict[str, str]) -> None:
    export, default = reader.tokens[index], reader.tokens[index + 1]
    following = reader.token(index + 2)
    if following is not None and following.text in ("function", "class", "async"):
        name = _declared_name(reader, index + 2)
        if name is not None:  # a named declaration stays a declaration
            _add_export(reader, exports, "default", name, export)
            reader.blank(export.start, default.end)
            return
    _add_export(reader, exports, "default", DEFAULT_EXPORT, export)
    reader.blank(export.start, export.end, DEFAULT_EXPORT + "=")
    reader.blank(default.start, default.end)


def _export_list(reader: _Reader, index: int, exports: dict[str, str]) -> None:
    export = reader.tokens[index]
    at = index + 2
    while (token := reader.token(at)) is not None and token.text != "}":
        if token.kind != "name":
            reader.fail(f"bad export: expected a name, found '{token.text}'", token)
        local, exported = token.text, token.text
        at += 1
        if (word := reader.token(at)) is not None and word.text == "as":
            name = reader.token(at + 1)
            if name is None or name.kind != "name":
                reader.fail("bad export: expected a name after 'as'", name or word)
            exported = name.text
            at += 2
        _add_export(reader, exports, exported, local, token)
        if (comma := reader.token(at)) is not None and comma.text == ",":
            at += 1
    if reader.token(at) is None:
        reader.fail("bad export: expected '}'", export)
    end = reader.tokens[at].end
    following = reader.token(at + 1)
    if following is not None and following.text == "from":
        reader.fail("re-exports (export ... from) are not supported; import, then export",
                    following)
    if following is not None and following.text == ";":
        end = following.end
    reader.blank(export.start, end)


def _add_export(reader: _Reader, exports: dict[str, str], exported: str, local: str,
                token: Token) -> None:
    if exported in exports:
        reader.fail(f"'{exported}' is exported twice", token)
    exports[exported] = local


def _declared_name(reader: _Reader, index: int) -> str | None:
    """The name declared by `[async] function [*] name` or `class name` at `index`."""
    at = index
    for word in ("async", "function", "class", "*"):
        token = reader.token(at)
        if token is not None and token.text == word:
            at += 1
    token = reader.token(at)
    return token.text if token is not None and token.kind == "name" and token.text != "extends" \
        else None


def _declared_names(reader: _Reader, index: int) -> list[str]:
    """Names declared by `const|let|var a = ..., b = ...` whose first name is at `index`."""
    names: list[str] = []
    at = index
    while True:
        token = reader.token(at)
        if token is None or token.kind != "name":
            reader.fail("bad export: destructuring is not supported in an exported declaration; "
                        "declare the names, then export { a, b }", token or reader.tokens[-1])
        names.append(token.text)
        depth = token.depth
        at += 1
        while (token := reader.token(at)) is not None:
            if token.depth == depth and token.text == ",":
                break
            if token.depth == depth and (token.text == ";" or _statement_ends(reader, at)):
                return names
            if token.depth < depth:
                return names
            at += 1
        if token is None:
            return names
        at += 1


_CONTINUES = frozenset({
    "=", ",", ".", "?", ":", "(", "[", "+", "-", "*", "/", "%", "&", "|", "^", "<", ">", "!",
    "~", "?.", "=>", "==", "!=", "===", "!==", "&&", "||", "??", "in", "instanceof",
})


def _statement_ends(reader: _Reader, index: int) -> bool:
    """Automatic semicolon insertion, roughly: a new line before a token that cannot continue
    the expression on the previous line."""
    token, previous = reader.tokens[index], reader.tokens[index - 1]
    if not token.newline or token.text in _CONTINUES or token.text.endswith("="):
        return False
    if token.text in (")", "]", "}"):  # closes a bracket opened inside the initializer
        return False
    return previous.text not in _CONTINUES and not previous.text.endswith("=")


# -- modules ---------------------------------------------------------------------------------


class ModuleLoader:
    """Loads imported modules once each, in dependency order, refusing cycles."""

    def __init__(self, resolve_module: ModuleResolver) -> None:
        self.resolve_module = resolve_module
        self.units: dict[str, Unit] = {}  # name -> unit, in dependency order
        self.loading: list[str] = []

    def load(self, imported: Import) -> None:
        name = imported.module
        if name in self.loading:
            cycle = " -> ".join([*self.loading[self.loading.index(name):], name])
            raise ScriptImportError(f"import cycle: {cycle}", imported.position)
        if name not in self.units:
            self._load_new(imported)
        _check_bindings(imported, self.units[name])

    def _load_new(self, imported: Import) -> None:
        name = imported.module
        if len(self.units) >= MAX_MODULES:
            raise ScriptImportError(f"more than {MAX_MODULES} modules", imported.position)
        found = self.resolve_module(name)
        if found is None:
            raise ScriptImportError(f"module '{name}' not found (expected modules/{name}.js)",
                                    imported.position)
        source, filename = found
        unit = parse_unit(filename, source, 1, 1, module=True)
        self.loading.append(name)
        for inner in unit.imports:
            self.load(inner)
        self.loading.pop()
        self.units[name] = unit


def _check_bindings(imported: Import, unit: Unit) -> None:
    for exported, _local in imported.bindings:
        if exported != "*" and exported not in unit.exports:
            raise ScriptImportError(
                f"module '{imported.module}' has no export '{exported}'", imported.position
            )
