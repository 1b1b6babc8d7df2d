"""Blood-pressure category for one reading: AAP 2017 for ages 1–17, ACC/AHA 2017 for adults.

Sources:
- Flynn JT, Kaelber DC, Baker-Smith CM, et al. Clinical Practice Guideline for Screening and
  Management of High Blood Pressure in Children and Adolescents. Pediatrics 2017;140(3):e20171904.
  Table 3 (the categories) and Tables 4–5 (BP percentiles by age, sex and height percentile),
  packaged in casectl/data/aap2017.
- Whelton PK, Carey RM, Aronow WS, et al. 2017 ACC/AHA/AAPA/ABC/ACPM/AGS/APhA/ASH/ASPC/NMA/PCNA
  Guideline for the Prevention, Detection, Evaluation, and Management of High Blood Pressure in
  Adults. Hypertension 2018;71(6):e13–e115.

One reading gives a category, never a diagnosis; every result carries that reminder in `note`.

A reading far above the stage 2 threshold is a different matter: it needs care the same day.
`urgent` marks it, by the published rules:
- AAP 2017 (Flynn et al.), Table 11 "Patient Management on the Basis of Office BP", stage 2:
  "If the patient is symptomatic or BP is >30 mm Hg above the 95th percentile (or >180/120 mm Hg
  in an adolescent), send to an ED." Ages 1–12: systolic or diastolic more than 30 mm Hg above
  the 95th percentile of Tables 4–5 (the child's height column); ages 13–17: above 180/120.
- ACC/AHA 2017 (Whelton et al.), section 11.2 "Hypertensive Crises—Emergencies and Urgencies":
  systolic >180 and/or diastolic >120 mm Hg. casectl flags the reading; whether it is an
  urgency or an emergency (acute organ damage) is a clinician's call.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from casectl.clinical import _checks
from casectl.clinical._tables import read_table
from casectl.clinical.errors import ClinicalInputError

BPCategory = Literal["normal", "elevated", "stage1", "stage2"]
BPMethod = Literal["aap2017-percentile", "aap2017-adolescent", "acc-aha-2017"]

#: Categories from lowest to highest; a reading's category is the higher of its two measures'.
BP_CATEGORIES: tuple[BPCategory, ...] = ("normal", "elevated", "stage1", "stage2")

#: The height-percentile columns of AAP 2017 Tables 4 and 5.
HEIGHT_PERCENTILES: tuple[int, ...] = (5, 10, 25, 50, 75, 90, 95)

PEDIATRIC_NOTE = (
    "One reading gives a category, not a diagnosis: hypertension is diagnosed only after "
    "elevated readings at three separate visits."
)
ADULT_NOTE = (
    "One reading gives a category, not a diagnosis: ACC/AHA 2017 bases the category on the "
    "average of two or more readings taken on two or more occasions."
)

# Same-day thresholds: AAP 2017 Table 11 (">30 mm Hg above the 95th percentile", ">180/120 in an
# adolescent") and ACC/AHA 2017 section 11.2 (">180 and/or >120"). A reading must exceed them.
URGENT_ABOVE_P95 = 30
_URGENT_FIXED: dict[str, int] = {"systolic": 180, "diastolic": 120}

# Fixed cut-offs (mm Hg) for ages 13 and over (AAP 2017 Table 3) and for adults (ACC/AHA 2017):
# normal <120/<80, elevated 120–129/<80, stage 1 130–139 or 80–89, stage 2 ≥140 or ≥90.
# Diastolic pressure has no elevated band, so its "elevated" start equals its stage 1 start.
_FIXED_THRESHOLDS: dict[str, dict[str, int]] = {
    "systolic": {"elevated": 120, "stage1": 130, "stage2": 140},
    "diastolic": {"elevated": 80, "stage1": 80, "stage2": 90},
}


@dataclass(frozen=True)
class BPResult:
    """The category of one blood-pressure reading, with the cut-offs that produced it.

    `thresholds` gives, for "systolic" and "diastolic", the reading (mm Hg) at which each category
    starts; where "elevated" and "stage1" start at the same value that measure has no elevated band.
    `height_percentile` is the Table 4/5 column used (ages 1–12 only).
    """

    category: BPCategory
    systolic_category: BPCategory
    diastolic_category: BPCategory
    method: BPMethod
    age_years: int
    height_percentile: int | None
    thresholds: dict[str, dict[str, int]]
    note: str
    #: More than `urgent_above` mm Hg (systolic, diastolic): same-day evaluation (see module doc).
    urgent: bool = False
    urgent_above: dict[str, int] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """Return the result as plain JSON-ready data."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class _AgeSexRows:
    """Tables 4/5 for one age and sex: heights by column, and BP rows by (measure, row name)."""

    height_cm: tuple[float, ...]
    mm_hg: dict[tuple[str, str], tuple[int, ...]]


@functools.cache
def _percentile_tables() -> dict[tuple[str, int], _AgeSexRows]:
    heights: dict[tuple[str, int], tuple[float, ...]] = {}
    mm_hg: dict[tuple[str, int], dict[tuple[str, str], tuple[int, ...]]] = {}
    for row in read_table("aap2017", "bp_tables_4_5.csv"):
        key = (row["sex"], int(row["age_y"]))
        if row["row"] == "height_cm":
            heights[key] = tuple(float(row[f"sbp_h{h}"]) for h in HEIGHT_PERCENTILES)
        elif row["row"] != "height_in":
            for measure in ("sbp", "dbp"):
                values = tuple(int(row[f"{measure}_h{h}"]) for h in HEIGHT_PERCENTILES)
                mm_hg.setdefault(key, {})[(measure, row["row"])] = values
    return {key: _AgeSexRows(heights[key], mm_hg[key]) for key in heights}


