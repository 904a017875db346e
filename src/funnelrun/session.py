"""The visitor's server-side session: reserved keys, size rules, per-key changes, customer."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

SESSION_COOKIE = "fr_session"
RESERVED_COOKIE_PREFIX = "fr_"

# Identity keys: written only by setCustomer / handoff, never by session.set.
IDENTITY_KEYS = ("is_customer", "email", "customer_id", "customer")
RESERVED_KEYS = frozenset(IDENTITY_KEYS)
INTERNAL_PREFIX = "_"  # keys the runtime keeps for itself (e.g. _quota_id)
KEY_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
MAX_VALUE_BYTES = 64 * 1024
MAX_SESSION_BYTES = 256 * 1024

# Template session items (@setSessionItem) live under this prefix, keys sanitized to [A-Za-z0-9_].
SESSION_ITEM_PREFIX = "custom_"
_ITEM_KEY_STRIP = re.compile(r"[^A-Za-z0-9_]")

CUSTOMER_FIELDS = ("email", "name", "first_name", "last_name", "id")
# What a session keeps of itself when a login is handed in from another domain (SPEC §6): the
# visitor's tracking, cart and preferences, nothing of who they were.
HANDOFF_KEPT_KEYS = frozenset({
    "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "attribution",
    "affiliate_id", "aff_id", "subid", "click_id", "visitor_id", "first_visit_at", "cart",
    "locale", "theme_preview", "flash",
})


def is_reserved(key: str) -> bool:
    """Keys scripts may neither read nor write through session.get/set."""
    return key in RESERVED_KEYS or key.startswith(INTERNAL_PREFIX)


def key_refusal(key: object) -> str | None:
    """Why a script may not use `key`, or None when it may."""
    if not isinstance(key, str):
        return "key must be a string"
    if not KEY_PATTERN.fullmatch(key):
        return "key must be 1-128 characters of A-Z a-z 0-9 _ . -"
    if is_reserved(key):
        return f"'{key}' is a reserved key"
    return None


# Built once: json.dumps with options builds an encoder on every call (twice the cost).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def encode(value: Any) -> str:
    """A session value as stored: compact JSON text, the same text JavaScript's JSON.stringify makes
    for the same data (so sizes agree on both sides of the sandbox)."""
    return _encode(value)


# The scanner json.loads calls in the end (typeshed leaves the attribute out). Stored texts
# are encode's, with no white space around them: the scanner alone reads them, in a fifth of
# the time json.loads takes for a short value with its type checks and white-space matching.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def decode(text: str) -> Any:
    """A stored value's data: `json.loads(text)`, the same data or the same error."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:  # no JSON value at the very start: json.loads says why
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def encoded_size(key: str, text: str) -> int:
    return len(key.encode()) + len(text.encode())


def value_refusal(text: str) -> str | None:
    """Why an encoded value may not be stored, or None."""
    size = len(text.encode())
    if size > MAX_VALUE_BYTES:
        return f"value is {size} bytes; the limit is {MAX_VALUE_BYTES}"
    return None


def write_refusal(total: int, key: str, old: str | None, new: str | None) -> str | None:
    """Why replacing `old` by `new` (JSON texts; None: absent) under `key`, in a session of
    `total` bytes, would break the value or the session size rule; None when it would not."""
    if new is None:
        return None
    refusal = value_refusal(new)
    if refusal:
        return refusal
    after = total - (encoded_size(key, old) if old is not None else 0) + encoded_size(key, new)
    if after > MAX_SESSION_BYTES:
        return f"session would be {after} bytes; the limit is {MAX_SESSION_BYTES}"
    return None


def sanitize_item_key(key: object) -> str:
    """The session key behind a template session item: `custom_` + the key's [A-Za-z0-9_] chars."""
    return SESSION_ITEM_PREFIX + _ITEM_KEY_STRIP.sub("", str(key))


def new_session_id() -> str:
    """160 random bits, URL-safe."""
    return secrets.token_urlsafe(20)


