"""Assets served at /assets/ by a real `funnelrun serve`: content types, validators and 304s,
HEAD, ranges, compression negotiation, caching by URL, and brand over site-wide files."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import http.client
import time
from email.utils import formatdate
from urllib.parse import urlsplit

import brotli
import pytest

from conftest import recorded_events, running_server, write_site
from funnelrun.static import IMMUTABLE, REVALIDATE

CSS = "".join(f".rule-{n} {{ color: #{n:06x}; margin: {n}px auto; }}\n" for n in range(300))
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # 10 KB of "image"
SVG = '<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>\n' * 40
FILES = {
    "brands/acme/brand.toml": 'domains = ["acme.test"]\n',
    "brands/acme/pages/index.html": "home",
    "brands/acme/assets/css/site.css": CSS,
    "brands/acme/assets/js/app.js": "console.log('hi');\n" * 100,
    "brands/acme/assets/img/logo.svg": SVG,
    "brands/acme/assets/site.webmanifest": '{"name": "Acme"}',
    "brands/acme/assets/notes.txt": "short",
    "brands/acme/assets/shared.txt": "acme's own",
    "assets/shared.txt": "site-wide",
    "assets/robots.txt": "User-agent: *\n",
    "brands/other/brand.toml": 'domains = ["other.test"]\n',
    "brands/other/pages/404.html": "other's own 404 for {{ request.path }}",
    "brands/other/pages/index.html": "other",
}
BINARY = {
    "brands/acme/assets/img/hero.png": PNG,
    "brands/acme/assets/fonts/inter.woff2": b"wOF2" + bytes(2000),
    "brands/acme/assets/img/hero.webp": b"RIFF" + bytes(100),
    "brands/acme/assets/img/hero.avif": b"\0\0\0 ftypavif" + bytes(100),
    "brands/acme/assets/favicon.ico": b"\0\0\1\0" + bytes(100),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = write_site(tmp_path_factory.mktemp("assets") / "site", FILES)
    for name, data in BINARY.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    with running_server(root) as (base, _):
        yield base, root


def fetch(base: str, path: str, headers: dict[str, str] | None = None, method: str = "GET",
          host: str = "acme.test") -> tuple[int, dict[str, str], bytes]:
    """One request as written (no client normalising the path or adding Accept-Encoding)."""
    address = urlsplit(base)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(("path", "expected"), [
    ("/assets/css/site.css", "text/css; charset=utf-8"),
    ("/assets/js/app.js", "text/javascript; charset=utf-8"),
    ("/assets/img/logo.svg", "image/svg+xml; charset=utf-8"),
    ("/assets/site.webmanifest", "application/manifest+json; charset=utf-8"),
    ("/assets/notes.txt", "text/plain; charset=utf-8"),
    ("/assets/img/hero.png", "image/png"),
    ("/assets/img/hero.webp", "image/webp"),
    ("/assets/img/hero.avif", "image/avif"),
    ("/assets/fonts/inter.woff2", "font/woff2"),
    ("/assets/favicon.ico", "image/x-icon"),
])
def test_each_asset_has_its_content_type(server, path, expected):
    base, root = server
    status, headers, body = fetch(base, path)
    assert status == 200
    assert headers["content-type"] == expected
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["accept-ranges"] == "bytes"
    assert body == (root / "brands/acme" / path.lstrip("/")).read_bytes()
    assert int(headers["content-length"]) == len(body)


def test_validators_are_the_content_hash_and_the_file_time(server):
    base, root = server
    path = root / "brands/acme/assets/img/hero.png"
    _, headers, _ = fetch(base, "/assets/img/hero.png")
    assert headers["etag"] == f'"{sha(PNG)[:16]}"'
    assert headers["last-modified"] == formatdate(int(path.stat().st_mtime), usegmt=True)
    assert "vary" not in headers  # an image has one body


def test_if_none_match_gives_304_with_no_body(server):
    base, _ = server
    _, first, _ = fetch(base, "/assets/css/site.css")
    for tag in (first["etag"], "W/" + first["etag"], f'"nope", {first["etag"]}', "*"):
        status, headers, body = fetch(base, "/assets/css/site.css", {"If-None-Match": tag})
        assert (status, body) == (304, b""), tag
        assert headers["etag"] == first["etag"]
        assert headers["cache-control"] == REVALIDATE
    status, _, body = fetch(base, "/assets/css/site.css", {"If-None-Match": '"other"'})
    assert status == 200 and body == CSS.encode()


def test_a_compressed_bodys_tag_revalidates_too(server):
    base, _ = server
    _, first, _ = fetch(base, "/assets/css/site.css", {"Accept-Encoding": "gzip"})
    assert first["etag"].endswith('-gz"')
    status, headers, _ = fetch(base, "/assets/css/site.css",
                               {"Accept-Encoding": "gzip", "If-None-Match": first["etag"]})
    assert status == 304 and headers["etag"] == first["etag"]
    assert headers["vary"] == "Accept-Encoding"


def test_if_modified_since_gives_304_unless_if_none_match_disagrees(server):
    base, _ = server
    _, first, _ = fetch(base, "/assets/img/hero.png")
    modified = first["last-modified"]
    assert fetch(base, "/assets/img/hero.png", {"If-Modified-Since": modified})[0] == 304
    later = formatdate(time.time() + 3600, usegmt=True)
    assert fetch(base, "/assets/img/hero.png", {"If-Modified-Since": later})[0] == 304
    earlier = formatdate(0, usegmt=True)
    assert fetch(base, "/assets/img/hero.png", {"If-Modified-Since": earlier})[0] == 200
    assert fetch(base, "/assets/img/hero.png", {"If-Modified-Since": "yesterday"})[0] == 200
    # If-None-Match takes precedence: a tag that does not match means 200, whatever the date
    both = {"If-Modified-Since": modified, "If-None-Match": '"stale"'}
    assert fetch(base, "/assets/img/hero.png", both)[0] == 200


def test_head_has_the_headers_of_get_and_no_body(server):
    base, _ = server
    _, get_headers, get_body = fetch(base, "/assets/css/site.css", {"Accept-Encoding": "br"})
    status, headers, body = fetch(base, "/assets/css/site.css", {"Accept-Encoding": "br"},
                                  method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["content-length"] == str(len(get_body))
    for name in ("content-type", "etag", "last-modified", "content-encoding", "cache-control"):
        assert headers[name] == get_headers[name]
    assert fetch(base, "/assets/css/site.css", {"If-None-Match": "*"}, method="HEAD")[0] == 304
    assert fetch(base, "/assets/missing.css", method="HEAD")[0] == 404


@pytest.mark.parametrize(("spec", "start", "end"), [
    ("bytes=0-9", 0, 9), ("bytes=100-", 100, len(PNG) - 1), ("bytes=-5", len(PNG) - 5, len(PNG) - 1),
    ("bytes=10-99999999", 10, len(PNG) - 1), ("bytes=-999999", 0, len(PNG) - 1),
    ("BYTES = 3-4", 3, 4),
])
def test_a_single_range_gives_206_with_its_bytes(server, spec, start, end):
    base, _ = server
    status, headers, body = fetch(base, "/assets/img/hero.png", {"Range": spec})
    assert status == 206
    assert headers["content-range"] == f"bytes {start}-{end}/{len(PNG)}"
    assert body == PNG[start:end + 1]
    assert headers["content-length"] == str(end - start + 1)


@pytest.mark.parametrize("spec", [f"bytes={len(PNG)}-", f"bytes={len(PNG) + 10}-{len(PNG) + 20}",
                                  "bytes=-0"])
def test_a_range_past_the_end_gives_416(server, spec):
    base, _ = server
    status, headers, body = fetch(base, "/assets/img/hero.png", {"Range": spec})
    assert status == 416
    assert headers["content-range"] == f"bytes */{len(PNG)}"
    assert body == b""


@pytest.mark.parametrize("spec", ["bytes=0-1,5-6", "bytes=5-1", "items=0-1", "bytes=a-b",
                                  "bytes=-", "bytes=1-2-3", "bytes=²-³", "bytes=" + "9" * 40 + "-"])
def test_several_ranges_or_a_malformed_one_give_the_whole_file(server, spec):
    base, _ = server
    status, headers, body = fetch(base, "/assets/img/hero.png", {"Range": spec})
    assert status == 200 and body == PNG
    assert "content-range" not in headers


def test_a_range_is_served_from_the_identity_body_never_a_compressed_one(server):
    base, _ = server
    status, headers, body = fetch(base, "/assets/css/site.css",
                                  {"Range": "bytes=0-99", "Accept-Encoding": "gzip, br"})
    assert status == 206 and body == CSS.encode()[:100]
    assert "content-encoding" not in headers
    assert headers["etag"] == f'"{sha(CSS.encode())[:16]}"'


def test_if_range_applies_the_range_only_to_the_same_body(server):
    base, _ = server
    _, first, _ = fetch(base, "/assets/img/hero.png")
    same = fetch(base, "/assets/img/hero.png", {"Range": "bytes=0-3", "If-Range": first["etag"]})
    assert same[0] == 206 and same[2] == PNG[:4]
    by_date = fetch(base, "/assets/img/hero.png",
                    {"Range": "bytes=0-3", "If-Range": first["last-modified"]})
    assert by_date[0] == 206
    changed = fetch(base, "/assets/img/hero.png", {"Range": "bytes=0-3", "If-Range": '"old"'})
    assert changed[0] == 200 and changed[2] == PNG


@pytest.mark.parametrize(("accept", "expected"), [
    ("gzip", "gzip"), ("br", "br"), ("gzip, br", "br"), ("br, gzip", "br"),
    ("gzip;q=1, br;q=0.5", "gzip"), ("br;q=0, gzip", "gzip"), ("gzip;q=0", None),
    ("gzip;q=0, br;q=0", None), ("identity", None), ("*", "br"), ("*;q=0", None),
    ("br;q=0, *", "gzip"), ("deflate", None), ("x-gzip", "gzip"), ("GZIP", "gzip"),
    ("gzip;q=nan, br;q=1e5", None), ("gzip;q=0.001", "gzip"), ("", None),
])
def test_compression_follows_the_clients_accept_encoding(server, accept, expected):
    base, _ = server
    status, headers, body = fetch(base, "/assets/css/site.css", {"Accept-Encoding": accept})
    assert status == 200
    assert headers["vary"] == "Accept-Encoding"
    assert headers.get("content-encoding") == expected
    if expected == "gzip":
        assert gzip.decompress(body) == CSS.encode() and len(body) < len(CSS) / 3
        assert headers["etag"].endswith('-gz"')
    elif expected == "br":
        assert brotli.decompress(body) == CSS.encode()
        assert headers["etag"].endswith('-br"')
    else:
        assert body == CSS.encode()


def test_binary_and_small_files_are_never_compressed(server):
    base, _ = server
    for path in ("/assets/img/hero.png", "/assets/fonts/inter.woff2", "/assets/notes.txt"):
        status, headers, _ = fetch(base, path, {"Accept-Encoding": "gzip, br"})
        assert status == 200 and "content-encoding" not in headers, path


def test_only_the_current_hash_in_the_query_makes_a_url_immutable(server):
    base, _ = server
    version = sha(CSS.encode())[:8]
    assert fetch(base, f"/assets/css/site.css?v={version}")[1]["cache-control"] == IMMUTABLE
    for query in ("", "?v=00000000", f"?v={version}&x=1", f"?x=1&v={version}", f"?V={version}",
                  f"?v={version.upper()}"):
        status, headers, _ = fetch(base, f"/assets/css/site.css{query}")
        assert status == 200
        assert headers["cache-control"] == "public, max-age=300, must-revalidate", query


def test_a_304_of_the_hashed_url_is_immutable_too(server):
    base, _ = server
    version = sha(CSS.encode())[:8]
    status, headers, _ = fetch(base, f"/assets/css/site.css?v={version}", {"If-None-Match": "*"})
    assert status == 304 and headers["cache-control"] == IMMUTABLE


def test_the_brands_file_wins_and_other_brands_see_the_site_wide_one(server):
    base, _ = server
    assert fetch(base, "/assets/shared.txt")[2] == b"acme's own"
    assert fetch(base, "/assets/shared.txt", host="other.test")[2] == b"site-wide"
    assert fetch(base, "/assets/robots.txt")[2] == b"User-agent: *\n"
    assert fetch(base, "/assets/css/site.css", host="other.test")[0] == 404


def test_other_methods_get_405_naming_get_and_head(server):
    base, _ = server
    for method in ("POST", "PUT", "DELETE"):
        status, headers, _ = fetch(base, "/assets/css/site.css", method=method)
        assert status == 405
        assert headers["allow"] in ("GET, HEAD", "GET, HEAD, POST")


def test_a_dotfile_under_assets_is_a_404(server):
    base, root = server
    (root / "brands/acme/assets/.env").write_text("SECRET=1")  # after load: never indexed
    for path in ("/assets/.env", "/assets/%2eenv", "/assets/.git/config"):
        status, _, body = fetch(base, path)
        assert status == 404 and b"SECRET" not in body


def test_assets_served_are_not_recorded_but_misses_are(server):
    base, root = server
    hit = fetch(base, "/assets/css/site.css")[1]["x-request-id"]
    miss = fetch(base, "/assets/missing.css")[1]["x-request-id"]
    events = asyncio.run(recorded_events(root, miss))
    assert events[0]["type"] == "resolve" and events[0]["path"] == "/assets/missing.css"
    assert events[-1]["type"] == "response" and events[-1]["status"] == 404

    async def stored(request_id):
        from funnelrun.store import open_store
        store = open_store("sqlite:///.funnelrun/state.db", root)
        try:
            return await store.get_request(request_id)
        finally:
            await store.close()

    assert asyncio.run(stored(hit)) is None


def test_serve_reload_picks_up_an_asset_of_any_type(tmp_path):
    root = write_site(tmp_path / "site", {"brands/acme/pages/index.html": "home",
                                          "brands/acme/assets/img/a/b/logo.xyz": "one"})
    asset = root / "brands/acme/assets/img/a/b/logo.xyz"
    with running_server(root, "--reload") as (base, _):
        assert fetch(base, "/assets/img/a/b/logo.xyz")[2] == b"one"
        asset.write_text("two")
        (root / "assets").mkdir()
        (root / "assets/new.bin").write_bytes(b"new")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if (fetch(base, "/assets/img/a/b/logo.xyz")[2] == b"two"
                        and fetch(base, "/assets/new.bin")[0] == 200):
                    return
            except OSError:
                pass  # restarting
            time.sleep(0.2)
    pytest.fail("the changed asset was never served")


def test_a_missing_asset_gets_the_brands_own_404_page(server):
    base, _ = server
    status, headers, body = fetch(base, "/assets/nope.css", host="other.test")
    assert status == 404
    assert body == b"other's own 404 for /assets/nope.css"
    assert headers["content-type"] == "text/html; charset=utf-8"
    status, _, body = fetch(base, "/assets/../brand.toml", host="other.test")
    assert status == 404 and body.startswith(b"other's own 404")
