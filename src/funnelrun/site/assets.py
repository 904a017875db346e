"""A brand's asset files, `brands/<id>/assets/` over the site-wide `assets/`, indexed at load.

Only what this index holds is ever served at `/assets/<path>` (funnelrun.static): a request
path is looked up exactly, so a page, a component, a module, `brand.toml` or any file outside
the assets folders cannot be named. The walk keeps the site's rules (funnelrun.site.files): a
symbolic link leaving the site is a problem that stops it, only regular files are read, and
dotfiles and dot-folders (`.git/`, `.env`) are skipped. Each file is read once: its bytes are
kept in memory with their hash, and text types over 1 KB get their gzip and brotli bodies
made here, never per request.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path, PurePosixPath

import brotli

from ..errors import SiteError
from .files import SiteFolder

ASSETS_DIR = "assets"
MAX_FILES = 10_000  # asset files in the whole site (site-wide and every brand's)
MAX_FILE_BYTES = 32 * 1024 * 1024  # one asset: larger media belongs on a CDN ([assets] base_url)
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # every asset of the site, kept in memory by each worker
MAX_DEPTH = 12  # folders under assets/ (serve --reload watches this deep: funnelrun.server)
MAX_PATH_CHARS = 512  # an asset's path under assets/, as its URL names it
COMPRESS_MIN_BYTES = 1024  # smaller text is sent as it is: compression would hardly pay
COMPRESS_MAX_BYTES = 8 * 1024 * 1024  # larger text files are sent uncompressed
BROTLI_BEST_MAX_BYTES = 256 * 1024  # brotli's best quality (11) up to this size, 9 above
KEEP_RATIO = 0.9  # a compressed body is kept only if it saves at least a tenth
HASH_CHARS = 8  # the version in `asset()` URLs: the first 8 hex digits of the SHA-256

# Python's own table (not the machine's /etc/mime.types, so every machine answers alike), plus
# the web types it lacks or names otherwise.
_TYPES = mimetypes.MimeTypes()
WEB_TYPES = {
    ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
    ".json": "application/json", ".map": "application/json",
    ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml",
    ".ico": "image/x-icon", ".webp": "image/webp", ".avif": "image/avif",
    ".apng": "image/apng", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf",
    ".otf": "font/otf", ".wasm": "application/wasm", ".mp4": "video/mp4",
    ".webm": "video/webm", ".txt": "text/plain", ".xml": "application/xml",
}
# Types sent with `; charset=utf-8` (asset text is taken to be UTF-8, like every site file).
TEXT_TYPES = frozenset({"application/json", "application/manifest+json", "application/xml",
                        "image/svg+xml", "text/javascript"})
# Types worth compressing besides text/*: JSON, XML, SVG, WebAssembly, uncompressed fonts, icons.
COMPRESSIBLE_TYPES = TEXT_TYPES | {"application/wasm", "font/ttf", "font/otf", "image/x-icon"}


def content_type(name: str) -> str:
    """The Content-Type of a file named `name`, with a charset for text."""
    suffix = PurePosixPath(name).suffix.lower()
    media = WEB_TYPES.get(suffix) or _TYPES.guess_type(name, strict=False)[0]
    media = media or "application/octet-stream"
    return f"{media}; charset=utf-8" if is_text(media) else media


def is_text(media: str) -> bool:
    return media.startswith("text/") or media in TEXT_TYPES


def is_compressible(media: str) -> bool:
    return media.startswith("text/") or media in COMPRESSIBLE_TYPES


def servable_name(segment: str) -> bool:
    """Whether one segment of an asset's path can be served: not empty, no dotfile (`.`, `..`,
    `.env`), no backslash, colon (`C:`) or control character. A request path is held to the
    same rule (funnelrun.static), so the index and the URLs agree."""
    return (segment != "" and not segment.startswith(".")
            and not any(char in "\\:" or char < " " or char == "\x7f" for char in segment))


@dataclass(frozen=True, slots=True, eq=False)
class Asset:
    """One file, as it is served: its bytes, their hash, and compressed bodies for text."""

    path: str  # under assets/, as its URL names it: "css/site.css"
    site_path: str  # "brands/acme/assets/css/site.css" or "assets/css/site.css"
    body: bytes
    mtime: float
    content_type: str
    digest: str  # SHA-256 of the body, hex
    gzip: bytes | None = None
    br: bytes | None = None
    # Made once here rather than per request: the headers every answer carries.
    version: str = field(init=False)  # the content hash `asset()` puts in URLs: 8 hex digits
    etag: str = field(init=False)  # strong, of the identity body: '"<16 hex>"'
    etags: dict[str, str] = field(init=False)  # by encoding: "" identity, "gzip" and "br" ('-gz"')
    last_modified: str = field(init=False)  # the HTTP date of the file's mtime
    compressible: bool = field(init=False)  # a text type: sent with Vary: Accept-Encoding

    def __post_init__(self) -> None:
        tag = self.digest[:16]
        values = {
            "version": self.digest[:HASH_CHARS], "etag": f'"{tag}"',
            "etags": {"": f'"{tag}"', "gzip": f'"{tag}-gz"', "br": f'"{tag}-br"'},
            "last_modified": formatdate(int(self.mtime), usegmt=True),
            "compressible": is_compressible(self.content_type.partition(";")[0]),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def size(self) -> int:
        return len(self.body)


@dataclass(eq=False)
class AssetIndex:
    """A brand's assets by path: its own files over the site-wide ones. Empty when it has none."""

    files: Mapping[str, Asset] = field(default_factory=dict)

    def get(self, path: str) -> Asset | None:
        return self.files.get(path)

    def version(self, path: str) -> str | None:
        """The 8-hex content hash of the asset at `path` (under assets/, e.g. "css/site.css");
        None when there is no such asset, or it was refused."""
        asset = self.files.get(path)
        return asset.version if asset is not None else None

    def versions(self) -> Mapping[str, str]:
        """Every asset's path and 8-hex content hash."""
        return {path: asset.version for path, asset in self.files.items()}

    def __contains__(self, path: object) -> bool:
        return path in self.files

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)


