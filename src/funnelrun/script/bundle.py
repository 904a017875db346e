"""Join a page's backend blocks and the modules they import into one script, with a source map.

The bundle is one async function expression:

    (async function () {
    const __fr_m0 = await (async function () {   <- one per module, in dependency order
    const {a} = __fr_m1;                          <- one line per import statement
    ...module code...
    ;return {__proto__: null, "x": x};
    })();
    const {x: y} = __fr_m0;                       <- the page's imports
    ...block code, block code...                  <- every block, in the order given
    })

Import and export statements are blanked out in place (funnelrun.script.modules), so every
line of user code keeps its line and column and the source map is a list of line ranges.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field

from ..errors import Position, ScriptImportError
from .extract import ScriptBlock
from .jsgrammar import NOTHING_OPEN, Token
from .jslex import tokenize
from .modules import DEFAULT_EXPORT, Import, ModuleLoader, ModuleResolver, Unit, parse_unit

# The script functions that read the run's dictionary (README "Translations"), as words, and
# those of them that take a key first.
_DICTIONARY_READERS = re.compile(r"(?<![\w$])(?:t|getTranslations?)(?![\w$])")
KEY_READERS = frozenset({"t", "getTranslation"})
# `asset(path)` (README "Assets"), as a word: a run needs the versions of the paths it names.
_ASSET_READERS = re.compile(r"(?<![\w$])asset(?![\w$])")
ASSET_READERS = frozenset({"asset"})


@dataclass(frozen=True, slots=True)
class Segment:
    """Bundle lines [bundle_line, bundle_line + lines) come from `filename` starting at `line`;
    `column_offset` is added to columns on the first line (a block starts mid-line). A
    generated line has `fixed`: every column on it maps to that position (its import)."""

    bundle_line: int
    lines: int
    filename: str
    line: int
    column_offset: int = 0
    fixed: Position | None = None


@dataclass(frozen=True, slots=True)
class Bundle:
    """One runnable script: `code` (an async function expression) and its source map."""

    code: str
    segments: tuple[Segment, ...]
    files: tuple[str, ...]  # every file that went in, pages first, then modules
    # Whether the code names setCustomer: only then does a run need the visitor's login quota
    # read from the store (app.py). A script that reaches it by a computed name is told the
    # full quota, and its logins are still counted and refused past the quota when applied.
    names_set_customer: bool = field(init=False, repr=False, compare=False)
    # Likewise what a run needs of the dictionary (parsing it is what translations cost a
    # run): the keys of `t("…")` and `getTranslation("…")` when those calls are all the code
    # says of t, getTranslation and getTranslations, even in strings and comments; None (all
    # of it) when it says more. A script reaching them by a computed name that does not spell
    # them finds the dictionary empty.
    dictionary_keys: frozenset[str] | None = field(init=False, repr=False, compare=False)
    # Whether the code says "device": only then does `request.device` go in, parsed from the
    # User-Agent (app.py); a script reaching it by a computed name finds it undefined.
    names_device: bool = field(init=False, repr=False, compare=False)
    # Likewise the asset versions a run needs: the paths of `asset("…")` when those calls are
    # all the code says of `asset`; None (every asset's) when it says more. A script reaching
    # it by a name it never spells gets plain URLs.
    asset_paths: frozenset[str] | None = field(init=False, repr=False, compare=False)
    _starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(s.bundle_line for s in self.segments))
        object.__setattr__(self, "names_set_customer", "setCustomer" in self.code)
        object.__setattr__(self, "names_device", "device" in self.code)
        object.__setattr__(self, "dictionary_keys",
                           _literal_arguments(self.code, _DICTIONARY_READERS, KEY_READERS))
        object.__setattr__(self, "asset_paths",
                           _literal_arguments(self.code, _ASSET_READERS, ASSET_READERS))

    def position(self, line: int | None, column: int | None) -> Position | None:
        """Where bundle `line` and `column` (1-based; a UTF-8 byte column, as QuickJS counts)
        come from. A generated line maps to the end of the code before it (a syntax error
        there comes from code left open), or None before any code."""
        if line is None or line < 1:
            return None
        index = bisect.bisect_right(self._starts, line) - 1
        if index < 0:
            return None
        segment = self.segments[index]
        if segment.fixed is not None and line == segment.bundle_line:
            return segment.fixed
        if line >= segment.bundle_line + segment.lines:
            line, column = segment.bundle_line + segment.lines - 1, None
        if column is None:  # the end of the line
            column = len(self._line(line).encode()) + 1
        column = self._char_column(line, column)
        if line == segment.bundle_line:
            column += segment.column_offset
        return Position(segment.filename, segment.line + line - segment.bundle_line, column)

    def literal_calls(self, names: frozenset[str]) -> list[tuple[str, Position]]:
        """The string literals given as first argument to a function of `names` called by
        its plain name (`t("hero.title")`, `t('a', {…})`; not `x.t("a")`, nor a string with
        escapes), with where each is written: `funnelrun check` looks the keys up."""
        found: list[tuple[str, Position]] = []
        for _, literal in _literal_calls(tokenize(self.code), names):
            position = self._offset_position(literal.start)
            if position is not None:
                found.append((literal.text[1:-1], position))
        return found

    def _offset_position(self, offset: int) -> Position | None:
        line_start = self.code.rfind("\n", 0, offset) + 1
        line = self.code.count("\n", 0, offset) + 1
        return self.position(line, len(self.code[line_start:offset].encode()) + 1)

    def _line(self, line: int) -> str:
        lines = self.code.split("\n", line)
        return lines[line - 1] if len(lines) >= line else ""

    def _char_column(self, line: int, column: int) -> int:
        return len(self._line(line).encode()[:column - 1].decode(errors="ignore")) + 1


def _literal_calls(tokens: list[Token], names: frozenset[str]) -> list[tuple[Token, Token]]:
    """(name, string) for each call of a function of `names` by its plain name whose first
    argument is a string literal without escapes: `t("a")`, `t('a', {…})`; not `x.t("a")`."""
    found = []
    for at, token in enumerate(tokens[:-3]):
        opening, literal, after = tokens[at + 1:at + 4]
        text = literal.text
        if (token.kind == "name" and token.text in names
                and not (at and tokens[at - 1].text in (".", "?."))
                and opening.text == "(" and literal.kind == "string"
                and after.text in (")", ",")
                and len(text) >= 2 and text[-1] == text[0] and "\\" not in text):
            found.append((token, literal))
    return found


def _literal_arguments(code: str, mentioned: re.Pattern[str],
                       names: frozenset[str]) -> frozenset[str] | None:
    """The literal first arguments of the calls of `names` in `code` when every word that
    `mentioned` finds is such a call; None when the code says more of them (see
    Bundle.dictionary_keys and Bundle.asset_paths)."""
    mentions = {match.start() for match in mentioned.finditer(code)}
    if not mentions:
        return frozenset()
    calls = _literal_calls(tokenize(code), names)
    if mentions != {name.start for name, _ in calls}:
        return None
    return frozenset(literal.text[1:-1] for _, literal in calls)


def build_bundle(parts: list[tuple[str, list[ScriptBlock]]],
                 resolve_module: ModuleResolver) -> Bundle:
    """One script of every block of `parts` ((filename, blocks), in run order) and the modules
    they import, which `resolve_module(name)` loads as (source, filename), or None."""
    units: list[Unit] = []
    for filename, blocks in parts:
        for block in blocks:
            open_brackets = units[-1].open_brackets if units else NOTHING_OPEN
            units.append(parse_unit(filename, block.code, block.line, block.column,
                                    module=False, open_brackets=open_brackets))
    modules = ModuleLoader(resolve_module)
    for unit in units:
        for imported in unit.imports:
            modules.load(imported)
    return _Writer(modules).write(units, [filename for filename, _ in parts])


# -- writing ---------------------------------------------------------------------------------


class _Writer:
    def __init__(self, modules: ModuleLoader) -> None:
        self.modules = modules
        self.variables = {name: f"__fr_m{i}" for i, name in enumerate(modules.units)}
        self.lines: list[str] = []
        self.segments: list[Segment] = []

    def write(self, units: list[Unit], pages: list[str]) -> Bundle:
        self._generated("(async function () {")
        for name, unit in self.modules.units.items():
            header = f"const {self.variables[name]} = await (async function () {{"
            self._generated(header + (f" let {DEFAULT_EXPORT};" if DEFAULT_EXPORT in
                                      unit.exports.values() else ""))
            self._imports(_distinct(unit.imports))
            self._code(unit)
            exports = ", ".join(f"{json.dumps(k)}: {v}" for k, v in unit.exports.items())
            self._generated(f";return {{__proto__: null{', ' if exports else ''}{exports}}};")
            self._generated("})();")
        self._imports(_distinct([i for unit in units for i in unit.imports]))
        for unit in units:
            self._code(unit)
            self._generated(";")
        self._generated("})")
        files = list(dict.fromkeys(pages + [unit.filename for unit in self.modules.units.values()]))
        return Bundle("\n".join(self.lines), tuple(self.segments), tuple(files))

    def _generated(self, text: str, fixed: Position | None = None) -> None:
        self.lines.append(text)
        if fixed is not None:
            self.segments.append(Segment(len(self.lines), 1, fixed.filename, fixed.line,
                                         fixed=fixed))

    def _imports(self, imports: list[Import]) -> None:
        for imported in imports:
            variable = self.variables[imported.module]
            parts = [f"const {local} = {variable};" for exported, local in imported.bindings
                     if exported == "*"]
            named = [f"{json.dumps(exported)}: {local}" for exported, local in imported.bindings
                     if exported != "*"]
            if named:
                parts.append(f"const {{{', '.join(named)}}} = {variable};")
            if parts:
                self._generated(" ".join(parts), imported.position)

    def _code(self, unit: Unit) -> None:
        lines = unit.code.split("\n")
        self.segments.append(Segment(len(self.lines) + 1, len(lines), unit.filename, unit.line,
                                     column_offset=unit.column - 1))
        self.lines.extend(lines)


def _distinct(imports: list[Import]) -> list[Import]:
    """The page's imports with repeated bindings dropped: two blocks (a layout and a page,
    say) may import the same name, but one name cannot be bound to two things."""
    bound: dict[str, tuple[str, str]] = {}
    result: list[Import] = []
    for imported in imports:
        fresh = []
        for exported, local in imported.bindings:
            target = (imported.module, exported)
            if local in bound and bound[local] != target:
                raise ScriptImportError(f"'{local}' is imported twice, from different places",
                                        imported.position)
            if local not in bound:
                bound[local] = target
                fresh.append((exported, local))
        if fresh or not imported.bindings:
            result.append(Import(imported.module, tuple(fresh), imported.position))
    return result
