"""Sessions between requests: the fr_session cookie, loading and saving through the store.

A session belongs to the brand that created it (SPEC §3.3): the store keeps it under the brand
id and the cookie's id together, so a cookie presented to another brand finds nothing there.
Identity crosses brands only through a handoff token.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping

from .events import PageEvents
from .script import CookieEffect
from .session import MAX_SESSION_BYTES, SESSION_COOKIE, Session, new_session_id
from .settings import SessionSettings
from .store import SaveResult, SessionWrite, Store

_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")


class SessionKeeper:
    def __init__(
        self, store: Store, settings: SessionSettings, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock

    async def load(self, brand: str, cookies: Mapping[str, str], events: PageEvents) -> Session:
        """The visitor's session with `brand`, or an empty one (not stored until something is
        written). A session of another brand is no session here."""
        session_id = cookies.get(SESSION_COOKIE)
        if not session_id:
            return Session(brand=brand)
        if not _SESSION_ID.fullmatch(session_id):
            events.add("session", state="malformed cookie")
            return Session(brand=brand)
        stored = await self.store.load_session(store_id(brand, session_id))
        if stored is None:
            events.add("session", state="unknown, expired or of another brand")
            return Session(brand=brand)
        return Session(brand=brand, id=session_id, created_at=stored.created_at,
                       items=dict(stored.items))

    async def save(self, session: Session, events: PageEvents, *, secure: bool) -> CookieEffect | None:
        """Store the keys this request changed; return the cookie to send when the id is new."""
        if not session.dirty:
            return None
        if not session.brand:
            raise ValueError("a session must belong to a brand to be saved")
        now = self.clock()
        create = session.created_at is None
        if session.created_at is None:
            session.created_at = now
        if session.id is None:
            session.id = new_session_id()
        expires_at = session.created_at + self.settings.lifetime_s
        write = SessionWrite(
            session_id=store_id(session.brand, session.id),
            created_at=session.created_at,
            expires_at=expires_at,
            changes=dict(session.changes),
            create=create,
            replaces=None if session.replaces is None else store_id(session.brand, session.replaces),
            keep=session.keep,
            max_bytes=MAX_SESSION_BYTES,
        )
        result = await self.store.save_session(write)
        if result is not SaveResult.SAVED:
            events.warn("session", _not_saved(result, session))
            return None
        events.add(
            "session", saved=sorted(session.changes), created=create,
            regenerated=session.replaces is not None,
        )
        if create or session.replaces is not None:
            return CookieEffect(
                name=SESSION_COOKIE, value=session.id, max_age=max(int(expires_at - now), 0),
                path="/", delete=False,
            )
        return None


def _not_saved(result: SaveResult, session: Session) -> str:
    keys = ", ".join(sorted(session.changes))
    if result is SaveResult.TOO_LARGE:
        return (f"with the writes of concurrent requests the session would pass "
                f"{MAX_SESSION_BYTES} bytes; none of this request's writes were saved: {keys}")
    return ("the session ended (expired, or replaced by a concurrent login) before this "
            f"request's writes were saved; not saved: {keys}")


def store_id(brand: str, session_id: str) -> str:
    """The key of a session in the store: the brand id, then the cookie's id. Cookie ids never
    hold ':', so no two (brand, id) pairs share a key."""
    return f"{brand}:{session_id}"
