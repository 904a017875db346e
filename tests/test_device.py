"""`request.device` from the User-Agent: ua-parser's rules, a bounded read, a cache."""

from __future__ import annotations

import time

import pytest

from funnelrun import device
from funnelrun.device import MAX_PARSED_UA_CHARS, describe_device, device_of
from funnelrun.inbound import device as mobile_or_tablet

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1")
GALAXY_TAB = ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Safari/537.36")
WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def described(user_agent: str) -> dict:
    is_mobile, is_tablet = mobile_or_tablet(user_agent)
    return describe_device(user_agent, is_mobile=is_mobile, is_tablet=is_tablet)


def test_an_iphone():
    assert described(IPHONE) == {
        "type": "mobile", "user_agent": IPHONE, "vendor": "Apple", "model": "iPhone",
        "os": "iOS", "os_version": "17.1",
        "browser": {"name": "Mobile Safari", "version": "17.1"},
    }


def test_an_android_tablet_is_a_tablet_like_is_tablet_says():
    found = described(GALAXY_TAB)
    assert (found["type"], found["model"]) == ("tablet", "SM-X700")
    assert (found["os"], found["os_version"]) == ("Android", "13")
    assert found["browser"] == {"name": "Chrome", "version": "120.0.0"}


def test_a_desktop_has_no_vendor_or_model():
    found = described(WINDOWS)
    assert (found["type"], found["vendor"], found["model"], found["os"]) == (
        "desktop", "", "", "Windows")


def test_a_crawler_is_a_bot():
    found = described(GOOGLEBOT)
    assert (found["type"], found["vendor"], found["model"]) == ("bot", "", "")
    assert found["browser"] == {"name": "Googlebot", "version": "2.1"}


@pytest.mark.parametrize("user_agent", ["", "\x00\x01", "é" * 40, "(" * 600])
def test_an_unknown_agent_gives_empty_fields(user_agent):
    found = described(user_agent)
    assert found["type"] == "desktop" and found["user_agent"] == user_agent
    assert (found["vendor"], found["model"], found["os"], found["os_version"]) == ("",) * 4
    assert found["browser"] == {"name": "", "version": ""}


def test_only_the_start_of_a_huge_agent_is_read_and_it_is_cheap():
    huge = IPHONE + " x" * 50_000
    started = time.perf_counter()
    found = described(huge)
    assert time.perf_counter() - started < 0.5
    assert found["model"] == "iPhone" and found["user_agent"] == huge  # the header as sent
    hits = device._parse.cache_info().hits
    described(huge[:MAX_PARSED_UA_CHARS] + " y" * 50_000)  # differs only past what is read
    assert device._parse.cache_info().hits == hits + 1


@pytest.mark.parametrize("atom", ["a", "(", "; ", "Android ", "Mozilla/5.0 ", "1.", "Build/",
                                  "iPhone OS ", "Version/", "\x00"])
def test_adversarial_agents_parse_in_bounded_time(atom):
    """The rules run in Rust's regex crate (linear); the read is bounded besides."""
    device._parse.cache_clear()
    user_agent = atom * (100_000 // len(atom))
    started = time.perf_counter()
    described(user_agent)
    assert time.perf_counter() - started < 0.1


def test_results_are_cached_and_callers_get_their_own_dict():
    first = described(IPHONE)
    first["browser"]["name"] = "changed"
    hits = device._parse.cache_info().hits
    assert described(IPHONE)["browser"]["name"] == "Mobile Safari"
    assert device._parse.cache_info().hits == hits + 1


def test_device_of_a_request_object():
    request = {"headers": {"user-agent": IPHONE}, "is_mobile": True, "is_tablet": False}
    assert device_of(request) == described(IPHONE)
    assert device_of({"headers": {}, "is_mobile": False, "is_tablet": False})["type"] == "desktop"

