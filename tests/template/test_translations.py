"""Translations in templates: t(), `| t`, `| t:params`, locales(), defaultLocale(),
getResolvedLanguage(), getTranslations(), escaped like every other output."""

from __future__ import annotations

import pytest

from funnelrun.errors import TemplateSyntaxError
from funnelrun.i18n import BrandTranslations, Languages, Translator
from funnelrun.template import Environment

from .conftest import make_env

DICTIONARIES = {
    "en": {"hero.title": "Welcome", "greet": "Hello {{ name }}, {{ count }} new",
           "html": "<b>Tom & Jerry</b>"},
    "ro": {"hero.title": "Bun venit", "greet": "Salut {{ name }}, {{ count }} noi"},
}
TRANSLATIONS = BrandTranslations(Languages(("en", "ro"), "en"), DICTIONARIES)


def render(source: str, language: str = "ro", context: dict | None = None,
           templates: dict[str, str] | None = None,
           translator: Translator | None = None) -> str:
    template = make_env(templates).compile(source, "pages/test.html")
    return template.render(context or {}, translator=translator or
                           TRANSLATIONS.translator(language))


def test_t_looks_the_key_up_in_the_resolved_language() -> None:
    assert render("{{ t('hero.title') }}") == "Bun venit"
    assert render("{{ t('hero.title') }}", "en") == "Welcome"
    assert render("{{ t('hero.title') }}", "de") == "Welcome"  # snapped to the default


def test_t_as_a_filter_with_and_without_params() -> None:
    source = "{{ 'hero.title' | t }}|{{ 'greet' | t:opts }}|{{ 'greet' | t:{name: 'Ana'} }}"
    assert render(source, context={"opts": {"name": "Ion", "count": 3}}) == (
        "Bun venit|Salut Ion, 3 noi|Salut Ana, {{ count }} noi")


def test_the_docs_examples_render() -> None:
    """pages/internationalization.mdx, "Using translations in templates"."""
    source = (
        "<h1>{{ t('hero.title') }}</h1>\n"
        "<h2>{{ 'hero.title' | t }}</h2>\n"
        '<img src="/hero.png" alt="{{ t(\'hero.title\') }}" />\n'
        "<p>{{ dump(locales()) }}</p>\n"
        "<p>Default: {{ defaultLocale() }}</p>\n"
        "<p>{{ t('greet', { name: 'Ana', count: 20 }) }}</p>\n"
        "<p>{{ 'greet' | t:savingsOpts }}</p>\n"
        "<p>Language: {{ getResolvedLanguage() }}</p>\n"
        "<p>Active code (same as resolved): {{ locale }}</p>"
    )
    context = {"savingsOpts": {"name": "Ion", "count": 5}, "locale": "ro"}
    assert render(source, context=context) == (
        "<h1>Bun venit</h1>\n"
        "<h2>Bun venit</h2>\n"
        '<img src="/hero.png" alt="Bun venit" />\n'
        "<p>[\n  &#34;en&#34;,\n  &#34;ro&#34;\n]</p>\n"
        "<p>Default: en</p>\n"
        "<p>Salut Ana, 20 noi</p>\n"
        "<p>Salut Ion, 5 noi</p>\n"
        "<p>Language: ro</p>\n"
        "<p>Active code (same as resolved): ro</p>"
    )


def test_a_missing_key_prints_nothing_and_default_can_fill_in() -> None:
    assert render("[{{ t('nope') }}][{{ t('nope') | default:'Fallback' }}]") == "[][Fallback]"


def test_translations_are_text_escaped_like_any_output() -> None:
    assert render("{{ t('html') }}", "en") == "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;"
    assert render("{{ t('html') | raw }}", "en") == "<b>Tom & Jerry</b>"
    assert render("<script>var s = '{{ t('html') }}';</script>", "en") == (
        "<script>var s = '\\u003cb\\u003eTom \\u0026 Jerry\\u003c/b\\u003e';</script>")


def test_params_are_escaped_with_the_text_they_fill() -> None:
    assert render("{{ t('greet', {name: who, count: n}) }}",
                  context={"who": "<img onerror=x>", "n": None}) == (
        "Salut &lt;img onerror=x&gt;,  noi")


def test_params_print_as_javascript_would() -> None:
    assert render("{{ t('greet', {name: flag, count: 1.0}) }}", context={"flag": True}) == (
        "Salut true, 1 noi")


def test_params_that_are_not_an_object_are_ignored() -> None:
    assert render("{{ t('greet', 'x') }}") == "Salut {{ name }}, {{ count }} noi"


def test_keys_that_are_not_strings_find_nothing() -> None:
    translator = Translator("en", Languages(("en",), "en"), {"404": "Not found", "true": "x"})
    assert render("{{ t(404) }}|{{ t(true) }}|{{ t(missing) }}|{{ t(null) }}",
                  translator=translator) == "Not found|||"


def test_the_locale_functions() -> None:
    assert render("{{ locales() | join:',' }}|{{ defaultLocale() }}|{{ getResolvedLanguage() }}"
                  ) == "en,ro|en|ro"


def test_get_translations_is_a_copy_of_the_whole_dictionary() -> None:
    source = "@foreach(key in ['hero.title', 'greet']){{ getTranslations()[key] }};@endforeach"
    assert render(source) == "Bun venit;Salut {{ name }}, {{ count }} noi;"
    assert render("{{ getTranslations() | length }}", "en") == "3"
    assert render("{{ getTranslations()['hero.title'] }}", "de") == "Welcome"


def test_components_and_layouts_see_the_translator() -> None:
    templates = {"layout": '@yield("content")|{{ t("hero.title") }}',
                 "card": "[{{ 'hero.title' | t }}]"}
    source = '@extends("layout")\n@block("content")@component("card", {x: 1})@endblock'
    assert render(source, templates=templates) == "[Bun venit]|Bun venit"


def test_a_component_argument_cannot_replace_the_translator() -> None:
    templates = {"card": "{{ t('hero.title') }}"}
    source = '@component("card", {"TRANSLATOR": 1, translator: 2})'
    assert render(source, templates=templates) == "Bun venit"


def test_without_a_translator_everything_is_empty() -> None:
    template = Environment().compile(
        "[{{ t('a') }}|{{ 'a' | t }}|{{ locales() | length }}|{{ defaultLocale() }}|"
        "{{ getResolvedLanguage() }}|{{ getTranslations() | json }}]")
    assert template.render({}) == "[||0|||{}]"


@pytest.mark.parametrize(("source", "message"), [
    ("{{ t() }}", "t() takes 1 to 2 arguments, got 0"),
    ("{{ t('a', {}, 3) }}", "t() takes 1 to 2 arguments, got 3"),
    ("{{ locales(1) }}", "locales() takes 0 arguments, got 1"),
    ("{{ 'a' | t:1:2 }}", "filter 't' takes at most 1 argument, got 2"),
    ("{{ 'a' | tt }}", "unknown filter 'tt'"),
])
def test_wrong_calls_are_syntax_errors(source: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        Environment().compile(source)
    assert caught.value.message == message


def test_literal_keys_are_listed_with_their_positions() -> None:
    template = Environment().compile(
        "{{ t('a') }}\n@if(x){{ 'b.c' | t:{n: 1} }}@endif {{ t(key) }} {{ 5 | t }}",
        "pages/x.html")
    assert template.translation_keys == (("a", 1, 6), ("b.c", 2, 10))
