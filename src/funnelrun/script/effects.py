"""What a script's run asks of the response, validated: session changes, cookies, headers,
variables, a status, a redirect or custom response, and the refused actions. The types only;
funnelrun.script.actions builds them from what the sandbox recorded.

Plain slotted dataclasses, not frozen ones (which set each field through object.__setattr__):
every run builds a dozen of them, and nothing changes them once they are built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .cookies import CookieEffect
from .redirects import DEFAULT_STATUS


@dataclass(slots=True)
class ActionWarning:
    """A refused or partly ignored action: the call (`session.set`, ...) and the reason."""

    call: str
    reason: str

    def __str__(self) -> str:
        return f"{self.call}: {self.reason}"


@dataclass(slots=True)
class SessionOp:
    """One session change, in order: `set` (key, JSON text), `delete` (key), `login`
    (validated customer fields, for Session.login) or `logout`."""

    kind: str
    key: str | None = None
    text: str | None = None
    fields: Mapping[str, Any] | None = None


@dataclass(slots=True)
class Redirect:
    url: str
    status: int = DEFAULT_STATUS


@dataclass(slots=True)
class CustomResponse:
    """A response sent instead of the page: `response.json` or `response.send`."""

    content_type: str
    body: str


@dataclass(slots=True)
class Effects:
    """Everything a run asks of the response, validated, in the order asked."""

    session: tuple[SessionOp, ...] = ()
    cookies: tuple[CookieEffect, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    variables: Mapping[str, Any] = field(default_factory=dict)
    status: int | None = None  # response.status(); applies to the page or a custom response
    redirect: Redirect | None = None
    response: CustomResponse | None = None
    warnings: tuple[ActionWarning, ...] = ()

    @property
    def ends_response(self) -> bool:
        """True when a redirect or custom response replaces the page."""
        return self.redirect is not None or self.response is not None
