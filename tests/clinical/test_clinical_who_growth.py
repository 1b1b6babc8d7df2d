"""WHO 2006 growth under 2 and corrected age, checked against WHO's published tables.

The expected values are WHO's, read from tests/clinical/data (rows of WHO's expanded z-score and
percentile tables at several ages and lengths, 3 decimals as published), never numbers casectl
computed. Each published value must come back from the packaged LMS row of that day or length,
in both directions; the SD4 columns also pin WHO's restricted z-score beyond ±3 SD.
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
SD = {"SD4neg": -4, "SD3neg": -3, "SD2neg": -2, "SD1neg": -1, "SD0": 0}
SD.update({"SD1": 1, "SD2": 2, "SD3": 3, "SD4": 4})
PHI_INV = NormalDist().inv_cdf
# The tables are published to 3 decimals.
HALF_A_UNIT = 0.0005 + 1e-9


def _published(kind: str) -> list[dict[str, str]]:
    with (DATA / f"who2006_{kind}.csv").open(newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


ZSCORES = _published("zscores")
PERCENTILES = _published("percentiles")


def _where(row: dict[str, str]) -> tuple[str, str, float]:
    return INDICATORS[row["table"]], SEXES[row["sex"]], float(row["x"])  # type: ignore[return-value]


def _probability(column: str) -> float:
    return {"P01": 0.001, "P999": 0.999}.get(column, float(column[1:]) / 100)


def test_the_published_rows_cover_several_ages_lengths_and_both_sexes() -> None:
    for rows in (ZSCORES, PERCENTILES):
        assert {(r["table"], r["sex"]) for r in rows} == {(t, s) for t in INDICATORS for s in SEXES}
        ages = {float(r["x"]) for r in rows if r["table"] != "wfl"}
        assert {0, 365, 730} <= ages and len(ages) >= 10
        assert len({float(r["x"]) for r in rows if r["table"] == "wfl"}) >= 10


def test_every_published_z_score_column_comes_back_from_its_rows_lms() -> None:
    for row in ZSCORES:
        indicator, sex, x = _where(row)
        for column, z in SD.items():
            published = float(row[column])
            got = who_value(indicator, sex, x, z)  # type: ignore[arg-type]
            assert abs(got - published) <= HALF_A_UNIT, (row["table"], sex, x, column)


def test_a_child_at_a_published_sd_line_gets_that_z_score() -> None:
    for row in ZSCORES:
        indicator, sex, x = _where(row)
        for column, z in SD.items():
            got = who_z(indicator, sex, x, float(row[column]))  # type: ignore[arg-type]
            # 0.0005 in the value is at most about 0.03 z on the steepest rows.
            assert got == pytest.approx(z, abs=0.03), (row["table"], sex, x, column)


def test_beyond_3_sd_weights_count_in_steps_of_the_2_to_3_sd_distance() -> None:
    # WHO's SD4 columns are SD3 + (SD3 − SD2) for the weight tables: the restricted method, not
    # the LMS curve, which would put SD4 elsewhere.
    for row in ZSCORES:
        if row["table"] == "lhfa":
            continue
        sd2, sd3, sd4 = (float(row[c]) for c in ("SD2", "SD3", "SD4"))
        assert sd4 == pytest.approx(2 * sd3 - sd2, abs=0.0015)
        indicator, sex, x = _where(row)
        L, M, S = who_lms(indicator, sex, x)  # type: ignore[arg-type]
        lms_curve = M * (1 + L * S * 4) ** (1 / L)
        assert abs(lms_curve - sd4) > 0.001  # the two methods really differ here
        assert who_z(indicator, sex, x, sd4) == pytest.approx(4, abs=0.01)  # type: ignore[arg-type]


def test_every_published_percentile_within_3_sd_comes_back_from_its_rows_lms() -> None:
    for row in PERCENTILES:
        indicator, sex, x = _where(row)
        for column in row:
            if not column.startswith("P"):
                continue
            published = float(row[column])
            z = PHI_INV(_probability(column))
            if abs(z) <= 3:
                got = who_value(indicator, sex, x, z)  # type: ignore[arg-type]
            else:
                # WHO draws its 0.1st and 99.9th centiles on the LMS curve itself.
                L, M, S = who_lms(indicator, sex, x)  # type: ignore[arg-type]
                got = M * (1 + L * S * z) ** (1 / L)
            assert abs(got - published) <= HALF_A_UNIT, (row["table"], sex, x, column)


def test_the_packaged_lms_rows_are_the_published_ones() -> None:
    # The z-score and percentile tables repeat the L, M, S columns; the fixture keeps the values.
    for row in ZSCORES:
        indicator, sex, x = _where(row)
        L, M, S = who_lms(indicator, sex, x)  # type: ignore[arg-type]
        assert who_value(indicator, sex, x, 0) == pytest.approx(float(row["SD0"]), abs=HALF_A_UNIT)  # type: ignore[arg-type]
        assert pytest.approx(float(row["SD0"]), abs=HALF_A_UNIT) == M
        assert L != 0 and S > 0


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
    row = next(r for r in ZSCORES if r["table"] == "wfa" and r["sex"] == "1" and r["x"] == "365")
    length = next(
        r for r in ZSCORES if r["table"] == "lhfa" and r["sex"] == "1" and r["x"] == "365"
    )
    result = who_growth(365, "male", float(length["SD0"]), float(row["SD0"]))
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
