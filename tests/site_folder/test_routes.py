import pytest

from funnelrun.errors import SiteError
from funnelrun.site.routes import RouteTable, normalize_path


def table(*routes: str) -> RouteTable[str]:
    routes_table: RouteTable[str] = RouteTable()
    for route in routes:
        routes_table.add(route, route, f"pages{route}.html")
    return routes_table


def test_exact_path_matches_with_no_params():
    assert table("/login").match("/login") == ("/login", {})


def test_trailing_slash_is_not_significant():
    routes = table("/", "/login")
    assert routes.match("/login/") == ("/login", {})
    assert routes.match("/") == ("/", {})


def test_paths_are_case_sensitive():
    assert table("/login").match("/Login") is None


def test_param_route_captures_segment():
    assert table("/blog/[slug]").match("/blog/hello-world") == ("/blog/[slug]", {"slug": "hello-world"})


def test_exact_path_wins_over_param_path():
    routes = table("/blog/[slug]", "/blog/new")
    assert routes.match("/blog/new") == ("/blog/new", {})
    assert routes.match("/blog/old") == ("/blog/[slug]", {"slug": "old"})


def test_static_segment_beats_param_leftmost_first():
    routes = table("/[section]/index2", "/shop/[item]")
    assert routes.match("/shop/index2")[0] == "/shop/[item]"


def test_param_route_needs_same_number_of_segments():
    routes = table("/blog/[slug]")
    assert routes.match("/blog") is None
    assert routes.match("/blog/a/b") is None


def test_empty_segment_never_fills_a_param():
    assert table("/blog/[slug]").match("/blog//") is None
    assert table("/a/[x]/b").match("/a//b") is None


def test_several_params():
    routes = table("/shop/[category]/[item]")
    assert routes.match("/shop/hats/red") == (
        "/shop/[category]/[item]", {"category": "hats", "item": "red"},
    )


def test_two_pages_for_one_path_is_an_error_naming_both():
    routes = table("/login")
    with pytest.raises(SiteError, match=r"two pages for the path /login: pages/login.html and x.html"):
        routes.add("/login", "again", "x.html")


def test_two_param_pages_of_one_shape_conflict():
    routes = table("/blog/[slug]")
    with pytest.raises(SiteError, match="two pages for the path /blog/\\[id\\]"):
        routes.add("/blog/[id]", "again", "x.html")


def test_traversal_paths_match_nothing():
    routes = table("/", "/login", "/blog/[slug]")
    for path in ("/../../etc/passwd", "/blog/../../etc/passwd", "/%2e%2e/etc/passwd"):
        assert routes.match(path) is None


def test_normalize_path_keeps_root():
    assert normalize_path("///") == "/"
    assert normalize_path("/a/") == "/a"
