"""Translations at request time: the visitor's locale hint, snapped to the brand's languages,
and the lookups `t()` makes in that language's dictionary (README "Translations").

Hints come from the visitor (query, session, Accept-Language), so they are read without
regular expressions and only up to a bounded length.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

MAX_CODE_CHARS = 35  # a language code, as BCP 47 tags go in practice ("zh-hant-tw" is 10)
MAX_ACCEPT_LANGUAGE_CHARS = 256  # of the header read to find its first range
FALLBACK_HINT = "en"  # the last hint of the reference order
ROUTE_HINTS = ("hl", "locale")
QUERY_HINTS = ("hl", "locale", "lang")
SESSION_HINT = "locale"
VARIABLE_HINTS = ("locale", "language")
EMPTY: Mapping[str, str] = MappingProxyType({})
# Translators kept per brand besides its languages' own: hints served as they are (a brand
# without languages), so that each keeps its script configuration. Hints come from visitors:
# past this many, a new one gets a translator of its own, not kept.
MAX_OTHER_TRANSLATORS = 64


def language_code(text: str) -> str | None:
    """`text` as a language code in its normal form (lower case, `_` written `-`), or None if it
    is not one: a primary subtag of 2 or 3 letters, then subtags of 1 to 8 letters and digits
    joined by `-`, at most 35 characters in all (`en`, `pt-br`, `zh-hant-tw`)."""
    if not 2 <= len(text) <= MAX_CODE_CHARS or not text.isascii():
        return None
    code = text.lower().replace("_", "-")
    primary, *subtags = code.split("-")
    if not (2 <= len(primary) <= 3 and primary.isalpha()):
        return None
    if not all(1 <= len(subtag) <= 8 and subtag.isalnum() for subtag in subtags):
        return None
    return code


def accept_language_hint(header: str | None) -> str | None:
    """The primary two-letter subtag of the first range of an Accept-Language header
    (`en-US,en;q=0.9` → `en`), or None (`*`, `fil`, nothing, junk)."""
    if not header:
        return None
    first = header[:MAX_ACCEPT_LANGUAGE_CHARS].partition(",")[0].partition(";")[0]
    primary = first.strip().partition("-")[0]
    if len(primary) == 2 and primary.isascii() and primary.isalpha():
        return primary.lower()
    return None


def locale_hint(
    route_params: Mapping[str, Any], query: Mapping[str, Any], session_locale: Any,
    variables: Mapping[str, Any], accept_language: str | None,
) -> str:
    """The request's locale hint, in the reference runtime's order: route params `hl`, `locale`;
    query `hl`, `locale`, `lang`; the session's `locale`; the brand variables `locale`,
    `language`; Accept-Language; `en`. (The reference's domain-level locale has no counterpart:
    funnelrun has no domain settings.) A value that is not a language code is passed over."""
    candidates = (
        *(route_params.get(name) for name in ROUTE_HINTS),
        *(query.get(name) for name in QUERY_HINTS),
        session_locale,
        *(variables.get(name) for name in VARIABLE_HINTS),
    )
    for value in candidates:
        if isinstance(value, str) and (code := language_code(value)) is not None:
            return code
    return accept_language_hint(accept_language) or FALLBACK_HINT


def interpolate(text: str, params: Mapping[str, str]) -> str:
    """`{{ name }}` placeholders of `text` replaced by `params[name]` (spaces around the name
    ignored); a placeholder without a parameter stays as written. One pass, linear: a
    parameter's value is never read for placeholders. The prelude's `interpolate` is the same."""
    if not params or "{{" not in text:
        return text
    parts: list[str] = []
    at = 0
    while (end := text.find("}}", at)) != -1:
        start = text.rfind("{{", at, end)
        name = text[start + 2:end].strip(" ") if start != -1 else None
        if name is not None and name in params:
            parts += (text[at:start], params[name])
        else:
            parts.append(text[at:end + 2])
        at = end + 2
    parts.append(text[at:])
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Languages:
    """A brand's languages (brand.toml `[i18n]`): codes in their order, and the default, which
    is the first code when brand.toml names none ('' when there are no languages)."""

    codes: tuple[str, ...] = ()
    default: str = ""

    def snap(self, hint: str) -> str:
        """The language a hint is served in: the hint if it is one of the codes, else the
        default (no `pt-br` → `pt` alias); the hint itself when the brand has no languages."""
        if not self.codes or hint in self.codes:
            return hint
        return self.default


class Translator:
    """One request's language and its dictionary: what `t()`, `{{ locale }}` and the script's
    translation functions answer. Made once per brand and language, so its script
    configuration is written once too."""

    __slots__ = ("_script_config", "dictionary", "language", "languages")

    def __init__(self, language: str, languages: Languages,
                 dictionary: Mapping[str, str] = EMPTY) -> None:
        self.language = language  # the snapped code; the hint itself without languages
        self.languages = languages
        self.dictionary = dictionary
        self._script_config: dict[frozenset[str] | None, str] = {}

    def translate(self, key: str, params: Mapping[str, str] | None = None) -> str:
        """The text for `key`, '' when the dictionary has none, with `params` interpolated."""
        text = self.dictionary.get(key, "")
        return interpolate(text, params) if params else text

    def translations(self) -> dict[str, str]:
        """A copy of the whole dictionary."""
        return dict(self.dictionary)

    def locales(self) -> list[str]:
        return list(self.languages.codes)

    def default_locale(self) -> str:
        return self.languages.default

    def script_config(self, keys: frozenset[str] | None) -> str:
        """JSON text for a run's configuration (the prelude's `i18n`), with the dictionary's
        `keys` (None: all of it; see funnelrun.script.Bundle.dictionary_keys), since parsing
        the dictionary is the one cost translations add to a run. Made once per set of keys:
        a set per page script."""
        text = self._script_config.get(keys)
        if text is None:
            dictionary = self.dictionary if keys is None else {
                key: self.dictionary[key] for key in sorted(keys) if key in self.dictionary}
            text = self._script_config[keys] = json.dumps({
                "locale": self.language,
                "locales": list(self.languages.codes),
                "default": self.languages.default,
                "dictionary": dict(dictionary),
            }, ensure_ascii=False, separators=(",", ":"))
        return text


@dataclass(frozen=True)
class BrandTranslations:
    """A brand's languages and their dictionaries (`translations/<code>.toml`, flattened)."""

    languages: Languages = Languages()
    dictionaries: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    _translators: dict[str, Translator] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        translators = {code: Translator(code, self.languages, self.dictionaries.get(code, EMPTY))
                       for code in self.languages.codes}
        object.__setattr__(self, "_translators", translators)

    def translator(self, hint: str) -> Translator:
        """The translator for a request whose locale hint is `hint`."""
        language = self.languages.snap(hint)
        found = self._translators.get(language)
        if found is None:
            found = Translator(language, self.languages)
            if len(self._translators) < len(self.languages.codes) + MAX_OTHER_TRANSLATORS:
                self._translators[language] = found
        return found
