"""The inbound HTTP request as funnelrun reads it: host, body (with its size rules), cookies,
client address, device, and the `request` object a page sees (SPEC §3.2)."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request, cookie_parser

from .errors import BodyTooLarge
from .jsondata import JSONDataError, parse_strict
from .session import RESERVED_COOKIE_PREFIX

MAX_REQUEST_BYTES = 1024 * 1024  # larger bodies are refused with 413
MAX_PARSED_BODY_BYTES = 64 * 1024  # larger bodies reach scripts as null
SCRIPT_HEADERS = ("user-agent", "referer", "accept-language", "host")
MAX_HOST_LENGTH = 255
_HOST = re.compile(r"(?:[a-z0-9_.-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?")
# A decoded path that Starlette's `request.url.path` gives back as it is: no `?`, `#` or `\`
# (it escapes them), no spaces or control characters (urlsplit drops some), no leading `//`
# (read as a host when the URL has none).
_PLAIN_PATH = re.compile(r"/(?!/)[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")

# The device check reads this much of the User-Agent (real ones are a few hundred characters):
# a visitor's 100 KB header costs no more than an ordinary one.
MAX_DEVICE_UA_CHARS = 1024
# Alternatives of plain words, so each search is linear. "Android without Mobile after it"
# is checked with str.rfind, not a lookahead that rescans the rest for every "Android".
# Written in lower case: an ASCII User-Agent (nearly all) is searched lower-cased, about ten
# times faster than with IGNORECASE, which other text still gets (its Unicode case folding).
_TABLET_WORDS = r"ipad|tablet|kindle|silk/|playbook|nexus (?:7|9|10)|sm-t\d"
_MOBILE_WORDS = r"mobi|iphone|ipod|windows phone|blackberry|bb10|opera mini|iemobile|webos"
_TABLET = re.compile(_TABLET_WORDS)
_MOBILE = re.compile(_MOBILE_WORDS)
_TABLET_ANY_CASE = re.compile(_TABLET_WORDS, re.IGNORECASE)
_MOBILE_ANY_CASE = re.compile(_MOBILE_WORDS, re.IGNORECASE)

# `request.referer`: browsers send at most this much (Chrome cuts a longer referrer to its
# origin); a longer header is no browser's and reads as "".
MAX_REFERER_CHARS = 4096
_CONTROL_CHARS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)])  # for str.translate: removed

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def host_name(header: str | None) -> str | None:
    """The Host header without port, lower-cased; None when it is missing or malformed."""
    if not header or len(header) > MAX_HOST_LENGTH:
        return None
    host = header.strip().lower()
    if not _HOST.fullmatch(host):
        return None
    if host.startswith("["):
        return host[: host.index("]") + 1]
    return host.rsplit(":", 1)[0].rstrip(".")


def header_map(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request's headers by name, the first of a repeated one as Starlette's
    `Headers.get` answers: one pass, where each `Headers` lookup scans them all (and a missing
    one raises KeyError inside `get`)."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1")
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return headers


def cookie_map(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request's cookies as Starlette's `request.cookies` reads them (every Cookie header,
    a later one winning), without building its `Headers` to find them."""
    cookies: dict[str, str] = {}
    for name, value in raw:
        if name == b"cookie":
            cookies.update(cookie_parser(value.decode("latin-1")))
    return cookies


def url_path(request: Request) -> str:
    """`request.url.path`, without building the URL object (about 4 µs) for a plain path."""
    path: str = request.scope["path"]
    return path if _PLAIN_PATH.fullmatch(path) else request.url.path


def query_map(query_string: bytes) -> dict[str, str]:
    """The query's parameters, the last of a repeated one winning: `dict(request.query_params)`
    without its multi-dict."""
    if not query_string:
        return {}
    query = query_string.decode("latin-1")
    if "%" in query or "+" in query:
        return dict(parse_qsl(query, keep_blank_values=True))
    # Nothing to unescape (the usual query): parse_qsl's work is the splitting alone, done
    # here without its argument checks and per-field unquoting (4 times faster).
    fields: dict[str, str] = {}
    for field in query.split("&"):
        if field:
            name, _, value = field.partition("=")
            fields[name] = value
    return fields


async def read_body(chunks: AsyncIterator[bytes], content_length: str | None) -> bytes:
    """The whole body, or BodyTooLarge past MAX_REQUEST_BYTES (checked before reading, too)."""
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            declared = 0
        if declared > MAX_REQUEST_BYTES:
            raise BodyTooLarge(f"body of {declared} bytes; the limit is {MAX_REQUEST_BYTES}")
    received = bytearray()
    async for chunk in chunks:
        received += chunk
        if len(received) > MAX_REQUEST_BYTES:
            raise BodyTooLarge(f"body over {MAX_REQUEST_BYTES} bytes")
    return bytes(received)


