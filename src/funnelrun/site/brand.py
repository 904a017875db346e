"""A brand's settings file, brand.toml: name, the host names it serves, its variables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SiteError
from .tomltext import key_position, parse_toml, type_name, unknown_key_message

BRAND_FILE = "brand.toml"
BRAND_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# A host name as it appears in a Host header, without port: labels, or an IPv6 literal.
HOST_NAME = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?)+|\[[0-9a-f:.]+\]")
_KEYS = {"name": str, "domains": list, "default": bool, "variables": dict}


@dataclass(frozen=True, slots=True)
class BrandSettings:
    id: str
    name: str
    domains: tuple[str, ...] = ()
    default: bool = False
    variables: dict[str, Any] = field(default_factory=dict)


def load_brand_settings(folder: Path, site_path: str) -> BrandSettings:
    """Read `folder/brand.toml`; `site_path` (relative to the site root) is shown in errors."""
    brand_id = folder.name
    path = folder / BRAND_FILE
    if not BRAND_ID.fullmatch(brand_id):
        raise SiteError(f"brand folder name '{brand_id}' must be letters, digits, _ . -", None)
    if not path.is_file():
        return BrandSettings(id=brand_id, name=brand_id)
    text = read_text(path, site_path)
    data = parse_toml(text, site_path)

    for key, value in data.items():
        position = key_position(text, key, site_path)
        if key not in _KEYS:
            raise SiteError(unknown_key_message("brand.toml", key, _KEYS), position, source=text)
        if not isinstance(value, _KEYS[key]):
            expected = type_name(_KEYS[key]())
            raise SiteError(
                f"'{key}' must be {expected}, not {type_name(value)}", position, source=text
            )

    domains = []
    for domain in data.get("domains", []):
        if not isinstance(domain, str) or not HOST_NAME.fullmatch(domain.lower()):
            raise SiteError(
                f"'domains' entries must be host names without scheme or port, got {domain!r}",
                key_position(text, "domains", site_path),
                source=text,
            )
        domains.append(domain.lower().rstrip("."))
    name = data.get("name", brand_id)
    return BrandSettings(
        id=brand_id,
        name=name,
        domains=tuple(domains),
        default=data.get("default", False),
        variables=data.get("variables", {}),
    )


def read_text(path: Path, site_path: str) -> str:
    """A site file as text; a file that is not UTF-8 is a site error naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SiteError(f"{site_path}: not UTF-8 text (byte {exc.start})", None) from exc
    except OSError as exc:
        raise SiteError(f"{site_path}: cannot read: {exc.strerror}", None) from exc
