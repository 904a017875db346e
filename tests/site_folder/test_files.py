"""Listing a site's files never leaves the site folder: links inside are followed, links out
are reported."""

from __future__ import annotations

import os

import pytest

from conftest import write_site
from funnelrun.errors import SiteError
from funnelrun.site.files import SiteFolder


@pytest.fixture
def tree(tmp_path):
    root = write_site(tmp_path / "site", {
        "brands/acme/pages/index.html": "home",
        "brands/acme/pages/deep/a.html": "a",
        "brands/acme/shared/card.html": "card",
    })
    (tmp_path / "outside.html").write_text("secret")
    return root, tmp_path / "outside.html"


def messages(folder: SiteFolder) -> list[str]:
    return [problem.headline() for problem in folder.problems]


def test_files_are_listed_recursively_in_path_order(tree):
    root, _ = tree
    folder = SiteFolder(root)
    pages = folder.files(root / "brands/acme/pages", ".html")
    assert [folder.site_path(p) for p in pages] == [
        "brands/acme/pages/deep/a.html", "brands/acme/pages/index.html",
    ]
    assert folder.problems == []


def test_a_link_inside_the_site_is_followed(tree):
    root, _ = tree
    os.symlink(root / "brands/acme/shared/card.html", root / "brands/acme/pages/card.html")
    os.symlink(root / "brands/acme/shared", root / "brands/acme/pages/more")
    folder = SiteFolder(root)
    pages = [folder.site_path(p) for p in folder.files(root / "brands/acme/pages", ".html")]
    assert "brands/acme/pages/card.html" in pages
    assert "brands/acme/pages/more/card.html" in pages
    assert folder.problems == []


@pytest.mark.parametrize("link", ["pages/x.html", "pages/sub"])
def test_a_link_leaving_the_site_is_a_problem_and_never_listed(tree, link):
    root, outside = tree
    target = outside if link.endswith(".html") else outside.parent
    os.symlink(target, root / "brands/acme" / link)
    folder = SiteFolder(root)
    pages = [folder.site_path(p) for p in folder.files(root / "brands/acme/pages", ".html")]
    assert not any(page.startswith(f"brands/acme/{link}") for page in pages)
    assert messages(folder) == [
        f"brands/acme/{link}: a symbolic link to {target.resolve()}, outside the site folder; "
        "funnelrun reads nothing outside the site (copy the file in, or link within the site)"
    ]


def test_a_link_to_a_link_that_leaves_is_caught_too(tree):
    root, outside = tree
    os.symlink(outside, root / "brands/acme/shared/hop.html")
    os.symlink(root / "brands/acme/shared/hop.html", root / "brands/acme/pages/x.html")
    folder = SiteFolder(root)
    folder.files(root / "brands/acme/pages", ".html")
    assert len(folder.problems) == 1
    assert "brands/acme/pages/x.html: a symbolic link to" in messages(folder)[0]


def test_a_folder_linking_back_up_the_tree_is_walked_once(tree):
    root, _ = tree
    os.symlink(root / "brands/acme/pages", root / "brands/acme/pages/deep/loop")
    folder = SiteFolder(root)
    pages = folder.files(root / "brands/acme/pages", ".html")
    assert len(pages) == 2
    assert folder.problems == []


def test_a_fifo_is_not_read(tree):
    root, _ = tree
    os.mkfifo(root / "brands/acme/pages/pipe.html")
    folder = SiteFolder(root)
    pages = folder.files(root / "brands/acme/pages", ".html")
    assert len(pages) == 2
    assert messages(folder) == ["brands/acme/pages/pipe.html: not a regular file"]


def test_check_raises_for_a_brand_file_linked_outside(tree):
    root, outside = tree
    os.symlink(outside, root / "brands/acme/brand.toml.link")
    with pytest.raises(SiteError, match="outside the site folder"):
        SiteFolder(root).check(root / "brands/acme/brand.toml.link")
