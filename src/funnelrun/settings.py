"""Server settings: defaults, overlaid by funnelrun.toml, the environment, then flags."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ada_url import URL

from . import login_quota
from .errors import SettingsError

SETTINGS_FILE = "funnelrun.toml"
ENV_PREFIX = "FUNNELRUN_"


class Secret:
    """A secret value that never prints itself (like Starlette's `Secret`)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    trusted_proxies: tuple[str, ...] = ()
    # Slow and oversized clients, per worker process (funnelrun/server.py). The head deadline
    # runs from the connection's opening, or from the first byte of a later request.
    header_timeout_s: int = 10  # request line + headers
    body_timeout_s: int = 30  # the whole body, from the end of the head
    max_header_kb: int = 32  # request line + headers; a larger head gets 431
    max_connections: int = 1000  # open connections; requests beyond get 503
    # uvicorn's line per request costs about 0.1 ms of CPU; every request is in the page events
    # already, and the reverse proxy in front keeps its own access log.
    access_log: bool = False


@dataclass(frozen=True, slots=True)
class StoreSettings:
    url: str = "sqlite:///.funnelrun/state.db"


@dataclass(frozen=True, slots=True)
class SessionSettings:
    lifetime_s: int = 10800
    login_quota_per_session: int = login_quota.PER_SESSION  # see funnelrun/login_quota.py
    login_quota_per_ip: int = login_quota.PER_IP


@dataclass(frozen=True, slots=True)
class LimitSettings:
    script_memory_mb: int = 8
    script_cpu_ms: int = 10000
    script_wall_ms: int = 30000
    script_stack_kb: int = 256


@dataclass(frozen=True, slots=True)
class ExecutorSettings:
    """The pool of script executor processes (see script/README.md)."""

    processes: int = 2  # kept warm
    max_processes: int = 8  # started on demand when all warm ones are busy


@dataclass(frozen=True, slots=True)
class EventsSettings:
    """Page events (SPEC §7)."""

    record: bool = True  # keep each request's events in the store, for the debug window


@dataclass(frozen=True, slots=True)
class AssetSettings:
    """Static assets (SPEC §10)."""

    # Where asset() URLs point instead of this server: an http(s) URL without query or
    # fragment, kept without its trailing slash ("https://cdn.example.com"); '' for none.
    base_url: str = ""


# The range of each integer setting (inclusive; None: no upper bound); unlisted ones must not be
# negative. Zero deadlines or limits would refuse every visitor; a script stack over 4 MB
# passes the executor's real 8 MB C stack, where QuickJS would crash instead of stopping.
RANGES: dict[str, tuple[int, int | None]] = {
    "server.port": (0, 65535),
    "server.workers": (1, None),
    "server.header_timeout_s": (1, None),
    "server.body_timeout_s": (1, None),
    "server.max_header_kb": (1, None),
    "server.max_connections": (1, None),
    "session.lifetime_s": (1, None),
    "limits.script_memory_mb": (1, 4096),
    "limits.script_cpu_ms": (1, None),
    "limits.script_wall_ms": (1, None),
    "limits.script_stack_kb": (16, 4096),
    "executor.processes": (1, None),
    "executor.max_processes": (1, None),
}


@dataclass(frozen=True, slots=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    executor: ExecutorSettings = field(default_factory=ExecutorSettings)
    events: EventsSettings = field(default_factory=EventsSettings)
    assets: AssetSettings = field(default_factory=AssetSettings)
    secret_key: Secret | None = None  # FUNNELRUN_SECRET_KEY, 32 bytes base64
    admin_token: Secret | None = None  # FUNNELRUN_ADMIN_TOKEN: the debug window's login

    def secret_key_bytes(self) -> bytes | None:
        """The decoded handoff key, or None when no key is configured."""
        if self.secret_key is None:
            return None
        return base64.b64decode(self.secret_key.reveal())


def load_settings(
    site_root: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings for a site.

    `overrides` holds command-line flags as `"section.key": value` (None values are skipped).
    """
    environ = os.environ if environ is None else environ
    values: dict[str, dict[str, Any]] = {}

    if site_root is not None:
        path = Path(site_root) / SETTINGS_FILE
        if path.is_file():
            _refuse_link_outside(path, Path(site_root))
            _merge_toml(values, path)

    sections = _sections()
    for name, section_type in sections.items():
        for key in _field_names(section_type):
            env_name = f"{ENV_PREFIX}{name.upper()}_{key.upper()}"
            if env_name in environ:
                values.setdefault(name, {})[key] = _EnvText(environ[env_name], env_name)

    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        section, _, key = dotted.partition(".")
        values.setdefault(section, {})[key] = value

    built = {}
    for name, section_type in sections.items():
        built[name] = _build_section(name, section_type, values.pop(name, {}))
    _check_networks("server.trusted_proxies", built["server"].trusted_proxies)
    built["assets"] = dataclasses.replace(
        built["assets"], base_url=_base_url("assets.base_url", built["assets"].base_url))
    if values:
        unknown = ", ".join(sorted(values))
        raise SettingsError(f"unknown settings section [{unknown}]; expected one of "
                            f"{', '.join(f'[{s}]' for s in sections)}")

    return Settings(
        **built,
        secret_key=_secret_key(environ),
        admin_token=_admin_token(environ),
    )


class _EnvText(str):
    """A raw string from the environment, converted to the field's type; remembers its variable."""

    source: str

    def __new__(cls, value: str, source: str) -> _EnvText:
        text = super().__new__(cls, value)
        text.source = source
        return text


def _sections() -> dict[str, type]:
    hints = typing.get_type_hints(Settings)
    return {
        f.name: hints[f.name]
        for f in dataclasses.fields(Settings)
        if dataclasses.is_dataclass(hints[f.name])
    }


def _field_names(section_type: type) -> list[str]:
    return [f.name for f in dataclasses.fields(section_type)]


def _refuse_link_outside(path: Path, site_root: Path) -> None:
    """Nothing outside the site folder is read, the settings file included."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(site_root.resolve()):
        raise SettingsError(f"{path}: a symbolic link to {real}, outside the site folder; "
                            "funnelrun reads nothing outside the site")


def _merge_toml(values: dict[str, dict[str, Any]], path: Path) -> None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{path}: not UTF-8 text") from exc
    for section, table in data.items():
        if not isinstance(table, dict):
            raise SettingsError(f"{path}: '{section}' must be a [section] table")
        values.setdefault(section, {}).update(table)


def _build_section(name: str, section_type: type, given: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(section_type)
    known = set(_field_names(section_type))
    unknown = sorted(set(given) - known)
    if unknown:
        raise SettingsError(
            f"unknown setting '{name}.{unknown[0]}'; [{name}] takes {', '.join(sorted(known))}"
        )
    converted = {key: _convert(f"{name}.{key}", value, hints[key]) for key, value in given.items()}
    return section_type(**converted)


_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def _convert(key: str, value: Any, expected: Any) -> Any:
    source = f" (from {value.source})" if isinstance(value, _EnvText) else ""
    if expected is bool:
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        if not isinstance(value, bool):
            raise SettingsError(f"setting '{key}' must be true or false, got {value!r}{source}")
        return value
    if expected is int:
        if isinstance(value, bool):
            raise SettingsError(f"setting '{key}' must be an integer, got {value!r}{source}")
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise SettingsError(
                    f"setting '{key}' must be an integer, got {str(value)!r}{source}"
                ) from None
        if not isinstance(value, int):
            raise SettingsError(f"setting '{key}' must be an integer, got {value!r}{source}")
        low, high = RANGES.get(key, (0, None))
        if value < low or (high is not None and value > high):
            expected = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise SettingsError(f"setting '{key}' must be {expected}, got {value}{source}")
        return value
    if expected is str:
        if not isinstance(value, str):
            raise SettingsError(f"setting '{key}' must be a string, got {value!r}{source}")
        return str(value)
    if typing.get_origin(expected) is tuple or isinstance(expected, types.GenericAlias):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"setting '{key}' must be a list of strings, got {value!r}{source}")
        return tuple(value)
    raise SettingsError(f"setting '{key}' has an unsupported type")  # pragma: no cover


def _check_networks(key: str, entries: tuple[str, ...]) -> None:
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                f"setting '{key}' must list IP addresses or CIDR networks, got {entry!r}"
            ) from None


def _base_url(key: str, value: str) -> str:
    """A URL that asset() URLs start with: '' (none), or http(s)://host[:port][/path] as a
    browser parses it (lower-case host, default port dropped), without its trailing slash."""
    text = value.strip()
    if not text:
        return ""
    expected = "an http:// or https:// URL such as 'https://cdn.example.com'"
    if not text.startswith(("http://", "https://")):
        raise SettingsError(f"setting '{key}' must be {expected}, got {value!r}")
    if any(char in "?#@\\" or char <= " " or char == "\x7f" for char in text):
        raise SettingsError(f"setting '{key}' must be {expected}, without spaces, credentials, "
                            f"query or fragment, got {value!r}")
    try:
        url = URL(text)
    except ValueError:
        raise SettingsError(f"setting '{key}' must be {expected}; {value!r} is not a URL a "
                            "browser can read") from None
    if not url.hostname:
        raise SettingsError(f"setting '{key}' must be {expected}; {value!r} has no host")
    return url.href.rstrip("/")


def _secret(environ: Mapping[str, str], name: str) -> Secret | None:
    value = environ.get(name, "").strip()
    return Secret(value) if value else None


def _secret_key(environ: Mapping[str, str]) -> Secret | None:
    secret = _secret(environ, "FUNNELRUN_SECRET_KEY")
    if secret is None:
        return None
    text = secret.reveal().removeprefix("base64:")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError("FUNNELRUN_SECRET_KEY must be base64 of 32 bytes; it is not base64") \
            from None
    if len(raw) != 32:
        raise SettingsError(
            f"FUNNELRUN_SECRET_KEY must be base64 of 32 bytes; it decodes to {len(raw)} bytes"
        )
    return Secret(text)


ADMIN_TOKEN_ENV = "FUNNELRUN_ADMIN_TOKEN"
ADMIN_TOKEN_MIN_CHARS = 16
_URL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _admin_token(environ: Mapping[str, str]) -> Secret | None:
    """The debug window's token: at least 16 characters a URL carries as they are (it stands
    in the printed login link)."""
    secret = _secret(environ, ADMIN_TOKEN_ENV)
    if secret is None:
        return None
    token = secret.reveal()
    if len(token) < ADMIN_TOKEN_MIN_CHARS:
        raise SettingsError(f"FUNNELRUN_ADMIN_TOKEN must be at least {ADMIN_TOKEN_MIN_CHARS} "
                            f"characters; it has {len(token)}")
    if not _URL_SAFE.issuperset(token):
        raise SettingsError("FUNNELRUN_ADMIN_TOKEN may hold only letters, digits and - . _ ~")
    return secret
