"""The percent placeholders of page text (`%YEAR%`, `%DAY_NAME%`, `%CUSTOMER_FNAME%`, …):
their values for one request, in the brand's time zone, worked out only when a page prints one."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")
NAMES = ("DAY_NAME", "DAY", "DAY_POSTFIX", "MONTH_NAME", "MONTH", "YEAR", "HOUR",
         "CUSTOMER_FNAME", "CUSTOMER_FNAME,")


class Placeholders(Mapping[str, str]):
    """The value of each placeholder (by name, as the template lexer gives it) for a page
    rendered at `now` (epoch seconds) in `timezone` (an IANA name) for `customer`."""

    __slots__ = ("_customer", "_now", "_timezone", "_values")

    def __init__(self, now: float, timezone: str, customer: Mapping[str, Any] | None) -> None:
        self._now = now
        self._timezone = timezone
        self._customer = customer
        self._values: dict[str, str] | None = None

    def __getitem__(self, name: str) -> str:
        if self._values is None:
            self._values = self._work_out()
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)

    def _work_out(self) -> dict[str, str]:
        moment = datetime.fromtimestamp(self._now, _zone(self._timezone))
        first_name = customer_first_name(self._customer)
        return {
            "DAY_NAME": DAY_NAMES[moment.weekday()],
            "DAY": str(moment.day),
            "DAY_POSTFIX": day_postfix(moment.day),
            "MONTH_NAME": MONTH_NAMES[moment.month - 1],
            "MONTH": str(moment.month - 1),  # 0-11, as JavaScript's getMonth(): the docs say so
            "YEAR": str(moment.year),
            "HOUR": str(moment.hour),
            "CUSTOMER_FNAME": first_name,
            # "Welcome%CUSTOMER_FNAME%, to our store!" → "Welcome Ann, to…" or "Welcome to…"
            "CUSTOMER_FNAME,": f" {first_name}," if first_name else "",
        }


def day_postfix(day: int) -> str:
    """"st", "nd", "rd" or "th": 1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st, 22nd, 23rd."""
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def customer_first_name(customer: Mapping[str, Any] | None) -> str:
    """The customer's `first_name`, else the first word of `name`, else ''."""
    if not customer:
        return ""
    first = customer.get("first_name")
    if isinstance(first, str) and first.strip():
        return first.strip()
    name = customer.get("name")
    return name.split()[0] if isinstance(name, str) and name.split() else ""


def _zone(name: str) -> tzinfo:
    """The brand's time zone (checked when brand.toml was read); UTC by default."""
    return UTC if name == "UTC" else zoneinfo.ZoneInfo(name)
