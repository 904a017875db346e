"""A brand's translations on disk: `[i18n]` in brand.toml, `translations/<code>.toml` flattened
and checked at start-up with file:line:col, and warnings for literal keys no dictionary has."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import write_site
from funnelrun.cli import main
from funnelrun.errors import SiteError
from funnelrun.site import SiteInvalid, check_site, load_site
from funnelrun.site.brand import load_brand_settings
from funnelrun.site.tomltext import dotted_key_position
from funnelrun.site.translations import MAX_DICTIONARY_BYTES, read_dictionary

I18N = '''
    name = "Acme"
    default = false
    [i18n]
    languages = ["en", "ro"]
    default = "ro"
'''


def brand_error(tmp_path: Path, text: str) -> str:
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "brand.toml").write_text(text)
    with pytest.raises(SiteError) as caught:
        load_brand_settings(folder, "brands/acme/brand.toml")
    return caught.value.headline()


def dictionary(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "ro.toml"
    path.write_text(text, encoding="utf-8")
    return read_dictionary(path, "brands/acme/translations/ro.toml")


def dictionary_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(SiteError) as caught:
        dictionary(tmp_path, text)
    return caught.value.headline()


def problems(root: Path) -> list[str]:
    return [problem.headline() for problem in check_site(root)]


# -- [i18n] in brand.toml ------------------------------------------------------------------------


def test_languages_and_default_are_read_from_brand_toml(tmp_path: Path) -> None:
    root = write_site(tmp_path, {"brands/acme/brand.toml": I18N})
    languages = load_brand_settings(root / "brands/acme", "brands/acme/brand.toml").languages
    assert (languages.codes, languages.default) == (("en", "ro"), "ro")


def test_a_brand_without_i18n_has_no_languages(tmp_path: Path) -> None:
    root = write_site(tmp_path, {})
    languages = load_brand_settings(root / "brands/acme", "brands/acme/brand.toml").languages
    assert (languages.codes, languages.default) == ((), "")


@pytest.mark.parametrize(("text", "headline"), [
    ('name = "A"\n[i18n]\nlanguages = ["en", "EN_us"]\n',
     "brands/acme/brand.toml:3:1: 'i18n.languages' entries must be language codes; write "
     "'en-us', got 'EN_us'"),
    ('[i18n]\nlanguages = ["english"]\n',
     "brands/acme/brand.toml:2:1: 'i18n.languages' entries must be language codes like 'en' or "
     "'pt-br', got 'english'"),
    ('[i18n]\nlanguages = ["en", 2]\n',
     "brands/acme/brand.toml:2:1: 'i18n.languages' entries must be language codes like 'en' or "
     "'pt-br', got 2"),
    ('[i18n]\nlanguages = ["en", "en"]\n',
     "brands/acme/brand.toml:2:1: 'i18n.languages' lists 'en' twice"),
    ('default = true\n[i18n]\nlanguages = ["en"]\n  default = "ro"\n',
     "brands/acme/brand.toml:4:3: 'i18n.default' is 'ro', which is not one of 'i18n.languages' "
     "(en)"),
    ('[i18n]\ndefault = "en"\n',
     "brands/acme/brand.toml:2:1: 'i18n.default' is 'en', which is not one of 'i18n.languages' "
     "(none)"),
    ('[i18n]\nlanguage = ["en"]\n',
     "brands/acme/brand.toml:2:1: unknown [i18n] key 'language' (did you mean 'languages'?); "
     "expected one of default, languages"),
    ('[i18n]\nlanguages = "en"\n',
     "brands/acme/brand.toml:2:1: 'i18n.languages' must be a list, not a string"),
    ('i18n = "en"\n', "brands/acme/brand.toml:1:1: 'i18n' must be a table, not a string"),
])
def test_a_bad_i18n_table_is_named_with_its_position(tmp_path: Path, text: str,
                                                     headline: str) -> None:
    assert brand_error(tmp_path, text) == headline


# -- dictionaries --------------------------------------------------------------------------------


def test_nested_tables_are_flattened_with_dots(tmp_path: Path) -> None:
    assert dictionary(tmp_path, '''
title = "Salut"
"form.email_placeholder" = "E-mail"
[hero]
title = "Bun venit"
sub.line = "Două"
[hero.cta]
buy = "Cumpără"
''') == {"title": "Salut", "form.email_placeholder": "E-mail", "hero.title": "Bun venit",
         "hero.sub.line": "Două", "hero.cta.buy": "Cumpără"}


def test_an_empty_file_is_an_empty_dictionary(tmp_path: Path) -> None:
    assert dictionary(tmp_path, "") == {}


@pytest.mark.parametrize(("text", "headline"), [
    ('a = "x"\n[hero]\ntitle = 3\n',
     "brands/acme/translations/ro.toml:3:1: translation 'hero.title' must be a string, not an "
     "integer"),
    ('a = ["x"]\n', "brands/acme/translations/ro.toml:1:1: translation 'a' must be a string, "
     "not a list"),
    ('ok = "x"\nhero-title = "x"\n',
     "brands/acme/translations/ro.toml:2:1: translation key 'hero-title' must be letters, "
     "digits and underscores, in parts joined by dots"),
    ('[hero]\n  "bad..key" = "x"\n',
     "brands/acme/translations/ro.toml:2:3: translation key 'hero.bad..key' must be letters, "
     "digits and underscores, in parts joined by dots"),
    ('"a.b" = "x"\n[a]\nb = "y"\n',
     "brands/acme/translations/ro.toml:1:1: translation key 'a.b' is written twice"),
    ('a = "x\n', "brands/acme/translations/ro.toml:1:7: invalid TOML: illegal character '\\n'"),
])
def test_a_broken_dictionary_is_named_with_its_position(tmp_path: Path, text: str,
                                                        headline: str) -> None:
    assert dictionary_error(tmp_path, text) == headline


def test_a_dictionary_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    text = 'a = "' + "x" * MAX_DICTIONARY_BYTES + '"\n'
    assert dictionary_error(tmp_path, text).startswith(
        f"brands/acme/translations/ro.toml: {len(text)} bytes; a dictionary may hold at most "
        "256 KB")


def test_a_dictionary_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ro.toml"
    path.write_bytes(b'a = "\xff"\n')
    with pytest.raises(SiteError, match=r"ro.toml: not UTF-8 text \(byte 5\)"):
        read_dictionary(path, "brands/acme/translations/ro.toml")


def test_positions_are_found_for_dotted_quoted_and_inline_keys() -> None:
    text = 'a = 1\n[hero]\n  title = 2\n[x.y]\n"z.w" = 3\nq = { r = 4 }\n'
    where = {key: (p.line, p.column) for key in ("a", "hero.title", "x.y.z.w", "x.y.q.r", "no")
             for p in [dotted_key_position(text, key, "f")]}
    assert where == {"a": (1, 1), "hero.title": (3, 3), "x.y.z.w": (5, 1), "x.y.q.r": (6, 1),
                     "no": (1, 1)}


# -- the site ------------------------------------------------------------------------------------


def test_the_site_loads_each_languages_dictionary(tmp_path: Path) -> None:
    root = write_site(tmp_path, {
        "brands/acme/brand.toml": I18N,
        "brands/acme/translations/ro.toml": '[hero]\ntitle = "Salut"\n',
        "brands/acme/pages/index.html": "{{ t('hero.title') }}",
    })
    translations = load_site(root).brands["acme"].translations
    assert dict(translations.dictionaries) == {"ro": {"hero.title": "Salut"}}
    assert translations.translator("en").translate("hero.title") == ""  # en.toml is missing


def test_a_broken_dictionary_stops_the_site(tmp_path: Path) -> None:
    root = write_site(tmp_path, {
        "brands/acme/brand.toml": I18N,
        "brands/acme/translations/ro.toml": 'a = 1\n',
        "brands/acme/pages/index.html": "x",
    })
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    assert [problem.headline() for problem in caught.value.problems] == [
        "brands/acme/translations/ro.toml:1:1: translation 'a' must be a string, not an integer"]


def test_a_file_for_an_unlisted_language_is_a_warning_and_not_read(tmp_path: Path) -> None:
    root = write_site(tmp_path, {
        "brands/acme/brand.toml": I18N,
        "brands/acme/translations/de.toml": 'a = 1\n',  # broken, but never read
        "brands/acme/translations/RO.toml": 'a = "x"\n',
        "brands/acme/pages/index.html": "x",
    })
    site = load_site(root)  # not fatal
    assert [problem.headline() for problem in site.problems] == [
        "brands/acme/translations/RO.toml: 'RO' is not a language of this brand (brand.toml "
        "[i18n] languages: en, ro); the file is not read",
        "brands/acme/translations/de.toml: 'de' is not a language of this brand (brand.toml "
        "[i18n] languages: en, ro); the file is not read",
    ]


def test_a_dictionary_linked_from_outside_the_site_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.toml"
    secret.write_text('password = "hunter2"\n')
    root = write_site(tmp_path / "site", {"brands/acme/brand.toml": I18N,
                                          "brands/acme/pages/index.html": "x"})
    (root / "brands/acme/translations").mkdir()
    os.symlink(secret, root / "brands/acme/translations/ro.toml")
    with pytest.raises(SiteInvalid) as caught:
        load_site(root)
    (problem,) = caught.value.problems
    assert problem.headline().startswith(
        "brands/acme/translations/ro.toml: a symbolic link to ")
    assert "outside the site folder" in problem.headline()


# -- unknown keys, for `funnelrun check` ---------------------------------------------------------


KEYED_SITE = {
    "brands/acme/brand.toml": I18N,
    "brands/acme/translations/en.toml": 'hero.title = "Hi"\nonly_en = "x"\nboth = "b"\n',
    "brands/acme/translations/ro.toml": 'hero.title = "Salut"\nboth = "b"\n',
    "brands/acme/pages/index.html": '@component("card")\n'
                                    "{{ t('hero.titel') }} {{ 'only_en' | t }} {{ t('both') }}\n"
                                    "{{ t(dynamic) }}",
    "brands/acme/components/card.html": "  {{ 'nowhere' | t:{a: 1} }}",
    "brands/acme/pages/script.html": '<script scope="backend">\n'
                                     'const a = await t("both"), b = await t(\'missing.key\');\n'
                                     'const c = await getTranslation("only_en", {});\n'
                                     'const d = other.t("not.mine"), e = t("esc\\u0061ped");\n'
                                     "</script>\n",
}


def test_check_warns_of_literal_keys_some_language_lacks(tmp_path: Path) -> None:
    root = write_site(tmp_path, KEYED_SITE)
    assert problems(root) == [
        "brands/acme/pages/index.html:2:6: unknown translation key 'hero.titel' (did you mean "
        "'hero.title'?): no dictionary of the brand has it",
        "brands/acme/pages/index.html:2:26: translation key 'only_en' is missing from "
        "brands/acme/translations/ro.toml (t() answers '' there)",
        "brands/acme/components/card.html:1:4: unknown translation key 'nowhere': no "
        "dictionary of the brand has it",
        "brands/acme/pages/script.html:2:40: unknown translation key 'missing.key': no "
        "dictionary of the brand has it",
        "brands/acme/pages/script.html:3:32: translation key 'only_en' is missing from "
        "brands/acme/translations/ro.toml (t() answers '' there)",
    ]
    load_site(root)  # warnings only: the site serves


def test_without_languages_every_literal_key_is_unknown(tmp_path: Path) -> None:
    root = write_site(tmp_path, {"brands/acme/pages/index.html": "<p>\n  {{ t('a') }}"})
    assert problems(root) == [
        "brands/acme/pages/index.html:2:8: unknown translation key 'a': brand.toml of "
        "brands/acme lists no [i18n] languages, so t() answers ''"]


def test_funnelrun_check_lists_the_warnings(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    root = write_site(tmp_path, {"brands/acme/brand.toml": I18N,
                                 "brands/acme/pages/index.html": "{{ t('x') }}"})
    assert main(["check", str(root)]) == 1
    assert capsys.readouterr().out == (
        "brands/acme/pages/index.html:1:6: unknown translation key 'x': no dictionary of the "
        "brand has it\n")
