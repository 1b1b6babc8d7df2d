"""The family's language: which one a care plan is written in, its text, its dates and numbers.

Fixed text comes from gettext catalogs, `casectl/locale/<lang>/LC_MESSAGES/casectl.mo`,
compiled from the `.po` next to it (`casectl/locale/README.md` says how). English is the
source language and needs no catalog; adding a language is adding a catalog. Dates, numbers and
lists are formatted by Babel for the same language.
"""

from __future__ import annotations

import datetime as dt
import gettext
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from casectl.dates import completed_years
from casectl.errors import InvalidInput
from casectl.models.case import Case
from casectl.models.people import LANGUAGE

DOMAIN = "casectl"
SOURCE_LANGUAGE = "en"
ADULT_AGE = 18


def N_(message: str) -> str:
    """Mark text for translation where it is defined; it is translated where it is shown."""
    return message


def family_language(case: Case, today: dt.date) -> str:
    """The language a family care plan is written in, as a BCP 47 tag.

    The plan is for whoever makes the decisions, so: the language of a family member who is a
    legal guardian and takes part in decisions; for a child with no such guardian recorded,
    that of any family member who takes part in decisions; otherwise the client's preferred
    language. Family members are taken in the order of the case file; one with no language
    recorded is passed over.
    """
    deciders = [m for m in case.family if m.decision_maker and m.language]
    guardians = [m for m in deciders if m.legal_guardian]
    if guardians:
        return str(guardians[0].language)
    if deciders and completed_years(case.client.dob, today) < ADULT_AGE:
        return str(deciders[0].language)
    return case.client.preferred_language


def catalog_languages() -> list[str]:
    """The languages a care plan can be written in: English and each compiled catalog."""
    root = files("casectl") / "locale"
    found = {SOURCE_LANGUAGE}
    if root.is_dir():
        for entry in root.iterdir():
            if (entry / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file():
                found.add(entry.name.replace("_", "-"))
    return sorted(found)


@cache
def _catalog(name: str) -> gettext.GNUTranslations | None:
    mo = files("casectl") / "locale" / name / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo.is_file():
        return None
    with mo.open("rb") as handle:
        return gettext.GNUTranslations(handle)


def _babel_locale(tag: str) -> Any:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(tag.split("-")[0])


def language_name(tag: str) -> str:
    """The language's English name for messages ("Vietnamese"), or the tag when unknown."""
    from babel import UnknownLocaleError

    try:
        return str(_babel_locale(tag).get_display_name("en"))
    except (UnknownLocaleError, ValueError):
        return tag


_SUBTAG = re.compile(r"^[A-Za-z0-9]{1,8}$")


def normalise_tag(tag: str) -> str | None:
    """A language tag in BCP 47's usual case, from any case and separator, with ISO 639-2/3
    codes that have a two-letter code taken to it (CLDR's aliases): `ES` → es, `es_mx` →
    es-MX, `spa` → es, `zh-hant` → zh-Hant. None when it is not a language tag at all."""
    from babel.core import get_global

    parts = re.split(r"[-_]", tag.strip())
    if not re.fullmatch(r"[A-Za-z]{2,8}", parts[0]) or not all(_SUBTAG.match(p) for p in parts):
        return None
    primary = parts[0].lower()
    alias = get_global("language_aliases").get(primary)
    # Only a plain language code replaces it (`spa` → es), never a longer tag.
    if isinstance(alias, str) and re.fullmatch(r"[a-z]{2,3}", alias):
        primary = alias
    rest = []
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            rest.append(part.title())  # script: Hant, Latn
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            rest.append(part.upper())  # region: MX, 419
        else:
            rest.append(part.lower())
    normal = "-".join([primary, *rest])
    return normal if LANGUAGE.match(normal) else None


@dataclass(frozen=True)
class Language:
    """One language's text, dates, numbers and lists."""

    tag: str  # the BCP 47 tag the text is in, e.g. "es" or "es-MX"
    locale: Any  # babel.Locale
    translations: gettext.NullTranslations
    catalog: str = SOURCE_LANGUAGE  # the catalog the text comes from: "es", "es_MX"; "en" for none

    def describe(self) -> str:
        """Which language and catalog, for a note: "Spanish (es-MX), from the es catalog"."""
        name = language_name(self.tag)
        if self.catalog == SOURCE_LANGUAGE:
            return f"{name} ({self.tag}), casectl's own text (no catalog needed)"
        return f"{name} ({self.tag}), from the {self.catalog} catalog"

    def _(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def date(self, day: dt.date, *, weekday: bool = False) -> str:
        """A date as the language writes it in full ("25 de noviembre de 2026")."""
        from babel.dates import format_date

        return str(format_date(day, format="full" if weekday else "long", locale=self.locale))

    def number(self, value: float) -> str:
        from babel.numbers import format_decimal

        return str(format_decimal(value, locale=self.locale))

    def join(self, items: list[str]) -> str:
        from babel.lists import format_list

        return str(format_list(items, locale=self.locale)) if items else ""

    @property
    def right_to_left(self) -> bool:
        return bool(self.locale.character_order == "right-to-left")


def load_language(given: str) -> tuple[Language, str | None]:
    """The language for a tag in any case or form (`ES`, `es_mx`, `spa`), or English and a
    note saying why when there is no catalog."""
    tag = normalise_tag(given)
    if tag is None:
        raise InvalidInput(
            f"--lang {given!r} is not a language code; use a BCP 47 code such as en, es or es-MX."
        )
    primary = tag.split("-")[0]
    if primary == SOURCE_LANGUAGE:
        return Language(tag, _babel_locale(tag), gettext.NullTranslations()), None
    parts = tag.split("-")
    candidates = [f"{parts[0]}_{parts[1]}"] if len(parts) > 1 else []
    for name in [*candidates, primary]:
        catalog = _catalog(name)
        if catalog is not None:
            return Language(tag, _babel_locale(tag), catalog, name), None
    note = (
        f"there is no {language_name(tag)} ({tag}) translation of the family care plan yet, so "
        f"it is in English; languages available: {', '.join(catalog_languages())}."
    )
    return Language(
        SOURCE_LANGUAGE, _babel_locale(SOURCE_LANGUAGE), gettext.NullTranslations()
    ), note
