"""Growth percentiles checked against the CDC 2000 percentile files (statage, wtage, bmiagerev).

Every published P column must come back from its row's LMS values, in both directions; the
expected values are CDC's, read straight from the CSV, never numbers casectl computed.
"""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path
from statistics import NormalDist

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casectl.clinical import growth as growth_module
from casectl.clinical.errors import ClinicalInputError
from casectl.clinical.growth import (
    BMI_CATEGORIES,
    LMS,
    GrowthResult,
    growth,
    lms_at,
    lms_value,
    lms_z,
)

CDC = Path(__file__).parents[2] / "casectl" / "data" / "cdc2000"
FILES = {"height": "statage.csv", "weight": "wtage.csv", "bmi": "bmiagerev.csv"}
SEXES = {"1": "male", "2": "female"}
PHI_INV = NormalDist().inv_cdf
PHI = NormalDist().cdf


def _rows(table: str) -> list[dict[str, str]]:
    with (CDC / FILES[table]).open(newline="") as f:
        # bmiagerev.csv repeats its header line before the girls' rows.
        return [row for row in csv.DictReader(f) if row["Sex"] != "Sex"]


ROWS = {table: _rows(table) for table in FILES}


def _percentile_columns(row: dict[str, str]) -> list[tuple[int, float]]:
    return [(int(k[1:]), float(v)) for k, v in row.items() if k.startswith("P")]


@pytest.mark.parametrize("table", list(FILES))
def test_every_published_percentile_comes_back_from_its_rows_lms(table: str) -> None:
    checked = 0
    for row in ROWS[table]:
        sex, months = SEXES[row["Sex"]], float(row["Agemos"])
        for p, published in _percentile_columns(row):
            value = lms_value(table, sex, months, PHI_INV(p / 100))  # type: ignore[arg-type]
            assert value == pytest.approx(published, rel=1e-6), (row["Sex"], months, p)
            z = lms_z(table, sex, months, published)  # type: ignore[arg-type]
            assert PHI(z) == pytest.approx(p / 100, abs=1e-6), (row["Sex"], months, p)
            checked += 1
    assert checked == len(ROWS[table]) * len(_percentile_columns(ROWS[table][0]))


@pytest.mark.parametrize("table", list(FILES))
def test_lms_at_a_row_age_is_that_rows_lms(table: str) -> None:
    for row in ROWS[table]:
        got = lms_at(table, SEXES[row["Sex"]], float(row["Agemos"]))  # type: ignore[arg-type]
        assert got == LMS(float(row["L"]), float(row["M"]), float(row["S"]))


@pytest.mark.parametrize("table", list(FILES))
def test_midway_between_two_rows_lms_lies_between_them(table: str) -> None:
    rows = ROWS[table]
    for before, after in itertools.pairwise(rows):
        if before["Sex"] != after["Sex"]:
            continue
        mid = (float(before["Agemos"]) + float(after["Agemos"])) / 2
        got = lms_at(table, SEXES[before["Sex"]], mid)  # type: ignore[arg-type]
        for name, value in zip("LMS", got, strict=True):
            low, high = sorted((float(before[name]), float(after[name])))
            assert low <= value <= high
            assert value == pytest.approx((low + high) / 2, rel=1e-12)


@pytest.mark.parametrize("table", ["height", "weight"])
def test_a_child_at_a_published_percentile_gets_that_percentile(table: str) -> None:
    for row in ROWS[table][::7]:
        sex, months = SEXES[row["Sex"]], float(row["Agemos"])
        for p, published in _percentile_columns(row):
            if table == "height":
                result = growth(months / 12, sex, published, None)
                assert result.height_percentile == pytest.approx(p, abs=1e-4)
                assert result.weight_percentile is None
            else:
                result = growth(months / 12, sex, None, published)
                assert result.weight_percentile == pytest.approx(p, abs=1e-4)
                assert result.height_percentile is None
            assert result.bmi is None and result.bmi_category is None


