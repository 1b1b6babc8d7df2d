"""The care plan's languages: catalogs complete and compiled, labels for every value, the rule."""

from __future__ import annotations

import datetime as dt
import gettext
import io
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from casectl.models.case import Case
from casectl.models.vocab import (
    GoalDomain,
    GoalStatus,
    InterventionStatus,
    Progress,
    ReferralStatus,
    TeamRole,
    choices,
)
from casectl.share import familyplan
from casectl.share.i18n import catalog_languages, family_language, load_language
from tests.conftest import Cli, open_case

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "casectl" / "locale"
CATALOGS = sorted(LOCALE.glob("*/LC_MESSAGES/casectl.po"))
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def _code_messages() -> set[str]:
    found = extract_from_dir(str(ROOT / "casectl" / "share"), keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_there_is_a_spanish_catalog() -> None:
    assert "es" in catalog_languages() and "en" in catalog_languages()
    assert LOCALE / "es" / "LC_MESSAGES" / "casectl.po" in CATALOGS


def test_the_template_holds_every_message_in_the_code() -> None:
    with (LOCALE / "casectl.pot").open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    assert template == _code_messages(), (
        "casectl/locale/casectl.pot is out of date; run the pybabel extract command in "
        "casectl/locale/README.md"
    )


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.parts[-3])
def test_each_catalog_translates_every_message_and_keeps_its_placeholders(po: Path) -> None:
    with po.open("rb") as handle:
        catalog = read_po(handle)
    messages = {m.id: m for m in catalog if m.id}
    assert set(messages) == _code_messages(), f"{po} is out of date; run pybabel update"
    for msgid, message in messages.items():
        assert message.string and not message.fuzzy, f"{po}: {msgid!r} is not translated"
        assert _placeholders(str(message.string)) == _placeholders(str(msgid)), msgid


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.parts[-3])
def test_each_compiled_catalog_is_the_po_file_compiled(po: Path) -> None:
    # Compared by what the catalogs say, not byte for byte: the compiler stamps its own version
    # into the header ("Generated-By: Babel 2.19.0"), which differs with the installed Babel.
    with po.open("rb") as handle:
        catalog = read_po(handle)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    fresh = gettext.GNUTranslations(compiled)
    with po.with_suffix(".mo").open("rb") as handle:
        shipped = gettext.GNUTranslations(handle)

    def messages(t: gettext.GNUTranslations) -> dict[object, str]:
        return {k: v for k, v in t._catalog.items() if k != ""}  # type: ignore[attr-defined]

    assert messages(shipped) == messages(fresh), (
        f"{po.with_suffix('.mo')} is stale; run `pybabel compile -d casectl/locale -D casectl`"
    )


@pytest.mark.parametrize(
    ("given", "tag", "catalog"),
    [
        ("es", "es", "es"),
        ("ES", "es", "es"),
        ("es-MX", "es-MX", "es"),
        ("es_mx", "es-MX", "es"),
        ("ES-mx", "es-MX", "es"),
        ("spa", "es", "es"),  # ISO 639-2/3
        ("eng", "en", "en"),
        ("EN-gb", "en-GB", "en"),
    ],
)
def test_lang_takes_any_case_and_form_of_a_tag(given: str, tag: str, catalog: str) -> None:
    language, note = load_language(given)
    assert (language.tag, language.catalog, note) == (tag, catalog, None)


def test_lang_says_on_stderr_which_catalog_it_used(cli: Cli) -> None:
    case = open_case(cli)
    result = cli("export", case, "--lang", "SPA")
    assert result.stdout.startswith("# Plan de cuidado de Mia Santos")
    assert (
        "casectl: note: --lang SPA: the care plan is in Spanish (es), from the es catalog."
        in result.stderr
    )
    mexican = cli("export", case, "--lang", "es_mx")
    assert "Spanish (Mexico) (es-MX), from the es catalog" in mexican.stderr
    english = cli("export", case, "--lang", "EN")
    assert "English (en), casectl's own text" in english.stderr
    assert "Plan de cuidado" not in english.stdout
    assert cli("export", case, "--lang", "vie").stderr.count("no Vietnamese (vi) translation") == 1


@pytest.mark.parametrize(
    ("labels", "values"),
    [
        (familyplan.ROLE, TeamRole),
        (familyplan.GOAL_STATUS, GoalStatus),
        (familyplan.PROGRESS, Progress),
        (familyplan.INTERVENTION_STATUS, InterventionStatus),
        (familyplan.REFERRAL_STATUS, ReferralStatus),
        (familyplan.GOAL_DOMAIN, GoalDomain),
    ],
)
def test_every_value_the_plan_shows_has_a_plain_label(
    labels: dict[str, str], values: object
) -> None:
    assert set(labels) == set(choices(values))


def test_spanish_dates_and_lists_come_from_babel() -> None:
    spanish, note = load_language("es")
    assert note is None
    assert spanish.date(dt.date(2026, 12, 9)) == "9 de diciembre de 2026"
    assert spanish.date(dt.date(2026, 12, 9), weekday=True) == "miércoles, 9 de diciembre de 2026"
    assert spanish.join(["Rosa", "Ana", "Luis"]) == "Rosa, Ana y Luis"
    assert spanish.number(12345.5) == "12.345,5"
    english, _ = load_language("en-GB")
    assert english.date(dt.date(2026, 12, 9)) == "9 December 2026"
    assert english._("Our goals") == "Our goals"


def test_an_unknown_language_is_english_with_a_note() -> None:
    language, note = load_language("so")
    assert language.tag == "en" and note is not None and "Somali (so)" in note


def _case(**family: object) -> Case:
    data: dict[str, object] = {
        "id": "C-2026-0001",
        "opened": "2026-01-05",
        "case_manager": "J. Rivera",
        "client": {"name": "A", "dob": "2016-01-01", "sex": "female", "preferred_language": "en"},
        "family": [
            {"id": "m", "name": "B", "relationship": "mother", **family},
        ],
    }
    return Case.model_validate(data)


def test_the_language_rule() -> None:
    today = dt.date(2026, 11, 25)
    assert family_language(_case(language="es"), today) == "en"  # not a decision-maker
    assert family_language(_case(language="es", decision_maker=True), today) == "es"
    assert family_language(_case(decision_maker=True), today) == "en"  # no language recorded
    adult = _case(language="es", decision_maker=True)
    adult.client.dob = dt.date(1990, 1, 1)
    assert family_language(adult, today) == "en"  # an adult decides in their own language
    guarded = _case(language="es", decision_maker=True, legal_guardian=True)
    guarded.client.dob = dt.date(1990, 1, 1)
    assert family_language(guarded, today) == "es"  # unless a guardian decides
