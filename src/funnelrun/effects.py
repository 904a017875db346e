"""Stage 6: a script's validated effects applied to its visit; a redirect or custom response
ends the pipeline here."""

from __future__ import annotations

from starlette.responses import Response

from .jsondata import utf8
from .login_quota import LoginQuota
from .responses import redirect
from .script import Effects
from .visit import Visit


async def apply_effects(visit: Visit, effects: Effects, quota: LoginQuota) -> Response | None:
    """Apply effects in the order the script asked; a redirect or custom response ends here."""
    for op in effects.session:
        if op.kind == "login" and op.fields is not None:
            if await quota.spend(visit.session, visit.client):
                visit.session.login(op.fields)
            else:
                visit.events.warn("session.setCustomer",
                                  "the login quota is spent (perhaps by a concurrent request)")
        elif op.kind == "logout":
            if not visit.session.logout():
                visit.events.warn("session.clearCustomer", "there was no customer to log out")
        elif op.key is not None:
            visit.session.write(op.key, op.text if op.kind == "set" else None)
    visit.cookies.extend(effects.cookies)
    visit.headers.update(effects.headers)
    visit.variables.update(effects.variables)
    if effects.status is not None:
        visit.status = effects.status
    if effects.redirect is not None:
        return redirect(effects.redirect.url, effects.redirect.status)
    if effects.response is not None:
        return Response(
            utf8(effects.response.body), status_code=visit.status,
            media_type=effects.response.content_type,
        )
    return None
