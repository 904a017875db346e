"""Handoff tokens (SPEC §6), checked against an independent implementation of the format: the
key derived with HMAC-SHA256 by hand (RFC 5869), the AEAD opened with AES-GCM's low-level
interface, and tokens built by hand to test every refusal."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from funnelrun.errors import HandoffError
from funnelrun.handoff import (
    CLOCK_SKEW_S,
    DEFAULT_TTL_S,
    MAX_TTL_S,
    derive_key,
    issue_token,
    open_token,
    token_ttl,
)

SECRET = bytes(range(32))
NOW = 1_800_000_000.0
CUSTOMER = {"email": "ann@example.test", "name": "Ann Lee", "id": 42, "total": 99.5}


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869, written out: extract, then expand."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def their_key(brand: str) -> bytes:
    return hkdf_sha256(SECRET, brand.encode(), b"funnelrun-session-handoff-v1")


def seal(payload: object, *, brand: str = "acme", key_brand: str | None = None,
         nonce: bytes | None = None) -> str:
    """A token made without funnelrun's code: AES-256-GCM, brand id as associated data."""
    nonce = nonce or os.urandom(12)
    encryptor = Cipher(algorithms.AES(their_key(key_brand or brand)), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(brand.encode())
    body = encryptor.update(json.dumps(payload).encode()) + encryptor.finalize()
    raw = nonce + body + encryptor.tag
    return "v1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unseal(token: str, brand: str = "acme") -> dict:
    raw = base64.urlsafe_b64decode(token[3:] + "=" * (-len(token[3:]) % 4))
    nonce, body, tag = raw[:12], raw[12:-16], raw[-16:]
    decryptor = Cipher(algorithms.AES(their_key(brand)), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(brand.encode())
    return json.loads(decryptor.update(body) + decryptor.finalize())


def payload(**fields: object) -> dict:
    return {"brand": "acme", "customer": CUSTOMER, "iat": int(NOW), "exp": int(NOW) + 60,
            "jti": "00" * 16, **fields}


def reason_of(token: object, brand: str = "acme", now: float = NOW) -> str:
    with pytest.raises(HandoffError) as caught:
        open_token(SECRET, brand, token, now=now)
    return caught.value.reason


def test_the_key_is_hkdf_sha256_of_the_secret_salted_by_the_brand():
    assert derive_key(SECRET, "acme") == their_key("acme")
    assert derive_key(SECRET, "acme") != derive_key(SECRET, "beta")


def test_an_issued_token_is_v1_base64url_of_nonce_ciphertext_tag_with_the_documented_payload():
    token = issue_token(SECRET, "acme", CUSTOMER, now=NOW, ttl_s=90)
    assert token.startswith("v1.") and "=" not in token
    assert set(token[3:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    data = unseal(token)
    assert set(data) == {"brand", "customer", "iat", "exp", "jti"}
    assert (data["brand"], data["customer"]) == ("acme", CUSTOMER)
    assert (data["iat"], data["exp"]) == (int(NOW), int(NOW) + 90)
    assert len(data["jti"]) == 32 and int(data["jti"], 16) >= 0
    assert unseal(issue_token(SECRET, "acme", CUSTOMER, now=NOW))["jti"] != data["jti"]


def test_a_token_built_by_hand_opens_with_what_it_carries():
    handoff = open_token(SECRET, "acme", seal(payload(jti="ab" * 16)), now=NOW + 10)
    assert (handoff.brand, handoff.customer, handoff.jti) == ("acme", CUSTOMER, "ab" * 16)


@pytest.mark.parametrize(("requested", "ttl"), [
    (None, DEFAULT_TTL_S), ("soon", DEFAULT_TTL_S), (0, DEFAULT_TTL_S), (-5, DEFAULT_TTL_S),
    (float("nan"), DEFAULT_TTL_S), (True, DEFAULT_TTL_S), (30, 30), (0.2, 1), (90.5, 91),
    (601, MAX_TTL_S), (10**9, MAX_TTL_S),
])
def test_ttl_defaults_to_60_and_is_capped_at_600(requested, ttl):
    assert token_ttl(requested) == ttl


@pytest.mark.parametrize(("fields", "now", "reason"), [
    ({"exp": int(NOW) - CLOCK_SKEW_S}, NOW, "expired"),
    ({"iat": int(NOW) + CLOCK_SKEW_S + 1}, NOW, "not_yet_valid"),
    ({"brand": "beta"}, NOW, "wrong_brand"),  # sealed with acme's key, but says beta
    ({"customer": "ann"}, NOW, "malformed"),
    ({"iat": "now"}, NOW, "malformed"),
])
def test_tokens_built_by_hand_are_refused_with_their_reason(fields, now, reason):
    assert reason_of(seal(payload(**fields)), now=now) == reason


def test_the_clock_may_differ_by_thirty_seconds_either_way():
    token = seal(payload())
    assert open_token(SECRET, "acme", token, now=NOW + 60 + CLOCK_SKEW_S - 1)
    assert reason_of(token, now=NOW + 60 + CLOCK_SKEW_S) == "expired"
    assert open_token(SECRET, "acme", token, now=NOW - CLOCK_SKEW_S)
    assert reason_of(token, now=NOW - CLOCK_SKEW_S - 1) == "not_yet_valid"


def test_another_brands_token_does_not_open():
    other = seal(payload(brand="beta"), brand="beta")
    assert reason_of(other) == "tampered"  # another key and associated data: it cannot verify
    assert open_token(SECRET, "beta", other, now=NOW).brand == "beta"


@pytest.mark.parametrize(("token", "reason"), [
    ("", "malformed"), ("v1.", "malformed"), ("v2.AAAA", "version"), ("V1.abc", "malformed"),
    ("v1.!!!!", "malformed"), ("v1.A", "malformed"), ("v1." + "A" * 20, "malformed"),
    ("x" * 100_000, "malformed"), (5, "malformed"), (None, "malformed"),
])
def test_what_is_not_a_token_is_refused_unread(token, reason):
    assert reason_of(token) == reason


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=3), flip=st.integers(min_value=1, max_value=63))
def test_a_change_anywhere_in_a_token_is_refused(position, flip):
    token = issue_token(SECRET, "acme", CUSTOMER, now=NOW)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    at = 3 + position % (len(token) - 3)
    changed = alphabet[(alphabet.index(token[at]) + flip) % 64]
    tampered = token[:at] + changed + token[at + 1:]
    if tampered == token or _same_bytes(tampered, token):
        return  # the last character's spare bits: the same bytes
    assert reason_of(tampered) in ("tampered", "malformed")


def _same_bytes(one: str, other: str) -> bool:
    def raw(token: str) -> bytes:
        return base64.urlsafe_b64decode(token[3:] + "=" * (-len(token[3:]) % 4))
    return raw(one) == raw(other)


def test_a_truncated_token_is_refused():
    token = issue_token(SECRET, "acme", CUSTOMER, now=NOW)
    for cut in (1, 2, 5, 20, len(token) - 4):
        assert reason_of(token[:-cut]) in ("tampered", "malformed")


def test_another_secret_does_not_open_a_token():
    token = issue_token(os.urandom(32), "acme", CUSTOMER, now=NOW)
    assert reason_of(token) == "tampered"
