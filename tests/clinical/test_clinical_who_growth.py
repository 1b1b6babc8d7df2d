"""WHO 2006 growth under 2 and corrected age, checked against WHO's published tables.

The expected values are WHO's, read from tests/clinical/data (WHO's z-score tables under 2 years
by week, by month and by length, with their L, M, S and SD3neg … SD3 columns as published, taken
from the pygrowup package; see the README there), never numbers casectl computed. Each published
SD line must come back from casectl's LMS at that age or length, in both directions, within the
tables' rounding; WHO's L, M and S must be casectl's; and beyond ±3 SD the weight indicators must
follow WHO's restricted method worked from WHO's L, M and S.
"""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casectl.clinical.corrected_age import age_for_growth
from casectl.clinical.errors import ClinicalInputError
from casectl.clinical.who_growth import (
    InfantGrowthResult,
    category,
    who_growth,
    who_lms,
    who_value,
    who_z,
)

DATA = Path(__file__).parent / "data"
PACKAGED = Path(__file__).parents[2] / "casectl" / "data" / "who2006"
INDICATORS = {"wfa": "weight-for-age", "lhfa": "length-for-age", "wfl": "weight-for-length"}
SEXES = {"1": "male", "2": "female"}
SD = {"SD3neg": -3, "SD2neg": -2, "SD1neg": -1, "SD0": 0, "SD1": 1, "SD2": 2, "SD3": 3}
# WHO's tables are by day of age; its month is 30.4375 days, its week 7.
DAYS_PER = {"week": 7.0, "month": 30.4375, "cm": 1.0}
# The SD columns are published to 0.1 kg or cm.
HALF_A_TENTH = 0.05


