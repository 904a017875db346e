"""A brand's asset index: the brand's files over the site-wide ones, hashes, types and
compressed bodies made at load, and the site's safety rules kept on the way."""

from __future__ import annotations

import gzip
import hashlib
import os

import brotli
import pytest

from conftest import write_site
from funnelrun.errors import SiteInvalid
from funnelrun.site import assets as assets_module
from funnelrun.site import check_site, load_site
from funnelrun.site.assets import AssetIndex, compressed, content_type, servable_name

CSS = "body { color: #222; margin: 0 auto; }\n" * 100  # 3.9 KB: compressed


def make_site(root, files=None, binary=None):
    root = write_site(root, {"brands/acme/pages/index.html": "home", **(files or {})})
    for name, data in (binary or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_a_brand_without_assets_has_an_empty_index(tmp_path):
    brand = load_site(make_site(tmp_path / "site")).brands["acme"]
    assert isinstance(brand.assets, AssetIndex)
    assert len(brand.assets) == 0
    assert brand.assets.version("css/site.css") is None
    assert "css/site.css" not in brand.assets


def test_the_version_is_the_first_8_hex_digits_of_the_sha256(tmp_path):
    root = make_site(tmp_path / "site", {"brands/acme/assets/css/site.css": CSS})
    index = load_site(root).brands["acme"].assets
    digest = hashlib.sha256((root / "brands/acme/assets/css/site.css").read_bytes()).hexdigest()
    assert index.version("css/site.css") == digest[:8]
    assert "css/site.css" in index
    assert index.versions() == {"css/site.css": digest[:8]}
    assert index.get("css/site.css").etag == f'"{digest[:16]}"'


def test_the_brands_own_file_wins_over_the_site_wide_one(tmp_path):
    root = make_site(tmp_path / "site", {
        "assets/logo.svg": "<svg>shared</svg>",
        "assets/robots.txt": "shared",
        "brands/acme/assets/logo.svg": "<svg>acme</svg>",
        "brands/other/brand.toml": 'domains = ["other.test"]\n',
        "brands/other/pages/index.html": "other",
    })
    site = load_site(root)
    acme, other = site.brands["acme"].assets, site.brands["other"].assets
    assert acme.get("logo.svg").body == b"<svg>acme</svg>"
    assert acme.get("logo.svg").site_path == "brands/acme/assets/logo.svg"
    assert other.get("logo.svg").body == b"<svg>shared</svg>"
    assert acme.get("robots.txt") is other.get("robots.txt")  # read once, shared


def test_dotfiles_and_dot_folders_are_not_indexed(tmp_path):
    root = make_site(tmp_path / "site", {
        "brands/acme/assets/.env": "SECRET=1",
        "brands/acme/assets/.git/config": "[core]",
        "brands/acme/assets/img/.hidden.png": "x",
        "brands/acme/assets/img/shown.png": "x",
    })
    assert list(load_site(root).brands["acme"].assets) == ["img/shown.png"]


def test_a_link_leaving_the_site_stops_it(tmp_path):
    root = make_site(tmp_path / "site", {"brands/acme/assets/ok.css": "a{}"})
    os.symlink("/etc/passwd", root / "brands/acme/assets/passwd.txt")
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    assert any("brands/acme/assets/passwd.txt: a symbolic link to /etc/passwd, outside the site"
               in problem.headline() for problem in caught.value.problems)


def test_a_link_to_a_folder_leaving_the_site_stops_it(tmp_path):
    root = make_site(tmp_path / "site")
    (root / "assets").mkdir()
    os.symlink("/etc", root / "assets/etc")
    with pytest.raises(SiteInvalid):
        load_site(root)


def test_a_link_inside_the_site_is_served(tmp_path):
    root = make_site(tmp_path / "site", {"brands/acme/shared/logo.svg": "<svg/>"})
    (root / "brands/acme/assets").mkdir()
    os.symlink(root / "brands/acme/shared/logo.svg", root / "brands/acme/assets/logo.svg")
    assert load_site(root).brands["acme"].assets.get("logo.svg").body == b"<svg/>"


def test_a_fifo_stops_the_site_rather_than_blocking_it(tmp_path):
    root = make_site(tmp_path / "site")
    (root / "assets").mkdir()
    os.mkfifo(root / "assets/pipe.css")
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    assert "assets/pipe.css: not a regular file" in caught.value.problems[0].headline()


def test_a_name_a_url_cannot_reach_is_a_warning_not_a_silent_skip(tmp_path):
    root = make_site(tmp_path / "site", {"brands/acme/assets/a:b.css": "a{}",
                                         "brands/acme/assets/back\\slash.css": "a{}"})
    site = load_site(root)
    assert len(site.brands["acme"].assets) == 0
    headlines = [problem.headline() for problem in site.problems]
    assert "brands/acme/assets/a:b.css: not served: its name holds a backslash, a colon or a " \
           "control character" in headlines
    assert any(line.startswith("brands/acme/assets/back\\slash.css: not served") for line in headlines)
    assert any("a:b.css" in problem.headline() for problem in check_site(root))


def test_a_file_too_deep_is_a_warning(tmp_path):
    deep = "/".join(["d"] * (assets_module.MAX_DEPTH + 1))
    root = make_site(tmp_path / "site", {f"assets/{deep}/x.css": "a{}",
                                         "assets/d/ok.css": "a{}"})
    site = load_site(root)
    assert list(site.brands["acme"].assets) == ["d/ok.css"]
    assert any(f"more than {assets_module.MAX_DEPTH} folders deep" in problem.headline()
               for problem in site.problems)


def test_too_many_files_is_a_problem_naming_the_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(assets_module, "MAX_FILES", 2)
    root = make_site(tmp_path / "site", {f"assets/{n}.txt": "x" for n in range(3)})
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    assert "assets/2.txt: more than 2 asset files in the site" in caught.value.problems[0].headline()


def test_a_file_over_the_size_cap_is_a_problem_pointing_at_a_cdn(tmp_path, monkeypatch):
    monkeypatch.setattr(assets_module, "MAX_FILE_BYTES", 1024 * 1024)
    root = make_site(tmp_path / "site", binary={"brands/acme/assets/video.mp4": b"\0" * (2 << 20)})
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    assert caught.value.problems[0].headline() == (
        "brands/acme/assets/video.mp4: 2 MB, over the 1 MB an asset may have; serve large media "
        "from a CDN ([assets] base_url)")


def test_the_total_size_cap_counts_every_brand_and_the_shared_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(assets_module, "MAX_TOTAL_BYTES", 2500)
    root = make_site(tmp_path / "site", binary={"assets/a.bin": b"a" * 1000,
                                                "brands/acme/assets/b.bin": b"b" * 1000,
                                                "brands/acme/assets/c.bin": b"c" * 1000})
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    assert "the site's assets pass 2500 bytes in all" in caught.value.problems[0].headline()


def test_a_page_under_assets_is_refused(tmp_path):
    root = make_site(tmp_path / "site", {"brands/acme/pages/assets/x.html": "shadowed"})
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    assert caught.value.problems[0].headline() == (
        "brands/acme/pages/assets/x.html: the paths under /assets/ serve the brand's assets "
        "folder; move the page")


@pytest.mark.parametrize(("name", "expected"), [
    ("site.css", "text/css; charset=utf-8"),
    ("app.js", "text/javascript; charset=utf-8"),
    ("mod.mjs", "text/javascript; charset=utf-8"),
    ("data.json", "application/json; charset=utf-8"),
    ("logo.svg", "image/svg+xml; charset=utf-8"),
    ("site.webmanifest", "application/manifest+json; charset=utf-8"),
    ("readme.txt", "text/plain; charset=utf-8"),
    ("font.woff2", "font/woff2"),
    ("font.woff", "font/woff"),
    ("hero.webp", "image/webp"),
    ("hero.avif", "image/avif"),
    ("favicon.ico", "image/x-icon"),
    ("photo.JPG", "image/jpeg"),
    ("hero.png", "image/png"),
    ("doc.pdf", "application/pdf"),
    ("unknown.zzz", "application/octet-stream"),
    ("noextension", "application/octet-stream"),
])
def test_content_types_cover_the_web_types(name, expected):
    assert content_type(name) == expected


def test_text_over_a_kilobyte_gets_gzip_and_brotli_bodies_once(tmp_path):
    root = make_site(tmp_path / "site", {"brands/acme/assets/site.css": CSS,
                                         "brands/acme/assets/small.css": "a{}"},
                     binary={"brands/acme/assets/hero.png": CSS.encode()})
    index = load_site(root).brands["acme"].assets
    css = index.get("site.css")
    assert gzip.decompress(css.gzip) == css.body
    assert brotli.decompress(css.br) == css.body
    assert len(css.br) < len(css.gzip) < len(css.body)
    assert index.get("small.css").gzip is None and index.get("small.css").br is None
    assert index.get("hero.png").gzip is None  # images are compressed already


def test_a_body_that_does_not_shrink_is_not_kept():
    noise = os.urandom(4096)
    assert compressed(noise) == (None, None)


@pytest.mark.parametrize("segment", ["", ".", "..", ".env", "a\\b", "C:", "a\x00", "tab\t",
                                     "del\x7f"])
def test_names_a_url_may_not_name(segment):
    assert not servable_name(segment)


@pytest.mark.parametrize("segment", ["site.css", "a b.png", "café.svg", "100%.txt", "x..y"])
def test_names_a_url_may_name(segment):
    assert servable_name(segment)
