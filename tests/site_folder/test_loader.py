"""Loading a whole site: every broken file is reported with its position, at start-up."""

from __future__ import annotations

from pathlib import Path

import _quickjs
import pytest

from conftest import write_site
from funnelrun.site import SiteInvalid, check_site, load_site
from funnelrun.site.loader import check_scripts


def headlines(error: SiteInvalid) -> list[str]:
    return [problem.headline() for problem in error.problems]


def refusals(root: Path) -> list[str]:
    """The headlines of the problems that stop the site at `root` from loading."""
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    return headlines(caught.value)


def test_site_loads_pages_components_and_modules(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/pages/index.html": '@component("cards/price", {p: 1})',
        "brands/acme/components/cards/price.html": "{{ p }}",
        "brands/acme/modules/util.js": "export const x = 1;",
    })
    site = load_site(root)
    brand = site.brands["acme"]
    assert sorted(brand.components) == ["cards/price"]
    assert sorted(brand.modules) == ["util"]
    assert [page.site_path for page in site.pages()] == ["brands/acme/pages/index.html"]


def test_every_broken_file_is_reported_not_just_the_first(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/brand.toml": 'name = "Acme"\ndomain = ["x.test"]\n',
        "brands/beta/brand.toml": 'name = "Beta"\n',
        "brands/beta/pages/a.html": "@if(true)\nunclosed\n",
        "brands/beta/pages/b.html": "+++\nrequires_logn = true\n+++\n",
        "brands/beta/pages/c.html": "{{ x | nofilter }}",
    })
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    found = headlines(caught.value)
    assert len(found) == 4
    assert found[0].startswith("brands/acme/brand.toml:2:1: unknown brand.toml key 'domain'")
    assert found[1] == ("brands/beta/pages/a.html:3:1: unclosed @if opened at 1:1; "
                        "expected @elseif, @else or @endif")
    assert found[2].startswith("brands/beta/pages/b.html:2:1: unknown front-matter key")
    assert found[3].startswith("brands/beta/pages/c.html:1:")
    assert "nofilter" in found[3]


def test_two_pages_for_one_path_stop_the_site(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/pages/login.html": "a",
        "brands/acme/pages/login/index.html": "b",
    })
    assert refusals(root) == [
        "two pages for the path /login: brands/acme/pages/login/index.html and "
        "brands/acme/pages/login.html"
    ]


def test_template_error_positions_count_front_matter_lines(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/pages/m.html": "+++\nrequires_login = true\n+++\n<p>\n  {{ a | nofilter }}\n",
    })
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    assert headlines(caught.value)[0].startswith("brands/acme/pages/m.html:5:")


def test_template_error_positions_ignore_removed_backend_scripts(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/pages/s.html": (
            '<script scope="backend">\n  var a = 1;\n</script> @if(x)\n'
        ),
    })
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    assert headlines(caught.value)[0] == (
        "brands/acme/pages/s.html:4:1: unclosed @if opened at 3:11; "
        "expected @elseif, @else or @endif"
    )


def test_broken_component_is_reported_once(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/pages/a.html": '@component("card")',
        "brands/acme/pages/b.html": '@component("card")',
        "brands/acme/components/card.html": "@foreach(x of y)@endforeach",
    })
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    found = headlines(caught.value)
    assert len([h for h in found if h.startswith("brands/acme/components/card.html:1:")]) == 1


def test_two_brands_claiming_one_domain_is_an_error(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/brand.toml": 'domains = ["shop.test"]\n',
        "brands/acme/pages/index.html": "a",
        "brands/beta/brand.toml": 'domains = ["shop.test"]\n',
        "brands/beta/pages/index.html": "b",
    })
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    assert "domain 'shop.test' is also served by brand 'acme'" in headlines(caught.value)[0]


def test_two_default_brands_is_an_error(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/brand.toml": "default = true\n",
        "brands/beta/brand.toml": "default = true\n",
    })
    with pytest.raises(SiteInvalid, match="at most one brand may"):
        load_site(root)


def test_missing_brands_folder_is_an_error(tmp_path):
    with pytest.raises(SiteInvalid) as caught:
        load_site(tmp_path)
    assert "no 'brands' folder" in headlines(caught.value)[0]


def test_page_that_is_not_utf8_is_named(tmp_path):
    root = write_site(tmp_path, {"brands/acme/pages/index.html": "x"})
    (root / "brands/acme/pages/bad.html").write_bytes(b"\xff\xfe<h1>")
    assert refusals(root) == ["brands/acme/pages/bad.html: not UTF-8 text (byte 0)"]


