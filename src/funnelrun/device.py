"""The visitor's device from the User-Agent (`request.device`): type, vendor, model, OS and
browser, read with ua-parser's rules once per distinct agent."""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ua_parser.regex import Resolver

# The parser reads this much of the User-Agent (real ones are a few hundred characters), so a
# visitor's 100 KB header costs no more than an ordinary one. Its matching is linear anyway:
# ua-parser-rs runs every rule with Rust's `regex` crate, which never backtracks.
MAX_PARSED_UA_CHARS = 512
CACHE_ENTRIES = 4096  # distinct agents kept parsed (a miss costs ~15 µs)

_resolver: Resolver | None = None
_resolver_lock = threading.Lock()


class _Parsed(NamedTuple):
    """What the rules say about one agent; '' where they say nothing."""

    bot: bool
    vendor: str
    model: str
    os: str
    os_version: str
    browser: str
    browser_version: str


def describe_device(user_agent: str, *, is_mobile: bool, is_tablet: bool) -> dict[str, Any]:
    """`request.device`: `type` (bot, tablet, mobile or desktop, agreeing with is_mobile and
    is_tablet), `user_agent` (the header as sent), `vendor`, `model`, `os`, `os_version` and
    `browser` ({name, version}); a fresh dict every call."""
    parsed = _parse(user_agent[:MAX_PARSED_UA_CHARS])
    kind = "bot" if parsed.bot else "tablet" if is_tablet else "mobile" if is_mobile else "desktop"
    return {
        "type": kind,
        "user_agent": user_agent,
        "vendor": parsed.vendor,
        "model": parsed.model,
        "os": parsed.os,
        "os_version": parsed.os_version,
        "browser": {"name": parsed.browser, "version": parsed.browser_version},
    }


def device_of(request: Mapping[str, Any]) -> dict[str, Any]:
    """`request.device` for a `request` object (funnelrun.inbound.request_object)."""
    return describe_device(request["headers"].get("user-agent", ""),
                           is_mobile=request["is_mobile"], is_tablet=request["is_tablet"])


@functools.lru_cache(maxsize=CACHE_ENTRIES)
def _parse(user_agent: str) -> _Parsed:
    from ua_parser import Domain

    result = load_device_rules()(user_agent, Domain.ALL)
    agent, system, device = result.user_agent, result.os, result.device
    bot = device is not None and device.family == "Spider"  # uap-core's name for crawlers
    if bot:
        device = None  # its vendor and model read "Spider" and "Desktop"
    return _Parsed(
        bot=bot,
        vendor=(device.brand or "") if device else "",
        model=(device.model or "") if device else "",
        os=system.family if system else "",
        os_version=_version(system.major, system.minor, system.patch) if system else "",
        browser=agent.family if agent else "",
        browser_version=_version(agent.major, agent.minor, agent.patch) if agent else "",
    )


def load_device_rules() -> Resolver:
    """ua-parser's rules, compiled on first use (~0.1 s and ~27 MB, in the server process
    only; the app loads them at start-up when a page or module mentions `.device`)."""
    global _resolver
    with _resolver_lock:
        if _resolver is None:
            from ua_parser import load_lazy_builtins
            from ua_parser.regex import Resolver

            _resolver = Resolver(load_lazy_builtins())
        return _resolver


def _version(*parts: str | None) -> str:
    """"17.1" from ("17", "1", None): the leading parts that are there."""
    present: list[str] = []
    for part in parts:
        if not part:
            break
        present.append(part)
    return ".".join(present)
