"""Growth percentiles and BMI category for ages 2 to 20 from the CDC 2000 growth charts.

Sources:
- Kuczmarski RJ, Ogden CL, Guo SS, et al. 2000 CDC Growth Charts for the United States: Methods
  and Development. Vital Health Stat 11. 2002;(246). LMS tables packaged in casectl/data/cdc2000.
- Cole TJ. The LMS method for constructing normalized growth standards. Eur J Clin Nutr
  1990;44(1):45–60.
- CDC BMI-for-age categories (ages 2–19): underweight <5th percentile, healthy 5th to <85th,
  overweight 85th to <95th, obesity ≥95th, severe obesity ≥120% of the 95th percentile.

Under 2 years CDC recommends the WHO growth charts, which casectl does not include.
"""

from __future__ import annotations

import bisect
import functools
import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

from casectl.clinical import _checks
from casectl.clinical._tables import read_table
from casectl.clinical.errors import ClinicalInputError

Table = Literal["height", "weight", "bmi"]
BMICategory = Literal["underweight", "healthy", "overweight", "obesity", "severe-obesity"]

#: BMI categories from lowest to highest.
BMI_CATEGORIES: tuple[BMICategory, ...] = (
    "underweight",
    "healthy",
    "overweight",
    "obesity",
    "severe-obesity",
)

_FILES: dict[str, str] = {"height": "statage.csv", "weight": "wtage.csv", "bmi": "bmiagerev.csv"}
_TABLE_NAMES: dict[str, str] = {
    "height": "stature-for-age",
    "weight": "weight-for-age",
    "bmi": "BMI-for-age",
}
_CDC_SEX_CODES: dict[str, str] = {"1": "male", "2": "female"}

UNDER_TWO_MESSAGE = (
    "CDC recommends the WHO growth charts under 2 years, which casectl does not include; "
    "plot this child on a WHO chart instead."
)


class LMS(NamedTuple):
    """The LMS parameters of one table at one age: Box-Cox power, median and coefficient of variation."""

    L: float
    M: float
    S: float


@dataclass(frozen=True)
class GrowthResult:
    """Percentiles for the measures given; a field is None when its measure was not given.

    z-scores and percentiles are exact here; `to_dict` rounds them for display (the category is
    always decided on the unrounded values).
    """

    age_months: float
    bmi: float | None
    bmi_z: float | None
    bmi_percentile: float | None
    bmi_category: BMICategory | None
    bmi_pct_of_p95: float | None
    height_z: float | None
    height_percentile: float | None
    weight_z: float | None
    weight_percentile: float | None

    def to_dict(self) -> dict[str, object]:
        """Return the result as JSON-ready data: z to 2 decimals; BMI, percentiles, age to 1."""
        return {
            "age_months": round(self.age_months, 1),
            "bmi": _round(self.bmi, 1),
            "bmi_z": _round(self.bmi_z, 2),
            "bmi_percentile": _round(self.bmi_percentile, 1),
            "bmi_category": self.bmi_category,
            "bmi_pct_of_p95": _round(self.bmi_pct_of_p95, 1),
            "height_z": _round(self.height_z, 2),
            "height_percentile": _round(self.height_percentile, 1),
            "weight_z": _round(self.weight_z, 2),
            "weight_percentile": _round(self.weight_percentile, 1),
        }


def growth(
    age_years: float, sex: str, height_cm: float | None, weight_kg: float | None
) -> GrowthResult:
    """Compute height, weight and BMI percentiles and the BMI category for ages 2 to 20.

    Give a height, a weight or both; BMI needs both. Raises ClinicalInputError otherwise.
    """
    age = _checks.number(age_years, "age", 0, 130, "years")
    sex = _checks.sex(sex)
    height = None if height_cm is None else _checks.number(height_cm, "height", 40, 230, "cm")
    weight = None if weight_kg is None else _checks.number(weight_kg, "weight", 2, 300, "kg")
    if age < 2:
        raise ClinicalInputError(UNDER_TWO_MESSAGE)
    if age > 20:
        raise ClinicalInputError(
            "The CDC growth charts end at 20 years; use adult BMI categories for this person."
        )
    if height is None and weight is None:
        raise ClinicalInputError("Give a height, a weight or both to compute growth percentiles.")

    months = age * 12
    height_z = None if height is None else lms_z("height", sex, months, height)
    weight_z = None if weight is None else lms_z("weight", sex, months, weight)
    bmi = bmi_z = pct_of_p95 = None
    category: BMICategory | None = None
    if height is not None and weight is not None:
        bmi = weight / (height / 100) ** 2
        bmi_z = lms_z("bmi", sex, months, bmi)
        category, pct_of_p95 = _bmi_category(sex, months, bmi)
    return GrowthResult(
        age_months=months,
        bmi=bmi,
        bmi_z=bmi_z,
        bmi_percentile=_percentile(bmi_z),
        bmi_category=category,
        bmi_pct_of_p95=pct_of_p95,
        height_z=height_z,
        height_percentile=_percentile(height_z),
        weight_z=weight_z,
        weight_percentile=_percentile(weight_z),
    )


