"""Stages 5-6: the script job for a visit, and the script's validated effects applied to it."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from .errors import ScriptError
from .events import PageEvents, error_fields
from .jsondata import utf8
from .responses import redirect
from .script import HOST_OPS, Effects, ScriptJob, ScriptResult
from .session_store import SessionKeeper
from .settings import LimitSettings

if TYPE_CHECKING:
    from .app import Visit

# Applied actions listed in the `script` page event (like console entries); the rest counted.
MAX_APPLIED_LISTED = 200


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
            utf8(effects.response.body), status_code=visit.status,
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


def record_script(events: PageEvents, result: ScriptResult) -> None:
    """The `script` page event: outcome, timing, error with position, console, actions; and a
    `warning` event for every refused action."""
    applied = applied_actions(result.effects)
    event = events.add(
        "script",
        outcome=result.outcome,
        duration_ms=round(result.duration_ms, 3),
        cpu_ms=round(result.cpu_ms, 3),
        console=[dataclasses.asdict(entry) for entry in result.console],
        console_dropped=result.console_dropped,
        applied=applied[:MAX_APPLIED_LISTED],
    )
    if len(applied) > MAX_APPLIED_LISTED:
        event["applied_dropped"] = len(applied) - MAX_APPLIED_LISTED
    if result.error is not None:
        events.has_error = True
        event["error"] = error_fields(result.error)
    for warning in result.effects.warnings:
        events.warn(warning.call, warning.reason)


def record_unbuilt_script(events: PageEvents, problem: ScriptError) -> None:
    """The `script` event of a page whose script could not be built (a missing module, an
    import cycle): it did not run, and the page renders without it."""
    events.has_error = True
    events.add("script", outcome="error", error=error_fields(problem), applied=[])


class HandoffUnavailable:
    """The host side of `session.getToken` / `setFromToken` until cross-domain handoff lands
    (its own issue): each call answers null / false and says why in the page events."""

    def __init__(self, events: PageEvents) -> None:
        self.events = events

    async def call(self, op: str, args: list) -> Any:
        self.events.warn(op, "cross-domain session handoff is not available yet")
        return HOST_OPS[op]
