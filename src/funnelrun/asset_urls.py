"""`asset(path)`'s URLs: the path made canonical, the asset's content hash as `?v=`, and the
CDN's base (`[assets] base_url`) in front when one is set (README "Assets").

Templates call `AssetLinks.url` while rendering. A backend script's run gets what its code can
ask for in its configuration (`script_config`): the finished URLs of the literal paths it
names, or every asset's version for the prelude's `asset()` to build URLs with, as `url`
does here: the two agree byte for byte (tests/script/test_assets.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Protocol
from urllib.parse import quote

from .jsondata import clean_text

ASSETS_PREFIX = "/assets/"  # where funnelrun serves a brand's assets folder
MAX_CACHED_URLS = 1024  # per brand: literal paths are few; a computed one may come from a visitor
# What a path keeps unencoded besides letters, digits and `-._~`: what JavaScript's
# encodeURIComponent keeps, and the slashes between segments.
_SAFE = "/!'()*"


class AssetVersions(Protocol):
    """What the links need of a brand's asset index (funnelrun.site.assets.AssetIndex)."""

    def version(self, path: str) -> str | None:
        """The content hash of the asset at `path` (relative to the assets folder), or None."""

    def __iter__(self) -> Iterator[str]:
        """Every asset's path."""


def asset_path(argument: str) -> str:
    """The path `asset(argument)` names inside the assets folder: leading and doubled slashes
    and `.` segments dropped, `..` taking the segment before it away (never above the folder):
    `/css/site.css`, `./css//site.css` and `img/../css/site.css` are all `css/site.css`.
    Unpaired surrogates become U+FFFD, as the prelude's toWellFormed() makes them."""
    argument = clean_text(argument)
    if ("/." not in argument and "//" not in argument and argument[:1] not in ("/", ".")
            and argument[-1:] != "/"):
        return argument  # the usual case: no segment to drop
    parts: list[str] = []
    for segment in argument.split("/"):
        if segment == "..":
            if parts:
                parts.pop()
        elif segment not in ("", "."):
            parts.append(segment)
    return "/".join(parts)


def url_path(path: str) -> str:
    """A canonical path as its URL writes it after /assets/: percent-encoded UTF-8, except for
    letters, digits, `-._~!'()*` and the slashes (as encodeURIComponent encodes a segment)."""
    return quote(path, safe=_SAFE)


def asset_url(path: str, version: str | None = None, base: str = "") -> str:
    """The URL of the canonical `path` at `base` (a CDN's, or '' for this server), with
    `?v=<version>` when the asset has one."""
    url = base + ASSETS_PREFIX + url_path(path)
    return f"{url}?v={version}" if version else url


class AssetLinks:
    """A brand's `asset()` URLs: its asset index's versions at `base_url` (a CDN's, without a
    trailing slash; '' serves them from this server). Made once per brand by the app."""

    __slots__ = ("_script_config", "_urls", "base_url", "index")

    def __init__(self, index: AssetVersions | None, base_url: str = "") -> None:
        self.index = index
        self.base_url = base_url
        self._urls: dict[str, str] = {}
        self._script_config: dict[frozenset[str] | None, str] = {}

    def url(self, argument: str) -> str:
        """`asset(argument)`: the URL with `?v=` when the asset exists, the plain URL when not
        (README "Assets"). Kept per argument (up to MAX_CACHED_URLS of them)."""
        found = self._urls.get(argument)
        if found is not None:
            return found
        path = asset_path(argument)
        version = self.index.version(path) if self.index is not None and path else None
        url = asset_url(path, version, self.base_url)
        if len(self._urls) < MAX_CACHED_URLS:
            self._urls[argument] = url
        return url

    def script_config(self, paths: frozenset[str] | None) -> str:
        """JSON text for a run's configuration (the prelude's `assets`): the base, and the URLs
        of `paths` (the literal arguments of the script's `asset("…")` calls, as written), or,
        for None (the code names `asset` otherwise: see funnelrun.script.Bundle.asset_paths),
        every asset's version under its URL path, for the prelude to build URLs with. Made
        once per set of paths."""
        text = self._script_config.get(paths)
        if text is None:
            text = self._script_config[paths] = json.dumps({
                "base": self.base_url + ASSETS_PREFIX,
                "urls": {} if paths is None else {path: self.url(path) for path in sorted(paths)},
                "versions": self._all_versions() if paths is None else {},
            }, separators=(",", ":"))  # ASCII: a file name may hold any code point
        return text

    def _all_versions(self) -> dict[str, str]:
        """Every asset's version, under its path as its URL writes it (so the prelude looks up
        what it has just encoded). A path no argument can name (one not well-formed) is left
        out."""
        found: dict[str, str] = {}
        for path in sorted(self.index or ()):
            version = self.index.version(path) if self.index is not None else None
            if version is not None and clean_text(path) == path:
                found[url_path(path)] = version
        return found