def _published() -> list[dict[str, str]]:
    with (DATA / "who2006_zscores.csv").open(newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


ZSCORES = _published()


def _where(row: dict[str, str]) -> tuple[str, str, float]:
    x = float(row["x"]) * DAYS_PER[row["unit"]]
    return INDICATORS[row["table"]], SEXES[row["sex"]], x  # type: ignore[return-value]


def _between_days(row: dict[str, str]) -> bool:
    # Weeks and lengths are rows of casectl's tables; a month falls between two days, where
    # casectl interpolates linearly and so can differ from WHO's monthly L, M, S in the last
    # published place (by up to 1.3 units, on the curve's bend in the first months).
    return row["unit"] == "month"


def _slack(row: dict[str, str]) -> float:
    """What one unit in the last place of WHO's L, M, S moves a value by, for monthly rows."""
    return 0.002 if _between_days(row) else 1e-9


def _published_lms(row: dict[str, str]) -> tuple[float, float, float]:
    return float(row["L"]), float(row["M"]), float(row["S"])


def _on_lms_curve(row: dict[str, str], z: float) -> float:
    # WHO 2006, chapter 7: y = M (1 + L S z)^(1/L), here from WHO's own L, M and S.
    L, M, S = _published_lms(row)
    return M * (1 + L * S * z) ** (1 / L)


def test_the_published_rows_cover_both_sexes_from_birth_to_two_years_and_45_to_110_cm() -> None:
    assert len(ZSCORES) >= 100
    assert {(r["table"], r["sex"]) for r in ZSCORES} == {(t, s) for t in INDICATORS for s in SEXES}
    for table in ("wfa", "lhfa"):
        for sex in SEXES:
            days = {_where(r)[2] for r in ZSCORES if r["table"] == table and r["sex"] == sex}
            assert min(days) == 0 and max(days) == 730.5 and len(days) >= 30
    lengths = {float(r["x"]) for r in ZSCORES if r["table"] == "wfl"}
    assert min(lengths) == 45 and max(lengths) == 110 and len(lengths) >= 100


def test_whos_l_m_and_s_are_casectls_at_every_published_row() -> None:
    for row in ZSCORES:
        indicator, sex, x = _where(row)
        got = who_lms(indicator, sex, x)  # type: ignore[arg-type]
        for column, value in zip("LMS", got, strict=True):
            published = row[column]
            last_place = 10.0 ** -len(published.partition(".")[2])
            allowed = (1.5 if _between_days(row) else 0.5) * last_place + 1e-12
            assert abs(value - float(published)) <= allowed, (row["table"], sex, row["x"], column)


def test_every_published_sd_line_comes_back_from_casectls_lms() -> None:
    for row in ZSCORES:
        indicator, sex, x = _where(row)
        for column, z in SD.items():
            got = who_value(indicator, sex, x, z)  # type: ignore[arg-type]
            allowed = HALF_A_TENTH + _slack(row)
            assert abs(got - float(row[column])) <= allowed, (row["table"], sex, row["x"], column)


def test_a_child_at_a_published_sd_line_gets_that_z_score() -> None:
    # The published value is the SD line rounded to 0.1: the line lies within 0.05 of it, so
    # the z-score of the value 0.05 below must be at most the line's, and 0.05 above at least.
    for row in ZSCORES:
        indicator, sex, x = _where(row)
        for column, z in SD.items():
            published = float(row[column])
            allowed = HALF_A_TENTH + _slack(row)
            below = who_z(indicator, sex, x, published - allowed)  # type: ignore[arg-type]
            above = who_z(indicator, sex, x, published + allowed)  # type: ignore[arg-type]
            assert below <= z <= above, (row["table"], sex, row["x"], column)


def test_beyond_3_sd_weights_count_in_steps_of_the_2_to_3_sd_distance() -> None:
    # WHO 2006, chapter 7: for the weight indicators the LMS formula holds within ±3 SD; beyond,
    # each further SD is the distance between the 2 and 3 SD values (worked here from WHO's own
    # L, M and S). The LMS curve itself would put ±4 SD elsewhere.
    for row in ZSCORES:
        if row["table"] == "lhfa":
            continue
        indicator, sex, x = _where(row)
        sd2, sd3 = _on_lms_curve(row, 2), _on_lms_curve(row, 3)
        sd2neg, sd3neg = _on_lms_curve(row, -2), _on_lms_curve(row, -3)
        for z, weight in (
            (4.0, sd3 + (sd3 - sd2)),
            (3.5, sd3 + 0.5 * (sd3 - sd2)),
            (-3.5, sd3neg - 0.5 * (sd2neg - sd3neg)),
            (-4.0, sd3neg - (sd2neg - sd3neg)),
        ):
            assert who_z(indicator, sex, x, weight) == pytest.approx(z, abs=0.002)  # type: ignore[arg-type]
            assert who_value(indicator, sex, x, z) == pytest.approx(weight, rel=1e-4)  # type: ignore[arg-type]
        # The two methods really differ here: the LMS curve's +4 SD is not read as 4.
        assert abs(who_z(indicator, sex, x, _on_lms_curve(row, 4)) - 4) > 0.05  # type: ignore[arg-type]
        # And, from the published columns alone: SD3 + (SD3 − SD2) within their rounding.
        for z, one, two in ((4, "SD3", "SD2"), (-4, "SD3neg", "SD2neg")):
            published = 2 * float(row[one]) - float(row[two])
            got = who_value(indicator, sex, x, z)  # type: ignore[arg-type]
            assert abs(got - published) <= 3 * HALF_A_TENTH + _slack(row)


def test_length_for_age_follows_the_lms_curve_beyond_3_sd() -> None:
    for row in ZSCORES:
        if row["table"] != "lhfa":
            continue
        indicator, sex, x = _where(row)
        for z in (-4.0, 4.0):
            got = who_z(indicator, sex, x, _on_lms_curve(row, z))  # type: ignore[arg-type]
            assert got == pytest.approx(z, abs=0.002)


def test_a_child_just_under_two_is_read_on_the_length_curve_not_the_height_curve() -> None:
    # Day 731 of WHO's day-by-day table is standing height, 0.7 cm shorter; WHO's 24-month
    # length row carries on the length curve. A child at WHO's 24-month median length, a few
    # hours short of two, is at the median.
    for sex in SEXES:
        row = next(
            r
            for r in ZSCORES
            if (r["table"], r["sex"], r["unit"], r["x"]) == ("lhfa", sex, "month", "24")
        )
        median = float(row["M"])
        for days in (730.0, 730.25, 730.49):
            got = who_z("length-for-age", SEXES[sex], days, median)  # type: ignore[arg-type]
            assert got == pytest.approx(0, abs=0.01), (sex, days)


def test_packaged_tables_run_from_birth_to_two_years_and_45_to_110_cm() -> None:
    for name, first, last, step in (
        ("wfa.csv", 0, 731, 1),
        ("lhfa.csv", 0, 731, 1),
        ("wfl.csv", 45.0, 110.0, 0.1),
    ):
        with (PACKAGED / name).open(newline="") as f:
            rows = list(csv.DictReader(f))
        for sex in SEXES:
            xs = [
                float(r[next(iter(r.keys() - {"sex", "L", "M", "S"}))])
                for r in rows
                if r["sex"] == sex
            ]
            assert xs[0] == first and xs[-1] == pytest.approx(last)
            assert all(b - a == pytest.approx(step) for a, b in itertools.pairwise(xs))


def test_between_two_days_lms_is_interpolated() -> None:
    low, high = who_lms("weight-for-age", "male", 100), who_lms("weight-for-age", "male", 101)
    mid = who_lms("weight-for-age", "male", 100.5)
    for a, b, m in zip(low, high, mid, strict=True):
        assert m == pytest.approx((a + b) / 2, rel=1e-12)


@pytest.mark.parametrize(
    ("z", "expected"), [(-2.01, "low"), (-2.0, "normal"), (2.0, "normal"), (2.01, "high")]
)
def test_cdc_cut_offs_on_the_who_charts_are_the_2_3rd_and_97_7th_percentiles(
    z: float, expected: str
) -> None:
    # Grummer-Strawn et al., MMWR 2010: below the 2.3rd (−2 z) low, above the 97.7th (+2 z) high.
    assert category(z) == expected


def test_who_growth_reads_a_published_median_child_at_the_median() -> None:
    # WHO's 12-month medians (the M column) for boys: a boy of 12 months is at 0 z and the 50th.
    def median(table: str) -> float:
        return float(
            next(
                r["M"]
                for r in ZSCORES
                if (r["table"], r["sex"], r["unit"], r["x"]) == (table, "1", "month", "12")
            )
        )

    result = who_growth(12 * 30.4375, "male", median("lhfa"), median("wfa"))
    assert result.weight_for_age_z == pytest.approx(0, abs=0.01)
    assert result.length_for_age_z == pytest.approx(0, abs=0.01)
    assert result.weight_for_age_percentile == pytest.approx(50, abs=0.5)
    assert result.weight_for_length_z is not None and result.corrected is False
    assert result.to_dict()["standard"] == "WHO 2006"


def test_weight_for_length_needs_a_length_on_whos_table() -> None:
    assert who_growth(10, "female", 44.9, 2.5).weight_for_length_z is None
    assert who_growth(10, "female", 45.0, 2.5).weight_for_length_z is not None
    assert who_growth(200, "female", None, 7.0).weight_for_length_z is None


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((730.5, "male", 80, 11), "from 2 years use the CDC 2000"),
        ((100, "male", None, None), "Give a length, a weight or both"),
        ((100, "other", 60, 6), "Sex must be"),
        ((100, "male", 29, 6), "Length must be between 30 and 130 cm"),
        ((100, "male", 60, 0.2), "Weight must be between 0.3 and 40 kg"),
    ],
)
def test_unusable_input_is_refused(args: tuple[object, ...], match: str) -> None:
    with pytest.raises(ClinicalInputError, match=match):
        who_growth(*args)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Corrected age (Engle 2004, AAP): chronological age less the weeks born before 40


