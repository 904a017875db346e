"""The translation functions of backend scripts, run in the real sandbox: async, answered
from the run's configuration, the dictionary there only when the script names a reader."""

from __future__ import annotations

import json
from typing import Any

import pytest

from funnelrun.i18n import BrandTranslations, Languages, interpolate

from .conftest import Sandbox, page_job

TRANSLATIONS = BrandTranslations(Languages(("en", "ro"), "en"), {
    "ro": {"checkout.cta": "Cumpără", "title.greeting": "Salut {{ name }}!",
           "__proto__": "proto", "constructor": "c"},
})


def run(sandbox: Sandbox, code: str, language: str = "ro", *,
        translations: BrandTranslations = TRANSLATIONS) -> Any:
    """The value the script passes to `setVariable("out", …)`."""
    job = page_job(code)
    config = translations.translator(language).script_config(job.bundle.dictionary_keys)
    result = sandbox(page_job(code, i18n=config))
    assert result.outcome == "ok", result.error
    return result.effects.variables.get("out")


def test_the_docs_example_runs(sandbox: Sandbox) -> None:
    """pages/internationalization.mdx, "Using translations in backend scripts"."""
    code = """
        var code = await getResolvedLanguage();
        var langs = await getLocales();
        var def = await getDefaultLocale();
        var hint = await getLocale();
        var dict = await getTranslations();
        var cta = await t('checkout.cta');
        var title = await t('title.greeting');
        setVariable("out", [code, langs, def, hint, Object.keys(dict).length, cta, title]);
    """
    assert run(sandbox, code) == ["ro", ["en", "ro"], "en", "ro", 4, "Cumpără", "Salut {{ name }}!"]


def test_every_function_returns_a_promise(sandbox: Sandbox) -> None:
    names = ["t", "getTranslation", "getTranslations", "getLocale", "getLocales",
             "getDefaultLocale", "getResolvedLanguage"]
    code = f"setVariable('out', {json.dumps(names)}.map((n) => globalThis[n]('x') instanceof Promise))"
    assert run(sandbox, code) == [True] * len(names)


def test_t_fills_params_and_a_missing_key_is_empty(sandbox: Sandbox) -> None:
    code = """setVariable("out", [await t("title.greeting", {name: "<Ana>"}),
                                  await t("nope"), await t("nope", {name: 1}),
                                  await getTranslation("title.greeting"), await getTranslation("x")])"""
    assert run(sandbox, code) == ["Salut <Ana>!", "", "", "Salut {{ name }}!", ""]


def test_keys_named_like_object_properties_are_plain_keys(sandbox: Sandbox) -> None:
    code = """
        const all = await getTranslations();
        setVariable("out", [await t("__proto__"), await t("constructor"), await t("toString"),
                            await t("hasOwnProperty"), all.__proto__, Object.keys(all).length,
                            typeof all.hasOwnProperty]);
    """
    assert run(sandbox, code) == ["proto", "c", "", "", "proto", 4, "function"]


def test_each_call_gets_its_own_copy(sandbox: Sandbox) -> None:
    code = """
        const a = await getTranslations(), langs = await getLocales();
        a["checkout.cta"] = "changed"; langs.push("xx");
        setVariable("out", [await t("checkout.cta"), (await getLocales()).length, langs.includes("xx")]);
    """
    assert run(sandbox, code) == ["Cumpără", 2, True]


def test_an_unknown_language_snaps_to_the_default(sandbox: Sandbox) -> None:
    assert run(sandbox, "setVariable('out', [await getLocale(), await t('checkout.cta')])",
               "de") == ["en", ""]


def test_without_languages_the_hint_is_the_language_and_the_dictionary_empty(
        sandbox: Sandbox) -> None:
    code = """setVariable("out", [await getLocale(), await getResolvedLanguage(), await getLocales(),
                                  await getDefaultLocale(), await getTranslations(), await t("a")])"""
    assert run(sandbox, code, "pt-br", translations=BrandTranslations()) == [
        "pt-br", "pt-br", [], "", {}, ""]


