"""Stage 7: the template context of SPEC §4, and session items written from templates."""

from __future__ import annotations

import string
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote_from_bytes

from .device import device_of
from .events import PageEvents
from .language import visit_language
from .placeholders import Placeholders
from .session import Session, encode, key_refusal, sanitize_item_key
from .template.lexer import PLACEHOLDER_VALUES
from .tracking import click_id
from .visit import Visit

# What `{{ queryparams }}` keeps as sent: RFC 3986's query characters, and `%` (escapes).
_QUERY_SAFE = "!$&'()*+,;=:@/?%"
_QUERY_AS_SENT = (string.ascii_letters + string.digits + "_.-~" + _QUERY_SAFE).encode()


def render_page(visit: Visit, now: float | None = None, *, read_only: bool = False) -> str:
    """The page's HTML; `now` (epoch seconds, default the time) dates the %YEAR% placeholders.
    `read_only` (a brand's error page): the template reads the session but never writes it."""
    items = (ReadOnlySessionItems if read_only else TemplateSessionItems)(visit.session,
                                                                          visit.events)
    return visit.page.template.render(template_context(visit, now), session=items,
                                      translator=visit_language(visit), assets=visit.assets)


def template_context(visit: Visit, now: float | None = None) -> dict[str, Any]:
    """The names a page template sees; `var` is brand variables overlaid by setVariable."""
    session, brand = visit.session, visit.brand.settings
    is_customer = session.is_customer  # each decoded once from its JSON text
    customer = session.customer
    fields = visit.request_object
    name = customer.get("name") if customer else None
    return {
        "var": {**brand.variables, **visit.variables},
        "request": PageRequest(fields, is_customer),
        "query": fields["query"],
        "customer": customer,
        "is_customer": is_customer,
        "is_mobile": fields["is_mobile"],
        "is_tablet": fields["is_tablet"],
        "session": session.public_items(),
        "route_params": fields["route_params"],
        "brand": brand.public(),
        "locale": visit_language(visit).language,  # the resolved language (README "Translations")
        # page variables of the reference (script-library §2.8)
        "brand_name": brand.name,
        "domain": visit.arrival.host,
        "queryparams": query_text(visit.request.scope.get("query_string", b"")),
        "customer_name": name if isinstance(name, str) else "",
        "click_id": click_id(session),
        PLACEHOLDER_VALUES: Placeholders(time.time() if now is None else now, brand.timezone,
                                         customer),
    }


def query_text(raw: bytes) -> str:
    """`{{ queryparams }}`: the query string as sent, without `?`; bytes that may not stand in
    a URL's query (spaces, quotes, `<`, non-ASCII, …) percent-encoded, escapes kept as sent."""
    if not raw.translate(None, _QUERY_AS_SENT):  # the usual case: nothing to encode
        return raw.decode("ascii")
    return quote_from_bytes(raw, safe=_QUERY_SAFE)


class PageRequest(Mapping[str, Any]):
    """`request` in templates: the request object plus `is_customer`, and `device`, which is
    parsed from the User-Agent only when a template reads it (funnelrun.device)."""

    __slots__ = ("_fields",)

    def __init__(self, request: Mapping[str, Any], is_customer: bool) -> None:
        self._fields = dict(request, is_customer=is_customer)

    def __getitem__(self, key: str) -> Any:
        if key == "device" and "device" not in self._fields:
            self._fields["device"] = device_of(self._fields)
        return self._fields[key]

    def get(self, key: str, default: Any = None) -> Any:
        """As `Mapping.get`, without raising and catching KeyError for a missing key (what
        template lookups call)."""
        if key == "device" and "device" not in self._fields:
            return self[key]
        return self._fields.get(key, default)

    def __iter__(self) -> Iterator[str]:
        yield from list(self._fields)
        if "device" not in self._fields:
            yield "device"

    def __len__(self) -> int:
        return len(self._fields) + ("device" not in self._fields)


class TemplateSessionItems:
    """`@setSessionItem` / `getSessionItem` / `@clearSessionItem` on the visitor's session.

    Items live under `custom_<key>` (key reduced to A-Z a-z 0-9 _), so scripts read them with
    `session.get('custom_<key>')`, and with the script aliases `getSessionItem('<key>')`.
    Oversized values, and keys that make a session key of over 128 characters, are refused
    with a page-events warning, as `setSessionItem` refuses them in scripts.
    """

    def __init__(self, session: Session, events: PageEvents) -> None:
        self.session = session
        self.events = events

    def get_item(self, key: str) -> Any:
        value = self.session.get(sanitize_item_key(key))
        return "" if value is None else value

    def set_item(self, key: str, value: Any) -> None:
        name = sanitize_item_key(key)
        try:
            text = None if value is None else encode(value)
        except (TypeError, ValueError):
            self.events.warn(f"@setSessionItem('{key}')", "value cannot be stored as JSON")
            return
        refusal = key_refusal(name) or self.session.refusal_for_write(name, text)
        if refusal:
            self.events.warn(f"@setSessionItem('{key}')", refusal)
            return
        self.session.write(name, text)

    def clear_item(self, key: str) -> None:
        self.session.write(sanitize_item_key(key), None)


class ReadOnlySessionItems(TemplateSessionItems):
    """An error page's session items: read as on any page; a write is refused with a warning,
    so a 404 never creates, changes or extends a visitor's session."""

    def set_item(self, key: str, value: Any) -> None:
        self.events.warn(f"@setSessionItem('{key}')", "an error page does not write the session")

    def clear_item(self, key: str) -> None:
        self.events.warn(f"@clearSessionItem('{key}')",
                         "an error page does not write the session")