def classify_bp(
    age_years: float, sex: str, height_cm: float | None, systolic: int, diastolic: int
) -> BPResult:
    """Classify one reading (mm Hg) as normal, elevated, stage 1 or stage 2.

    Ages 1–12 use AAP 2017 percentiles (height needed), 13–17 AAP 2017 fixed cut-offs, 18 and over
    ACC/AHA 2017. Raises ClinicalInputError for input it cannot classify.
    """
    age = _checks.number(age_years, "age", 0, 130, "years")
    sex = _checks.sex(sex)
    sbp = _checks.number(systolic, "systolic pressure", 50, 300, "mm Hg")
    dbp = _checks.number(diastolic, "diastolic pressure", 20, 200, "mm Hg")
    if sbp <= dbp:
        raise ClinicalInputError(
            f"Systolic pressure ({systolic}) must be higher than diastolic ({diastolic}); "
            "check the reading was entered the right way round."
        )
    height = None if height_cm is None else _checks.number(height_cm, "height", 40, 230, "cm")

    # The tables are indexed by completed years: a child of 12.9 is read on the 12-year rows.
    years = math.floor(age)
    if years < 1:
        raise ClinicalInputError(
            "Blood-pressure tables start at 1 year; for infants use a clinician's assessment."
        )

    method: BPMethod
    column: int | None = None
    if years <= 12:
        if height is None:
            raise ClinicalInputError(
                "Height is needed to classify blood pressure at ages 1–12; "
                "measure the child's height and try again."
            )
        column, thresholds = _percentile_thresholds(sex, years, height)
        method = "aap2017-percentile"
        rows = _percentile_tables()[(sex, years)]
        at = HEIGHT_PERCENTILES.index(column)
        urgent_above = {
            "systolic": rows.mm_hg[("sbp", "p95")][at] + URGENT_ABOVE_P95,
            "diastolic": rows.mm_hg[("dbp", "p95")][at] + URGENT_ABOVE_P95,
        }
    else:
        thresholds = {measure: dict(cuts) for measure, cuts in _FIXED_THRESHOLDS.items()}
        method = "aap2017-adolescent" if years <= 17 else "acc-aha-2017"
        urgent_above = dict(_URGENT_FIXED)

    systolic_category = _category(sbp, thresholds["systolic"])
    diastolic_category = _category(dbp, thresholds["diastolic"])
    category = max(systolic_category, diastolic_category, key=BP_CATEGORIES.index)
    return BPResult(
        category=category,
        systolic_category=systolic_category,
        diastolic_category=diastolic_category,
        method=method,
        age_years=years,
        height_percentile=column,
        thresholds=thresholds,
        note=ADULT_NOTE if method == "acc-aha-2017" else PEDIATRIC_NOTE,
        urgent=sbp > urgent_above["systolic"] or dbp > urgent_above["diastolic"],
        urgent_above=urgent_above,
    )


def _percentile_thresholds(
    sex: str, years: int, height: float
) -> tuple[int, dict[str, dict[str, int]]]:
    """Return the height column used and the category starts for a child aged 1–12."""
    rows = _percentile_tables()[(sex, years)]
    # The nearest listed height chooses the column; heights beyond either end of the table land
    # on the end column. Distances are rounded to 0.001 cm so float noise cannot break a tie, and
    # on a tie min() keeps the first, the lower percentile.
    index = min(
        range(len(HEIGHT_PERCENTILES)), key=lambda i: round(abs(rows.height_cm[i] - height), 3)
    )

    def at(measure: str, row: str) -> int:
        return rows.mm_hg[(measure, row)][index]

    # AAP 2017 Table 3, ages 1 to <13, reads each category as a percentile range "or" a fixed
    # range, "whichever is lower". A category therefore starts at the lower of its two starts:
    #   elevated: ≥90th percentile, or ≥120/80          -> starts at min(p90, 120) / min(p90, 80)
    #   stage 1:  ≥95th percentile, or ≥130/80          -> starts at min(p95, 130) / min(p95, 80)
    #   stage 2:  ≥95th percentile + 12, or ≥140/90     -> min(p95+12, 140) / min(p95+12, 90)
    # Diastolic 80 is both the fixed start of "elevated" and of stage 1; stage 1 is the higher
    # category, so a diastolic of 80 or more is at least stage 1. Because p90 ≤ p95 ≤ p95+12 in
    # every row, the starts never decrease from one category to the next.
    thresholds = {
        "systolic": {
            "elevated": min(at("sbp", "p90"), 120),
            "stage1": min(at("sbp", "p95"), 130),
            "stage2": min(at("sbp", "p95plus12"), 140),
        },
        "diastolic": {
            "elevated": min(at("dbp", "p90"), 80),
            "stage1": min(at("dbp", "p95"), 80),
            "stage2": min(at("dbp", "p95plus12"), 90),
        },
    }
    return HEIGHT_PERCENTILES[index], thresholds


def _category(value: float, starts: Mapping[str, int]) -> BPCategory:
    """Return the highest category whose start the value reaches."""
    for category in reversed(BP_CATEGORIES[1:]):
        if value >= starts[category]:
            return category
    return "normal"
