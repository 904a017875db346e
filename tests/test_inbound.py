import ipaddress

import pytest
from starlette.requests import Request

from funnelrun.inbound import (
    MAX_PARSED_BODY_BYTES,
    MAX_REQUEST_BYTES,
    BodyTooLarge,
    client_address,
    cookie_map,
    device,
    header_map,
    host_name,
    ip_fields,
    page_cookies,
    parse_body,
    parse_networks,
    query_map,
    read_body,
    url_path,
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


def test_header_map_reads_headers_as_starlette_does_the_first_of_repeated_ones():
    raw = [(b"host", b"a.test"), (b"cookie", b"a=1"), (b"cookie", b"b=2"), (b"referer", b"\xe9")]
    headers = Request({"type": "http", "headers": raw}).headers
    assert header_map(raw) == {name: headers[name] for name in ("host", "cookie", "referer")}
    assert header_map(raw)["cookie"] == "a=1"


@pytest.mark.parametrize("path", [
    "/", "/offers/spring-sale", "/a%20b", "/a?b", "/a#b", "/a\\b", "/a b", "/a\tb", "//x",
    "/é", "", "*",
])
@pytest.mark.parametrize("host", [b"a.test:8000", b"not a host"])
@pytest.mark.parametrize("server", [("a.test", 80), None])
def test_url_path_is_starlettes_url_path(path, host, server):
    scope = {"type": "http", "scheme": "http", "path": path, "query_string": b"",
             "headers": [(b"host", host)], "server": server}
    assert url_path(Request(scope)) == Request(scope).url.path


@pytest.mark.parametrize("raw", [
    [],
    [(b"host", b"a.test"), (b"cookie", b"fr_session=abc; seen=1")],
    [(b"cookie", b"a=1; b=2"), (b"x-cookie", b"c=3"), (b"cookie", b"a=3; =x; flag; q=\"a\\\"b\"")],
    [(b"cookie", b" spaced = value ; e=%20\xe9"), (b"cookie", b"")],
])
def test_cookie_map_is_starlettes_request_cookies_every_cookie_header_read(raw):
    assert cookie_map(raw) == Request({"type": "http", "headers": raw}).cookies


@pytest.mark.parametrize("query", [
    b"", b"a=1&b=2&a=3", b"x&y=&z=%C3%A9+1", b"a=%E9", b"utm_source=mail&&=v&k==v&\xe9=\xe8;",
    b"&", b"a+b=c d",
])
def test_query_map_is_dict_of_starlettes_query_params_the_last_value_winning(query):
    expected = dict(Request({"type": "http", "query_string": query, "headers": []}).query_params)
    assert query_map(query) == expected
    assert list(query_map(query)) == list(expected)


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
    assert parse_body("application/json; charset=utf-8", b'{"a": [1, 2]}') == ({"a": [1, 2]}, None)


def test_form_body_is_parsed_last_value_wins():
    assert parse_body("application/x-www-form-urlencoded", b"a=1&b=x+y&a=2") == (
        {"a": "2", "b": "x y"}, None
    )


def test_no_body_is_null_without_a_reason():
    assert parse_body("application/json", b"") == (None, None)


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("multipart/form-data; boundary=x", b"--x\r\n",
         "content type 'multipart/form-data' is not parsed"),
        ("text/plain", b"hello", "content type 'text/plain' is not parsed"),
        (None, b"a=1", "no content type"),
        ("application/json", b"{not json", "body is not JSON data: not valid JSON: Expecting"),
        ("application/json", b"\xff\xfe", "body is not UTF-8 (byte 0)"),
        ("application/json", b'"' + b"x" * MAX_PARSED_BODY_BYTES + b'"',
         f"body of {MAX_PARSED_BODY_BYTES + 2} bytes; bodies over {MAX_PARSED_BODY_BYTES} are"),
        ("application/json", b'{"a": 1e999}', "body is not JSON data: the number 1e999 is too"),
        ("application/json", b"[NaN]", "body is not JSON data: NaN is not a JSON number"),
        ("application/json", b"-Infinity", "body is not JSON data: -Infinity is not a JSON"),
        ("application/json", b"[" * 1000 + b"]" * 1000,
         "body is not JSON data: JSON nested deeper than 64 levels"),
        ("application/json", b"[" * 65 + b"]" * 65,
         "body is not JSON data: JSON nested deeper than 64 levels"),
        ("application/json", b"1" * 4301, "body is not JSON data: the number 1111"),
    ],
)
def test_other_bodies_are_null_and_say_why(content_type, body, reason):
    parsed, why = parse_body(content_type, body)
    assert parsed is None
    assert why is not None and why.startswith(reason)


def test_body_nested_64_deep_is_parsed():
    assert parse_body("application/json", b"[" * 64 + b"]" * 64)[0] is not None


def test_lone_surrogates_in_a_json_body_become_replacement_characters():
    parsed, _ = parse_body("application/json", b'{"\\ud800k": "a\\udfffb\\ud83d\\ude00"}')
    assert parsed == {"\ufffdk": "a\ufffdb\U0001f600"}


def test_body_of_exactly_64_kb_is_parsed():
    body = b'"' + b"x" * (MAX_PARSED_BODY_BYTES - 2) + b'"'
    assert parse_body("application/json", body) == ("x" * (MAX_PARSED_BODY_BYTES - 2), None)


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


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("Android 9 Mobile; embedded Android 12 browser", (False, True)),  # the last one counts
        ("Android 12 browser; Android 9 Mobile", (True, False)),
        ("ANDROID 14; MOBILE", (True, False)),
    ],
)
def test_android_is_a_tablet_unless_mobile_follows_its_last_mention(agent, expected):
    assert device(agent) == expected


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("Mozilla/5.0 (\u212aindle Fire) Safari", (False, True)),  # KELVIN SIGN folds to k
        ("Mozilla/5.0 (\u017filk/1.0) Safari", (False, True)),  # LONG S folds to s
        ("Mozilla/5.0 (iPhone) Safari é", (True, False)),
        ("Mozilla/5.0 (X11) Chrome é", (False, False)),
    ],
)
def test_device_of_a_non_ascii_agent_ignores_case_as_unicode_does(agent, expected):
    assert device(agent) == expected


def test_device_reads_only_the_start_of_a_huge_user_agent():
    assert device("x" * 2000 + "iPhone") == (False, False)
    assert device("Android " * 100_000 + "Mobile") == (False, True)  # linear, and bounded


def test_https_directly_or_from_trusted_proxy_only():
    from funnelrun.inbound import is_https

    assert is_https("https", "203.0.113.9", None, TRUSTED)
    assert is_https("http", "10.0.0.2", "https", TRUSTED)
    assert not is_https("http", "203.0.113.9", "https", TRUSTED)
    assert not is_https("http", "10.0.0.2", None, TRUSTED)