def _bmi_rows() -> list[dict[str, str]]:
    # growth() covers ages 2–20 years: every BMI row up to 240 months.
    return [row for row in ROWS["bmi"] if float(row["Agemos"]) <= 240]


def _category_at(row: dict[str, str], bmi: float) -> str | None:
    # A height of 100 cm makes the BMI equal to the weight in kilograms.
    return growth(float(row["Agemos"]) / 12, SEXES[row["Sex"]], 100.0, bmi).bmi_category


def test_bmi_categories_change_at_the_published_5th_85th_and_95th_percentiles() -> None:
    eps = 1e-6
    for row in _bmi_rows():
        p5, p85, p95 = float(row["P5"]), float(row["P85"]), float(row["P95"])
        assert _category_at(row, p5 * (1 - eps)) == "underweight"
        assert _category_at(row, p5 * (1 + eps)) == "healthy"
        assert _category_at(row, p85 * (1 - eps)) == "healthy"
        assert _category_at(row, p85 * (1 + eps)) == "overweight"
        assert _category_at(row, p95 * (1 - eps)) == "overweight"
        assert _category_at(row, p95 * (1 + eps)) == "obesity"


def test_severe_obesity_starts_at_120_percent_of_the_published_95th_percentile() -> None:
    eps = 1e-6
    for row in _bmi_rows():
        threshold = 1.2 * float(row["P95"])
        assert _category_at(row, threshold * (1 - eps)) == "obesity"
        assert _category_at(row, threshold * (1 + eps)) == "severe-obesity"
        result = growth(float(row["Agemos"]) / 12, SEXES[row["Sex"]], 100.0, threshold)
        assert result.bmi_pct_of_p95 == pytest.approx(120, rel=1e-6)


def test_bmi_is_weight_over_height_in_metres_squared() -> None:
    # 35 kg / (1.40 m)² = 17.857… kg/m² (by hand).
    result = growth(10, "female", 140, 35)
    assert result.bmi == pytest.approx(35 / 1.96)
    assert result.age_months == 120
    assert result.bmi_category in BMI_CATEGORIES
    assert result.to_dict()["bmi"] == 17.9


def test_a_19_and_a_half_year_old_still_gets_the_pediatric_category() -> None:
    row = next(r for r in ROWS["bmi"] if r["Sex"] == "2" and r["Agemos"] == "234.5")
    result = growth(234.5 / 12, "female", 100.0, float(row["P50"]))
    assert result.bmi_category == "healthy"
    assert result.bmi_percentile == pytest.approx(50, abs=1e-4)


def test_the_l_equal_zero_case_uses_the_log_formula(monkeypatch: pytest.MonkeyPatch) -> None:
    # No CDC row has L = 0, so pin L, M, S: with L = 0, M = 20, S = 0.1, a value of 20·e^0.1 is
    # z = ln(e^0.1)/0.1 = 1 by hand, and z = −2 is 20·e^−0.2.
    monkeypatch.setattr(growth_module, "lms_at", lambda *_: LMS(0.0, 20.0, 0.1))
    assert lms_z("bmi", "male", 100, 20 * math.exp(0.1)) == pytest.approx(1)
    assert lms_value("bmi", "male", 100, -2) == pytest.approx(20 * math.exp(-0.2))


@pytest.mark.parametrize("age", [0, 1, 1.99])
def test_under_two_is_refused_and_points_to_the_who_charts(age: float) -> None:
    with pytest.raises(ClinicalInputError, match="WHO growth charts under 2"):
        growth(age, "male", 80, 11)


