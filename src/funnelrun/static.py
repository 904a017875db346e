"""The /assets/ stage: a brand's files answered from its asset index (funnelrun.site.assets),
with validators and 304s, one byte range, and the gzip or brotli body made at load.

Served from memory rather than through Starlette's FileResponse: measured under wrk, its reads
through a thread pool cost three times the CPU of this whole request (README "Assets").
Nothing here reads a file: a request path is decoded segment by segment, held to the index's
naming rule, then looked up exactly; anything the index does not hold is a 404. No regular
expression sees visitor text here: headers are split and compared.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from urllib.parse import unquote_to_bytes

from starlette.responses import Response

from .site.assets import Asset, servable_name

PREFIX = "/assets/"
METHODS = ("GET", "HEAD")
MAX_PATH_BYTES = 1024  # a request path under /assets/, still percent-encoded
IMMUTABLE = "public, max-age=31536000, immutable"  # a URL whose ?v= is the content's hash
SHORT_MAX_AGE_S = 300
REVALIDATE = f"public, max-age={SHORT_MAX_AGE_S}, must-revalidate"  # any other URL
MAX_DIGITS = 18  # of a byte position in a Range header: more is past any asset's size
MAX_DATE_CHARS = 64  # an If-Modified-Since longer than any HTTP date is ignored
ENCODINGS = ("br", "gzip")  # preferred in this order when the client weighs them alike


def claims(path: str) -> bool:
    """Whether the request path (decoded, as routed) is the assets stage's."""
    return path.startswith(PREFIX)


def requested_path(raw_path: bytes) -> str | None:
    """The index path a raw request path (as sent, percent-encoded) names under /assets/;
    None when it cannot name an asset: `..` or `.` or any dotfile, even encoded (`%2e%2e`),
    an encoded slash (`%2f`), a backslash, NUL or other control character, a colon (`C:`),
    an empty segment (`//`, a trailing slash), text that is not UTF-8, or over MAX_PATH_BYTES."""
    prefix = PREFIX.encode()
    if not raw_path.startswith(prefix) or len(raw_path) > MAX_PATH_BYTES:
        return None
    segments = []
    for raw in raw_path[len(prefix):].split(b"/"):
        try:
            segment = unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return None
        if "/" in segment or not servable_name(segment):
            return None
        segments.append(segment)
    return "/".join(segments)


def answer(asset: Asset, method: str, headers: Mapping[str, str], query: bytes) -> Response:
    """The response to a GET or HEAD of `asset`: 304 when the client's copy is current, 206
    or 416 for a Range, else 200 with the best body the client accepts."""
    fields = {
        "cache-control": IMMUTABLE if query == b"v=" + asset.version.encode() else REVALIDATE,
        "last-modified": asset.last_modified,
        "accept-ranges": "bytes",
        "x-content-type-options": "nosniff",
    }
    if asset.compressible:
        fields["vary"] = "Accept-Encoding"
    span = byte_range(headers.get("range"), asset) if method == "GET" else None
    if span is not None and not if_range_holds(headers.get("if-range"), asset):
        span = None
    encoding = None if span is not None else negotiate(headers.get("accept-encoding"), asset)
    fields["etag"] = asset.etags[encoding or ""]
    if not_modified(headers, asset):
        return Response(status_code=304, headers=fields)
    if span == UNSATISFIABLE:
        fields["content-range"] = f"bytes */{asset.size}"
        return Response(status_code=416, headers=fields)
    status, body = 200, asset.body
    if span is not None:
        start, end = span
        status, body = 206, asset.body[start:end + 1]
        fields["content-range"] = f"bytes {start}-{end}/{asset.size}"
    elif encoding is not None:
        variant = asset.br if encoding == "br" else asset.gzip
        if variant is not None:  # negotiate offers only the bodies the asset has
            body = variant
            fields["content-encoding"] = encoding
    fields["content-type"] = asset.content_type
    fields["content-length"] = str(len(body))
    return Response(b"" if method == "HEAD" else body, status, headers=fields)


# -- conditional requests --------------------------------------------------------------------