def parse_body(content_type: str | None, body: bytes) -> tuple[Any, str | None]:
    """`request.body` — JSON or form fields for bodies up to 64 KB, else None — and, when a
    body was sent but gives None, why (for the page events)."""
    if not body:
        return None, None
    if len(body) > MAX_PARSED_BODY_BYTES:
        return None, f"body of {len(body)} bytes; bodies over {MAX_PARSED_BODY_BYTES} are not parsed"
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in ("application/json", "application/x-www-form-urlencoded"):
        return None, f"content type {media_type[:100]!r} is not parsed" if media_type \
            else "no content type"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"body is not UTF-8 (byte {exc.start})"
    if media_type == "application/x-www-form-urlencoded":
        # Last value wins, like the query; invalid UTF-8 escapes become U+FFFD.
        return dict(parse_qsl(text, keep_blank_values=True)), None
    try:
        return parse_strict(text), None
    except JSONDataError as exc:
        return None, f"body is not JSON data: {exc}"


def page_cookies(cookies: Mapping[str, str]) -> dict[str, str]:
    """Request cookies for scripts: percent-decoded, the runtime's own (fr_*) left out."""
    return {
        name: unquote(value)
        for name, value in cookies.items()
        if not name.startswith(RESERVED_COOKIE_PREFIX)
    }


def request_object(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    body: Any,
    headers: Mapping[str, str],
    cookies: Mapping[str, str],
    client: Address | None,
    route_params: Mapping[str, str],
) -> dict[str, Any]:
    """The `request` object scripts and templates see (SPEC §3.2), with `referer` and its
    alias `referrer` (script-library §2.8)."""
    user_agent = headers.get("user-agent", "")
    is_mobile, is_tablet = device(user_agent)
    ip, ip6 = ip_fields(client)
    referer = referer_text(headers.get("referer"))
    return {
        "method": method,
        "path": path,
        "query": dict(query),
        "body": body,
        "headers": {name: headers[name] for name in SCRIPT_HEADERS if name in headers},
        "cookies": page_cookies(cookies),
        "ip": ip,
        "ip6": ip6,
        "is_mobile": is_mobile,
        "is_tablet": is_tablet,
        "route_params": dict(route_params),
        "referer": referer,
        "referrer": referer,
    }


def referer_text(header: str | None) -> str:
    """The Referer header without control characters; "" when missing or over
    MAX_REFERER_CHARS."""
    if not header or len(header) > MAX_REFERER_CHARS:
        return ""
    return header.translate(_CONTROL_CHARS).strip()


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Trusted proxies as networks; a bare address is a /32 or /128."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> Address | None:
    """The visitor's address: the peer, or — when the peer is a trusted proxy — the rightmost
    X-Forwarded-For entry that is not itself a trusted proxy."""
    address = _peer_address(peer)
    if address is None or not forwarded_for or not _is_trusted(address, trusted):
        return address
    for entry in reversed([part.strip() for part in forwarded_for.split(",")]):
        hop = _address(entry)
        if hop is None:
            break
        address = hop
        if not _is_trusted(hop, trusted):
            break
    return address


def is_https(
    scheme: str, peer: str | None, forwarded_proto: str | None, trusted: tuple[Network, ...]
) -> bool:
    """Whether the visitor connected over HTTPS: directly, or to a trusted proxy that says so."""
    if scheme == "https":
        return True
    if not trusted or (forwarded_proto or "").strip().lower() != "https":
        return False  # no need to parse the peer's address
    address = _peer_address(peer)
    return address is not None and _is_trusted(address, trusted)


@functools.lru_cache(maxsize=1024)  # str() of an address costs ~0.7 µs; the same ones recur
def ip_fields(address: Address | None) -> tuple[str, str]:
    """(`request.ip`, `request.ip6`): each "" when the address is not of that family."""
    if address is None:
        return "", ""
    if isinstance(address, ipaddress.IPv4Address):
        return str(address), ""
    return "", str(address)


def device(user_agent: str) -> tuple[bool, bool]:
    """(is_mobile, is_tablet) from the user agent; a tablet is not also a mobile. An Android
    device is a tablet unless "Mobile" follows its last "Android" (Google's convention)."""
    text = user_agent[:MAX_DEVICE_UA_CHARS]
    lower = text.lower()
    android = lower.rfind("android")
    searched, tablet, mobile = (
        (lower, _TABLET, _MOBILE) if text.isascii() else (text, _TABLET_ANY_CASE, _MOBILE_ANY_CASE)
    )
    if tablet.search(searched) or (android >= 0 and "mobile" not in lower[android:]):
        return False, True
    return bool(mobile.search(searched)), False


def _address(text: str | None) -> Address | None:
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


# Parsing costs ~2 µs, and the same peers (a proxy, keep-alive clients) come request after
# request. Only peers are kept: addresses from the socket, never text from a header.
_peer_address = functools.lru_cache(maxsize=1024)(_address)


def _is_trusted(address: Address, trusted: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)
