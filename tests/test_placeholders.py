"""The percent placeholders' values: the date in the brand's time zone, the first name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from funnelrun.placeholders import NAMES, Placeholders, customer_first_name, day_postfix


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_the_docs_example_date():
    values = Placeholders(at("2024-01-15T14:05:00"), "UTC", None)
    assert dict(values) == {
        "DAY_NAME": "Monday", "DAY": "15", "DAY_POSTFIX": "th", "MONTH_NAME": "January",
        "MONTH": "0", "YEAR": "2024", "HOUR": "14", "CUSTOMER_FNAME": "", "CUSTOMER_FNAME,": "",
    }
    assert list(values) == list(NAMES) and len(values) == len(NAMES)


def test_the_brand_time_zone_decides_the_date():
    """23:30 UTC on New Year's Eve is already 1:30 on 1 January in Bucharest (UTC+2)."""
    moment = at("2024-12-31T23:30:00")
    utc, bucharest = Placeholders(moment, "UTC", None), Placeholders(moment, "Europe/Bucharest", None)
    assert [utc[n] for n in ("DAY_NAME", "DAY", "MONTH", "YEAR", "HOUR")] == [
        "Tuesday", "31", "11", "2024", "23"]
    assert [bucharest[n] for n in ("DAY_NAME", "DAY", "DAY_POSTFIX", "MONTH_NAME", "MONTH",
                                   "YEAR", "HOUR")] == [
        "Wednesday", "1", "st", "January", "0", "2025", "1"]


def test_daylight_saving_time_is_followed():
    summer = Placeholders(at("2024-07-01T12:00:00"), "America/New_York", None)
    winter = Placeholders(at("2024-01-01T12:00:00"), "America/New_York", None)
    assert (summer["HOUR"], winter["HOUR"]) == ("8", "7")


@pytest.mark.parametrize(("day", "postfix"), [
    (1, "st"), (2, "nd"), (3, "rd"), (4, "th"), (10, "th"), (11, "th"), (12, "th"), (13, "th"),
    (14, "th"), (21, "st"), (22, "nd"), (23, "rd"), (24, "th"), (30, "th"), (31, "st"),
])
def test_day_postfix(day, postfix):
    assert day_postfix(day) == postfix


@pytest.mark.parametrize(("customer", "first"), [
    (None, ""),
    ({}, ""),
    ({"first_name": "Ann", "name": "Annie Lee"}, "Ann"),
    ({"first_name": "  ", "name": "Annie Lee"}, "Annie"),
    ({"name": "  Bo  Diddley "}, "Bo"),
    ({"name": "   "}, ""),
    ({"first_name": 7, "name": ["x"]}, ""),
])
def test_customer_first_name(customer, first):
    assert customer_first_name(customer) == first


def test_the_comma_form_adds_a_space_before_the_name_and_vanishes_without_one():
    """"Welcome%CUSTOMER_FNAME%, to our store!" reads "Welcome John, to…" or "Welcome to…"."""
    named = Placeholders(0.0, "UTC", {"first_name": "John"})
    assert (named["CUSTOMER_FNAME"], named["CUSTOMER_FNAME,"]) == ("John", " John,")
    assert Placeholders(0.0, "UTC", None)["CUSTOMER_FNAME,"] == ""


def test_nothing_is_worked_out_until_a_value_is_read():
    values = Placeholders(at("2024-01-15T14:05:00"), "Europe/Bucharest", None)
    assert values._values is None
    assert values["YEAR"] == "2024" and values._values is not None