def test_a_script_naming_no_reader_gets_no_dictionary(sandbox: Sandbox) -> None:
    code = """setVariable("out", [await getLocale(), await globalThis["getTrans" + "lations"]()])"""
    assert page_job(code).bundle.dictionary_keys == frozenset()
    assert run(sandbox, code) == ["ro", {}]  # the documented limit of the check


def test_a_script_of_literal_keys_gets_just_those(sandbox: Sandbox) -> None:
    code = """setVariable("out", [await t("checkout.cta"), await getTranslation('title.greeting'),
                                  await t("missing", {n: 1})])"""
    assert page_job(code).bundle.dictionary_keys == {"checkout.cta", "title.greeting", "missing"}
    assert run(sandbox, code) == ["Cumpără", "Salut {{ name }}!", ""]


@pytest.mark.parametrize("code", [
    "await getTranslations()", "const tr = t; await tr('checkout.cta')", "t(key)",
    "globalThis.t('x')", "globalThis['t']('x')", "t(`x`)", "t('a' + b)", "/* don't */",
    "t('esc\\u0061ped')",
])
def test_any_other_mention_brings_the_whole_dictionary(code: str) -> None:
    assert page_job(code).bundle.dictionary_keys is None


def test_a_mention_in_a_string_brings_the_whole_dictionary(sandbox: Sandbox) -> None:
    code = """const f = globalThis["t"]; setVariable("out", await f("checkout.cta"))"""
    assert run(sandbox, code) == "Cumpără"


@pytest.mark.parametrize("code", ["await getLocale()", "const text = 1, at = 2;",
                                  "x.toString()", "const tt = 1, $t = 2, t_ = 3;"])
def test_code_naming_no_reader_needs_no_dictionary(code: str) -> None:
    assert page_job(code).bundle.dictionary_keys == frozenset()


def test_hostile_params_and_prototypes_do_no_harm(sandbox: Sandbox) -> None:
    code = """
        Object.prototype.name = "polluted";
        Array.prototype.toJSON = () => "hijacked";
        const params = { get name() { return "getter"; } };
        const out = [await t("title.greeting", params), await t("title.greeting", {}),
                     await t("title.greeting", ["x"]), (await getLocales()).join(),
                     await t("title.greeting", null)];
        delete Array.prototype.toJSON;
        setVariable("out", out);
    """
    assert run(sandbox, code) == ["Salut getter!", "Salut {{ name }}!", "Salut {{ name }}!",
                                  "en,ro", "Salut {{ name }}!"]


def test_a_param_that_throws_rejects_the_promise(sandbox: Sandbox) -> None:
    code = """
        const bad = { get name() { throw new Error("no"); } };
        let caught = null;
        try { await t("title.greeting", bad); } catch (error) { caught = error.message; }
        setVariable("out", caught);
    """
    assert run(sandbox, code) == "no"


@pytest.mark.parametrize("text", [
    "Hello {{ name }}!", "{{name}}{{  name  }}", "{{ missing }} stays", "{{ {{ name }}",
    "{{{ name }}}", "}} {{ name", "{{ name }", "{{\tname }}", "{{ self }}", "{{}}",
    "a{{ n }}b{{ nil }}c{{ undef }}d", "{{ name }}}}{{",
])
def test_interpolation_in_the_sandbox_matches_python(sandbox: Sandbox, text: str) -> None:
    translations = BrandTranslations(Languages(("en",), "en"), {"en": {"k": text}})
    params = {"name": "Ann", "self": "{{ name }}", "n": 3, "nil": None}
    code = f"setVariable('out', await t('k', Object.assign({json.dumps(params)}, {{undef: undefined}})))"
    expected = interpolate(text, {"name": "Ann", "self": "{{ name }}", "n": "3", "nil": "",
                                  "undef": ""})
    assert run(sandbox, code, "en", translations=translations) == expected
