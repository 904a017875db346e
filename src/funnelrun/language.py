"""The language a visit is served in: its request's locale hint, snapped to the brand's
languages (funnelrun.i18n). Resolved once, before the script runs, so that the script's
`getLocale()` and the template's `{{ locale }}` agree even if the script sets a new one."""

from __future__ import annotations

from .i18n import SESSION_HINT, Translator, locale_hint
from .visit import Visit


def visit_language(visit: Visit) -> Translator:
    """The visit's translator, resolved on first use and then kept on the visit."""
    if visit.translator is None:
        request = visit.request_object
        hint = locale_hint(
            request["route_params"], request["query"], visit.session.get(SESSION_HINT),
            visit.brand.settings.variables, visit.arrival.headers.get("accept-language"),
        )
        visit.translator = visit.brand.translations.translator(hint)
    return visit.translator
