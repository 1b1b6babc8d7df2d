"""Growth under 2 years by the WHO Child Growth Standards (2006), as CDC recommends for the US.

Sources:
- WHO Multicentre Growth Reference Study Group. WHO Child Growth Standards: length/height-for-
  age, weight-for-age, weight-for-length, weight-for-height and body mass index-for-age: methods
  and development. Geneva: World Health Organization, 2006. LMS tables by day of age (0–730 days)
  and by length (45–110 cm) packaged in casectl/data/who2006 (see the README there).
- The z-score: WHO 2006, chapter 7 ("Computation of centiles and z-scores"). Length-for-age uses
  the LMS formula as it is. For the weight indicators, whose upper tail the LMS fit stretches,
  WHO keeps the formula within ±3 SD and beyond it counts in steps of the distance between the
  2 and 3 SD values: z = 3 + (y − SD3) / (SD3 − SD2) above, z = −3 + (y − SD3neg) /
  (SD2neg − SD3neg) below.
- Grummer-Strawn LM, Reinold C, Krebs NF. Use of World Health Organization and CDC growth charts
  for children aged 0–59 months in the United States. MMWR Recomm Rep 2010;59(RR-9):1–15: use the
  WHO standards under 24 months, with the 2.3rd and 97.7th percentiles (±2 z) as the cut-offs
  for low and high.

Ages are in days (WHO's tables are by day; a month is 30.4375 days); a fractional day or
length between two rows gets L, M and S interpolated linearly between them.
"""

from __future__ import annotations

import bisect
import functools
import math
from dataclasses import dataclass
from typing import Literal

from casectl.clinical import _checks
from casectl.clinical.corrected_age import DAYS_PER_MONTH, age_for_growth
from casectl.clinical.errors import ClinicalInputError
from casectl.clinical.growth import LMS

Indicator = Literal["weight-for-age", "length-for-age", "weight-for-length"]
Category = Literal["low", "normal", "high"]

INDICATORS: tuple[Indicator, ...] = ("weight-for-age", "length-for-age", "weight-for-length")
_FILES: dict[str, str] = {
    "weight-for-age": "wfa.csv",
    "length-for-age": "lhfa.csv",
    "weight-for-length": "wfl.csv",
}
_SEX_CODES: dict[str, str] = {"1": "male", "2": "female"}
# The weight indicators take WHO's restricted z-score beyond ±3 SD; length-for-age does not.
_RESTRICTED: frozenset[str] = frozenset({"weight-for-age", "weight-for-length"})
#: Under 2 years: 24 months of 30.4375 days.
UNDER_DAYS = 24 * DAYS_PER_MONTH
#: CDC's cut-offs on the WHO charts: below the 2.3rd percentile is low, above the 97.7th high.
LOW_BELOW_Z = -2.0
HIGH_ABOVE_Z = 2.0


