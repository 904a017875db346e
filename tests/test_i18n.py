"""Translations at request time: language codes, the locale hint in the reference order,
snapping to the brand's languages, and interpolation (funnelrun.i18n)."""

from __future__ import annotations

import json
import time

import pytest

from funnelrun.i18n import (
    FALLBACK_HINT,
    MAX_CODE_CHARS,
    BrandTranslations,
    Languages,
    Translator,
    accept_language_hint,
    interpolate,
    language_code,
    locale_hint,
)

EN_RO = Languages(("en", "ro"), "en")


def hint(route=None, query=None, session=None, variables=None, accept=None) -> str:
    return locale_hint(route or {}, query or {}, session, variables or {}, accept)


# -- language codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "code"), [
    ("en", "en"), ("RO", "ro"), ("pt-br", "pt-br"), ("pt_BR", "pt-br"), ("zh-Hant-TW", "zh-hant-tw"),
    ("fil", "fil"), ("es-419", "es-419"),
])
def test_language_codes_are_normalized_to_lower_case_with_hyphens(text: str, code: str) -> None:
    assert language_code(text) == code


@pytest.mark.parametrize("text", [
    "", "e", "english", "e1", "en-", "-en", "en--us", "en-toolongsubtag", "en us", "en;q=1",
    "<script>", "en-US\n", "ｅｎ", "é1", "../en", "en/ro", "x" * 36, "en-" + "a1" * 20,
])
def test_anything_else_is_not_a_language_code(text: str) -> None:
    assert language_code(text) is None


def test_a_code_may_not_exceed_35_characters() -> None:
    longest = "abc" + "-abcdefgh" * 3 + "-a1b2"  # 35 characters
    assert len(longest) == MAX_CODE_CHARS and language_code(longest) == longest
    assert language_code(longest + "x") is None


# -- Accept-Language -----------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "primary"), [
    ("en-US,en;q=0.9", "en"), ("ro", "ro"), ("DE-de", "de"), ("  fr-CA ; q=1, en", "fr"),
    ("pt-BR,pt;q=0.8", "pt"), ("*", None), ("fil-PH", None), ("", None), (None, None),
    ("e", None), ("1a", None), (",en", None), ("ég", None),
])
def test_accept_language_gives_the_primary_two_letter_subtag_of_the_first_range(
        header: str | None, primary: str | None) -> None:
    assert accept_language_hint(header) == primary


def test_a_huge_accept_language_header_is_read_only_at_its_start() -> None:
    header = "de" + "-x" * 500_000 + ",en"
    started = time.perf_counter()
    assert accept_language_hint(header) == "de"
    assert accept_language_hint("x" * 1_000_000 + "de") is None
    assert accept_language_hint("ro," + "x" * 1_000_000) == "ro"
    assert time.perf_counter() - started < 0.5  # generous, for a loaded machine


# -- the hint, in the reference order -----------------------------------------------------------


def test_each_source_wins_over_those_after_it() -> None:
    route = {"hl": "aa", "locale": "ab"}
    query = {"hl": "ac", "locale": "ad", "lang": "ae"}
    variables = {"locale": "ag", "language": "ah"}
    sources = {"route": route, "query": query, "session": "af", "variables": variables,
               "accept": "ai-XX"}
    # the winner, then where it came from (taken away before the next round)
    order = [("aa", route, "hl"), ("ab", route, "locale"), ("ac", query, "hl"),
             ("ad", query, "locale"), ("ae", query, "lang"), ("af", sources, "session"),
             ("ag", variables, "locale"), ("ah", variables, "language"),
             ("ai", sources, "accept")]
    for winner, where, key in order:
        assert hint(**sources) == winner
        where[key] = None
    assert hint(**sources) == FALLBACK_HINT


def test_with_no_hint_at_all_the_hint_is_english() -> None:
    assert hint() == "en"


def test_a_value_that_is_not_a_language_code_is_passed_over() -> None:
    assert hint(query={"hl": "<script>alert(1)</script>", "lang": "RO"}) == "ro"
    assert hint(query={"hl": ""}, session="de") == "de"
    assert hint(query={"hl": "x" * 100_000}, accept="fr") == "fr"
    assert hint(session={"code": "ro"}, variables={"locale": 7, "language": "it"}) == "it"
    assert hint(route={"hl": "../../etc"}, accept="en-GB") == "en"


def test_hints_are_normalized() -> None:
    assert hint(query={"hl": "PT_br"}) == "pt-br"


