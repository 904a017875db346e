"""asset() in templates: the brand's asset URL with its hash, escaped for where it sits, and
the literal paths a template names, with their positions, for the start-up check."""

from __future__ import annotations

import pytest

from conftest import AssetVersions as Index
from funnelrun.asset_urls import AssetLinks
from funnelrun.errors import TemplateSyntaxError

from .conftest import make_env

LINKS = AssetLinks(Index({"css/site.css": "3f2a9c1e", "img/a&b.svg": "0badc0de"}))


def render(source: str, context: dict | None = None, links: AssetLinks | None = LINKS,
           templates: dict[str, str] | None = None) -> str:
    template = make_env(templates).compile(source, "pages/test.html")
    return template.render(context or {}, assets=links)


def test_asset_gives_the_hashed_url_of_a_brand_asset() -> None:
    assert render("<link href=\"{{ asset('css/site.css') }}\">") == (
        '<link href="/assets/css/site.css?v=3f2a9c1e">')


def test_a_leading_slash_is_accepted() -> None:
    assert render("{{ asset('/css/site.css') }}") == "/assets/css/site.css?v=3f2a9c1e"


def test_a_missing_asset_gives_the_plain_url() -> None:
    assert render("{{ asset('css/nope.css') }}") == "/assets/css/nope.css"


def test_the_path_may_be_computed() -> None:
    source = "{{ asset(folder + '/' + name) }}|{{ asset(var.missing) }}"
    context = {"folder": "css", "name": "site.css", "var": {}}
    assert render(source, context) == "/assets/css/site.css?v=3f2a9c1e|/assets/"


def test_the_base_url_points_at_the_cdn() -> None:
    links = AssetLinks(LINKS.index, "https://cdn.example.com")
    assert render("{{ asset('css/site.css') }}", links=links) == (
        "https://cdn.example.com/assets/css/site.css?v=3f2a9c1e")


def test_without_links_the_url_is_plain() -> None:
    assert render("{{ asset('/css/site.css') }}", links=None) == "/assets/css/site.css"


def test_components_and_layouts_see_the_links() -> None:
    templates = {"layout": "<head>{{ asset('css/site.css') }}</head>@yield('body')",
                 "logo": "<img src=\"{{ asset('img/a&b.svg') }}\">"}
    source = "@extends('layout')@block('body')@component('logo')@endblock"
    assert render(source, templates=templates) == (
        '<head>/assets/css/site.css?v=3f2a9c1e</head><img src="/assets/img/a%26b.svg?v=0badc0de">')


def test_the_url_is_escaped_for_where_it_sits() -> None:
    """A computed path from a visitor cannot break out of its attribute or its script."""
    path = "x\" onerror=\"alert(1)'<>"
    assert render('<img src="{{ asset(p) }}">', {"p": path}) == (
        '<img src="/assets/x%22%20onerror%3D%22alert(1)&#39;%3C%3E">')
    assert render("<img src='{{ asset(p) }}'>", {"p": "x'onerror=y"}) == (
        "<img src='/assets/x&#39;onerror%3Dy'>")
    assert render("<script>var u = '{{ asset(p) }}';</script>", {"p": "';alert(1)//"}) == (
        "<script>var u = '/assets/\\u0027%3Balert(1)';</script>")
    # unquoted: `=` of `?v=` is escaped too, and reads back the same
    assert render("<link href={{ asset('css/site.css') }}>") == (
        "<link href=/assets/css/site.css?v&#61;3f2a9c1e>")
    assert render("<script>var u = '{{ asset('css/site.css') }}';</script>") == (
        "<script>var u = '/assets/css/site.css?v=3f2a9c1e';</script>")


def test_asset_takes_one_argument() -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        render("{{ asset() }}")
    assert caught.value.message == "asset() takes 1 argument, got 0"
    with pytest.raises(TemplateSyntaxError) as caught:
        render("{{ asset('a', 'b') }}")
    assert caught.value.message == "asset() takes 1 argument, got 2"


def test_literal_paths_are_listed_with_their_positions() -> None:
    source = ("<link href=\"{{ asset('css/site.css') }}\">\n"
              "@if(x)<img src=\"{{ asset( '/img/logo.svg' ) }}\">@endif {{ asset(name) }}\n"
              "{{ asset(1) }} {{ 'asset' }}")
    template = make_env().compile(source, "pages/test.html")
    assert template.asset_paths == (("css/site.css", 1, 22), ("/img/logo.svg", 2, 27))