def test_corrected_age_subtracts_the_weeks_born_before_40() -> None:
    # Born at 32 weeks, 8 weeks early: at 200 days the corrected age is 200 − 56 = 144 days.
    age = age_for_growth(200, 32)
    assert age.corrected and age.days == 144 and age.weeks_early == 8
    assert age.chronological_days == 200


@pytest.mark.parametrize(("weeks", "corrected"), [(36.9, True), (37, False), (40, False)])
def test_only_a_birth_before_37_weeks_is_corrected(weeks: float, corrected: bool) -> None:
    assert age_for_growth(300, weeks).corrected is corrected


def test_correction_stops_at_24_months_chronological() -> None:
    just_before = 24 * 30.4375 - 0.5
    assert age_for_growth(just_before, 30).corrected
    assert not age_for_growth(24 * 30.4375, 30).corrected
    assert age_for_growth(100, None).corrected is False


def test_before_term_equivalent_age_the_who_charts_do_not_apply() -> None:
    with pytest.raises(ClinicalInputError, match="preterm growth chart"):
        age_for_growth(20, 30)  # 10 weeks early, 20 days old
    assert age_for_growth(70, 30).days == 0  # exactly term-equivalent


def test_a_preterm_infant_is_read_at_the_corrected_age() -> None:
    # Born at 28 weeks (12 weeks early), 365 days old: read at day 281, where a weight equal to
    # the day-281 WHO median gives z 0; read at day 365 it would be below the median.
    median_281 = who_value("weight-for-age", "female", 281, 0)
    result = who_growth(365, "female", None, median_281, gestational_age_weeks=28)
    assert result.corrected and result.age_months == pytest.approx(281 / 30.4375)
    assert result.weight_for_age_z == pytest.approx(0, abs=1e-9)
    assert who_growth(365, "female", None, median_281).weight_for_age_z < -0.5  # type: ignore[operator]


@given(
    days=st.floats(0, 730),
    sex=st.sampled_from(["female", "male"]),
    length=st.one_of(st.none(), st.floats(30, 130)),
    weight=st.one_of(st.none(), st.floats(0.3, 40)),
    weeks=st.one_of(st.none(), st.floats(22, 44)),
)
def test_any_plausible_input_gives_a_result_or_a_clinical_input_error(
    days: float, sex: str, length: float | None, weight: float | None, weeks: float | None
) -> None:
    try:
        result = who_growth(days, sex, length, weight, gestational_age_weeks=weeks)
    except ClinicalInputError:
        return
    assert isinstance(result, InfantGrowthResult)
    for z in (result.weight_for_age_z, result.length_for_age_z, result.weight_for_length_z):
        assert z is None or math.isfinite(z)


@given(z=st.floats(-6, 6), x=st.floats(0, 730))
def test_who_value_and_who_z_are_inverses(z: float, x: float) -> None:
    for indicator in ("weight-for-age", "length-for-age"):
        try:
            value = who_value(indicator, "male", x, z)  # type: ignore[arg-type]
        except ClinicalInputError:
            continue
        if value > 0:
            assert who_z(indicator, "male", x, value) == pytest.approx(z, abs=1e-6)  # type: ignore[arg-type]
