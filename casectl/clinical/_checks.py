"""Input checks shared by the clinical calculations, each failing with a ClinicalInputError."""

from __future__ import annotations

import math

from casectl.clinical.errors import ClinicalInputError

SEXES = ("female", "male")


def finite(value: object, what: str) -> float:
    """Return `value` as a finite float, or raise a ClinicalInputError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ClinicalInputError(f"{_cap(what)} must be a number; got {value!r}.")
    result = float(value)
    if not math.isfinite(result):
        raise ClinicalInputError(f"{_cap(what)} must be a finite number; got {value}.")
    return result


def number(value: object, what: str, low: float, high: float, unit: str = "") -> float:
    """Return `value` as a finite float within [low, high], or raise a ClinicalInputError."""
    result = finite(value, what)
    suffix = f" {unit}" if unit else ""
    if not low <= result <= high:
        raise ClinicalInputError(
            f"{_cap(what)} must be between {_fmt(low)} and {_fmt(high)}{suffix}; got {value}."
        )
    return result


def sex(value: object) -> str:
    """Return "female" or "male" (any letter case), or raise a ClinicalInputError."""
    if isinstance(value, str) and value.strip().lower() in SEXES:
        return value.strip().lower()
    raise ClinicalInputError(f"Sex must be 'female' or 'male'; got {value!r}.")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fmt(x: float) -> str:
    return str(int(x)) if x == int(x) else str(x)