def lms_at(table: Table, sex: str, age_months: float) -> LMS:
    """Return L, M and S for a table at an age, interpolated linearly between the nearest rows."""
    ages, params = _lms_rows(_table(table), _checks.sex(sex))
    months = _checks.number(age_months, "age in months", 0, 130 * 12)
    if months < ages[0]:
        raise ClinicalInputError(UNDER_TWO_MESSAGE)
    if months > ages[-1]:
        raise ClinicalInputError(
            f"The CDC {_TABLE_NAMES[table]} table ends at {ages[-1]:g} months; "
            "use adult measures for this person."
        )
    i = bisect.bisect_left(ages, months)
    if ages[i] == months:
        return params[i]
    t = (months - ages[i - 1]) / (ages[i] - ages[i - 1])
    low, high = params[i - 1], params[i]
    return LMS(*(a + t * (b - a) for a, b in zip(low, high, strict=True)))


def lms_z(table: Table, sex: str, age_months: float, value: float) -> float:
    """Return the z-score of a measurement (cm, kg or kg/m²) by the LMS formula."""
    x = _checks.finite(value, "the measurement")
    if x <= 0:
        raise ClinicalInputError(f"The measurement must be above 0; got {value}.")
    L, M, S = lms_at(table, sex, age_months)
    if L == 0:
        return math.log(x / M) / S
    try:
        # ((x/M)^L − 1) / (L·S), written with expm1 so that L near 0 loses no precision.
        return math.expm1(L * math.log(x / M)) / (L * S)
    except OverflowError:
        raise ClinicalInputError(
            f"A measurement of {value} is far outside the CDC {_TABLE_NAMES[table]} table; "
            "check the value and its unit."
        ) from None


def lms_value(table: Table, sex: str, age_months: float, z: float) -> float:
    """Return the measurement at a z-score by the inverse LMS formula, M·(1 + L·S·z)^(1/L)."""
    zz = _checks.finite(z, "the z-score")
    L, M, S = lms_at(table, sex, age_months)
    try:
        if L == 0:
            return M * math.exp(S * zz)
        base = 1 + L * S * zz
        if base <= 0:
            raise ValueError
        return M * math.exp(math.log1p(L * S * zz) / L)
    except (ValueError, OverflowError):
        raise ClinicalInputError(
            f"A z-score of {z} is beyond what the CDC {_TABLE_NAMES[table]} table can express; "
            "use a z-score nearer 0."
        ) from None


def _bmi_category(sex: str, months: float, bmi: float) -> tuple[BMICategory, float]:
    """Return the CDC BMI category and BMI as a percentage of the 95th percentile.

    CDC defines these categories for ages 2–19, counted in completed years, so they run up to the
    20th birthday, where the BMI-for-age chart ends; someone aged 19.5 still gets the pediatric
    category from the table. Cut-offs are BMI values from the inverse LMS formula at the exact
    normal quantiles, so BMI is compared on the chart's own scale.
    """
    p5, p85, p95 = (lms_value("bmi", sex, months, _z_for(p)) for p in (0.05, 0.85, 0.95))
    pct_of_p95 = 100 * bmi / p95
    category: BMICategory
    if bmi >= 1.2 * p95:
        category = "severe-obesity"
    elif bmi >= p95:
        category = "obesity"
    elif bmi >= p85:
        category = "overweight"
    elif bmi >= p5:
        category = "healthy"
    else:
        category = "underweight"
    return category, pct_of_p95


@functools.cache
def _lms_rows(table: str, sex: str) -> tuple[tuple[float, ...], tuple[LMS, ...]]:
    rows = [r for r in read_table("cdc2000", _FILES[table]) if _CDC_SEX_CODES[r["Sex"]] == sex]
    ages = tuple(float(r["Agemos"]) for r in rows)
    params = tuple(LMS(float(r["L"]), float(r["M"]), float(r["S"])) for r in rows)
    return ages, params


@functools.cache
def _z_for(probability: float) -> float:
    # statistics is imported here, not at the top, to keep importing this module cheap.
    from statistics import NormalDist

    return NormalDist().inv_cdf(probability)


def _table(table: object) -> Table:
    if table in ("height", "weight", "bmi"):
        return table
    raise ClinicalInputError(f"Growth table must be 'height', 'weight' or 'bmi'; got {table!r}.")


def _percentile(z: float | None) -> float | None:
    """Φ(z) × 100; erfc keeps precision in the upper tail."""
    return None if z is None else 50 * math.erfc(-z / math.sqrt(2))


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
