"""The language a visit is served in: resolved from its own request, session and brand, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import visit_of, write_site
from funnelrun.language import visit_language
from funnelrun.render import template_context
from funnelrun.session import Session

pytestmark = pytest.mark.anyio


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site", {
        "brands/acme/brand.toml": '[i18n]\nlanguages = ["en", "ro"]\n',
        "brands/acme/translations/ro.toml": 'hi = "Salut"\n',
        "brands/acme/pages/[hl]/index.html": "{{ t('hi') }}",
        "brands/acme/pages/index.html": "{{ t('hi') }}",
    })


async def test_the_session_locale_is_a_hint(root: Path) -> None:
    session = Session(brand="acme", id="S" * 27)
    session.write_value("locale", "RO")
    visit = await visit_of(root, "/", session=session, headers={"accept-language": "en"})
    assert visit_language(visit).language == "ro"
    assert visit_language(visit).translate("hi") == "Salut"


async def test_a_session_locale_that_is_not_text_is_passed_over(root: Path) -> None:
    session = Session(brand="acme", id="S" * 27)
    session.write_value("locale", {"code": "ro"})
    visit = await visit_of(root, "/", session=session, headers={"accept-language": "ro-RO"})
    assert visit_language(visit).language == "ro"  # from Accept-Language


async def test_the_route_param_comes_before_the_query(root: Path) -> None:
    visit = await visit_of(root, "/ro?hl=en")
    assert visit_language(visit).language == "ro"


async def test_the_language_is_resolved_once_per_visit(root: Path) -> None:
    visit = await visit_of(root, "/?hl=ro")
    first = visit_language(visit)
    visit.session.write_value("locale", "en")
    visit.request_object["query"]["hl"] = "en"
    assert visit_language(visit) is first


async def test_templates_see_the_resolved_code_as_locale(root: Path) -> None:
    visit = await visit_of(root, "/?hl=de")
    assert template_context(visit)["locale"] == "en"  # snapped to the first language