# -- snapping ------------------------------------------------------------------------------------


def test_a_configured_code_is_used_as_it_is() -> None:
    assert EN_RO.snap("ro") == "ro"


def test_an_unknown_hint_snaps_to_the_default_without_regional_aliases() -> None:
    assert EN_RO.snap("de") == "en"
    assert Languages(("pt", "ro"), "ro").snap("pt-br") == "ro"  # no pt-br -> pt


def test_without_a_default_the_first_language_is_the_default() -> None:
    from funnelrun.site.translations import parse_languages
    languages = parse_languages({"languages": ["ro", "en"]}, "", "brand.toml")
    assert languages.default == "ro" and languages.snap("de") == "ro"


def test_without_languages_the_hint_itself_is_the_language() -> None:
    assert Languages().snap("pt-br") == "pt-br"
    translator = BrandTranslations().translator("pt-br")
    assert (translator.language, translator.locales(), translator.default_locale()) == (
        "pt-br", [], "")
    assert translator.translate("any") == ""


# -- interpolation -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "result"), [
    ("Hello {{ name }}!", "Hello Ann!"),
    ("{{name}}{{  name  }}", "AnnAnn"),
    ("{{ missing }} stays", "{{ missing }} stays"),
    ("{{ {{ name }}", "{{ Ann"),
    ("{{{ name }}}", "{Ann}"),
    ("}} {{ name", "}} {{ name"),
    ("{{ name }", "{{ name }"),
    ("{{\tname }}", "{{\tname }}"),  # only spaces are ignored around the name
    ("no placeholders", "no placeholders"),
    ("{{ html }}", "<b>&amp;</b>"),  # text, not HTML: the output is escaped later
    ("{{ self }}", "{{ name }}"),  # one pass: a value is not read for placeholders
])
def test_placeholders_are_filled_from_params(text: str, result: str) -> None:
    params = {"name": "Ann", "html": "<b>&amp;</b>", "self": "{{ name }}"}
    assert interpolate(text, params) == result


def test_interpolation_is_linear_on_hostile_text() -> None:
    for text in ["{{" * 200_000 + "}}", "{{ a " * 100_000 + "}}" * 100_000, "}}" * 200_000]:
        started = time.perf_counter()
        interpolate(text, {"a": "x"})
        assert time.perf_counter() - started < 2  # quadratic work would take minutes


# -- translators ---------------------------------------------------------------------------------


def test_a_translator_looks_keys_up_and_answers_empty_for_missing_ones() -> None:
    translator = Translator("ro", EN_RO, {"hi": "Salut {{ name }}"})
    assert translator.translate("hi") == "Salut {{ name }}"
    assert translator.translate("hi", {"name": "Ana"}) == "Salut Ana"
    assert translator.translate("nope", {"name": "Ana"}) == ""
    copy = translator.translations()
    copy["hi"] = "changed"
    assert translator.translate("hi") == "Salut {{ name }}"


def test_a_brand_makes_one_translator_per_language() -> None:
    translations = BrandTranslations(EN_RO, {"ro": {"a": "b"}})
    assert translations.translator("ro") is translations.translator("ro")
    assert translations.translator("xx") is translations.translator("en")
    assert translations.translator("en").translate("a") == ""  # en.toml missing: empty


def test_without_languages_a_brand_keeps_a_bounded_number_of_hint_translators() -> None:
    from funnelrun.i18n import MAX_OTHER_TRANSLATORS
    translations = BrandTranslations()
    assert translations.translator("de") is translations.translator("de")  # its config kept
    for number in range(MAX_OTHER_TRANSLATORS):
        translations.translator(f"x{number}")
    late = translations.translator("zz-late")  # hints come from visitors: no more are kept
    assert late.language == "zz-late" and translations.translator("zz-late") is not late
    assert translations.translator("de") is translations.translator("de")


def test_the_script_configuration_carries_the_keys_asked_for() -> None:
    translator = BrandTranslations(EN_RO, {"ro": {"a": "ă", "b": "b"}}).translator("ro")
    assert json.loads(translator.script_config(None)) == {
        "locale": "ro", "locales": ["en", "ro"], "default": "en",
        "dictionary": {"a": "ă", "b": "b"}}
    assert json.loads(translator.script_config(frozenset({"b", "missing"})))["dictionary"] == {
        "b": "b"}
    assert json.loads(translator.script_config(frozenset()))["dictionary"] == {}
    assert translator.script_config(None) is translator.script_config(None)  # made once
