"""A brand's settings file, brand.toml: name, the host names it serves, its variables."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SiteError
from ..i18n import Languages
from .tomltext import key_position, parse_toml, type_name, unknown_key_message
from .translations import parse_languages

BRAND_FILE = "brand.toml"
BRAND_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# A host name as it appears in a Host header, without port: labels, or an IPv6 literal.
HOST_NAME = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?)+|\[[0-9a-f:.]+\]")
_KEYS = {"name": str, "domains": list, "default": bool, "variables": dict}
# The brand's settings that templates and scripts see as `brand.*` (script-library §2.8).
SETTING_KEYS = {"code": str, "currency": str, "timezone": str, "support_email": str,
                "support_phone": str, "mbg_days": int}
_KEYS.update(SETTING_KEYS)
_KEYS["i18n"] = dict  # [i18n] languages and default (funnelrun.site.translations)
MAX_MBG_DAYS = 3650
_CURRENCY = re.compile(r"[A-Za-z]{3}")


@dataclass(frozen=True, slots=True)
class BrandSettings:
    id: str
    name: str
    domains: tuple[str, ...] = ()
    default: bool = False
    variables: dict[str, Any] = field(default_factory=dict)
    code: str = ""
    currency: str = ""  # ISO 4217, upper case
    timezone: str = "UTC"  # an IANA name: the percent placeholders' clock
    support_email: str = ""
    support_phone: str = ""
    mbg_days: int | None = None  # the money-back guarantee, in days
    languages: Languages = field(default_factory=Languages)  # [i18n] (site.translations)

    _public: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_public", {
            "id": self.id, "name": self.name, "code": self.code, "currency": self.currency,
            "timezone": self.timezone, "support_email": self.support_email,
            "support_phone": self.support_phone, "mbg_days": self.mbg_days,
        })

    def public(self) -> dict[str, Any]:
        """`brand` as templates and scripts see it: id, name and the settings above. Made once
        and shared by every request: never written to."""
        return self._public


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
        languages=parse_languages(data.get("i18n", {}), text, site_path),
        **_settings(data, text, site_path),
    )


def _settings(data: dict[str, Any], text: str, site_path: str) -> dict[str, Any]:
    """The `brand.*` settings present in brand.toml (types already checked), with their rules."""
    found = {key: data[key] for key in SETTING_KEYS if key in data}

    def fail(key: str, expected: str) -> SiteError:
        return SiteError(f"'{key}' must be {expected}, got {found[key]!r}",
                         key_position(text, key, site_path), source=text)

    if "currency" in found:
        if not _CURRENCY.fullmatch(found["currency"]):
            raise fail("currency", "a 3-letter ISO 4217 code such as 'USD'")
        found["currency"] = found["currency"].upper()
    if "timezone" in found and not _is_time_zone(found["timezone"]):
        raise fail("timezone", "an IANA time zone name such as 'Europe/Berlin' or 'UTC'")
    days = found.get("mbg_days", 0)
    if isinstance(days, bool) or not 0 <= days <= MAX_MBG_DAYS:
        raise fail("mbg_days", f"a whole number of days from 0 to {MAX_MBG_DAYS}")
    return found


def _is_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def read_text(path: Path, site_path: str) -> str:
    """A site file as text; a file that is not UTF-8 is a site error naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SiteError(f"{site_path}: not UTF-8 text (byte {exc.start})", None) from exc
    except OSError as exc:
        raise SiteError(f"{site_path}: cannot read: {exc.strerror}", None) from exc
