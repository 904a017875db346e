"""asset() against a real `funnelrun serve`: the hashed URLs a page and its script link are
served, with immutable caching; `[assets] base_url` moves them to a CDN that can pull them from
funnelrun; the brand's 404 page links them too; a missing literal asset is a warning at
start-up."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import pytest

from conftest import running_server, write_site

CSS = "body { color: rgb(1, 2, 3) }\n"
SVG = "<svg xmlns='http://www.w3.org/2000/svg' width='8' height='8'/>\n"
VERSION = {"css": hashlib.sha256(CSS.encode()).hexdigest()[:8],
           "svg": hashlib.sha256(SVG.encode()).hexdigest()[:8]}
FILES = {
    "brands/acme/assets/css/site.css": CSS,
    "assets/img/logo.svg": SVG,  # the site-wide folder
    "brands/acme/pages/index.html": """
        <script scope="backend">
          setVariable("logo", asset("/img/logo.svg"));
          var name = "site";
          setVariable("css", (0, asset)("css/" + name + ".css"));
        </script>
        <link rel="stylesheet" href="{{ asset('css/site.css') }}">
        <img src="{{ asset('img/logo.svg') }}" alt="">
        <p id="script">{{ var.logo }} {{ var.css }}</p>
        <p id="missing">{{ asset('css/missing.css') }}</p>
    """,
    "brands/acme/pages/404.html": "<link href=\"{{ asset('css/site.css') }}\"><h1>Not here</h1>",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_site(tmp_path_factory.mktemp("assets") / "site", FILES)


@pytest.fixture(scope="module")
def server(site: Path):
    with running_server(site) as (base, _):
        yield base


def test_a_page_and_its_script_link_hashed_urls(server: str) -> None:
    html = httpx.get(server + "/").text
    css = f"/assets/css/site.css?v={VERSION['css']}"
    logo = f"/assets/img/logo.svg?v={VERSION['svg']}"
    assert f'<link rel="stylesheet" href="{css}">' in html
    assert f'<img src="{logo}" alt="">' in html
    assert f'<p id="script">{logo} {css}</p>' in html
    assert '<p id="missing">/assets/css/missing.css</p>' in html


def test_the_linked_urls_are_served_for_a_year(server: str) -> None:
    html = httpx.get(server + "/").text
    for url, body, media in ((re.search(r'href="([^"]+)"', html), CSS, "text/css"),
                             (re.search(r'src="([^"]+)"', html), SVG, "image/svg+xml")):
        assert url is not None
        response = httpx.get(server + url.group(1))
        assert response.status_code == 200
        assert response.text == body
        assert response.headers["content-type"].startswith(media)
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_the_brands_error_page_links_them_too(server: str) -> None:
    response = httpx.get(server + "/nowhere")
    assert response.status_code == 404
    assert response.text == (f'<link href="/assets/css/site.css?v={VERSION["css"]}">'
                             "<h1>Not here</h1>")


def test_a_missing_literal_asset_is_a_start_up_warning(server: str, site: Path) -> None:
    log = (site.parent / "server.log").read_text()
    assert ("warning: brands/acme/pages/index.html:9:26: asset 'css/missing.css' not found in "
            "brands/acme/assets/ or assets/; asset() links it without ?v=") in log


def test_a_base_url_points_every_asset_url_at_the_cdn(site: Path) -> None:
    cdn = "https://cdn.example.com"
    with running_server(site, FUNNELRUN_ASSETS_BASE_URL=cdn + "/") as (base, _):
        html = httpx.get(base + "/").text
        css = f"{cdn}/assets/css/site.css?v={VERSION['css']}"
        logo = f"{cdn}/assets/img/logo.svg?v={VERSION['svg']}"
        assert f'<link rel="stylesheet" href="{css}">' in html
        assert f'<p id="script">{logo} {css}</p>' in html
        assert f'<p id="missing">{cdn}/assets/css/missing.css</p>' in html
        # the CDN pulls the same path from funnelrun, its origin
        pulled = httpx.get(base + css.removeprefix(cdn))
        assert pulled.status_code == 200 and pulled.text == CSS
