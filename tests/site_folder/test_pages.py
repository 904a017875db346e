from pathlib import PurePosixPath

import pytest

from funnelrun.errors import SiteError
from funnelrun.site.pages import load_page, route_for, split_front_matter


@pytest.mark.parametrize(
    ("file", "route"),
    [
        ("index.html", "/"),
        ("login.html", "/login"),
        ("members/index.html", "/members"),
        ("members/orders.html", "/members/orders"),
        ("blog/[slug].html", "/blog/[slug]"),
        ("shop/[category]/[item].html", "/shop/[category]/[item]"),
    ],
)
def test_route_comes_from_the_file_path(file, route):
    assert route_for(PurePosixPath(file), file) == route


def test_half_bracketed_segment_is_an_error():
    with pytest.raises(SiteError, match=r"path segment 'x\[y\]' is neither"):
        route_for(PurePosixPath("x[y].html"), "pages/x[y].html")


def test_page_without_front_matter_is_all_body():
    front, body, first_line = split_front_matter("<h1>Hi</h1>\n", "p.html")
    assert (front.requires_login, front.login_redirect, body, first_line) == (
        False, None, "<h1>Hi</h1>\n", 1,
    )


def test_front_matter_is_parsed_and_body_keeps_its_line_number():
    text = '+++\nrequires_login = true\nlogin_redirect = "/login"\n+++\n<h1>Members</h1>\n'
    front, body, first_line = split_front_matter(text, "p.html")
    assert front.requires_login is True
    assert front.login_redirect == "/login"
    assert body == "<h1>Members</h1>\n"
    assert first_line == 5


def test_front_matter_typo_names_file_line_and_suggestion():
    text = "+++\n\nrequires_logn = true\n+++\nbody"
    with pytest.raises(SiteError) as caught:
        split_front_matter(text, "brands/a/pages/m.html")
    assert caught.value.headline() == (
        "brands/a/pages/m.html:3:1: unknown front-matter key 'requires_logn' "
        "(did you mean 'requires_login'?); expected one of login_redirect, requires_login"
    )


def test_front_matter_wrong_type_is_an_error():
    with pytest.raises(SiteError, match=r"m.html:2:1: 'requires_login' must be a boolean, not a string"):
        split_front_matter('+++\nrequires_login = "yes"\n+++\n', "m.html")


def test_front_matter_invalid_toml_reports_position_in_the_file():
    with pytest.raises(SiteError) as caught:
        split_front_matter("+++\nrequires_login = true\nlogin_redirect = \n+++\n", "m.html")
    assert caught.value.headline().startswith("m.html:3:")
    assert "invalid TOML" in caught.value.headline()


def test_unclosed_front_matter_is_an_error():
    with pytest.raises(SiteError, match=r"m.html:1:1: front matter opened here is not closed"):
        split_front_matter("+++\nrequires_login = true\n<h1>x</h1>\n", "m.html")


@pytest.mark.parametrize("target", ["//evil.test", "https://evil.test/", "login", "/\\evil", "/a b",
                                    "/a/..//evil.test", "/%2e%2e//evil.test"])
def test_login_redirect_must_be_a_local_path(target):
    text = f'+++\nrequires_login = true\nlogin_redirect = "{target}"\n+++\n'.replace("\\", "\\\\")
    with pytest.raises(SiteError, match="'login_redirect' must be a path on this site"):
        split_front_matter(text, "m.html")


def test_login_redirect_without_requires_login_is_an_error():
    with pytest.raises(SiteError, match="no effect without 'requires_login = true'"):
        split_front_matter('+++\nlogin_redirect = "/login"\n+++\n', "m.html")


def test_load_page_combines_route_and_front_matter():
    page = load_page(PurePosixPath("members/index.html"), "brands/a/pages/members/index.html",
                     "+++\nrequires_login = true\n+++\nhi")
    assert (page.route, page.front_matter.requires_login, page.body, page.first_line) == (
        "/members", True, "hi", 4,
    )


def test_login_redirect_is_kept_in_the_canonical_form_a_browser_reads():
    text = '+++\nrequires_login = true\nlogin_redirect = "/members/../login?next=/é"\n+++\n'
    front, _, _ = split_front_matter(text, "m.html")
    assert front.login_redirect == "/login?next=/%C3%A9"
