"""A login handed between domains of one brand (SPEC §6): a token for a visit's customer, and a
token taken into a visit's session — verified, its `jti` spent once in the store (so a replay
fails on every worker and machine sharing it), the session given a new id that keeps only its
tracking keys, the customer written.

Used by a script (`session.getToken`, `session.setFromToken`, through `VisitHost`) and by the
pipeline for a page requested with `?ef_session=` or `?setSessionToken=`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from .errors import HandoffError
from .handoff import CLOCK_SKEW_S, Handoff, issue_token, open_token, token_ttl
from .script import HostRefusal
from .session import Session, is_reserved
from .store import Store
from .visit import Visit

QUERY_PARAMETERS = ("ef_session", "setSessionToken")  # a token here is taken in automatically


class Handover:
    """Issues and takes in handoff tokens for one site: its secret, its store, its clock."""

    def __init__(self, secret: bytes | None, store: Store, clock: Callable[[], float]) -> None:
        self.secret = secret
        self.store = store
        self.clock = clock

    def token_for(self, brand_id: str, session: Session, ttl: object = None) -> str:
        """A token handing the session's customer to another domain of the brand."""
        secret = self._secret()
        customer = session.customer
        if customer is None:
            raise HandoffError("the session has no customer to hand over", reason="no_customer")
        return issue_token(secret, brand_id, customer, now=self.clock(), ttl_s=token_ttl(ttl))

    async def take_in(self, brand_id: str, session: Session, token: object) -> Handoff:
        """Log `session` in as the token's customer; HandoffError (session untouched) when the
        token does not verify, is not for this brand, is out of its lifetime, or was spent."""
        now = self.clock()
        handoff = open_token(self._secret(), brand_id, token, now=now)
        if not isinstance(handoff.customer.get("email"), str):
            raise HandoffError("the token carries no customer email", reason="malformed")
        # Only now, verified, may the token spend its jti: a forged one never burns the real one.
        lifetime = handoff.expires_at + CLOCK_SKEW_S - now
        if not await self.store.claim(f"handoff:{brand_id}:{handoff.jti}", max(lifetime, 1.0)):
            raise HandoffError("the token was used already", reason="replayed")
        session.hand_in(handoff.customer)
        return handoff

    def _secret(self) -> bytes:
        if self.secret is None:
            raise HandoffError("handoff is off: FUNNELRUN_SECRET_KEY is not set",
                               reason="no_secret")
        return self.secret


class VisitHost:
    """The server's answers to one visit's script: `session.getToken` and `setFromToken`.
    A refusal is a HostRefusal (the script gets null / false) and a `handoff` page event."""

    def __init__(self, handover: Handover, visit: Visit) -> None:
        self.handover = handover
        self.visit = visit

    async def call(self, op: str, args: list[Any]) -> Any:
        visit = self.visit
        try:
            if op == "session.getToken":
                token = self.handover.token_for(visit.brand.id, visit.session, args[0])
                visit.events.add("handoff", call=op, outcome="issued")
                return token
            handoff = await self.handover.take_in(visit.brand.id, visit.session, args[0])
        except HandoffError as refusal:
            visit.events.add("handoff", call=op, outcome="refused", reason=refusal.reason,
                             message=refusal.message)
            raise HostRefusal(refusal.message) from None
        visit.events.add("handoff", call=op, outcome="logged_in", email=handoff.customer["email"])
        session = visit.session
        return {"ok": True, "customer": session.customer, "session_bytes": session.total_bytes(),
                "session": {key: text for key, text in session.items.items()
                            if not is_reserved(key)}}


def token_in_query(query: str) -> tuple[str, str] | None:
    """The handoff token of a raw query string, and the query without it — every other
    parameter, its order, spelling and repeats kept exactly — or None when there is none.
    With both parameter names, `ef_session` wins and both are removed."""
    pieces = query.split("&") if query else []
    found: dict[str, str] = {}
    kept = []
    for piece in pieces:
        name, _, value = piece.partition("=")
        decoded = unquote_plus(name)
        if decoded in QUERY_PARAMETERS:
            found.setdefault(decoded, unquote_plus(value))
        else:
            kept.append(piece)
    for name in QUERY_PARAMETERS:
        if name in found:
            return found[name], "&".join(kept)
    return None


def same_page_location(raw_path: str, query: str) -> str:
    """The Location that sends a visitor back to the page they asked for: their raw path and
    query, made safe to send back. A path the router took for a page can still read `//x`
    (`//` is the index) or `/\\x` (a `[slug]` page), which a browser reads as another host:
    backslashes are escaped and leading slashes folded into one."""
    path = "/" + raw_path.replace("\\", "%5C").lstrip("/")
    return f"{path}?{query}" if query else path
