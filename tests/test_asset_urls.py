"""asset()'s URLs: the path made canonical, the content hash as ?v=, the CDN base; and what a
script's run is given of the versions."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from funnelrun.asset_urls import MAX_CACHED_URLS, AssetLinks, asset_path, asset_url


class Index:
    """An asset index as the links see it (funnelrun.site.assets.AssetIndex)."""

    def __init__(self, versions: dict[str, str]) -> None:
        self.versions = versions
        self.lookups = 0

    def version(self, path: str) -> str | None:
        self.lookups += 1
        return self.versions.get(path)

    def __iter__(self) -> Iterator[str]:
        return iter(self.versions)


INDEX = {"css/site.css": "3f2a9c1e", "img/logo.svg": "0badc0de", "a b/é.png": "12345678"}


@pytest.mark.parametrize(("argument", "path"), [
    ("css/site.css", "css/site.css"),
    ("/css/site.css", "css/site.css"),
    ("//css//site.css", "css/site.css"),
    ("./css/./site.css", "css/site.css"),
    ("css/site.css/", "css/site.css"),
    ("img/../css/site.css", "css/site.css"),
    ("../../css/site.css", "css/site.css"),
    ("..", ""),
    ("", ""),
    (".well-known/x", ".well-known/x"),
    ("css/site.css?x=1", "css/site.css?x=1"),
])
def test_the_path_is_made_canonical_and_never_leaves_the_folder(argument: str, path: str) -> None:
    assert asset_path(argument) == path


def test_the_url_is_percent_encoded_as_encode_uri_component_per_segment() -> None:
    assert asset_url("a b/é(1)!'*~-_.x.png") == "/assets/a%20b/%C3%A9(1)!'*~-_.x.png"
    assert asset_url("x?y#z&<q>\"%;=:@$+,") == "/assets/x%3Fy%23z%26%3Cq%3E%22%25%3B%3D%3A%40%24%2B%2C"
    assert asset_url("css/site.css", "3f2a9c1e", "https://c.test") == (
        "https://c.test/assets/css/site.css?v=3f2a9c1e")


def test_an_unpaired_surrogate_is_read_as_u_fffd() -> None:
    assert asset_path("\ud800x.png") == "\ufffdx.png"
    assert AssetLinks(None).url("\ud800x.png") == "/assets/%EF%BF%BDx.png"


def test_an_asset_gets_its_version_and_a_missing_one_the_plain_url() -> None:
    links = AssetLinks(Index(INDEX))
    assert links.url("css/site.css") == "/assets/css/site.css?v=3f2a9c1e"
    assert links.url("/css/site.css") == "/assets/css/site.css?v=3f2a9c1e"
    assert links.url("a b/é.png") == "/assets/a%20b/%C3%A9.png?v=12345678"
    assert links.url("css/missing.css") == "/assets/css/missing.css"
    assert links.url("") == "/assets/"


def test_a_base_url_puts_every_url_on_the_cdn_keeping_the_assets_path() -> None:
    links = AssetLinks(Index(INDEX), "https://cdn.example.com")
    assert links.url("css/site.css") == "https://cdn.example.com/assets/css/site.css?v=3f2a9c1e"
    assert links.url("nope.js") == "https://cdn.example.com/assets/nope.js"
    below = AssetLinks(Index(INDEX), "https://cdn.example.com/acme")
    assert below.url("img/logo.svg") == "https://cdn.example.com/acme/assets/img/logo.svg?v=0badc0de"


def test_without_an_index_every_url_is_plain() -> None:
    assert AssetLinks(None).url("css/site.css") == "/assets/css/site.css"


def test_urls_are_kept_per_argument_up_to_a_bound() -> None:
    index = Index(INDEX)
    links = AssetLinks(index)
    for _ in range(3):
        links.url("css/site.css")
    assert index.lookups == 1
    for number in range(MAX_CACHED_URLS + 10):  # arguments a visitor could choose
        links.url(f"x{number}.png")
    assert len(links._urls) == MAX_CACHED_URLS


def test_a_script_is_given_the_urls_of_the_paths_it_names() -> None:
    links = AssetLinks(Index(INDEX), "https://cdn.example.com")
    config = json.loads(links.script_config(frozenset({"/css/site.css", "nope.js", ".."})))
    assert config == {
        "base": "https://cdn.example.com/assets/",
        "urls": {"..": "https://cdn.example.com/assets/",
                 "/css/site.css": "https://cdn.example.com/assets/css/site.css?v=3f2a9c1e",
                 "nope.js": "https://cdn.example.com/assets/nope.js"},
        "versions": {},
    }
    assert json.loads(links.script_config(frozenset())) == {
        "base": "https://cdn.example.com/assets/", "urls": {}, "versions": {}}


def test_a_script_naming_asset_otherwise_is_given_every_version_by_url_path() -> None:
    index = Index({**INDEX, "bad\udcff.png": "99999999"})  # a file name that is not UTF-8
    config = json.loads(AssetLinks(index).script_config(None))
    assert config == {"base": "/assets/", "urls": {}, "versions": {
        "a%20b/%C3%A9.png": "12345678", "css/site.css": "3f2a9c1e", "img/logo.svg": "0badc0de"}}


def test_a_script_config_is_made_once_per_set_of_paths() -> None:
    links = AssetLinks(Index(INDEX))
    paths = frozenset({"css/site.css"})
    assert links.script_config(paths) is links.script_config(frozenset({"css/site.css"}))
    assert links.script_config(paths).isascii()


@pytest.mark.parametrize(("argument", "url"), [
    ("//evil.test/x.js", "/assets/evil.test/x.js"),
    ("https://evil.test/x.js", "/assets/https%3A/evil.test/x.js"),
    ("/../../login", "/assets/login"),
    ("\\\\evil.test\\x", "/assets/%5C%5Cevil.test%5Cx"),
    ("javascript:alert(1)", "/assets/javascript%3Aalert(1)"),
    ("x\r\nSet-Cookie: a=b", "/assets/x%0D%0ASet-Cookie%3A%20a%3Db"),
])
def test_a_path_from_a_visitor_stays_under_the_assets_path(argument: str, url: str) -> None:
    assert AssetLinks(Index(INDEX)).url(argument) == url
    assert AssetLinks(Index(INDEX), "https://cdn.example.com").url(argument) == (
        "https://cdn.example.com" + url)
