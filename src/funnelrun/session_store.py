"""Sessions between requests: the fr_session cookie, loading and saving through the store, quotas."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping

from .events import PageEvents
from .request import Address
from .script import CookieEffect
from .session import QUOTA_ID_KEY, SESSION_COOKIE, Session, new_session_id
from .settings import SessionSettings
from .store import SessionWrite, Store

_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")
QUOTA_WINDOW_S = 3600


class SessionKeeper:
    def __init__(
        self, store: Store, settings: SessionSettings, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock

    async def load(self, cookies: Mapping[str, str], events: PageEvents) -> Session:
        """The visitor's session, or an empty one (not stored until something is written)."""
        session_id = cookies.get(SESSION_COOKIE)
        if not session_id:
            return Session()
        if not _SESSION_ID.fullmatch(session_id):
            events.add("session", state="malformed cookie")
            return Session()
        stored = await self.store.load_session(session_id)
        if stored is None:
            events.add("session", state="unknown or expired")
            return Session()
        return Session(id=stored.id, created_at=stored.created_at, items=dict(stored.items))

    async def save(self, session: Session, events: PageEvents, *, secure: bool) -> CookieEffect | None:
        """Store the keys this request changed; return the cookie to send when the id is new."""
        if not session.dirty:
            return None
        now = self.clock()
        create = session.created_at is None
        if create:
            session.created_at = now
        if session.id is None:
            session.id = new_session_id()
        expires_at = session.created_at + self.settings.lifetime_s
        write = SessionWrite(
            session_id=session.id,
            created_at=session.created_at,
            expires_at=expires_at,
            changes=dict(session.changes),
            create=create,
            replaces=session.replaces,
        )
        if not await self.store.save_session(write):
            events.warn(
                "session",
                "the session ended (expired, or replaced by a concurrent login) before this "
                f"request's writes were saved; not saved: {', '.join(sorted(session.changes))}",
            )
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

    # -- login quotas (setCustomer): per visitor session and per client IP, per hour ------------

    def _quota_keys(self, session: Session, client: Address | None) -> list[tuple[str, int]]:
        keys = []
        quota_id = session.get(QUOTA_ID_KEY)
        if quota_id:
            keys.append((f"login:session:{quota_id}", self.settings.login_quota_per_session))
        if client is not None:
            keys.append((f"login:ip:{client}", self.settings.login_quota_per_ip))
        return keys

    async def login_quota_left(self, session: Session, client: Address | None) -> int:
        left = min(self.settings.login_quota_per_session, self.settings.login_quota_per_ip)
        for key, limit in self._quota_keys(session, client):
            left = min(left, limit - await self.store.count(key))
        return max(left, 0)

    async def spend_login_quota(self, session: Session, client: Address | None) -> bool:
        """Count one login; False when a concurrent request spent the last of the quota first."""
        if session.get(QUOTA_ID_KEY) is None:
            session.write_value(QUOTA_ID_KEY, new_session_id())
        within = True
        for key, limit in self._quota_keys(session, client):
            within = await self.store.increment(key, QUOTA_WINDOW_S) <= limit and within
        return within
