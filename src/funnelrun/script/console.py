"""Console entries a script wrote, checked and capped on the Python side (SPEC §3.3)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..jsondata import clean_text
from .limits import MAX_CONSOLE_BYTES, MAX_CONSOLE_ENTRIES

LEVELS = frozenset({"log", "info", "warn", "error", "debug"})


@dataclass(slots=True)  # not frozen: see funnelrun.script.effects
class ConsoleEntry:
    """One console call: level (log, info, warn, error, debug), its text, and when (seconds
    since the epoch)."""

    level: str
    text: str
    time: float


def collect_console(entries: Iterable[Any], dropped: object = 0
                    ) -> tuple[tuple[ConsoleEntry, ...], int]:
    """The entries to keep (at most MAX_CONSOLE_ENTRIES and MAX_CONSOLE_BYTES of text) and how
    many were dropped, counting those the sandbox already dropped."""
    kept: list[ConsoleEntry] = []
    count = dropped if isinstance(dropped, int) and not isinstance(dropped, bool) else 0
    room = MAX_CONSOLE_BYTES
    for entry in entries:
        text = entry.get("text") if isinstance(entry, dict) else None
        if not isinstance(text, str) or len(kept) >= MAX_CONSOLE_ENTRIES or room <= 0:
            count += 1
            continue
        text = clean_text(text)
        data = text.encode()
        if len(data) > room:
            text = data[:room].decode(errors="ignore")
        room -= len(text.encode())
        level = entry.get("level")
        kept.append(ConsoleEntry(
            level=level if isinstance(level, str) and level in LEVELS else "log",
            text=text,
            time=_seconds(entry.get("time")),
        ))
    return tuple(kept), count


def _seconds(milliseconds: Any) -> float:
    """A console entry's time in seconds; 0.0 for anything but a finite number."""
    if isinstance(milliseconds, bool) or not isinstance(milliseconds, int | float):
        return 0.0
    try:
        seconds = float(milliseconds) / 1000
    except OverflowError:  # an integer too large for a float
        return 0.0
    return seconds if math.isfinite(seconds) else 0.0
