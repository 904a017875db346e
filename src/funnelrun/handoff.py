"""Cross-domain session handoff tokens (SPEC §6): a login carried from one domain of a brand to
another, encrypted, brand-bound, short-lived, spent once.

One mirrored pair: `issue_token` seals a customer for a brand, `open_token` checks one and
gives back what it carried; `derive_key` is the one place a brand's key comes from. Failures
are `HandoffError`s with a reason code; the script boundary turns them into `false` / `null`
and a page event. Spending a token's `jti` (once, in the store) is the caller's step after
`open_token`, so that only a token that verified can spend it.

    token   = "v1." + base64url_nopad(nonce(12) ‖ ciphertext ‖ tag(16))
    AES-256-GCM, associated data = the brand id (UTF-8)
    key     = HKDF-SHA256(ikm = secret, salt = brand id, info = "funnelrun-session-handoff-v1", 32)
    payload = JSON {"brand": id, "customer": {...}, "iat": seconds, "exp": seconds, "jti": hex}
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import HandoffError

VERSION = "v1."
INFO = b"funnelrun-session-handoff-v1"
NONCE_BYTES = 12
TAG_BYTES = 16
DEFAULT_TTL_S = 60
MAX_TTL_S = 600
CLOCK_SKEW_S = 30  # allowed either way between the issuing and the receiving server
MAX_TOKEN_CHARS = 8192  # a token carries one customer; anything longer is refused unread
JTI_BYTES = 16


@dataclass(frozen=True, slots=True)
class Handoff:
    """What a verified token carried."""

    brand: str
    customer: dict[str, Any]
    issued_at: int
    expires_at: int
    jti: str


def derive_key(secret: bytes, brand_id: str) -> bytes:
    """The AES-256 key of one brand: HKDF-SHA256 of the server secret, salted by the brand."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=brand_id.encode(), info=INFO)
    return hkdf.derive(secret)


def token_ttl(requested: object) -> int:
    """The lifetime a script asked for: DEFAULT_TTL_S for anything but a positive number,
    MAX_TTL_S at most, whole seconds (at least one)."""
    if isinstance(requested, bool) or not isinstance(requested, int | float) \
            or not math.isfinite(requested) or requested <= 0:
        return DEFAULT_TTL_S
    return max(1, min(math.ceil(requested), MAX_TTL_S))


def issue_token(secret: bytes, brand_id: str, customer: dict[str, Any], *, now: float,
                ttl_s: int = DEFAULT_TTL_S) -> str:
    """A token handing `customer` to another domain of `brand_id`, valid `ttl_s` seconds."""
    issued = int(now)
    payload = {"brand": brand_id, "customer": customer, "iat": issued, "exp": issued + ttl_s,
               "jti": secrets.token_hex(JTI_BYTES)}
    plain = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(derive_key(secret, brand_id)).encrypt(nonce, plain, brand_id.encode())
    return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def open_token(secret: bytes, brand_id: str, token: object, *, now: float) -> Handoff:
    """What `token` carries, if it was sealed for `brand_id` with `secret` and is within its
    lifetime (CLOCK_SKEW_S either way); else HandoffError with a reason: malformed, version,
    tampered (any change, or another brand's key), wrong_brand, expired, not_yet_valid."""
    if not isinstance(token, str):
        raise HandoffError("the token is not a string", reason="malformed")
    if len(token) > MAX_TOKEN_CHARS:
        raise HandoffError(f"the token is longer than {MAX_TOKEN_CHARS} characters",
                           reason="malformed")
    if not token.startswith(VERSION):
        reason = "version" if token[:1] == "v" and "." in token[:4] else "malformed"
        raise HandoffError("the token is not a v1 handoff token", reason=reason)
    raw = _unbase64(token[len(VERSION):])
    if len(raw) < NONCE_BYTES + TAG_BYTES + 2:
        raise HandoffError("the token is too short to be one", reason="malformed")
    nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    try:
        plain = AESGCM(derive_key(secret, brand_id)).decrypt(nonce, sealed, brand_id.encode())
    except InvalidTag:
        raise HandoffError("the token does not verify (altered, or sealed for another brand "
                           "or with another key)", reason="tampered") from None
    return _checked(_payload(plain), brand_id, now)


def _unbase64(text: str) -> bytes:
    if not text or any(char not in _BASE64URL for char in text) or len(text) % 4 == 1:
        raise HandoffError("the token is not base64url", reason="malformed")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise HandoffError("the token is not base64url", reason="malformed") from None


_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _payload(plain: bytes) -> dict[str, Any]:
    """The decrypted payload; a sealed payload of the wrong shape means a broken issuer."""
    try:
        data = json.loads(plain)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not _well_formed(data):
        raise HandoffError("the token's payload is not a handoff", reason="malformed")
    return data


def _well_formed(data: dict[str, Any]) -> bool:
    return (isinstance(data.get("brand"), str) and isinstance(data.get("customer"), dict)
            and isinstance(data.get("jti"), str)
            and all(type(data.get(key)) is int for key in ("iat", "exp")))


def _checked(data: dict[str, Any], brand_id: str, now: float) -> Handoff:
    if data["brand"] != brand_id:
        raise HandoffError(f"the token is for brand '{data['brand']}'", reason="wrong_brand")
    if data["exp"] + CLOCK_SKEW_S <= now:
        raise HandoffError("the token has expired", reason="expired")
    if data["iat"] - CLOCK_SKEW_S > now:
        raise HandoffError("the token was issued in the future", reason="not_yet_valid")
    return Handoff(data["brand"], data["customer"], data["iat"], data["exp"], data["jti"])
