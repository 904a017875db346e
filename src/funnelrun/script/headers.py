"""Response headers a script sets: token names, a refused list, cleaned values."""

from __future__ import annotations

import re

from ..jsondata import clean_text
from .cookies import TOKEN
from .limits import MAX_HEADER_VALUE_BYTES

# SPEC §3.3: headers that carry cookies, CORS, framing or connection state, or that the
# server itself owns.
REFUSED_HEADERS = frozenset({
    "set-cookie", "cookie", "connection", "keep-alive", "transfer-encoding", "content-length",
    "content-encoding", "upgrade", "te", "trailer", "host", "location", "date", "server",
})
REFUSED_PREFIXES = ("access-control-", "proxy-")
# Headers that send the visitor elsewhere, or that a reverse proxy in front acts on, each with
# the reason a script may not set them: redirect() checks its target, these would not.
REDIRECTING_HEADERS = {
    "refresh": "it redirects the visitor without redirect()'s checks; use redirect()",
    "x-sendfile": "a reverse proxy in front would send the file it names from its own disk",
    "x-lighttpd-send-file": "a reverse proxy in front would send the file it names from its "
                            "own disk",
}
REDIRECTING_PREFIXES = {
    "x-accel-": "a reverse proxy in front (nginx) would act on it: an internal redirect",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def header_refusal(name: object) -> str | None:
    """Why a script may not set the header `name`, or None."""
    if not isinstance(name, str):
        return "name must be a string"
    if not TOKEN.fullmatch(name):
        return f"{name!r} is not a valid header name (RFC 7230 token characters only)"
    lower = name.lower()
    if lower in REFUSED_HEADERS or lower.startswith(REFUSED_PREFIXES):
        return f"'{name}' cannot be set by a script"
    reason = REDIRECTING_HEADERS.get(lower) or next(
        (why for prefix, why in REDIRECTING_PREFIXES.items() if lower.startswith(prefix)), None)
    if reason:
        return f"'{name}' cannot be set by a script: {reason}"
    return None


def clean_value(value: str) -> str:
    """A header value with control characters (CR, LF, NUL and the rest) removed."""
    return _CONTROL.sub("", clean_text(value)).strip(" ")


def value_refusal(value: str) -> str | None:
    size = len(value.encode())
    if size > MAX_HEADER_VALUE_BYTES:
        return f"value is {size} bytes; the limit is {MAX_HEADER_VALUE_BYTES}"
    return None