def not_modified(headers: Mapping[str, str], asset: Asset) -> bool:
    """If-None-Match (any of the asset's tags, weakly compared) or, only without it,
    If-Modified-Since no earlier than the file's time."""
    tags = headers.get("if-none-match")
    if tags is not None:
        return any(tag == "*" or _same_content(tag, asset) for tag in tags.split(","))
    since = http_date(headers.get("if-modified-since"))
    return since is not None and int(asset.mtime) <= since


def _same_content(tag: str, asset: Asset) -> bool:
    """Whether an entity tag names this content in any of its encodings."""
    return tag.strip().removeprefix("W/") in asset.etags.values()


def http_date(value: str | None) -> int | None:
    """Seconds since the epoch of an HTTP date; None for anything else."""
    if value is None or len(value) > MAX_DATE_CHARS:
        return None
    try:
        parsed = email.utils.parsedate_tz(value)
        return None if parsed is None else int(email.utils.mktime_tz(parsed))
    except (ValueError, TypeError, OverflowError, IndexError):
        return None


def if_range_holds(value: str | None, asset: Asset) -> bool:
    """Whether a Range applies: no If-Range, or one naming this identity body exactly (its
    strong tag, or its Last-Modified date as sent)."""
    return value is None or value.strip() in (asset.etag, asset.last_modified)


# -- ranges ----------------------------------------------------------------------------------

UNSATISFIABLE = (-1, -1)


def byte_range(value: str | None, asset: Asset) -> tuple[int, int] | None:
    """The one byte range `Range: bytes=a-b`, `a-` or `-n` asks for, as (first, last) within
    the asset; UNSATISFIABLE when it starts past the end; None when there is no Range, it is
    not in bytes, it is malformed, or it asks for several ranges (answered whole: a 200)."""
    if value is None:
        return None
    unit, equals, spec = value.partition("=")
    if not equals or unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash or not (_position(first_text) or _position(last_text)):
        return None
    size = asset.size
    if first_text == "":  # the last n bytes
        if not _position(last_text):
            return None
        count = int(last_text)
        return (max(size - count, 0), size - 1) if count > 0 and size > 0 else UNSATISFIABLE
    if not _position(first_text) or (last_text and not _position(last_text)):
        return None
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # an invalid range: ignored, the whole file is sent
    if first >= size:
        return UNSATISFIABLE
    return first, min(int(last_text), size - 1) if last_text else size - 1


def _position(text: str) -> bool:
    return 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit()


# -- compression -----------------------------------------------------------------------------

def negotiate(value: str | None, asset: Asset) -> str | None:
    """The encoding to send, "br" or "gzip", by the client's Accept-Encoding weights (q=0
    refuses one; `*` stands for those not named); None for the identity body."""
    if value is None or (asset.br is None and asset.gzip is None):
        return None
    weights = accept_weights(value)
    best, best_weight = None, 0.0
    for name in ENCODINGS:
        if (asset.br if name == "br" else asset.gzip) is None:
            continue
        weight = weights.get(name, weights.get("*", 0.0))
        if weight > best_weight:
            best, best_weight = name, weight
    return best


def accept_weights(value: str) -> dict[str, float]:
    """Accept-Encoding as coding -> weight; an unreadable weight counts as 0."""
    weights: dict[str, float] = {}
    for item in value.split(","):
        name, _, parameters = item.partition(";")
        name = name.strip().lower()
        if name == "x-gzip":
            name = "gzip"
        weight = 1.0
        for parameter in parameters.split(";"):
            key, _, text = parameter.partition("=")
            if key.strip().lower() == "q":
                weight = _weight(text.strip())
        if name and name not in weights:
            weights[name] = weight
    return weights


def _weight(text: str) -> float:
    """A q-value: 0 to 1 with up to three decimals; anything else is 0."""
    whole, _, decimals = text.partition(".")
    if whole not in ("0", "1") or len(decimals) > 3 or not (decimals == "" or decimals.isdigit()) \
            or not decimals.isascii():
        return 0.0
    return min(float(text), 1.0)
