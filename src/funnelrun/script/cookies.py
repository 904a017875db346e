"""Cookies a script sets or deletes: RFC 6265 names, encoded values, Set-Cookie lines."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..jsondata import clean_text
from ..session import RESERVED_COOKIE_PREFIX, SESSION_COOKIE
from .limits import MAX_COOKIE_AGE_S, MAX_COOKIE_BYTES, MAX_COOKIE_PATH_CHARS

# RFC 6265 cookie-name = RFC 7230 token.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 6265 cookie-octets, less "%": the app percent-decodes request cookies, so a literal "%"
# is sent as %25 and every string comes back as it was set.
_VALUE_SAFE = "".join(
    chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%,;\\' and not chr(c).isalnum()
)
_PATH = re.compile(r"/[\x21-\x2b\x2d-\x3a\x3c-\x7e]*")  # printable ASCII less ";" and ","
OPTIONS = ("maxAge", "path")
MAX_SHOWN_OPTIONS = 5
MAX_SHOWN_OPTION_CHARS = 40


@dataclass(slots=True)  # not frozen: see funnelrun.script.effects
class CookieEffect:
    """One cookie to set (or delete) on the response."""

    name: str
    value: str = ""  # as the script gave it; `header()` encodes it
    max_age: int | None = None  # None: a session cookie
    path: str = "/"
    delete: bool = False

    @property
    def encoded_value(self) -> str:
        return quote(self.value, safe=_VALUE_SAFE)

    def header(self, secure: bool) -> str:
        """The Set-Cookie header value."""
        parts = [f"{self.name}={'' if self.delete else self.encoded_value}", f"Path={self.path}"]
        if self.delete:
            parts.append("Max-Age=0")
        elif self.max_age is not None:
            parts.append(f"Max-Age={self.max_age}")
        parts += ["HttpOnly", "SameSite=Lax"]
        if secure:
            parts.append("Secure")
        return "; ".join(parts)


def name_refusal(name: object) -> str | None:
    """Why a script may not set or delete a cookie called `name`, or None."""
    if not isinstance(name, str):
        return "name must be a string"
    if not TOKEN.fullmatch(name):
        return f"{name!r} is not a valid cookie name (RFC 6265 token characters only)"
    if name == SESSION_COOKIE or name.lower().startswith(RESERVED_COOKIE_PREFIX):
        return f"'{name}' is reserved: names beginning with '{RESERVED_COOKIE_PREFIX}' belong " \
               "to funnelrun"
    return None


def read_cookie(name: object, value: str, options: Mapping[str, Any] | None, *,
                delete: bool = False) -> tuple[CookieEffect | None, list[str]]:
    """A validated cookie from a script's arguments: (cookie or None, warnings)."""
    refusal = name_refusal(name)
    if refusal:
        return None, [refusal]
    opts = options or {}
    notes = _unsupported([key for key in opts if key not in OPTIONS or (delete and key == "maxAge")])
    path, refusal = _path(opts.get("path"))
    max_age = None
    if refusal is None and not delete:
        max_age, refusal = _max_age(opts.get("maxAge"))
    if refusal:
        return None, [*notes, refusal]
    cookie = CookieEffect(str(name), "" if delete else clean_text(value), max_age, path, delete)
    size = len(cookie.name.encode()) + len(cookie.encoded_value.encode())
    if size > MAX_COOKIE_BYTES:
        return None, [*notes, f"name and value are {size} bytes; the limit is {MAX_COOKIE_BYTES}"]
    return cookie, notes


def _unsupported(keys: list[str]) -> list[str]:
    """One note naming the options ignored (the first few of them: one call, one warning)."""
    if not keys:
        return []
    if len(keys) == 1:
        return [f"option '{keys[0]}' is not supported; ignored"]
    shown = ", ".join(f"'{key[:MAX_SHOWN_OPTION_CHARS]}'" for key in keys[:MAX_SHOWN_OPTIONS])
    more = f" and {len(keys) - MAX_SHOWN_OPTIONS} more" if len(keys) > MAX_SHOWN_OPTIONS else ""
    return [f"options {shown}{more} are not supported; ignored"]


def _path(path: object) -> tuple[str, str | None]:
    if path is None:
        return "/", None
    if not isinstance(path, str) or len(path) > MAX_COOKIE_PATH_CHARS \
            or not _PATH.fullmatch(path):
        return "/", "path must start with '/' and hold only printable ASCII other than ';' and ','"
    return path, None


def _max_age(value: object) -> tuple[int | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None, "maxAge must be a number of seconds"
    # Negative means "expire now"; the cap is the 400 days browsers allow at most.
    return min(max(math.floor(value), 0), MAX_COOKIE_AGE_S), None