@dataclass(frozen=True)
class InfantGrowthResult:
    """WHO z-scores and percentiles for the measures given; None where a measure is missing.

    `age_months` is the age the standards were read at: the corrected age when `corrected`.
    """

    age_months: float
    chronological_age_months: float
    corrected: bool
    weight_for_age_z: float | None
    weight_for_age_percentile: float | None
    weight_for_age_category: Category | None
    length_for_age_z: float | None
    length_for_age_percentile: float | None
    length_for_age_category: Category | None
    weight_for_length_z: float | None
    weight_for_length_percentile: float | None
    weight_for_length_category: Category | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: z to 2 decimals, percentiles and ages to 1; the standard named first."""
        data: dict[str, object] = {
            "standard": "WHO 2006",
            "age_months": round(self.age_months, 1),
            "chronological_age_months": round(self.chronological_age_months, 1),
            "corrected": self.corrected,
        }
        for name in ("weight_for_age", "length_for_age", "weight_for_length"):
            z = getattr(self, f"{name}_z")
            pct = getattr(self, f"{name}_percentile")
            data[f"{name}_z"] = None if z is None else round(z, 2)
            data[f"{name}_percentile"] = None if pct is None else round(pct, 1)
            data[f"{name}_category"] = getattr(self, f"{name}_category")
        return data


def who_growth(
    age_days: float,
    sex: str,
    length_cm: float | None,
    weight_kg: float | None,
    *,
    gestational_age_weeks: float | None = None,
) -> InfantGrowthResult:
    """WHO weight-for-age, length-for-age and weight-for-length for a child under 2 years.

    `age_days` is the chronological age; a child born before 37 weeks is read at the corrected
    age. Give a length, a weight or both (weight-for-length needs both and a length of 45–110 cm).
    """
    sex = _checks.sex(sex)
    length = None if length_cm is None else _checks.number(length_cm, "length", 30, 130, "cm")
    weight = None if weight_kg is None else _checks.number(weight_kg, "weight", 0.3, 40, "kg")
    chronological = _checks.number(age_days, "age", 0, 130 * 366, "days")
    if chronological >= UNDER_DAYS:
        raise ClinicalInputError(
            "The WHO standards are used under 2 years; from 2 years use the CDC 2000 charts."
        )
    if length is None and weight is None:
        raise ClinicalInputError("Give a length, a weight or both to compute growth percentiles.")
    age = age_for_growth(chronological, gestational_age_weeks)

    Found = tuple[float | None, float | None, Category | None]

    def measure(indicator: Indicator, x: float, value: float | None) -> Found:
        if value is None:
            return None, None, None
        z = who_z(indicator, sex, x, value)
        return z, _percentile(z), category(z)

    wfa = measure("weight-for-age", age.days, weight)
    lfa = measure("length-for-age", age.days, length)
    # Weight-for-length needs both, on WHO's table of recumbent lengths 45–110 cm.
    fits = length is not None and weight is not None and 45 <= length <= 110
    wfl = measure("weight-for-length", length, weight) if fits and length else (None, None, None)
    return InfantGrowthResult(
        age_months=age.months,
        chronological_age_months=age.chronological_months,
        corrected=age.corrected,
        weight_for_age_z=wfa[0],
        weight_for_age_percentile=wfa[1],
        weight_for_age_category=wfa[2],
        length_for_age_z=lfa[0],
        length_for_age_percentile=lfa[1],
        length_for_age_category=lfa[2],
        weight_for_length_z=wfl[0],
        weight_for_length_percentile=wfl[1],
        weight_for_length_category=wfl[2],
    )


def category(z: float) -> Category:
    """Low below −2 z (the 2.3rd percentile), high above +2 z (the 97.7th), else normal."""
    if z < LOW_BELOW_Z:
        return "low"
    if z > HIGH_ABOVE_Z:
        return "high"
    return "normal"


def who_lms(indicator: Indicator, sex: str, x: float) -> LMS:
    """L, M and S at an age in days (or a length in cm, for weight-for-length), interpolated."""
    xs, params = _rows(_indicator(indicator), _checks.sex(sex))
    at = _checks.finite(x, "the age or length")
    if not xs[0] <= at <= xs[-1]:
        unit = "cm" if indicator == "weight-for-length" else "days"
        raise ClinicalInputError(
            f"The WHO {indicator} table covers {xs[0]:g}–{xs[-1]:g} {unit}; got {x:g}."
        )
    i = bisect.bisect_left(xs, at)
    if xs[i] == at:
        return params[i]
    t = (at - xs[i - 1]) / (xs[i] - xs[i - 1])
    low, high = params[i - 1], params[i]
    return LMS(*(a + t * (b - a) for a, b in zip(low, high, strict=True)))


def who_z(indicator: Indicator, sex: str, x: float, value: float) -> float:
    """The WHO z-score of a measurement (kg or cm), restricted beyond ±3 SD for weights."""
    y = _checks.finite(value, "the measurement")
    if y <= 0:
        raise ClinicalInputError(f"The measurement must be above 0; got {value}.")
    lms = who_lms(indicator, sex, x)
    z = _lms_z(lms, y)
    if indicator not in _RESTRICTED or -3 <= z <= 3:
        return z
    if z > 3:
        sd3, sd2 = _lms_value(lms, 3), _lms_value(lms, 2)
        return 3 + (y - sd3) / (sd3 - sd2)
    sd3neg, sd2neg = _lms_value(lms, -3), _lms_value(lms, -2)
    return -3 + (y - sd3neg) / (sd2neg - sd3neg)


def who_value(indicator: Indicator, sex: str, x: float, z: float) -> float:
    """The measurement at a z-score: the inverse of `who_z`, WHO's straight lines beyond ±3."""
    zz = _checks.finite(z, "the z-score")
    lms = who_lms(indicator, sex, x)
    if indicator in _RESTRICTED and zz > 3:
        sd3, sd2 = _lms_value(lms, 3), _lms_value(lms, 2)
        return sd3 + (zz - 3) * (sd3 - sd2)
    if indicator in _RESTRICTED and zz < -3:
        sd3neg, sd2neg = _lms_value(lms, -3), _lms_value(lms, -2)
        return sd3neg + (zz + 3) * (sd2neg - sd3neg)
    return _lms_value(lms, zz)


def _lms_z(lms: LMS, y: float) -> float:
    L, M, S = lms
    if L == 0:
        return math.log(y / M) / S
    try:
        return math.expm1(L * math.log(y / M)) / (L * S)
    except OverflowError:
        raise ClinicalInputError(
            f"A measurement of {y:g} is far outside the WHO table; check the value and its unit."
        ) from None


def _lms_value(lms: LMS, z: float) -> float:
    L, M, S = lms
    if L == 0:
        return M * math.exp(S * z)
    base = 1 + L * S * z
    if base <= 0:
        raise ClinicalInputError(
            f"A z-score of {z:g} is beyond what the WHO table can express; use one nearer 0."
        )
    return M * math.exp(math.log(base) / L)


@functools.cache
def _rows(indicator: str, sex: str) -> tuple[tuple[float, ...], tuple[LMS, ...]]:
    from casectl.clinical._tables import read_table

    rows = [r for r in read_table("who2006", _FILES[indicator]) if _SEX_CODES[r["sex"]] == sex]
    key = "length_cm" if indicator == "weight-for-length" else "age_days"
    xs = tuple(float(r[key]) for r in rows)
    params = tuple(LMS(float(r["L"]), float(r["M"]), float(r["S"])) for r in rows)
    return xs, params


def _indicator(indicator: object) -> Indicator:
    if indicator in INDICATORS:
        return indicator
    raise ClinicalInputError(
        f"WHO indicator must be one of {', '.join(INDICATORS)}; got {indicator!r}."
    )


def _percentile(z: float) -> float:
    """Φ(z) × 100; erfc keeps precision in the upper tail."""
    return 50 * math.erfc(-z / math.sqrt(2))
