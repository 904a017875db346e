"""Translations over HTTP: one page in two languages, chosen by `?hl=`, Accept-Language, the
session's `locale`, a route param or a brand variable, in the script and the template alike."""

from __future__ import annotations

import pytest

from conftest import serve

pytestmark = pytest.mark.anyio

BRAND = '''
    name = "Acme"
    [i18n]
    languages = ["en", "ro"]
    default = "en"
'''
PAGE = '''
    <script scope="backend">
      setVariable("cta", await t("checkout.cta"));
      setVariable("hi", await t("greeting", { name: customer ? customer.first_name : "guest" }));
      setVariable("code", await getLocale());
    </script>
    <html lang="{{ locale }}"><h1>{{ t('hero.title') }}</h1><h2>{{ 'hero.subtitle' | t }}</h2>
    <p>{{ var.cta }}|{{ var.hi }}|{{ var.code }}</p></html>
'''
FILES = {
    "brands/acme/brand.toml": BRAND,
    "brands/acme/translations/en.toml": '''
        greeting = "Hello {{ name }}"
        [hero]
        title = "Welcome"
        subtitle = "Fresh & fast"
        [checkout]
        cta = "Buy now"
    ''',
    "brands/acme/translations/ro.toml": '''
        greeting = "Salut {{ name }}"
        [hero]
        title = "Bun venit"
        subtitle = "Proaspăt & rapid"
        [checkout]
        cta = "Cumpără acum"
    ''',
    "brands/acme/pages/index.html": PAGE,
    "brands/acme/pages/[hl]/about.html": "{{ locale }}: {{ t('hero.title') }}",
    "brands/acme/pages/language.html": '''
        <script scope="backend">session.set("locale", request.query.to);</script>
        saved
    ''',
    "brands/acme/pages/plain.html": "{{ locale }} {{ t('hero.title') }}",
}
ENGLISH = ('<html lang="en"><h1>Welcome</h1><h2>Fresh &amp; fast</h2>\n'
           "<p>Buy now|Hello guest|en</p></html>")
ROMANIAN = ('<html lang="ro"><h1>Bun venit</h1><h2>Proaspăt &amp; rapid</h2>\n'
            "<p>Cumpără acum|Salut guest|ro</p></html>")


async def text(client, target: str, **headers: str) -> str:
    response = await client.get(target, headers=headers)
    assert response.status_code == 200
    return response.text.strip()


async def test_the_same_page_in_two_languages_by_hl(site) -> None:
    async with serve(site(FILES)) as client:
        assert await text(client, "/?hl=ro") == ROMANIAN
        assert await text(client, "/?hl=en") == ENGLISH
        assert await text(client, "/") == ENGLISH  # no hint: `en`
        assert await text(client, "/?hl=RO") == ROMANIAN  # normalized
        assert await text(client, "/?lang=ro") == ROMANIAN
        assert await text(client, "/?locale=ro&lang=en") == ROMANIAN  # locale before lang


async def test_the_same_page_in_two_languages_by_accept_language(site) -> None:
    async with serve(site(FILES)) as client:
        assert await text(client, "/", **{"accept-language": "ro-RO,ro;q=0.9,en;q=0.8"}) == ROMANIAN
        assert await text(client, "/", **{"accept-language": "en-US,ro;q=0.9"}) == ENGLISH
        assert await text(client, "/?hl=en", **{"accept-language": "ro"}) == ENGLISH


async def test_the_same_page_in_two_languages_by_the_session_locale(site) -> None:
    async with serve(site(FILES)) as client:
        assert await text(client, "/language?to=ro") == "saved"
        assert await text(client, "/") == ROMANIAN
        assert await text(client, "/", **{"accept-language": "en"}) == ROMANIAN  # session first
        assert await text(client, "/?hl=en") == ENGLISH  # the query before the session
        assert await text(client, "/language?to=en") == "saved"
        assert await text(client, "/") == ENGLISH


async def test_a_route_param_hl_chooses_the_language(site) -> None:
    async with serve(site(FILES)) as client:
        assert await text(client, "/ro/about") == "ro: Bun venit"
        assert await text(client, "/en/about?hl=ro") == "en: Welcome"  # route params come first
        assert await text(client, "/pt-br/about") == "en: Welcome"  # snapped to the default


async def test_a_brand_variable_sets_the_language_of_a_brand(site) -> None:
    files = {**FILES, "brands/acme/brand.toml": BRAND + '[variables]\nlocale = "ro"\n'}
    async with serve(site(files)) as client:
        assert await text(client, "/plain") == "ro Bun venit"
        assert await text(client, "/plain", **{"accept-language": "en"}) == "ro Bun venit"
        assert await text(client, "/plain?hl=en") == "en Welcome"


async def test_a_language_the_brand_lacks_gets_the_default(site) -> None:
    async with serve(site(FILES)) as client:
        assert await text(client, "/?hl=de") == ENGLISH
        assert await text(client, "/plain", **{"accept-language": "de-DE"}) == "en Welcome"


@pytest.mark.parametrize("value", [
    "%3Cscript%3Ealert(1)%3C/script%3E", "x" * 5000, "en%00", "ro%0d%0aSet-Cookie:%20a=b",
    "..%2F..%2Fetc", "%E2%80%AEro", "ro-" + "a" * 40,
])
async def test_hostile_hints_are_passed_over(site, value: str) -> None:
    async with serve(site(FILES)) as client:
        response = await client.get(f"/plain?hl={value}", headers={"accept-language": "ro"})
    assert response.status_code == 200
    assert response.text.strip() == "ro Bun venit"
    assert "set-cookie" not in response.headers


async def test_a_hostile_accept_language_header_is_passed_over(site) -> None:
    async with serve(site(FILES)) as client:
        for header, expected in [("*", "en"), ("<ro>", "en"), ("r" * 8000, "en"),
                                 ("ro" + ";q=1" * 1000, "ro"), ("éé".encode(), "en"),
                                 ("ro\u0131".encode(), "en")]:
            response = await client.get("/plain", headers={"accept-language": header})
            assert response.text.strip().split()[0] == expected


async def test_without_languages_the_hint_is_the_locale_and_keys_are_empty(site) -> None:
    files = {"brands/acme/pages/plain.html": "[{{ locale }}][{{ t('hero.title') }}]"
                                             "[{{ getResolvedLanguage() }}][{{ locales() | length }}]"}
    async with serve(site(files)) as client:
        assert await text(client, "/plain?hl=pt_BR") == "[pt-br][][pt-br][0]"
        assert await text(client, "/plain", **{"accept-language": "fr-CA"}) == "[fr][][fr][0]"
        assert await text(client, "/plain") == "[en][][en][0]"


async def test_the_language_is_resolved_once_before_the_script(site) -> None:
    files = {**FILES, "brands/acme/pages/switch.html": '''
        <script scope="backend">
          session.set("locale", "ro");
          setVariable("seen", await getLocale());
        </script>
        {{ var.seen }} {{ locale }} {{ t('hero.title') }}
    '''}
    async with serve(site(files)) as client:
        assert await text(client, "/switch") == "en en Welcome"  # this request: as it came
        assert await text(client, "/plain") == "ro Bun venit"  # the next: the session's
