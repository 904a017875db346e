"""Login quotas (SPEC §3.3): how many successful `setCustomer` calls a visitor may make per hour.

One home for the quota's window, its counters' keys and its defaults. A visitor is counted
twice — per session (through a key that survives id regeneration, so logging in again does not
reset it) and per client address within the brand — and the smaller allowance applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .session import INTERNAL_PREFIX, Session, new_session_id

if TYPE_CHECKING:
    from .inbound import Address
    from .store import Store

WINDOW_S = 3600  # a counter starts with its first login and lasts this long
PER_SESSION = 10  # default successful logins per visitor session per window
PER_IP = 100  # default successful logins per client address per window, per brand
# The session key of the per-session counter: internal (scripts cannot touch it), and kept
# when a login regenerates the session id.
QUOTA_ID_KEY = f"{INTERNAL_PREFIX}quota_id"


class LoginQuota:
    """The login counters of one site, in its store."""

    def __init__(self, store: Store, *, per_session: int = PER_SESSION,
                 per_ip: int = PER_IP) -> None:
        self.store = store
        self.per_session = per_session
        self.per_ip = per_ip

    @property
    def most(self) -> int:
        """The most a visitor may have left: what a script is told without asking the store."""
        return min(self.per_session, self.per_ip)

    async def left(self, session: Session, client: Address | None) -> int:
        """Successful logins the visitor may still make (what a script is told)."""
        left = self.most
        for key, limit in self._counters(session, client):
            left = min(left, limit - await self.store.count(key))
        return max(left, 0)

    async def spend(self, session: Session, client: Address | None) -> bool:
        """Count one login; False when a concurrent request spent the last of it first."""
        if session.get(QUOTA_ID_KEY) is None:
            session.write_value(QUOTA_ID_KEY, new_session_id())
        within = True
        for key, limit in self._counters(session, client):
            within = await self.store.increment(key, WINDOW_S) <= limit and within
        return within

    def _counters(self, session: Session, client: Address | None) -> list[tuple[str, int]]:
        """(store key, limit) of each counter the visitor has: per session, per address."""
        counters = []
        quota_id = session.get(QUOTA_ID_KEY)
        if quota_id:
            counters.append((f"login:session:{quota_id}", self.per_session))
        if client is not None:
            counters.append((f"login:ip:{session.brand}:{client}", self.per_ip))
        return counters
