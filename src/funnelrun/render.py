"""Stage 7: the template context of SPEC §4, and session items written from templates."""

from __future__ import annotations

from typing import Any

from .events import PageEvents
from .session import Session, encode, sanitize_item_key
from .visit import Visit


def render_page(visit: Visit) -> str:
    items = TemplateSessionItems(visit.session, visit.events)
    return visit.page.template.render(template_context(visit), session=items)


def template_context(visit: Visit) -> dict[str, Any]:
    """The names a page template sees; `var` is brand variables overlaid by setVariable."""
    session = visit.session
    is_customer = session.is_customer  # each decoded once from its JSON text
    request = dict(visit.request_object, is_customer=is_customer)
    return {
        "var": {**visit.brand.settings.variables, **visit.variables},
        "request": request,
        "query": request["query"],
        "customer": session.customer,
        "is_customer": is_customer,
        "is_mobile": request["is_mobile"],
        "is_tablet": request["is_tablet"],
        "session": session.public_items(),
        "route_params": request["route_params"],
        "brand": {"id": visit.brand.id, "name": visit.brand.settings.name},
    }


class TemplateSessionItems:
    """`@setSessionItem` / `getSessionItem` / `@clearSessionItem` on the visitor's session.

    Items live under `custom_<key>` (key reduced to A-Z a-z 0-9 _), so scripts read them with
    `session.get('custom_<key>')`. Oversized values are refused with a page-events warning.
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
        refusal = self.session.refusal_for_write(name, text)
        if refusal:
            self.events.warn(f"@setSessionItem('{key}')", refusal)
            return
        self.session.write(name, text)

    def clear_item(self, key: str) -> None:
        self.session.write(sanitize_item_key(key), None)