def test_script_syntax_error_is_reported_by_check_but_does_not_stop_the_site(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/pages/index.html": '<p>\n<script scope="backend">\n  var = 1;\n</script>',
    })
    site = load_site(root)
    assert site.problems == []  # loading compiles no script: check_scripts does, elsewhere
    assert [p.headline().split(": ")[0] for p in check_scripts(site)] == \
        ["brands/acme/pages/index.html:3:7"]
    assert [p.headline().split(": ")[0] for p in check_site(root)] == \
        ["brands/acme/pages/index.html:3:7"]


def test_loading_a_site_runs_no_javascript_in_this_process(tmp_path, monkeypatch):
    root = write_site(tmp_path, {
        "brands/acme/pages/index.html": '<script scope="backend">\n  var = 1;\n</script>',
        "brands/acme/pages/ok.html": '<script scope="backend">setVariable("a", 1)</script>',
    })
    monkeypatch.setattr(_quickjs, "Context", lambda: pytest.fail("JavaScript compiled in-process"))
    assert len(list(load_site(root).pages())) == 2
    assert len(check_site(root)) == 1  # the check compiles in an executor process


def test_missing_module_is_reported_at_the_import_line(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/pages/index.html": '<script scope="backend">\n  import { a } from "nope";\n</script>',
    })
    problems = check_site(root)
    assert len(problems) == 1
    assert problems[0].headline().startswith("brands/acme/pages/index.html:2:")
    assert "nope" in problems[0].headline()


def test_an_unclosed_block_stops_the_site_and_names_its_tag(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/pages/index.html": (
            '+++\nrequires_login = false\n+++\n<p>a</p>\n<script scope="backend">'
            'let k = "</script>";\n<p>never sent</p>'
        ),
        "brands/acme/components/card.html": '<script scope="backend">\n// </script>',
    })
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    assert [h.split(": ")[0] for h in headlines(caught.value)] == [
        "brands/acme/components/card.html:1:1", "brands/acme/pages/index.html:5:1",
    ]
    assert "this backend script is never closed" in headlines(caught.value)[0]


def test_error_pages_are_kept_apart_and_never_routed(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/pages/index.html": "home",
        "brands/acme/pages/404.html": "not here",
        "brands/acme/pages/500.html": "broken",
        "brands/acme/pages/404/index.html": "a page the author routed at /404 on purpose",
        "brands/acme/pages/errors/500.html": "only the top of pages/ holds error pages",
    })
    brand = load_site(root).brands["acme"]
    assert {status: page.site_path for status, page in brand.error_pages.items()} == {
        404: "brands/acme/pages/404.html", 500: "brands/acme/pages/500.html"}
    assert brand.routes.match("/500") is None
    assert brand.routes.match("/404")[0].site_path == "brands/acme/pages/404/index.html"
    assert brand.routes.match("/errors/500")[0].site_path == "brands/acme/pages/errors/500.html"


def test_a_broken_error_page_stops_the_site_like_any_page(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/pages/index.html": "home",
        "brands/acme/pages/404.html": "<h1>Gone</h1>\n@if(true)\nunclosed\n",
    })
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    assert headlines(caught.value) == [
        "brands/acme/pages/404.html:4:1: unclosed @if opened at 2:1; "
        "expected @elseif, @else or @endif"
    ]
    assert [problem.headline() for problem in check_site(root)] == headlines(caught.value)


def test_an_error_page_cannot_require_a_login(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/pages/500.html": "+++\nrequires_login = true\n+++\nbroken",
    })
    assert refusals(root) == [
        "brands/acme/pages/500.html:2:1: an error page is shown to every visitor who meets "
        "the error; it cannot require a login"
    ]


def test_an_error_pages_backend_script_is_a_warning_and_never_built(tmp_path):
    root = write_site(tmp_path, {
        "brands/acme/pages/index.html": "home",
        "brands/acme/pages/404.html": '<h1>Gone</h1>\n<script scope="backend">\n'
                                      'import { x } from "missing";\n</script>\n',
    })
    site = load_site(root)
    page = site.brands["acme"].error_pages[404]
    assert page.bundle is None and page.script_problem is None
    assert "<script" not in page.template.render()
    assert [problem.headline() for problem in check_site(root)] == [
        "brands/acme/pages/404.html:2:25: an error page runs no backend script; "
        "this block is never run"
    ]
