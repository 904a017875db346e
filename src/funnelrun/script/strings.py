"""Text leaving the sandbox: unpaired surrogates replaced, so it always encodes as UTF-8."""

from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def clean_text(text: str) -> str:
    """`text` with every unpaired surrogate (JavaScript allows them, UTF-8 does not) replaced
    by U+FFFD; surrogate pairs become the character they encode."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def decode_json(text: str) -> Any:
    """Parse JSON text from the sandbox; strings in it come back clean (see clean_text).
    Raises ValueError for text that is not JSON."""
    value = json.loads(text)
    return _clean(value) if _ESCAPED_SURROGATE.search(text) else value


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(key): _clean(item) for key, item in value.items()}
    return value
