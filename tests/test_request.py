import ipaddress

import pytest

from funnelrun.request import (
    MAX_PARSED_BODY_BYTES,
    MAX_REQUEST_BYTES,
    BodyTooLarge,
    client_address,
    device,
    host_name,
    ip_fields,
    page_cookies,
    parse_body,
    parse_networks,
    read_body,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Offers.Acme.test:8000", "offers.acme.test"),
        ("acme.test", "acme.test"),
        ("acme.test.", "acme.test"),
        ("[::1]:8000", "[::1]"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("", None),
        (None, None),
        ("a" * 10_000, None),
        ("evil.test/../x", None),
        ("acme.test\r\nX: y", None),
    ],
)
def test_host_name(header, expected):
    assert host_name(header) == expected


async def chunks(*parts: bytes):
    for part in parts:
        yield part


@pytest.mark.anyio
async def test_read_body_joins_chunks():
    assert await read_body(chunks(b"a=", b"1"), None) == b"a=1"


@pytest.mark.anyio
async def test_read_body_refuses_declared_length_over_limit_before_reading():
    with pytest.raises(BodyTooLarge):
        await read_body(chunks(), str(MAX_REQUEST_BYTES + 1))


@pytest.mark.anyio
async def test_read_body_refuses_streamed_body_over_limit():
    with pytest.raises(BodyTooLarge):
        await read_body(chunks(b"x" * MAX_REQUEST_BYTES, b"x"), None)


def test_json_body_is_parsed():
    assert parse_body("application/json; charset=utf-8", b'{"a": [1, 2]}') == {"a": [1, 2]}


def test_form_body_is_parsed_last_value_wins():
    assert parse_body("application/x-www-form-urlencoded", b"a=1&b=x+y&a=2") == {"a": "2", "b": "x y"}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data; boundary=x", b"--x\r\n"),
        ("text/plain", b"hello"),
        (None, b"a=1"),
        ("application/json", b"{not json"),
        ("application/json", b""),
        ("application/json", b"\xff\xfe"),
        ("application/json", b'"' + b"x" * MAX_PARSED_BODY_BYTES + b'"'),
    ],
)
def test_other_bodies_are_null(content_type, body):
    assert parse_body(content_type, body) is None


def test_body_of_exactly_64_kb_is_parsed():
    body = b'"' + b"x" * (MAX_PARSED_BODY_BYTES - 2) + b'"'
    assert parse_body("application/json", body) == "x" * (MAX_PARSED_BODY_BYTES - 2)


def test_page_cookies_are_decoded_and_reserved_ones_left_out():
    assert page_cookies({"fr_session": "abc", "fr_x": "1", "promo": "50%25%20off"}) == {
        "promo": "50% off"
    }


TRUSTED = parse_networks(["10.0.0.0/8", "192.168.1.1"])


def test_client_address_ignores_forwarded_for_from_untrusted_peer():
    assert str(client_address("203.0.113.9", "1.2.3.4", TRUSTED)) == "203.0.113.9"


def test_client_address_takes_rightmost_untrusted_hop_behind_trusted_proxy():
    address = client_address("10.0.0.2", "6.6.6.6, 1.2.3.4, 192.168.1.1", TRUSTED)
    assert str(address) == "1.2.3.4"


def test_client_address_all_trusted_hops_gives_leftmost():
    assert str(client_address("10.0.0.2", "10.0.0.5", TRUSTED)) == "10.0.0.5"


def test_client_address_garbage_in_forwarded_for_stops_the_walk():
    assert str(client_address("10.0.0.2", "nonsense, 1.2.3.4", TRUSTED)) == "1.2.3.4"
    assert str(client_address("10.0.0.2", "nonsense", TRUSTED)) == "10.0.0.2"


def test_ip_fields_split_by_family():
    assert ip_fields(ipaddress.ip_address("1.2.3.4")) == ("1.2.3.4", "")
    assert ip_fields(ipaddress.ip_address("2001:db8::1")) == ("", "2001:db8::1")
    assert ip_fields(client_address("::ffff:1.2.3.4", None, ())) == ("1.2.3.4", "")
    assert ip_fields(None) == ("", "")


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148", (True, False)),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120 Mobile Safari/537.36", (True, False)),
        ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)", (False, True)),
        ("Mozilla/5.0 (Linux; Android 13; SM-X700) Chrome/120 Safari/537.36", (False, True)),
        ("Mozilla/5.0 (X11; Linux x86_64) Chrome/120 Safari/537.36", (False, False)),
        ("", (False, False)),
    ],
)
def test_device_from_user_agent(agent, expected):
    assert device(agent) == expected


def test_https_directly_or_from_trusted_proxy_only():
    from funnelrun.request import is_https

    assert is_https("https", "203.0.113.9", None, TRUSTED)
    assert is_https("http", "10.0.0.2", "https", TRUSTED)
    assert not is_https("http", "203.0.113.9", "https", TRUSTED)
    assert not is_https("http", "10.0.0.2", None, TRUSTED)
