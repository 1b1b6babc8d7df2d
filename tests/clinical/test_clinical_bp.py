"""Blood-pressure categories checked against AAP 2017 Tables 3–5 and the ACC/AHA 2017 cut-offs.

Expected values come from the published tables (read straight from the CSV, not through casectl)
and from Table 3 as printed; never from numbers casectl computed.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casectl.clinical.bp import BP_CATEGORIES, BPResult, classify_bp
from casectl.clinical.errors import ClinicalInputError

TABLES_4_5 = Path(__file__).parents[2] / "casectl" / "data" / "aap2017" / "bp_tables_4_5.csv"
COLUMNS = (5, 10, 25, 50, 75, 90, 95)


def _published() -> dict[tuple[str, int, str], dict[str, float]]:
    with TABLES_4_5.open(newline="") as f:
        return {
            (row["sex"], int(row["age_y"]), row["row"]): {
                k: float(v) for k, v in row.items() if "_h" in k
            }
            for row in csv.DictReader(f)
        }


PUBLISHED = _published()


def table_3(value: float, p90: float, p95: float, p95plus12: float, measure: str) -> str:
    """Table 3, ages 1 to <13, read literally: each category is reached by its percentile range
    OR its fixed range ("whichever is lower"), and the highest category reached wins."""
    fixed = {"sbp": (120, 130, 140), "dbp": (80, 80, 90)}[measure]
    if value >= p95plus12 or value >= fixed[2]:
        return "stage2"
    if value >= p95 or value >= fixed[1]:
        return "stage1"
    if value >= p90 or value >= fixed[0]:
        return "elevated"
    return "normal"


def _cases() -> list[tuple[str, int, int, str, str]]:
    return [
        (sex, age, column, measure, row)
        for sex in ("female", "male")
        for age in range(1, 13)
        for column in COLUMNS
        for measure in ("sbp", "dbp")
        for row in ("p90", "p95", "p95plus12")
    ]


def _classify_one(sex: str, age: int, height: float, measure: str, value: int) -> str:
    if measure == "sbp":
        result = classify_bp(age, sex, height, value, 30)
        return result.systolic_category
    result = classify_bp(age, sex, height, value + 20, value)
    return result.diastolic_category


@pytest.mark.parametrize(("sex", "age", "column", "measure", "row"), _cases())
def test_every_published_threshold_and_one_below(
    sex: str, age: int, column: int, measure: str, row: str
) -> None:
    height = PUBLISHED[(sex, age, "height_cm")][f"sbp_h{column}"]
    p90, p95, p95plus12 = (
        PUBLISHED[(sex, age, r)][f"{measure}_h{column}"] for r in ("p90", "p95", "p95plus12")
    )
    value = int(PUBLISHED[(sex, age, row)][f"{measure}_h{column}"])
    at = _classify_one(sex, age, height, measure, value)
    below = _classify_one(sex, age, height, measure, value - 1)
    assert at == table_3(value, p90, p95, p95plus12, measure)
    assert below == table_3(value - 1, p90, p95, p95plus12, measure)
    # At a published threshold the reading is never below that row's category.
    row_category = {"p90": "elevated", "p95": "stage1", "p95plus12": "stage2"}[row]
    assert BP_CATEGORIES.index(at) >= BP_CATEGORIES.index(row_category)


@pytest.mark.parametrize("sex", ["female", "male"])
@pytest.mark.parametrize("age", range(1, 13))
@pytest.mark.parametrize("column", COLUMNS)
def test_the_childs_height_selects_its_column(sex: str, age: int, column: int) -> None:
    height = PUBLISHED[(sex, age, "height_cm")][f"sbp_h{column}"]
    assert classify_bp(age, sex, height, 90, 40).height_percentile == column


def test_uncapped_thresholds_step_exactly_one_category() -> None:
    # Boy, 5 y, 5th height percentile (Table 4): 104.4 cm, SBP p90/p95/p95+12 = 103/107/119, all
    # below the fixed caps, so each published value starts its category and one below is one lower.
    height = PUBLISHED[("male", 5, "height_cm")]["sbp_h5"]
    assert height == 104.4
    got = [classify_bp(5, "male", height, s, 30).systolic_category for s in (102, 103, 106, 107)]
    assert got == ["normal", "elevated", "elevated", "stage1"]
    assert classify_bp(5, "male", height, 118, 30).systolic_category == "stage1"
    assert classify_bp(5, "male", height, 119, 30).systolic_category == "stage2"


def test_worked_example_boy_10_years_at_the_50th_height_percentile() -> None:
    result = classify_bp(10, "male", 141.3, 100, 60)
    assert result.height_percentile == 50
    assert result.method == "aap2017-percentile"
    assert result.thresholds == {
        "systolic": {"elevated": 112, "stage1": 116, "stage2": 128},
        "diastolic": {"elevated": 74, "stage1": 77, "stage2": 89},
    }
    assert result.category == "normal"


def test_caps_apply_where_percentiles_exceed_the_fixed_values() -> None:
    # Boy, 12 y, 95th height percentile (Table 4): SBP p90 = 122 > 120, so elevated starts at 120;
    # DBP p95+12 = 91 > 90, so stage 2 starts at 90.
    height = PUBLISHED[("male", 12, "height_cm")]["sbp_h95"]
    assert PUBLISHED[("male", 12, "p90")]["sbp_h95"] == 122
    assert PUBLISHED[("male", 12, "p95plus12")]["dbp_h95"] == 91
    assert classify_bp(12, "male", height, 119, 30).systolic_category == "normal"
    assert classify_bp(12, "male", height, 120, 30).systolic_category == "elevated"
    assert classify_bp(12, "male", height, 130, 89).diastolic_category == "stage1"
    assert classify_bp(12, "male", height, 130, 90).diastolic_category == "stage2"
    result = classify_bp(12, "male", height, 100, 60)
    assert result.thresholds["systolic"]["elevated"] == 120
    assert result.thresholds["diastolic"]["stage2"] == 90


@pytest.mark.parametrize("sex", ["female", "male"])
@pytest.mark.parametrize("age", range(1, 13))
def test_height_between_columns_takes_the_nearest_and_a_tie_the_lower(sex: str, age: int) -> None:
    heights = [PUBLISHED[(sex, age, "height_cm")][f"sbp_h{c}"] for c in COLUMNS]
    for i in range(len(COLUMNS) - 1):
        mid = (heights[i] + heights[i + 1]) / 2
        assert classify_bp(age, sex, mid, 90, 40).height_percentile == COLUMNS[i]
        if heights[i + 1] - heights[i] > 0.02:
            assert classify_bp(age, sex, mid + 0.01, 90, 40).height_percentile == COLUMNS[i + 1]
    assert classify_bp(age, sex, heights[0] - 10, 90, 40).height_percentile == 5
    assert classify_bp(age, sex, heights[-1] + 10, 90, 40).height_percentile == 95


@pytest.mark.parametrize(
    ("systolic", "diastolic", "expected"),
    [
        (119, 79, "normal"),
        (120, 79, "elevated"),
        (121, 79, "elevated"),
        (129, 79, "elevated"),
        (130, 79, "stage1"),
        (131, 79, "stage1"),
        (119, 80, "stage1"),
        (119, 81, "stage1"),
        (139, 89, "stage1"),
        (140, 89, "stage2"),
        (141, 70, "stage2"),
        (119, 90, "stage2"),
        (125, 91, "stage2"),
    ],
)
@pytest.mark.parametrize(
    ("age", "method"),
    [
        (13, "aap2017-adolescent"),
        (15.5, "aap2017-adolescent"),
        (17.99, "aap2017-adolescent"),
        (18, "acc-aha-2017"),
        (45, "acc-aha-2017"),
    ],
)
def test_fixed_cut_offs_from_13_years(
    age: float, method: str, systolic: int, diastolic: int, expected: str
) -> None:
    result = classify_bp(age, "female", None, systolic, diastolic)
    assert result.category == expected
    assert result.method == method
    assert result.height_percentile is None


def test_the_higher_of_the_two_categories_wins() -> None:
    result = classify_bp(14, "male", None, 125, 92)
    assert (result.systolic_category, result.diastolic_category) == ("elevated", "stage2")
    assert result.category == "stage2"


def test_age_is_read_in_completed_years() -> None:
    # A boy of 12.9 years at 141.3 cm is read on the 12-year rows (Table 4), not at 13's cut-offs.
    result = classify_bp(12.9, "male", 141.3, 100, 60)
    assert result.age_years == 12
    assert result.method == "aap2017-percentile"
    assert classify_bp(1.0, "female", 80.0, 90, 40).age_years == 1


@pytest.mark.parametrize("age", [0, 0.5, 0.999])
def test_under_one_year_is_refused(age: float) -> None:
    with pytest.raises(ClinicalInputError, match="start at 1 year"):
        classify_bp(age, "male", 70, 90, 50)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((5, "male", None, 100, 60), "Height is needed"),
        ((5, "boy", 110, 100, 60), "Sex must be"),
        ((5, "male", 110, 60, 60), "must be higher than diastolic"),
        ((5, "male", 110, 60, 80), "must be higher than diastolic"),
        ((5, "male", 110, 40, 30), "Systolic pressure must be between 50 and 300"),
        ((5, "male", 110, 310, 60), "Systolic pressure must be between 50 and 300"),
        ((5, "male", 110, 100, 10), "Diastolic pressure must be between 20 and 200"),
        ((5, "male", 20, 100, 60), "Height must be between 40 and 230"),
        ((-1, "male", 110, 100, 60), "Age must be between"),
        ((float("nan"), "male", 110, 100, 60), "Age must be a finite number"),
    ],
)
def test_unusable_input_is_refused_with_one_sentence(args: tuple[object, ...], match: str) -> None:
    with pytest.raises(ClinicalInputError, match=match) as caught:
        classify_bp(*args)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.endswith(".") and "\n" not in message


def test_sex_is_accepted_in_any_letter_case() -> None:
    assert classify_bp(20, "Female", None, 110, 70).category == "normal"


def test_every_result_says_one_reading_is_not_a_diagnosis() -> None:
    child = classify_bp(8, "female", 128.0, 100, 60)
    adult = classify_bp(40, "male", None, 150, 95)
    assert "three separate visits" in child.note
    assert "not a diagnosis" in adult.note
    assert child.to_dict()["note"] == child.note


def test_to_dict_is_plain_json_data() -> None:
    data = classify_bp(10, "male", 141.3, 120, 80).to_dict()
    assert data == {
        "category": "stage1",
        "systolic_category": "stage1",
        "diastolic_category": "stage1",
        "method": "aap2017-percentile",
        "age_years": 10,
        "height_percentile": 50,
        "thresholds": {
            "systolic": {"elevated": 112, "stage1": 116, "stage2": 128},
            "diastolic": {"elevated": 74, "stage1": 77, "stage2": 89},
        },
        "note": data["note"],
        # AAP 2017 Table 11: same day above the 95th percentile + 30 mm Hg (116 + 30, 77 + 30).
        "urgent": False,
        "urgent_above": {"systolic": 146, "diastolic": 107},
    }


readings = st.integers(20, 199).flatmap(
    lambda dia: st.tuples(st.integers(max(50, dia + 1), 300), st.just(dia))
)


@given(
    age=st.floats(1, 100),
    sex=st.sampled_from(["female", "male"]),
    height=st.floats(50, 200),
    reading=readings,
    extra_systolic=st.integers(0, 100),
    extra_diastolic=st.integers(0, 100),
)
def test_a_higher_reading_never_gives_a_lower_category(
    age: float,
    sex: str,
    height: float,
    reading: tuple[int, int],
    extra_systolic: int,
    extra_diastolic: int,
) -> None:
    systolic, diastolic = reading
    higher_systolic = min(systolic + extra_systolic, 300)
    higher_diastolic = min(diastolic + extra_diastolic, 200, higher_systolic - 1)
    base = classify_bp(age, sex, height, systolic, diastolic)
    raised = classify_bp(age, sex, height, higher_systolic, higher_diastolic)
    rank = BP_CATEGORIES.index
    assert rank(raised.systolic_category) >= rank(base.systolic_category)
    assert rank(raised.diastolic_category) >= rank(base.diastolic_category)
    assert rank(raised.category) >= rank(base.category)


numbers = st.one_of(
    st.none(), st.integers(-(10**6), 10**6), st.floats(allow_nan=True, allow_infinity=True)
)


@given(
    age=numbers,
    sex=st.sampled_from(["female", "male", "", "x", "MALE"]),
    height=numbers,
    systolic=numbers,
    diastolic=numbers,
)
def test_any_numeric_input_gives_a_result_or_a_clinical_input_error(
    age: object, sex: str, height: object, systolic: object, diastolic: object
) -> None:
    try:
        result = classify_bp(age, sex, height, systolic, diastolic)  # type: ignore[arg-type]
    except ClinicalInputError:
        return
    assert isinstance(result, BPResult)
    assert result.category in BP_CATEGORIES


# --- Same-day: AAP 2017 Table 11 (">30 mm Hg above the 95th percentile, or >180/120 mm Hg in an
# adolescent"), ACC/AHA 2017 section 11.2 (">180 and/or >120 mm Hg") ---


@pytest.mark.parametrize(
    ("sex", "age", "column"),
    [(s, a, c) for s in ("female", "male") for a in range(1, 13) for c in COLUMNS],
)
def test_urgent_is_more_than_30_above_the_published_95th_percentile(
    sex: str, age: int, column: int
) -> None:
    height = PUBLISHED[(sex, age, "height_cm")][f"sbp_h{column}"]
    sbp95 = int(PUBLISHED[(sex, age, "p95")][f"sbp_h{column}"])
    dbp95 = int(PUBLISHED[(sex, age, "p95")][f"dbp_h{column}"])
    # At exactly 95th + 30 the reading is stage 2 but not yet urgent; one above, it is.
    assert not classify_bp(age, sex, height, sbp95 + 30, 40).urgent
    assert classify_bp(age, sex, height, sbp95 + 31, 40).urgent
    assert not classify_bp(age, sex, height, dbp95 + 50, dbp95 + 30).urgent
    assert classify_bp(age, sex, height, dbp95 + 51, dbp95 + 31).urgent
    assert classify_bp(age, sex, height, sbp95 + 31, 40).category == "stage2"


@pytest.mark.parametrize("age", [13, 15, 17, 18, 40, 80])
def test_urgent_from_13_years_and_in_adults_is_above_180_over_120(age: int) -> None:
    assert not classify_bp(age, "female", 165, 180, 100).urgent
    assert classify_bp(age, "female", 165, 181, 100).urgent
    assert not classify_bp(age, "male", 175, 150, 120).urgent
    assert classify_bp(age, "male", 175, 150, 121).urgent
    # The example: 190/125 is urgent; 141/91 is stage 2 and not.
    assert classify_bp(age, "male", 175, 190, 125).urgent
    low = classify_bp(age, "male", 175, 141, 91)
    assert (low.category, low.urgent) == ("stage2", False)
