"""A literal `asset('…')` naming no file of the brand's assets: a warning at start-up and a
`funnelrun check` problem, with file:line:col, for templates, components and scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_site
from funnelrun.cli import main
from funnelrun.site import check_site, load_site
from funnelrun.worker import load_site_or_report

ASSETS = {
    "brands/acme/assets/css/site.css": "body { color: red }",
    "assets/img/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",  # site-wide
}


def problems(root: Path) -> list[str]:
    return [problem.headline() for problem in check_site(root)]


def test_assets_that_exist_are_no_problem(tmp_path: Path) -> None:
    root = write_site(tmp_path, {**ASSETS, "brands/acme/pages/index.html": """
        <link href="{{ asset('css/site.css') }}"><img src="{{ asset('/img/logo.svg') }}">
        <script scope="backend">setVariable("a", asset("./css/site.css"));</script>
    """})
    assert problems(root) == []


def test_missing_literal_assets_are_listed_where_they_are_named(tmp_path: Path) -> None:
    root = write_site(tmp_path, {**ASSETS,
        "brands/acme/pages/index.html": """
            @extends("layout")
            <script scope="backend">
              setVariable("a", asset("img/logo.png"));
            </script>
            @block("x")<img src="{{ asset('img/logo.svg') }}{{ asset(name) }}">@endblock
        """,
        "brands/acme/components/layout.html": """
            <link href="{{ asset('/css/sit.css') }}">@yield("x")
            <script scope="backend">var f = asset("js/app.js");</script>
        """,
        "brands/acme/pages/other.html": "@extends('layout')\n{{ asset('css/site.css') }}",
    })
    assert problems(root) == [
        "brands/acme/components/layout.html:1:22: asset '/css/sit.css' not found in "
        "brands/acme/assets/ or assets/ (did you mean 'css/site.css'?); asset() links it "
        "without ?v=",
        "brands/acme/components/layout.html:2:39: asset 'js/app.js' not found in "
        "brands/acme/assets/ or assets/; asset() links it without ?v=",  # layouts' run first
        "brands/acme/pages/index.html:3:26: asset 'img/logo.png' not found in "
        "brands/acme/assets/ or assets/ (did you mean 'img/logo.svg'?); asset() links it "
        "without ?v=",
    ]
    load_site(root)  # warnings only: the site serves


def test_another_brands_asset_is_missing(tmp_path: Path) -> None:
    root = write_site(tmp_path, {
        "brands/acme/assets/acme.css": "",
        "brands/beta/brand.toml": 'name = "Beta"\ndomains = ["beta.test"]\n',
        "brands/beta/pages/index.html": "{{ asset('acme.css') }}",
        "brands/acme/pages/index.html": "{{ asset('acme.css') }}",
    })
    assert problems(root) == [
        "brands/beta/pages/index.html:1:10: asset 'acme.css' not found in brands/beta/assets/ "
        "or assets/; asset() links it without ?v="]


def test_start_up_prints_it_as_a_warning(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    root = write_site(tmp_path, {"brands/acme/pages/index.html": "<p>\n  {{ asset('x.css') }}"})
    load_site_or_report(root)  # what `serve` and each worker do
    assert capsys.readouterr().err == (
        "warning: brands/acme/pages/index.html:2:12: asset 'x.css' not found in "
        "brands/acme/assets/ or assets/; asset() links it without ?v=\n")


def test_funnelrun_check_lists_it_and_exits_1(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    root = write_site(tmp_path, {"brands/acme/pages/index.html": "{{ asset('x.css') }}"})
    assert main(["check", str(root)]) == 1
    assert capsys.readouterr().out == (
        "brands/acme/pages/index.html:1:10: asset 'x.css' not found in brands/acme/assets/ or "
        "assets/; asset() links it without ?v=\n")
