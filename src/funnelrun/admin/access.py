"""Who may open the debug window: the admin token, and the cookie it is exchanged for.

The cookie holds no state on the server: `v1.<expiry>.<HMAC-SHA256(token, expiry)>`, so every
worker and every machine with the same token accepts it, and a new token (a restart without
FUNNELRUN_ADMIN_TOKEN) ends every admin login. Every comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping

from ..errors import FunnelrunError

ADMIN_COOKIE = "fr_admin"
COOKIE_LIFETIME_S = 12 * 3600
_COOKIE_VERSION = "v1"
_MAX_COOKIE_CHARS = 128  # a real one is 84; anything longer is refused unread


class AdminAccess:
    """Checks the admin token, in a login link or an Authorization header, and admin cookies."""

    def __init__(self, token: str | None, clock: Callable[[], float]) -> None:
        self._token = token.encode() if token else None
        self.clock = clock

    @property
    def enabled(self) -> bool:
        """False without a token: then nothing opens the debug window."""
        return self._token is not None

    def token_ok(self, given: str | None) -> bool:
        if self._token is None or not given:
            return False
        return hmac.compare_digest(given.encode("utf-8", "replace"), self._token)

    def bearer_ok(self, authorization: str | None) -> bool:
        """`Authorization: Bearer <token>`."""
        scheme, _, given = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and self.token_ok(given.strip())

    def new_cookie(self) -> str:
        """A cookie value valid for COOKIE_LIFETIME_S from now."""
        expires = int(self.clock()) + COOKIE_LIFETIME_S
        return f"{_COOKIE_VERSION}.{expires}.{self._signature(expires)}"

    def cookie_ok(self, value: str | None) -> bool:
        if self._token is None or not value or len(value) > _MAX_COOKIE_CHARS:
            return False
        version, _, rest = value.partition(".")
        expires_text, _, signature = rest.partition(".")
        if version != _COOKIE_VERSION or not expires_text.isdigit() or len(expires_text) > 12:
            return False
        expires = int(expires_text)
        valid = hmac.compare_digest(signature.encode("utf-8", "replace"),
                                    self._signature(expires).encode())
        return valid and self.clock() < expires

    def cookie_header(self, secure: bool) -> str:
        return _cookie_header(self.new_cookie(), COOKIE_LIFETIME_S, secure)

    def allows(self, cookies: Mapping[str, str]) -> bool:
        return self.cookie_ok(cookies.get(ADMIN_COOKIE))

    def _signature(self, expires: int) -> str:
        if self._token is None:
            raise FunnelrunError("the debug window is off: there is no admin token")
        message = f"funnelrun-admin-cookie-{_COOKIE_VERSION}:{expires}".encode()
        return hmac.new(self._token, message, hashlib.sha256).hexdigest()


def clearing_cookie_header(secure: bool) -> str:
    return _cookie_header("", 0, secure)


def _cookie_header(value: str, max_age: int, secure: bool) -> str:
    # Path=/: the in-page panel of every page needs it. Strict: no other site's link or form
    # carries it. HttpOnly: no page script reads it (backend scripts never see fr_* cookies).
    header = f"{ADMIN_COOKIE}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Strict"
    return f"{header}; Secure" if secure else header
