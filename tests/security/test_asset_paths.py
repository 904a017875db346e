"""Nothing outside the assets folders is ever served through /assets/ (issue 13, item 3):
every traversal trick is a 404, against a real `funnelrun serve`, and no answer holds a byte of
the files around the assets."""

from __future__ import annotations

import time

import pytest

from conftest import running_server, write_site
from funnelrun.static import requested_path
from test_static import fetch

SECRET = "do-not-serve-"  # in every file that is not an asset
FILES = {
    "brands/acme/brand.toml": f'name = "Acme"\n[variables]\nkey = "{SECRET}brand"\n',
    "brands/acme/pages/index.html": f"{SECRET}page",
    "brands/acme/components/layout.html": f"{SECRET}component",
    "brands/acme/modules/secret.js": f"export const k = '{SECRET}module';",
    "brands/acme/assets/css/site.css": "body { color: red }",
    "brands/acme/assets/.env": f"{SECRET}dotfile",
    "brands/acme/assets/.git/config": f"{SECRET}git",
    "funnelrun.toml": f"# {SECRET}settings\n",
    "secret.txt": f"{SECRET}root",
}
TRICKS = [
    "/assets/../brand.toml", "/assets/../../brands/acme/brand.toml", "/assets/../../secret.txt",
    "/assets/../pages/index.html", "/assets/../components/layout.html",
    "/assets/../modules/secret.js", "/assets/css/../../brand.toml",
    "/assets/%2e%2e/brand.toml", "/assets/%2E%2E/%2E%2E/funnelrun.toml", "/assets/.%2e/brand.toml",
    "/assets/%252e%252e/brand.toml",  # double encoding: a literal "%2e%2e" segment, not an asset
    "/assets/..%2fbrand.toml", "/assets/..%2Fbrand.toml", "/assets/css%2fsite.css",
    "/assets/css%2Fsite.css", "/assets/%2fetc/passwd", "/assets/%2F..%2F..%2Fsecret.txt",
    "/assets/..\\brand.toml", "/assets/css\\site.css", "/assets/..%5cbrand.toml",
    "/assets/css%5csite.css", "/assets/css%5Csite.css",
    "/assets/css/site.css%00", "/assets/css/site.css%00.png", "/assets/%00/../brand.toml",
    "/assets/C:/Windows/win.ini", "/assets/C:%5cWindows%5cwin.ini", "/assets/c%3a/secret.txt",
    "/assets//etc/passwd", "/assets/css//site.css", "/assets///brand.toml",
    "/assets/./css/site.css", "/assets/css/./site.css", "/assets/%2e/css/site.css",
    "/assets/CSS/site.css", "/assets/css/SITE.CSS", "/assets/css/Site.css",
    "/assets/.env", "/assets/%2eenv", "/assets/.git/config", "/assets/.git/",
    "/assets/%c0%ae%c0%ae/brand.toml",  # overlong UTF-8 for "..": not UTF-8 at all
    "/assets/%e0%80%ae%e0%80%ae/brand.toml", "/assets/%ff/x",
    "/assets/", "/assets/css", "/assets/css/", "/assets/css/site.css/",
    "/assets/brand.toml", "/assets/pages/index.html", "/assets/modules/secret.js",
    "/assets/" + "a/" * 600 + "x.css",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = write_site(tmp_path_factory.mktemp("traversal") / "site", FILES)
    with running_server(root) as (base, _):
        yield base


@pytest.mark.parametrize("path", TRICKS)
def test_every_traversal_trick_is_a_404_that_shows_nothing(server, path):
    status, headers, body = fetch(server, path)
    assert status == 404, path
    assert SECRET.encode() not in body
    assert headers["content-type"] == "text/html; charset=utf-8"  # the 404 page


@pytest.mark.parametrize("path", TRICKS)
def test_no_trick_names_an_index_path(path):
    found = requested_path(path.encode())
    assert found is None or not ({".", ".."} & set(found.split("/")) or "\\" in found
                                 or found == "css/site.css"), path


def test_the_asset_itself_is_served(server):
    status, _, body = fetch(server, "/assets/css/site.css")
    assert (status, body) == (200, b"body { color: red }")


@pytest.mark.parametrize(("raw", "expected"), [
    (b"/assets/css/site.css", "css/site.css"),
    (b"/assets/caf%C3%A9.svg", "café.svg"),
    (b"/assets/a%20b.png", "a b.png"),
    (b"/assets/100%25.txt", "100%.txt"),
])
def test_percent_encoded_names_are_decoded_once(raw, expected):
    assert requested_path(raw) == expected


@pytest.mark.parametrize("name", ["Accept-Encoding", "Range", "If-None-Match", "If-Range",
                                  "If-Modified-Since"])
def test_a_long_hostile_header_is_answered_at_once(server, name):
    value = "gzip;q=0.5;q=;," * 1800  # 27 KB of what each parser splits on
    started = time.monotonic()
    status, _, body = fetch(server, "/assets/css/site.css", {name: value})
    assert time.monotonic() - started < 1
    assert (status, body) == (200, b"body { color: red }")