class AssetLoader:
    """Indexes the assets folders of one site, keeping the caps over all of them."""

    def __init__(self, site_folder: SiteFolder) -> None:
        self.site_folder = site_folder
        self.count = 0
        self.total_bytes = 0
        self.warnings: list[SiteError] = []  # files not served, for `check` and start-up

    def folder(self, folder: Path, below: AssetIndex | None = None) -> AssetIndex:
        """The index of `folder` (an `assets/` folder) laid over `below`: its files win."""
        files = dict(below.files) if below is not None else {}
        for path in self.site_folder.files(folder, "", hidden=False):
            relative = path.relative_to(folder).as_posix()
            if self._servable(relative, self.site_folder.site_path(path)):
                files[relative] = self._read(path, relative)
        return AssetIndex(files)

    def _servable(self, relative: str, site_path: str) -> bool:
        parts = relative.split("/")
        reason = None
        if not all(servable_name(part) for part in parts):
            reason = "its name holds a backslash, a colon or a control character"
        elif len(parts) > MAX_DEPTH + 1:
            reason = f"more than {MAX_DEPTH} folders deep under assets/"
        elif len(relative) > MAX_PATH_CHARS:
            reason = f"a path over {MAX_PATH_CHARS} characters"
        if reason is not None:
            self.warnings.append(SiteError(f"{site_path}: not served: {reason}", None))
        return reason is None

    def _read(self, path: Path, relative: str) -> Asset:
        site_path = self.site_folder.site_path(path)
        try:
            stat = path.stat()
            if stat.st_size > MAX_FILE_BYTES:
                raise SiteError(f"{site_path}: {_mb(stat.st_size)}, over the {_mb(MAX_FILE_BYTES)} "
                                "an asset may have; serve large media from a CDN "
                                "([assets] base_url)", None)
            body = path.read_bytes()
        except OSError as exc:
            raise SiteError(f"{site_path}: cannot read: {exc.strerror}", None) from exc
        self.count += 1
        self.total_bytes += len(body)
        if self.count > MAX_FILES:
            raise SiteError(f"{site_path}: more than {MAX_FILES} asset files in the site", None)
        if self.total_bytes > MAX_TOTAL_BYTES:
            raise SiteError(f"{site_path}: the site's assets pass {_mb(MAX_TOTAL_BYTES)} in all, "
                            "which every worker keeps in memory; serve large media from a CDN "
                            "([assets] base_url)", None)
        media = content_type(path.name)
        gz, br = compressed(body) if is_compressible(media.partition(";")[0]) else (None, None)
        return Asset(path=relative, site_path=site_path, body=body, mtime=stat.st_mtime,
                     content_type=media, digest=hashlib.sha256(body).hexdigest(), gzip=gz, br=br)


def compressed(body: bytes) -> tuple[bytes | None, bytes | None]:
    """The gzip and brotli bodies of a text file, each kept only if it saves a tenth."""
    if not COMPRESS_MIN_BYTES <= len(body) <= COMPRESS_MAX_BYTES:
        return None, None
    quality = 11 if len(body) <= BROTLI_BEST_MAX_BYTES else 9
    gz = gzip.compress(body, compresslevel=9, mtime=0)
    br = brotli.compress(body, quality=quality)
    limit = len(body) * KEEP_RATIO
    return (gz if len(gz) <= limit else None), (br if len(br) <= limit else None)


def load_assets(site_folder: SiteFolder, brand_folders: Mapping[str, Path]
                ) -> tuple[dict[str, AssetIndex], list[SiteError]]:
    """Each brand's index (by brand id), the site-wide `assets/` under its own `assets/`;
    and the warnings about files not served. A cap passed raises SiteError."""
    loader = AssetLoader(site_folder)
    shared = loader.folder(site_folder.root / ASSETS_DIR)
    indexes = {brand_id: loader.folder(folder / ASSETS_DIR, shared)
               for brand_id, folder in brand_folders.items()}
    return indexes, loader.warnings


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"
