"""Redirect targets a script may send visitors to: local paths and http(s) URLs, parsed as a
browser parses them (the WHATWG URL standard, through ada-url) and sent in canonical form."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from ada_url import URL

from .limits import MAX_REDIRECT_BYTES

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
DEFAULT_STATUS = 302
# Local paths are resolved against this origin, then sent without it.
LOCAL_ORIGIN = "http://local.invalid"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_AUTHORITY_END = re.compile(r"[/?#]")
# Control, format (bidi overrides, zero-width), and space/separator characters: the URL parser
# drops some of them silently and a browser may reinterpret others, so a target holding one
# is refused rather than cleaned. Backslashes too: the parser reads them as slashes.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def check_target(url: object) -> tuple[str | None, str | None]:
    """(the target to send, None) for an allowed redirect target, or (None, why not).

    Allowed: a path beginning with a single "/", or an absolute http:// or https:// URL (the
    scheme in lower case) with an ASCII host and no credentials, that a browser can parse. The
    target sent is the parser's canonical form (`href`, or for a path its path, query and
    fragment): ASCII, percent-encoded, and parsed again to itself.
    """
    if not isinstance(url, str):
        return None, "target must be a string"
    if not url:
        return None, "target is empty"
    if len(url.encode("utf-8", "surrogatepass")) > MAX_REDIRECT_BYTES:
        return None, f"target is longer than {MAX_REDIRECT_BYTES} bytes"
    refusal = _character_refusal(url, "") or _character_refusal(unquote(url), "percent-encoded ")
    if refusal:
        return None, refusal
    return _local(url) if url.startswith("/") else _absolute(url)


def _character_refusal(url: str, label: str) -> str | None:
    for char in url:
        if "\ud800" <= char <= "\udfff":
            return "target holds an unpaired surrogate"
        if char == "\\":
            return f"target holds a {label}backslash"
        if unicodedata.category(char) in _BAD_CATEGORIES:
            return f"target holds a {label}control or whitespace character (U+{ord(char):04X})"
    return None


def _local(url: str) -> tuple[str | None, str | None]:
    if url.startswith("//") or unquote(url).startswith("//"):
        return None, "target must not start with '//' (that leaves the site)"
    parsed = URL(url, LOCAL_ORIGIN)  # a path with one leading "/" always parses
    target = parsed.pathname + parsed.search + parsed.hash
    if target.startswith("//"):  # "/.//evil.com" and "/a/..//evil.com" come out as "//evil.com"
        return None, f"target's path resolves to '{parsed.pathname}', which would leave the site"
    return target, None


def _absolute(url: str) -> tuple[str | None, str | None]:
    scheme = _SCHEME.match(url)
    if scheme is None:
        return None, "target must be a path starting with '/' or an http:// or https:// URL"
    name = scheme.group(1)
    if name.lower() not in ("http", "https"):
        return None, f"scheme '{name}:' is not allowed; only http:// and https://"
    if name not in ("http", "https"):
        return None, f"scheme must be written in lower case: '{name.lower()}://'"
    if not url.startswith(f"{name}://"):
        return None, f"expected '//' and a host after '{name}:'"
    rest = url[len(name) + 3:]
    authority = rest[:end.start()] if (end := _AUTHORITY_END.search(rest)) else rest
    if "@" in authority:
        return None, "target must not carry credentials (user@host)"
    if not authority:
        return None, "target needs a host"
    if not authority.isascii() or "%" in authority:
        return None, "target needs an ASCII host, not percent-encoded (use the punycode form " \
                     "of other names)"
    try:
        return URL(url).href, None
    except ValueError:
        return None, f"'{authority}' is not a valid host and port (as a browser parses URLs)"
