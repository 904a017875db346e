"""Who may open the debug window: the token, constant-time checks, and the stateless cookie."""

from __future__ import annotations

import pytest

from conftest import FakeClock
from funnelrun.admin.access import COOKIE_LIFETIME_S, AdminAccess, clearing_cookie_header
from funnelrun.errors import FunnelrunError

TOKEN = "abcdefghijklmnop-0123"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_the_token_is_checked_exactly(clock: FakeClock) -> None:
    access = AdminAccess(TOKEN, clock)
    assert access.token_ok(TOKEN)
    for wrong in (None, "", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), " " + TOKEN, "é" * 21):
        assert not access.token_ok(wrong), wrong


def test_a_bearer_header_carries_the_token(clock: FakeClock) -> None:
    access = AdminAccess(TOKEN, clock)
    assert access.bearer_ok(f"Bearer {TOKEN}")
    assert access.bearer_ok(f"bearer {TOKEN}")
    for wrong in (None, "", TOKEN, f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"):
        assert not access.bearer_ok(wrong), wrong


def test_a_cookie_is_valid_for_twelve_hours_on_every_worker_with_the_token(
    clock: FakeClock,
) -> None:
    cookie = AdminAccess(TOKEN, clock).new_cookie()
    other_worker = AdminAccess(TOKEN, clock)
    assert other_worker.cookie_ok(cookie)
    assert other_worker.allows({"fr_admin": cookie})
    clock.advance(COOKIE_LIFETIME_S - 1)
    assert other_worker.cookie_ok(cookie)
    clock.advance(1)
    assert not other_worker.cookie_ok(cookie)


def test_a_new_token_ends_every_cookie(clock: FakeClock) -> None:
    cookie = AdminAccess(TOKEN, clock).new_cookie()
    assert not AdminAccess("another-token-of-16+", clock).cookie_ok(cookie)


def test_a_changed_or_forged_cookie_is_refused(clock: FakeClock) -> None:
    access = AdminAccess(TOKEN, clock)
    cookie = access.new_cookie()
    _, expires, signature = cookie.split(".")
    later = str(int(expires) + 10**6)
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    for forged in ("", "v1", f"v2.{expires}.{signature}", f"v1.{later}.{signature}",
                   f"v1.{expires}.{flipped}", f"v1.{expires}.", f"v1.-1.{signature}",
                   f"v1.{expires}.{signature}x", cookie + "." + "a" * 200, f"v1.1e9.{signature}"):
        assert not access.cookie_ok(forged), forged
    assert not access.allows({})


def test_without_a_token_nothing_opens_the_window(clock: FakeClock) -> None:
    access = AdminAccess(None, clock)
    assert not access.enabled
    assert not access.token_ok("")
    assert not access.bearer_ok("Bearer ")
    assert not access.cookie_ok("v1.1.x")
    with pytest.raises(FunnelrunError):
        access.new_cookie()


def test_the_cookie_is_http_only_strict_and_secure_over_https(clock: FakeClock) -> None:
    access = AdminAccess(TOKEN, clock)
    header = access.cookie_header(secure=False)
    assert header.startswith("fr_admin=v1.")
    assert "; Max-Age=43200; Path=/; HttpOnly; SameSite=Strict" in header
    assert not header.endswith("Secure")
    assert access.cookie_header(secure=True).endswith("; Secure")
    assert clearing_cookie_header(False) == \
        "fr_admin=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"
