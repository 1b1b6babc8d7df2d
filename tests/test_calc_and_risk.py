"""`calc` through the CLI, instruments given at a terminal, and the risk tier built from
published categories (AAP 2017, CDC 2000, PHQ-9) with the config's points."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from casectl.cli.app import app
from casectl.errors import ExitStatus
from tests.conftest import Cli, open_case

runner = CliRunner()


def calc(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["calc", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_calc_bp_reproduces_the_worked_example() -> None:
    # Flynn et al. 2017, Table 4: boy, 10 y, 50th height percentile (141.3 cm):
    # SBP 90th/95th/95th+12 = 112/116/128, DBP 74/77/89.
    data = calc(
        "bp",
        "--age",
        "10.4",
        "--sex",
        "male",
        "--height-cm",
        "141.3",
        "--systolic",
        "116",
        "--diastolic",
        "70",
    )
    assert data["category"] == "stage1" and data["height_percentile"] == 50
    assert data["thresholds"]["systolic"] == {"elevated": 112, "stage1": 116, "stage2": 128}
    assert data["thresholds"]["diastolic"] == {"elevated": 74, "stage1": 77, "stage2": 89}
    assert "not a diagnosis" in data["note"]


def test_calc_bp_refuses_infants_in_one_sentence() -> None:
    result = runner.invoke(
        app,
        [
            "calc",
            "bp",
            "--age",
            "0.5",
            "--sex",
            "female",
            "--height-cm",
            "65",
            "--systolic",
            "90",
            "--diastolic",
            "50",
        ],
    )
    assert result.exit_code == ExitStatus.INVALID
    assert result.stderr.count("\n") == 1 and "1 year" in result.stderr


def test_calc_bp_adult_stage2() -> None:
    # ACC/AHA 2017: stage 2 is systolic >= 140 or diastolic >= 90.
    assert (
        calc("bp", "--age", "62", "--sex", "male", "--systolic", "150", "--diastolic", "85")[
            "category"
        ]
        == "stage2"
    )


def test_calc_growth_fields_and_the_published_median() -> None:
    # CDC 2000 bmiagerev.csv, girls, Agemos 120.5: M (the 50th percentile BMI) = 16.86...
    data = calc(
        "growth",
        "--age",
        str(120.5 / 12),
        "--sex",
        "female",
        "--height-cm",
        "140",
        "--weight-kg",
        "33",
    )
    for field in (
        "bmi",
        "bmi_z",
        "bmi_percentile",
        "bmi_category",
        "height_z",
        "height_percentile",
        "weight_z",
        "weight_percentile",
    ):
        assert field in data


def test_calc_growth_under_two_uses_the_who_standards() -> None:
    # WHO 2006 expanded tables, girls, day 548 (18 months): weight-for-age median 10.232 kg,
    # length-for-age median 80.712 cm; 548 days is 18.0 months of 30.4375 days.
    data = calc(
        "growth",
        "--age-months",
        "18.004",
        "--sex",
        "female",
        "--height-cm",
        "80.712",
        "--weight-kg",
        "10.232",
    )
    assert data["standard"] == "WHO 2006" and data["corrected"] is False
    assert data["weight_for_age_z"] == 0.0 and data["length_for_age_z"] == 0.0
    assert data["weight_for_age_category"] == "normal"
    assert list(data) == [
        "standard",
        "age_months",
        "chronological_age_months",
        "corrected",
        "weight_for_age_z",
        "weight_for_age_percentile",
        "weight_for_age_category",
        "length_for_age_z",
        "length_for_age_percentile",
        "length_for_age_category",
        "weight_for_length_z",
        "weight_for_length_percentile",
        "weight_for_length_category",
    ]


def test_calc_growth_takes_one_age_and_refuses_before_term_equivalent_age() -> None:
    both = runner.invoke(
        app,
        ["calc", "growth", "--age", "1", "--age-months", "12", "--sex", "male", "--weight-kg", "9"],
    )
    assert both.exit_code == ExitStatus.INVALID and "one of them" in both.stderr
    # Born at 28 weeks, 6 weeks old: 12 weeks early, so 6 weeks before term-equivalent age.
    early = runner.invoke(
        app,
        [
            "calc",
            "growth",
            "--age-months",
            "1.38",
            "--sex",
            "male",
            "--weight-kg",
            "1.9",
            "--gestational-age",
            "28",
        ],
    )
    assert early.exit_code == ExitStatus.INVALID and "preterm growth chart" in early.stderr


@pytest.mark.parametrize(
    ("answers", "band"),
    [
        ("1,1,1,1,0,0,0,0,0", "minimal"),
        ("1,1,1,1,1,0,0,0,0", "mild"),
        ("2,2,2,2,2,2,2,2,0", "moderately severe"),
        ("3,3,3,3,3,3,2,0,0", "severe"),
    ],
)
def test_calc_score_phq9_bands(answers: str, band: str) -> None:
    # PHQ-9 (Kroenke et al. 2001): 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe.
    data = calc("score", "phq-9", "--answers", answers)
    assert data["band"] == band and data["instrument"] == "phq-9" and data["flags"] == []


def test_calc_score_gas_t_score() -> None:
    # Kiresuk & Sherman 1968, rho 0.3: two goals at +1 -> 50 + 10*2/sqrt(0.7*2 + 0.3*4) = 62.4.
    assert calc("score", "gas", "--answers", "1,1")["t_score"] == 62.4


def test_calc_score_unknown_instrument() -> None:
    result = runner.invoke(app, ["calc", "score", "beck", "--answers", "1"])
    assert result.exit_code == ExitStatus.INVALID and "phq-9" in result.stderr


def test_an_instrument_is_given_item_by_item_on_a_terminal(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = open_case(cli, dob="2012-01-10")  # 14: the PHQ-9 is validated from 12
    monkeypatch.setattr("casectl.cli.common.stdin_is_tty", lambda: True)
    # nine PHQ-9 items (one wrong try first), then the unscored difficulty question left blank
    answers = "7\n1\n1\n1\n1\n1\n0\n0\n0\n0\n\n"
    result = cli(
        "screen",
        case,
        "--referral-source",
        "school",
        "--referral-reason",
        "mood",
        "--eligible",
        "--reason",
        "r",
        "--instrument",
        "phq-9",
        input=answers,
    )
    # The questions go to standard error, so standard output holds only the result.
    assert (
        "Little interest or pleasure" in result.stderr
        and "'7' is not one of 0, 1, 2, 3" in result.stderr
    )
    assert "Little interest" not in result.stdout
    assert "phq-9: total 5, mild" in result.stdout


def _assessed(cli: Cli, *assess_args: str, dob: str = "2016-04-02") -> str:
    case = open_case(cli, dob=dob)
    cli("assess", case, "--health-status", "x", "--date", "2026-11-01", *assess_args)
    return case


def _risk(cli: Cli, case: str) -> dict:  # type: ignore[type-arg]
    cli("risk", case, "--date", "2026-11-02")
    data = json.loads(cli("show", case, "--format", "json").stdout)
    return data["risk_assessments"][-1]  # type: ignore[no-any-return]


def _points(record: dict, factor: str) -> int:  # type: ignore[type-arg]
    return sum(f["points"] for f in record.get("factors", []) if f["factor"].startswith(factor))


def test_a_stage_2_reading_scores_its_points_from_the_published_table(cli: Cli) -> None:
    # Girl aged 10 (born 2016-04-02, assessed 2026-11-01) at 141.0 cm - the 50th-percentile height
    # in Table 5 - has a 95th + 12 systolic of 128: 128/70 is stage 2 (3 points by default).
    case = _assessed(cli, "--height-cm", "141.0", "--systolic", "128", "--diastolic", "70")
    record = _risk(cli, case)
    assert _points(record, "blood pressure") == 3
    assert "stage2" in next(
        f["detail"] for f in record["factors"] if f["factor"] == "blood pressure"
    )


def test_severe_obesity_by_the_cdc_rule(cli: Cli) -> None:
    # CDC: severe obesity is >= 120% of the 95th percentile. A girl of 10 y 7 m has a BMI P95 of
    # 23.6 (bmiagerev.csv, Agemos 127.5), so 120% is 28.3 and BMI 30 (140 cm, 58.8 kg) is severe.
    case = _assessed(cli, "--height-cm", "140", "--weight-kg", "58.8")
    record = _risk(cli, case)
    assert "severe-obesity" in next(
        f["detail"] for f in record["factors"] if f["factor"] == "growth"
    )
    assert _points(record, "growth") == 2


def test_phq9_item_9_forces_high_whatever_the_score(cli: Cli) -> None:
    case = _assessed(
        cli, "--instrument", "phq-9", "--answers", "0,0,0,0,0,0,0,0,1", dob="2011-01-01"
    )
    record = _risk(cli, case)
    assert record["score"] < 4 and record["level"] == "high"
    assert any(f.get("forces_high") for f in record["factors"])


def test_points_and_thresholds_come_from_the_config(cli: Cli) -> None:
    case = _assessed(cli, "--ed-visits", "2", "--admissions", "1")  # 2 + 2 = 4 by default: moderate
    assert _risk(cli, case)["level"] == "moderate"
    config = cli.data_dir / "config.toml"
    config.write_text(
        config.read_text()
        .replace('rules_version = "casectl-risk-2"', 'rules_version = "team-2027"')
        .replace("moderate_at = 4", "moderate_at = 5")
    )
    record = _risk(cli, case)
    assert (
        record["level"] == "low" and record["rules_version"] == "team-2027" and record["score"] == 4
    )


def test_social_needs_count_once_each_and_are_capped(cli: Cli) -> None:
    case = _assessed(cli, "--social-need", "housing,food,utilities,transportation")
    record = _risk(cli, case)
    assert _points(record, "social needs") == 3  # one each, at most 3 by default


def test_a_case_with_no_findings_is_low(cli: Cli) -> None:
    record = _risk(cli, _assessed(cli))
    assert record["level"] == "low" and record["score"] == 0


def test_risk_json_for_scripts(cli: Cli) -> None:
    case = _assessed(cli, "--ed-visits", "2")
    data = json.loads(cli("risk", case, "--dry-run", "--format", "json").stdout)
    assert data["level"] == data["effective_level"] == "low" and data["score"] == 2
    assert data["factors"][0]["factor"] == "emergency visits"
    assert json.loads(cli("show", case, "--format", "json").stdout)["risk_assessments"] == []


def test_a_past_risk_date_uses_only_the_records_of_that_day(cli: Cli) -> None:
    case = _assessed(cli, "--ed-visits", "2")  # assessed 2026-11-01
    cli(
        "assess",
        case,
        "--health-status",
        "worse",
        "--ed-visits",
        "5",
        "--admissions",
        "1",
        "--date",
        "2026-11-20",
    )
    old = json.loads(
        cli("risk", case, "--dry-run", "--format", "json", "--date", "2026-11-05").stdout
    )
    new = json.loads(
        cli("risk", case, "--dry-run", "--format", "json", "--date", "2026-11-21").stdout
    )
    assert (old["score"], new["score"]) == (2, 4)


def test_a_same_day_flag_stands_out_in_list_and_review(cli: Cli) -> None:
    case = _assessed(
        cli, "--instrument", "phq-9", "--answers", "0,0,0,0,0,0,0,0,1", dob="2011-01-01"
    )
    calm = _assessed(cli)
    rows = {r["case_id"]: r for r in json.loads(cli("list", "--format", "json").stdout)}
    assert rows[case]["flags"] == ["phq9-item9-self-harm"] and rows[calm]["flags"] == []
    items = json.loads(cli("review", "--all", "--format", "json").stdout)
    assert {tuple(i["flags"]) for i in items if i["case_id"] == case} == {("phq9-item9-self-harm",)}
