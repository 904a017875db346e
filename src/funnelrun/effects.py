"""Stages 5-6: the script job for a visit, and the script's validated effects applied to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from .responses import redirect
from .script import Effects, ScriptJob
from .session_store import SessionKeeper
from .settings import LimitSettings

if TYPE_CHECKING:
    from .app import Visit


def script_job(visit: Visit, login_quota: int, limits: LimitSettings) -> ScriptJob:
    session = visit.session
    return ScriptJob(
        bundle=visit.page.bundle,
        request=visit.request_view,
        session=session.public_items(),
        session_bytes=session.total_bytes(),
        customer=session.customer,
        is_customer=session.is_customer,
        login_quota=login_quota,
        limits=limits,
    )


async def apply_effects(visit: Visit, effects: Effects, sessions: SessionKeeper) -> Response | None:
    """Apply effects in the order the script asked; a redirect or custom response ends here."""
    for op in effects.session:
        if op.kind == "login":
            if await sessions.spend_login_quota(visit.session, visit.client):
                visit.session.login(op.fields)
            else:
                visit.events.warn("session.setCustomer",
                                  "the login quota was spent by a concurrent request")
        else:
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
            effects.response.body, status_code=visit.status,
            media_type=effects.response.content_type,
        )
    return None


def applied_actions(effects: Effects) -> list[dict[str, Any]]:
    """A summary of the accepted actions, for the page events."""
    applied: list[dict[str, Any]] = []
    for op in effects.session:
        if op.kind == "login":
            applied.append({"call": "session.setCustomer", "email": op.fields.get("email")})
        else:
            applied.append({"call": "session.set", "key": op.key, "deleted": op.kind == "delete"})
    applied += [
        {"call": "cookie.delete" if c.delete else "cookie.set", "name": c.name}
        for c in effects.cookies
    ]
    applied += [{"call": "setHeader", "name": name} for name, _ in effects.headers]
    applied += [{"call": "setVariable", "key": key} for key in effects.variables]
    if effects.status is not None:
        applied.append({"call": "response.status", "status": effects.status})
    if effects.redirect is not None:
        applied.append({"call": "redirect", "url": effects.redirect.url,
                        "status": effects.redirect.status})
    if effects.response is not None:
        applied.append({"call": "response", "content_type": effects.response.content_type})
    return applied
