"""The one exception tree: every error funnelrun raises derives from FunnelrunError."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a source file: 1-based line and column."""

    filename: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.column}"


class FunnelrunError(Exception):
    """Base of every funnelrun error. `reason` is a short machine-readable code."""

    reason: str = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason


class SourceError(FunnelrunError):
    """An error at a position in a file; prints as `file:line:col: message`.

    With `source` (the file's text) the message is followed by the offending line and a caret.
    """

    def __init__(
        self,
        message: str,
        position: Position | None,
        *,
        source: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, reason=reason)
        self.position = position
        self.source = source

    @property
    def filename(self) -> str | None:
        return self.position.filename if self.position else None

    @property
    def line(self) -> int | None:
        return self.position.line if self.position else None

    @property
    def column(self) -> int | None:
        return self.position.column if self.position else None

    def headline(self) -> str:
        """`file:line:col: message`, the one-line form used by `funnelrun check`."""
        return f"{self.position}: {self.message}" if self.position else self.message

    def __str__(self) -> str:
        text = self.headline()
        if self.position and self.source is not None:
            lines = self.source.splitlines()
            if 1 <= self.position.line <= len(lines):
                line = lines[self.position.line - 1]
                caret = " " * max(self.position.column - 1, 0) + "^"
                text = f"{text}\n    {line}\n    {caret}"
        return text


# -- settings ----------------------------------------------------------------------------------


class SettingsError(FunnelrunError):
    """A setting has a wrong name, type or value; the message names the key and the source."""

    reason = "settings"


# -- requests --------------------------------------------------------------------------------


class RequestError(FunnelrunError):
    """A visitor's request the runtime refuses before any page sees it."""

    reason = "request"


class BodyTooLarge(RequestError):
    """The request body is over the server's limit (answered 413)."""

    reason = "body_too_large"


class AdminQueryError(RequestError):
    """A debug-window question with a bad parameter (a filter, a cursor); the message names it."""

    reason = "admin_query"


# -- the site on disk --------------------------------------------------------------------------


class SiteError(SourceError):
    """The site folder is broken: a bad brand.toml, a front-matter typo, two pages for one path."""

    reason = "site"


class SiteInvalid(SiteError):
    """The site has problems that stop it from being served; `problems` lists each one."""

    def __init__(self, problems: list[SourceError]) -> None:
        count = len(problems)
        super().__init__(f"the site has {count} problem{'s' if count != 1 else ''}", None)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(problem.headline() for problem in self.problems)


# -- templates ---------------------------------------------------------------------------------


class TemplateError(SourceError):
    """Base of template errors."""

    reason = "template"


class TemplateSyntaxError(TemplateError):
    """A template does not parse: unclosed directive, unknown filter, bad expression."""

    reason = "template_syntax"


class TemplateNotFound(TemplateError):
    """`@extends` or `@component` names a template that does not exist."""

    reason = "template_not_found"


class TemplateRuntimeError(TemplateError):
    """A template failed while rendering (for instance an `@extends` cycle)."""

    reason = "template_runtime"


# -- backend scripts ---------------------------------------------------------------------------


class ScriptError(SourceError):
    """Base of backend-script errors found before a run: syntax, imports, module cycles."""

    reason = "script"


class ScriptSyntaxError(ScriptError):
    reason = "script_syntax"


class ScriptImportError(ScriptError):
    """A missing module, a bad import line, or an import cycle."""

    reason = "script_import"


class ScriptEngineError(FunnelrunError):
    """The script engine itself failed (executor could not start, crashed, protocol broke)."""

    reason = "engine"


# -- the store and handoff ----------------------------------------------------------------------


class StoreError(FunnelrunError):
    """The session/state store failed; raised only from inside `funnelrun.store`."""

    reason = "store"


class HandoffError(FunnelrunError):
    """A handoff token was refused; `reason` says why (malformed, version, tampered,
    wrong_brand, expired, not_yet_valid, replayed, no_secret)."""

    reason = "handoff"
