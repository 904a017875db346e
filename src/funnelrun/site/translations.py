"""A brand's translations: `[i18n]` of brand.toml, and its dictionaries on disk
(`translations/<code>.toml`), flattened and checked at start-up; and the literal keys pages
use that no dictionary has.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import Position, SiteError
from ..i18n import BrandTranslations, Languages, language_code
from .files import SiteFolder
from .tomltext import dotted_key_position, parse_toml, type_name, unknown_key_message

TRANSLATIONS_DIR = "translations"
MAX_DICTIONARY_BYTES = 256 * 1024  # per file: the dictionary goes into every run that reads it
_I18N_KEYS = {"languages": list, "default": str}
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def parse_languages(table: Mapping[str, Any], text: str, filename: str) -> Languages:
    """The `[i18n]` table of brand.toml (`text`, shown as `filename`): `languages`, a list of
    language codes in the order pickers show them, and `default`, one of them."""
    def where(key: str) -> Position:
        return dotted_key_position(text, f"i18n.{key}", filename)

    for key, value in table.items():
        if key not in _I18N_KEYS:
            raise SiteError(unknown_key_message("[i18n]", key, _I18N_KEYS), where(key),
                            source=text)
        if not isinstance(value, _I18N_KEYS[key]):
            raise SiteError(f"'i18n.{key}' must be {type_name(_I18N_KEYS[key]())}, not "
                            f"{type_name(value)}", where(key), source=text)
    codes: list[str] = []
    for code in table.get("languages", []):
        normal = language_code(code) if isinstance(code, str) else None
        if normal != code:
            hint = f"; write '{normal}'" if normal else " like 'en' or 'pt-br'"
            raise SiteError(f"'i18n.languages' entries must be language codes{hint}, got "
                            f"{code!r}", where("languages"), source=text)
        if code in codes:
            raise SiteError(f"'i18n.languages' lists '{code}' twice", where("languages"),
                            source=text)
        codes.append(code)
    default = table.get("default")
    if default is not None and default not in codes:
        listed = ", ".join(codes) if codes else "none"
        raise SiteError(f"'i18n.default' is '{default}', which is not one of 'i18n.languages' "
                        f"({listed})", where("default"), source=text)
    return Languages(tuple(codes), default or (codes[0] if codes else ""))


def load_translations(site_folder: SiteFolder, folder: Path, languages: Languages,
                      warn: list[SiteError]) -> BrandTranslations:
    """The dictionaries of the brand in `folder`: `translations/<code>.toml` of each language
    (a missing file is an empty dictionary). A broken file raises SiteError; a file for a
    language brand.toml does not list is passed over, with a warning added to `warn`."""
    dictionaries: dict[str, dict[str, str]] = {}
    base = folder / TRANSLATIONS_DIR
    for path in site_folder.files(base, ".toml"):
        site_path = site_folder.site_path(path)
        code = path.relative_to(base).as_posix()[:-len(".toml")]
        if code not in languages.codes:
            warn.append(_unlisted(site_path, code, languages))
            continue
        dictionaries[code] = read_dictionary(path, site_path)
    return BrandTranslations(languages, dictionaries)


def _unlisted(site_path: str, code: str, languages: Languages) -> SiteError:
    listed = ", ".join(languages.codes) if languages.codes else "no languages"
    return SiteError(f"{site_path}: '{code}' is not a language of this brand (brand.toml "
                     f"[i18n] languages: {listed}); the file is not read", None,
                     reason="translations")


def read_dictionary(path: Path, site_path: str) -> dict[str, str]:
    """One dictionary file, flattened (`[hero] title = …` is `hero.title`); raises SiteError
    with file:line:col for bad TOML, a value that is not a string, or a bad key."""
    try:
        size = path.stat().st_size
        if size > MAX_DICTIONARY_BYTES:
            raise SiteError(f"{site_path}: {size} bytes; a dictionary may hold at most "
                            f"{MAX_DICTIONARY_BYTES // 1024} KB", None)
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SiteError(f"{site_path}: not UTF-8 text (byte {exc.start})", None) from exc
    except OSError as exc:
        raise SiteError(f"{site_path}: cannot read: {exc.strerror}", None) from exc
    flat: dict[str, str] = {}
    _flatten(parse_toml(text, site_path), "", flat, text, site_path)
    return flat


def _flatten(table: Mapping[str, Any], prefix: str, flat: dict[str, str], text: str,
             site_path: str) -> None:
    for name, value in table.items():
        key = prefix + name
        if not _is_key(name):
            raise SiteError(f"translation key '{key}' must be letters, digits and underscores, "
                            "in parts joined by dots", dotted_key_position(text, key, site_path),
                            source=text)
        if isinstance(value, dict):
            _flatten(value, key + ".", flat, text, site_path)
        elif not isinstance(value, str):
            raise SiteError(f"translation '{key}' must be a string, not {type_name(value)}",
                            dotted_key_position(text, key, site_path), source=text)
        elif key in flat:
            raise SiteError(f"translation key '{key}' is written twice",
                            dotted_key_position(text, key, site_path), source=text)
        else:
            flat[key] = value


def _is_key(name: str) -> bool:
    """Letters, digits and underscores, in parts joined by dots (a quoted TOML key may hold
    dots: `"hero.title" = …` is `[hero] title = …`)."""
    return all(part and _KEY_CHARS.issuperset(part) for part in name.split("."))


def unknown_keys(translations: BrandTranslations, uses: Iterable[tuple[str, Position]],
                 brand_path: str) -> list[SiteError]:
    """Warnings for literal keys (`t('hero.title')`, `'hero.title' | t`, a script's
    `t("hero.title")`) that some language of the brand lacks: it would show ''."""
    languages = translations.languages.codes
    problems: dict[str, SiteError] = {}
    for key, position in uses:
        missing = [code for code in languages
                   if key not in translations.dictionaries.get(code, {})]
        if languages and not missing:
            continue
        if not languages:
            message = (f"unknown translation key '{key}': brand.toml of {brand_path} lists no "
                       "[i18n] languages, so t() answers ''")
        elif len(missing) < len(languages):
            files = ", ".join(f"{brand_path}/{TRANSLATIONS_DIR}/{code}.toml" for code in missing)
            message = f"translation key '{key}' is missing from {files} (t() answers '' there)"
        else:
            known = {k for code in languages for k in translations.dictionaries.get(code, {})}
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            message = f"unknown translation key '{key}'{hint}: no dictionary of the brand has it"
        problem = SiteError(message, position, reason="translations")
        problems.setdefault(problem.headline(), problem)
    return list(problems.values())
