"""The route table of one brand: exact paths first, then `[param]` paths, most specific first."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..errors import SiteError

T = TypeVar("T")
_PARAM = re.compile(r"\[([A-Za-z_][A-Za-z0-9_]*)\]")


@dataclass(frozen=True, slots=True)
class _Pattern(Generic[T]):
    segments: tuple[str | None, ...]  # a static segment, or None for a param
    names: tuple[str, ...]  # param names in order
    target: T
    site_path: str

    @property
    def specificity(self) -> tuple[int, ...]:
        # Static segments beat params, leftmost first: /blog/new beats /blog/[slug].
        return tuple(0 if segment is not None else 1 for segment in self.segments)


class RouteTable(Generic[T]):
    def __init__(self) -> None:
        self._exact: dict[str, tuple[T, str]] = {}
        self._patterns: dict[int, list[_Pattern[T]]] = {}

    def add(self, route: str, target: T, site_path: str) -> None:
        """Add a route (`/login`, `/blog/[slug]`); two pages for one path are a SiteError."""
        segments = split_path(route)
        if not any(_PARAM.fullmatch(s) for s in segments):
            if route in self._exact:
                other = self._exact[route][1]
                raise SiteError(f"two pages for the path {route}: {other} and {site_path}", None)
            self._exact[route] = (target, site_path)
            return
        pattern = _Pattern(
            segments=tuple(None if _PARAM.fullmatch(s) else s for s in segments),
            names=tuple(m[1] for s in segments if (m := _PARAM.fullmatch(s))),
            target=target,
            site_path=site_path,
        )
        if len(set(pattern.names)) != len(pattern.names):
            raise SiteError(f"{site_path}: a param name is used twice in {route}", None)
        bucket = self._patterns.setdefault(len(segments), [])
        for taken in bucket:
            if taken.segments == pattern.segments:
                raise SiteError(
                    f"two pages for the path {route}: {taken.site_path} and {site_path}", None
                )
        bucket.append(pattern)
        bucket.sort(key=lambda p: p.specificity)

    def match(self, path: str) -> tuple[T, dict[str, str]] | None:
        """The target for a request path and its route params, or None."""
        path = normalize_path(path)
        if path in self._exact:
            return self._exact[path][0], {}
        segments = split_path(path)
        for pattern in self._patterns.get(len(segments), ()):
            params: dict[str, str] = {}
            for wanted, actual in zip(pattern.segments, segments, strict=True):
                if wanted is None:
                    if not actual:
                        break
                    params[pattern.names[len(params)]] = actual
                elif wanted != actual:
                    break
            else:
                return pattern.target, params
        return None

    def __iter__(self) -> Iterator[T]:
        yield from (target for target, _ in self._exact.values())
        for bucket in self._patterns.values():
            yield from (pattern.target for pattern in bucket)


def normalize_path(path: str) -> str:
    """A trailing slash is not significant: `/login/` is `/login`."""
    stripped = path.rstrip("/")
    return stripped or "/"


def split_path(path: str) -> list[str]:
    """`/blog/x` -> ["blog", "x"]; empty segments are kept so `/blog//x` matches nothing."""
    inner = path.strip("/")
    return inner.split("/") if inner else []
