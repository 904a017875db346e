"""One request on its way through the pipeline: an `Arrival` until its page is known, then a
`Visit` of that page. Data only; the stages in funnelrun.app fill it in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from .asset_urls import AssetLinks
from .events import PageEvents
from .i18n import Translator
from .inbound import Address, cookie_map
from .script import CookieEffect
from .session import Session
from .site import Brand, Page


@dataclass(eq=False)
class Arrival:
    """A request as read, before its brand and page are resolved."""

    request: Request
    events: PageEvents
    # Read from the request once (read_request): cheaper than Starlette's `request.headers`
    # (a scan per lookup) and `request.url.path` (a URL object built for it).
    headers: dict[str, str] = field(default_factory=dict)  # by name; the first of repeated ones
    path: str = ""  # the URL's path, as `request.url.path` gives it
    host: str = ""  # the Host header without port, lower-cased
    body: bytes = b""
    client: Address | None = None
    https: bool = False
    brand: Brand | None = None  # the brand the Host names, even when no page matches
    recorded: bool = True  # its page events are stored (not for an asset served: app.py)
    _cookies: dict[str, str] | None = field(default=None, init=False, repr=False)

    @property
    def brand_id(self) -> str:
        """The brand's id for the record, "" when the Host names none."""
        return self.brand.id if self.brand is not None else ""

    @property
    def cookies(self) -> dict[str, str]:
        """The request's cookies, read on first use (a served asset needs none): as
        `request.cookies`, without the `Headers` Starlette builds to find them. (Not a
        functools.cached_property: Python 3.11's takes a lock, 0.5 µs.)"""
        if self._cookies is None:
            self._cookies = cookie_map(self.request.scope["headers"])
        return self._cookies


@dataclass(eq=False)
class Visit:
    """A request for one page of one brand, and what the pipeline decides for its response."""

    arrival: Arrival
    brand: Brand
    page: Page
    request_object: dict[str, Any]  # `request` as scripts and templates see it (SPEC §3.2)
    session: Session
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[CookieEffect] = field(default_factory=list)  # sent with any response
    variables: dict[str, Any] = field(default_factory=dict)  # from setVariable
    private: bool = False  # the response carries an admin's panel: never cached
    translator: Translator | None = None  # its language, once resolved (funnelrun.language)
    assets: AssetLinks | None = None  # the brand's asset() URLs (the app's, per brand)

    @property
    def request(self) -> Request:
        return self.arrival.request

    @property
    def events(self) -> PageEvents:
        return self.arrival.events

    @property
    def client(self) -> Address | None:
        return self.arrival.client

    @property
    def https(self) -> bool:
        return self.arrival.https