@dataclass
class Session:
    """One visitor's session during one request: what was loaded, plus this request's changes.

    Values are kept as their JSON text. `changes` holds only the keys this request wrote
    (None = deleted), so saving never overwrites keys a concurrent request wrote.
    """

    brand: str = ""  # the brand the session belongs to; another brand never sees it
    id: str | None = None  # None: the visitor has no session yet (created on first write)
    created_at: float | None = None
    items: dict[str, str] = field(default_factory=dict)
    changes: dict[str, str | None] = field(default_factory=dict)
    replaces: str | None = None  # the old id when this request regenerated the id
    keep: frozenset[str] | None = None  # with `replaces`: only these keys move to the new id

    # -- reading -----------------------------------------------------------------------------

    def get(self, key: str) -> Any:
        text = self.items.get(key)
        return None if text is None else decode(text)

    def public_items(self) -> dict[str, Any]:
        """Every key scripts and templates may see, decoded."""
        return {key: decode(text) for key, text in self.items.items() if not is_reserved(key)}

    @property
    def is_customer(self) -> bool:
        return self.get("is_customer") is True

    @property
    def customer(self) -> dict[str, Any] | None:
        customer = self.get("customer")
        return customer if self.is_customer and isinstance(customer, dict) else None

    def total_bytes(self) -> int:
        return sum(encoded_size(key, text) for key, text in self.items.items())

    @property
    def dirty(self) -> bool:
        return bool(self.changes) or self.replaces is not None

    # -- writing -----------------------------------------------------------------------------

    def write(self, key: str, text: str | None) -> None:
        """Set (JSON text) or delete (None) one key; no rule checks (callers check first)."""
        if text is None:
            self.items.pop(key, None)
        else:
            self.items[key] = text
        self.changes[key] = text

    def write_value(self, key: str, value: Any) -> None:
        self.write(key, None if value is None else encode(value))

    def refusal_for_write(self, key: str, text: str | None) -> str | None:
        """Why writing `text` under `key` would break the value or session size rule."""
        return write_refusal(self.total_bytes(), key, self.items.get(key), text)

    def regenerate(self, keep: frozenset[str] | None = None) -> None:
        """Give the session a new id (no session fixation), keeping its data, or only the keys
        in `keep` (and what this request wrote)."""
        if self.id is not None and self.replaces is None:
            self.replaces = self.id
        self.id = new_session_id()
        if keep is not None:
            self.keep = keep if self.keep is None else self.keep & keep
            self.items = {key: text for key, text in self.items.items()
                          if key in keep or key in self.changes}

    def hand_in(self, customer: Mapping[str, Any]) -> None:
        """A login handed over from another domain (SPEC §6): a new id; of the session so far
        only HANDOFF_KEPT_KEYS and the runtime's own keys (a login quota's counter, say); then
        the customer as the token carried it."""
        runtime_keys = {key for key in self.items if key.startswith(INTERNAL_PREFIX)}
        self.regenerate(keep=HANDOFF_KEPT_KEYS | runtime_keys)
        self.write_value("is_customer", True)
        self.write_value("email", customer["email"])
        if customer.get("id") is not None:
            self.write_value("customer_id", customer["id"])
        self.write_value("customer", dict(customer))

    def logout(self) -> bool:
        """Remove the customer identity, keep the rest, give the session a new id; False when
        there was no customer."""
        if not self.is_customer:
            return False
        for key in IDENTITY_KEYS:
            self.write(key, None)
        self.regenerate()
        return True

    def login(self, fields: Mapping[str, Any]) -> None:
        """Write the customer identity (fields already validated) and regenerate the id."""
        customer = dict(self.get("customer") or {}) if self.is_customer else {}
        customer.update({k: v for k, v in fields.items() if k != "id" and v is not None})
        if "id" in fields and fields["id"] is not None:
            customer["id"] = fields["id"]
        if not fields.get("name") and (fields.get("first_name") or fields.get("last_name")):
            first = customer.get("first_name") or ""
            last = customer.get("last_name") or ""
            customer["name"] = f"{first} {last}".strip()
        self.regenerate()
        self.write_value("is_customer", True)
        self.write_value("email", fields["email"])
        if fields.get("id") is not None:
            self.write_value("customer_id", fields["id"])
        self.write_value("customer", customer)
