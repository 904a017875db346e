"""The sandbox's own limits, beside the session rules of funnelrun.session (SPEC §3)."""

from __future__ import annotations

# Console (SPEC §3.3): entries and text kept per run; the rest is only counted. The prelude
# counts UTF-16 characters (cheap); Python then enforces the same number in UTF-8 bytes.
MAX_CONSOLE_ENTRIES = 200
MAX_CONSOLE_CHARS = 64 * 1024
MAX_CONSOLE_BYTES = 64 * 1024

# Actions recorded per run beyond which further ones are dropped (terminal ones never are).
MAX_RECORDS = 10_000

# Async host calls (session.getToken / setFromToken) per run, and pump rounds waiting on them.
MAX_HOST_CALLS = 32
MAX_HOST_ROUNDS = 32

# setCustomer: the longest email, name, first_name, last_name or string id accepted.
MAX_CUSTOMER_FIELD_CHARS = 256

# Cookies (SPEC §3.3): name + encoded value, and the longest lifetime.
MAX_COOKIE_BYTES = 4096
MAX_COOKIE_AGE_S = 400 * 24 * 3600
MAX_COOKIE_PATH_CHARS = 1024

# Response headers and redirect targets.
MAX_HEADER_VALUE_BYTES = 8 * 1024
MAX_REDIRECT_BYTES = 8 * 1024

# setVariable keys.
MAX_VARIABLE_KEY_CHARS = 256
