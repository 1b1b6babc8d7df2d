"""Turning an instrument's answers into the dated record kept in a screening or assessment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from casectl.clinical.errors import ClinicalInputError
from casectl.clinical.instruments import (
    InstrumentAgeError,
    InstrumentResult,
    check_instrument_age,
    get_instrument,
)
from casectl.errors import InvalidInput
from casectl.models.records import InstrumentRecord


def parse_answers(text: str, *, option: str = "--answers") -> list[int | None]:
    """`0,1,2,,3` → [0, 1, 2, None, 3]: a blank between commas is an unanswered item."""
    answers: list[int | None] = []
    for n, part in enumerate(text.split(","), start=1):
        part = part.strip()
        if not part:
            answers.append(None)
            continue
        try:
            answers.append(int(part))
        except ValueError:
            raise InvalidInput(f"{option}: answer {n} ({part!r}) is not a whole number.") from None
    return answers


def score_answers(
    name: str, answers: Sequence[int | None], weights: Sequence[float] | None = None
) -> InstrumentResult:
    """Score with the clinical library, turning its input errors into casectl's."""
    try:
        return get_instrument(name).score(answers, weights)
    except ClinicalInputError as exc:
        raise InvalidInput(str(exc)) from None


def to_record(result: InstrumentResult, *, source: str | None = None) -> InstrumentRecord:
    """The record kept in the case: answers, total, band, flags as scored on that day."""
    fields: dict[str, object] = {
        "instrument": result.instrument,
        "answers": list(result.answers),
        "band": result.band,
    }
    if result.total is not None:
        fields["total"] = result.total
    if result.flags:
        fields["flags"] = list(result.flags)
    if result.subscales:
        fields["subscales"] = dict(result.subscales)
    if result.positive_domains:
        fields["positive_domains"] = list(result.positive_domains)
    if result.t_score is not None:
        fields["t_score"] = round(result.t_score, 1)
    if not result.valid:
        fields["valid"] = False
    if source:
        fields["source"] = source
    return InstrumentRecord.model_validate(fields)


def instrument_record(name: str, answers: str | None) -> InstrumentRecord:
    """Score `--instrument NAME --answers 0,1,…` into a record."""
    if answers is None:
        raise InvalidInput(
            f"--instrument {name} needs --answers (comma-separated); on a terminal casectl asks item by item."
        )
    return to_record(score_answers(name, parse_answers(answers)))


def check_age(name: str, age_years: float) -> None:
    """`check_instrument_age` with casectl's error: exit 5 and the sentence naming what fits."""
    try:
        check_instrument_age(name, age_years)
    except ClinicalInputError as exc:
        raise InvalidInput(str(exc)) from None


def check_ages(dob: dt.date, on: dt.date, instruments: Iterable[InstrumentRecord]) -> None:
    """Refuse a client's instrument given outside its validated ages (a family member's own
    form, or an instrument casectl does not know, is not checked)."""
    months = (on.year - dob.year) * 12 + on.month - dob.month - (on.day < dob.day)
    for record in instruments:
        if record.member is not None:
            continue
        try:
            check_instrument_age(record.instrument, months / 12)
        except InstrumentAgeError as exc:
            raise InvalidInput(f"{str(exc).rstrip('.')} (age on {on.isoformat()}).") from None
        except ClinicalInputError:
            continue
