"""Page files: their route from the file path, and their `+++` TOML front matter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..errors import Position, SiteError
from ..script.redirects import check_target
from .tomltext import key_position, parse_toml, type_name, unknown_key_message

FRONT_MATTER_FENCE = "+++"
ADMIN_PATH = "/_funnelrun"  # the debug window's; no page may live under it
ASSETS_PATH = "/assets"  # the brand's asset files (funnelrun.static); no page either
_FENCE_LINE = re.compile(r"^\+\+\+[ \t]*\r?$", re.MULTILINE)
_PARAM = re.compile(r"\[([A-Za-z_][A-Za-z0-9_]*)\]")
_STATIC_SEGMENT = re.compile(r"[^\[\]/]+")
_FRONT_MATTER_KEYS = {"requires_login": bool, "login_redirect": str}
# A brand's own error pages, at the top of pages/: shown instead of the built-in ones, never
# routed (there is no page at /404 or /500).
ERROR_PAGES = {"404.html": 404, "500.html": 500}


@dataclass(frozen=True, slots=True)
class FrontMatter:
    requires_login: bool = False
    login_redirect: str | None = None


@dataclass(frozen=True, slots=True)
class PageSource:
    """A page file split into front matter and template body."""

    site_path: str  # the path shown in errors, relative to the site
    route: str  # "/", "/login", "/blog/[slug]"
    front_matter: FrontMatter
    body: str
    first_line: int  # line of the file where `body` starts
    text: str  # the whole file


def route_for(relative: PurePosixPath, site_path: str) -> str:
    """`members/index.html` -> `/members`; `blog/[slug].html` -> `/blog/[slug]`."""
    parts = list(relative.with_suffix("").parts)
    if parts and parts[-1] == "index":
        parts.pop()
    for part in parts:
        if not (_PARAM.fullmatch(part) or _STATIC_SEGMENT.fullmatch(part)):
            raise SiteError(
                f"{site_path}: path segment '{part}' is neither a name nor a [param] "
                "(a param is [letters_digits_or_underscore] taking the whole segment)",
                None,
            )
    route = "/" + "/".join(parts)
    if route == ADMIN_PATH or route.startswith(ADMIN_PATH + "/"):
        raise SiteError(f"{site_path}: the paths under {ADMIN_PATH}/ belong to the debug "
                        "window; move the page", None)
    if route == ASSETS_PATH or route.startswith(ASSETS_PATH + "/"):
        raise SiteError(f"{site_path}: the paths under {ASSETS_PATH}/ serve the brand's "
                        "assets folder; move the page", None)
    return route


def error_status(relative: PurePosixPath) -> int | None:
    """The status whose error page a file of pages/ is (`404.html`: 404), or None."""
    return ERROR_PAGES.get(relative.as_posix())


def split_front_matter(text: str, site_path: str, *,
                       error_page: bool = False) -> tuple[FrontMatter, str, int]:
    """Return the front matter, the body, and the body's first line number."""
    first_line_end = text.find("\n")
    first = text if first_line_end < 0 else text[:first_line_end]
    if first.rstrip() != FRONT_MATTER_FENCE:
        return FrontMatter(), text, 1
    closing = _FENCE_LINE.search(text, first_line_end + 1) if first_line_end >= 0 else None
    if closing is None:
        raise SiteError(
            "front matter opened here is not closed; expected a line '+++'",
            Position(site_path, 1, 1),
            source=text,
        )
    toml_text = text[first_line_end + 1 : closing.start()]
    body_start = text.find("\n", closing.start())
    body = "" if body_start < 0 else text[body_start + 1 :]
    body_first_line = text.count("\n", 0, body_start) + 2 if body_start >= 0 else 1
    front_matter = _front_matter(toml_text, site_path, text, error_page=error_page)
    return front_matter, body, body_first_line


def _front_matter(toml_text: str, site_path: str, source: str, *,
                  error_page: bool) -> FrontMatter:
    data = parse_toml(toml_text, site_path, first_line=2, source=source)
    for key, value in data.items():
        position = key_position(toml_text, key, site_path, first_line=2)
        if key not in _FRONT_MATTER_KEYS:
            raise SiteError(
                unknown_key_message("front-matter", key, _FRONT_MATTER_KEYS), position,
                source=source,
            )
        expected = _FRONT_MATTER_KEYS[key]
        if not isinstance(value, expected):
            raise SiteError(
                f"'{key}' must be {type_name(expected())}, not {type_name(value)}",
                position, source=source,
            )
    if error_page and data.get("requires_login"):
        raise SiteError(
            "an error page is shown to every visitor who meets the error; it cannot require "
            "a login", key_position(toml_text, "requires_login", site_path, first_line=2),
            source=source,
        )
    redirect = data.get("login_redirect")
    if redirect is not None:
        position = key_position(toml_text, "login_redirect", site_path, first_line=2)
        if not data.get("requires_login"):
            raise SiteError(
                "'login_redirect' has no effect without 'requires_login = true'",
                position, source=source,
            )
        redirect, refusal = check_target(redirect) if redirect.startswith("/") else (None, "")
        if redirect is None:
            raise SiteError(
                f"'login_redirect' must be a path on this site such as \"/login\", "
                f"got {data['login_redirect']!r}{f' ({refusal})' if refusal else ''}",
                position, source=source,
            )
    return FrontMatter(data.get("requires_login", False), redirect)


def load_page(relative: PurePosixPath, site_path: str, text: str) -> PageSource:
    route = route_for(relative, site_path)
    front_matter, body, first_line = split_front_matter(
        text, site_path, error_page=error_status(relative) is not None)
    return PageSource(site_path, route, front_matter, body, first_line, text)
