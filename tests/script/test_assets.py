"""asset(path) in backend scripts, run in the real sandbox: synchronous, answered from the
run's configuration, the versions there only for the paths the code names — and the same URL
a template gets for the same path."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import AssetVersions as Index
from funnelrun.asset_urls import AssetLinks
from funnelrun.script import run_inline

from .conftest import Sandbox, page_job

INDEX = Index({"css/site.css": "3f2a9c1e", "img/logo.svg": "0badc0de",
               "a b/é (1)!.png": "12345678", "__proto__": "00000000"})
LINKS = AssetLinks(INDEX)


def run(sandbox: Sandbox, code: str, links: AssetLinks = LINKS) -> Any:
    """The value the script passes to `setVariable("out", …)`."""
    bundle = page_job(code).bundle
    result = sandbox(page_job(code, assets=links.script_config(bundle.asset_paths)))
    assert result.outcome == "ok", result.error
    return result.effects.variables.get("out")


def test_asset_returns_the_hashed_url_at_once(sandbox: Sandbox) -> None:
    code = """setVariable("out", [asset("css/site.css"), asset("/img/logo.svg"),
                                  asset("css/missing.css"), typeof asset("css/site.css")])"""
    assert run(sandbox, code) == ["/assets/css/site.css?v=3f2a9c1e",
                                  "/assets/img/logo.svg?v=0badc0de",
                                  "/assets/css/missing.css", "string"]


def test_the_base_url_points_at_the_cdn(sandbox: Sandbox) -> None:
    links = AssetLinks(INDEX, "https://cdn.example.com")
    code = 'setVariable("out", [asset("css/site.css"), asset("x.js")])'
    assert run(sandbox, code, links) == ["https://cdn.example.com/assets/css/site.css?v=3f2a9c1e",
                                         "https://cdn.example.com/assets/x.js"]


def test_a_computed_path_finds_every_version(sandbox: Sandbox) -> None:
    code = 'var name = "site"; setVariable("out", asset("css/" + name + ".css"))'
    assert page_job(code).bundle.asset_paths is None
    assert run(sandbox, code) == "/assets/css/site.css?v=3f2a9c1e"


def test_paths_named_like_object_properties_are_plain_paths(sandbox: Sandbox) -> None:
    code = """var f = asset; setVariable("out", [f("__proto__"), f("constructor"),
                                                 f("toString"), f("hasOwnProperty")])"""
    assert run(sandbox, code) == ["/assets/__proto__?v=00000000", "/assets/constructor",
                                  "/assets/toString", "/assets/hasOwnProperty"]


ARGUMENTS = [
    "css/site.css", "/css/site.css", "//css//./site.css/", "img/../css/site.css", "../../x",
    "..", ".", "", "/", "a b/é (1)!.png", "/a b/é (1)!.png", "x?y#z&=+;,:@$", "<q>\"'`",
    "ü/日本/🎉.png", "\\back\\slash", "%41%2F", "x\ty\nz", "\ud800lone", "🎉\udfff",
]


@pytest.mark.parametrize("links", [LINKS, AssetLinks(INDEX, "https://cdn.example.com/acme")],
                         ids=["local", "cdn"])
def test_scripts_and_templates_give_the_same_url(sandbox: Sandbox, links: AssetLinks) -> None:
    code = 'var f = asset; setVariable("out", request.query.paths.map((p) => f(p)))'
    request = {**page_job("").request, "query": {"paths": ARGUMENTS}}
    bundle = page_job(code).bundle
    result = sandbox(page_job(code, request=request,
                              assets=links.script_config(bundle.asset_paths)))
    assert result.outcome == "ok", result.error
    assert result.effects.variables["out"] == [links.url(argument) for argument in ARGUMENTS]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(
    st.text(alphabet=st.sampled_from("ab./ é%?#\\\ud800🎉"), max_size=12),
    st.text(max_size=8),
), min_size=1, max_size=20))
def test_js_and_python_agree_on_any_path(arguments: list[str]) -> None:
    """Contract: the prelude's asset() is asset_urls's, for whatever text a script passes."""
    code = 'var f = asset; setVariable("out", request.query.paths.map((p) => f(p)))'
    request = {**page_job("").request, "query": {"paths": arguments}}
    job = page_job(code, request=request, assets=LINKS.script_config(None))
    result = run_inline(job)
    assert result.outcome == "ok", result.error
    assert result.effects.variables["out"] == [LINKS.url(argument) for argument in arguments]


def test_values_that_are_not_strings(sandbox: Sandbox) -> None:
    code = """setVariable("out", [asset(), asset(null), asset(7), asset(["css", "site.css"]),
                                  asset({toString: () => "css/site.css"})])"""
    assert run(sandbox, code) == ["/assets/", "/assets/", "/assets/7",
                                  "/assets/css%2Csite.css", "/assets/css/site.css?v=3f2a9c1e"]


def test_a_script_never_naming_asset_gets_plain_urls(sandbox: Sandbox) -> None:
    code = 'setVariable("out", globalThis["as" + "set"]("css/site.css"))'
    assert page_job(code).bundle.asset_paths == frozenset()
    assert run(sandbox, code) == "/assets/css/site.css"


def test_the_prelude_cannot_be_turned_by_replaced_built_ins(sandbox: Sandbox) -> None:
    code = """
        String.prototype.split = () => ["evil"]; Array.prototype.join = () => "evil";
        globalThis.encodeURIComponent = () => "evil"; Object.hasOwn = () => true;
        setVariable("out", [asset("a b/css/site.css"), asset("css/site.css")]);
    """
    assert run(sandbox, code) == ["/assets/a%20b/css/site.css", "/assets/css/site.css?v=3f2a9c1e"]


@pytest.mark.parametrize(("code", "paths"), [
    ("var x = 1;", frozenset()),
    ('asset("css/site.css"); asset(\'/img/logo.svg\', 2)', {"css/site.css", "/img/logo.svg"}),
    ("var assets = 1; myasset(); x.asset_url; $asset", frozenset()),
    ('x.asset("a")', None),
    ("asset(name)", None),
    ('var f = asset;', None),
    ('/* the asset folder */', None),
    ('asset("a\\u0062")', None),
])
def test_what_a_run_is_given_follows_what_the_code_says(code: str, paths: Any) -> None:
    assert page_job(code).bundle.asset_paths == paths


def test_module_code_counts(sandbox: Sandbox) -> None:
    modules = {"links": 'export function logo() { return asset("img/logo.svg"); }'}
    code = 'import { logo } from "links"; setVariable("out", logo())'
    job = page_job(code, modules=modules)
    assert job.bundle.asset_paths == {"img/logo.svg"}
    result = sandbox(page_job(code, modules=modules,
                              assets=LINKS.script_config(job.bundle.asset_paths)))
    assert result.effects.variables["out"] == "/assets/img/logo.svg?v=0badc0de"
