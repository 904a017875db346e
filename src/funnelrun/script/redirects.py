"""Redirect targets a script may send visitors to: local paths and http(s) URLs, nothing else."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote, urlsplit

from .limits import MAX_REDIRECT_BYTES

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
DEFAULT_STATUS = 302
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_HOST = re.compile(r"(?:[A-Za-z0-9\-_]+(?:\.[A-Za-z0-9\-_]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
# Control, format (bidi overrides, zero-width), and space/separator characters: a browser may
# drop or reinterpret them, so a target holding one is refused rather than cleaned.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
_ASCII_PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))


def check_target(url: object) -> tuple[str | None, str | None]:
    """(the target to send, None) for an allowed redirect target, or (None, why not).

    Allowed: a path beginning with a single "/", or an absolute http:// or https:// URL (the
    scheme in lower case) with a host and no credentials. Non-ASCII characters are sent
    percent-encoded.
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
    refusal = _path_refusal(url) if url.startswith("/") else _url_refusal(url)
    if refusal:
        return None, refusal
    return quote(url, safe=_ASCII_PRINTABLE), None


def _character_refusal(url: str, label: str) -> str | None:
    for char in url:
        if "\ud800" <= char <= "\udfff":
            return "target holds an unpaired surrogate"
        if char == "\\":
            return f"target holds a {label}backslash"
        if unicodedata.category(char) in _BAD_CATEGORIES:
            return f"target holds a {label}control or whitespace character (U+{ord(char):04X})"
    return None


def _path_refusal(url: str) -> str | None:
    decoded = unquote(url)
    if url.startswith("//") or decoded.startswith("//"):
        return "target must not start with '//' (that leaves the site)"
    return None


def _url_refusal(url: str) -> str | None:
    scheme = _SCHEME.match(url)
    if scheme is None:
        return "target must be a path starting with '/' or an http:// or https:// URL"
    name = scheme.group(1)
    if name.lower() not in ("http", "https"):
        return f"scheme '{name}:' is not allowed; only http:// and https://"
    if name not in ("http", "https"):
        return f"scheme must be written in lower case: '{name.lower()}://'"
    if not url.startswith(f"{name}://"):
        return f"expected '//' and a host after '{name}:'"
    netloc = urlsplit(url).netloc
    if "@" in netloc:
        return "target must not carry credentials (user@host)"
    if not netloc or not _HOST.fullmatch(netloc):
        return "target needs a valid host (ASCII; use the punycode form of other names)"
    return None