def test_lms_helpers_refuse_ages_outside_the_tables() -> None:
    with pytest.raises(ClinicalInputError, match="WHO"):
        lms_at("height", "male", 23.5)
    with pytest.raises(ClinicalInputError, match="ends at 240 months"):
        lms_at("height", "male", 240.5)
    last_boys_row = ROWS["bmi"][218]
    assert last_boys_row["Agemos"] == "240.5"
    published_m = float(last_boys_row["M"])
    assert published_m == lms_at("bmi", "male", 240.5).M


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((20.01, "male", 170, 70), "end at 20 years"),
        ((10, "male", None, None), "Give a height, a weight or both"),
        ((10, "male", 39.9, 30), "Height must be between 40 and 230 cm"),
        ((10, "male", 230.1, 30), "Height must be between 40 and 230 cm"),
        ((10, "male", 140, 1.9), "Weight must be between 2 and 300 kg"),
        ((10, "male", 140, 300.1), "Weight must be between 2 and 300 kg"),
        ((10, "other", 140, 30), "Sex must be"),
        ((float("inf"), "male", 140, 30), "Age must be a finite number"),
    ],
)
def test_unusable_input_is_refused(args: tuple[object, ...], match: str) -> None:
    with pytest.raises(ClinicalInputError, match=match):
        growth(*args)  # type: ignore[arg-type]


def test_lms_helpers_refuse_values_the_table_cannot_express() -> None:
    # BMI at 24 months, boys: L ≈ −2.01, S ≈ 0.081, so 1 + L·S·z ≤ 0 once z ≥ about 6.2.
    with pytest.raises(ClinicalInputError, match="z-score"):
        lms_value("bmi", "male", 24, 7)
    # Stature, boys at 184.5 months: L ≈ 2.24, so (x/M)^L overflows a float for x = 1e300.
    with pytest.raises(ClinicalInputError, match="far outside"):
        lms_z("height", "male", 184.5, 1e300)
    with pytest.raises(ClinicalInputError, match="above 0"):
        lms_z("height", "male", 184.5, 0)
    with pytest.raises(ClinicalInputError, match="Growth table must be"):
        lms_value("length", "male", 24, 0)  # type: ignore[arg-type]


def test_missing_measures_give_none() -> None:
    result = growth(8, "male", None, 25)
    assert result.weight_z is not None
    assert (result.height_z, result.bmi, result.bmi_z, result.bmi_pct_of_p95) == (
        None,
        None,
        None,
        None,
    )
    assert result.to_dict()["height_percentile"] is None


@given(
    age=st.floats(2, 20),
    sex=st.sampled_from(["female", "male"]),
    height=st.floats(80, 200),
    weight=st.floats(10, 150),
    extra=st.floats(0, 100),
)
def test_more_weight_at_the_same_height_never_gives_a_lower_bmi_category(
    age: float, sex: str, height: float, weight: float, extra: float
) -> None:
    before = growth(age, sex, height, weight).bmi_category
    after = growth(age, sex, height, min(weight + extra, 300)).bmi_category
    assert before is not None and after is not None
    assert BMI_CATEGORIES.index(after) >= BMI_CATEGORIES.index(before)


numbers = st.one_of(
    st.none(), st.integers(-(10**6), 10**6), st.floats(allow_nan=True, allow_infinity=True)
)


@given(age=numbers, sex=st.sampled_from(["female", "male", "f"]), height=numbers, weight=numbers)
def test_any_numeric_input_gives_a_result_or_a_clinical_input_error(
    age: object, sex: str, height: object, weight: object
) -> None:
    try:
        result = growth(age, sex, height, weight)  # type: ignore[arg-type]
    except ClinicalInputError:
        return
    assert isinstance(result, GrowthResult)


@given(
    table=st.sampled_from(["height", "weight", "bmi"]),
    months=numbers,
    value=numbers,
)
def test_lms_helpers_raise_only_clinical_input_errors(
    table: str, months: object, value: object
) -> None:
    for helper in (lms_z, lms_value):
        try:
            result = helper(table, "male", months, value)  # type: ignore[arg-type]
        except ClinicalInputError:
            continue
        assert math.isfinite(result)
