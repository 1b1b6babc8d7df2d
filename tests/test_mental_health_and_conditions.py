"""Mental health beyond questionnaires, young children and chronic conditions: what `assess`
records, what `risk` makes of it (factor by factor), and what is refused."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from casectl.cli.app import app
from casectl.config import Config, default_config_text
from casectl.errors import ExitStatus
from tests.conftest import Cli, open_case

ASSESSED = "2026-11-20"


def load(cli: Cli, case: str) -> dict[str, Any]:
    return YAML(typ="safe").load(cli.path(case).read_text())  # type: ignore[no-any-return]


def risk(cli: Cli, case: str, on: str = "2026-11-25") -> dict[str, Any]:
    result = cli("risk", case, "--dry-run", "--format", "json", "--date", on)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def factors(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["factor"]: f for f in record["factors"]}


def adult(cli: Cli, *assess_args: str) -> str:
    case = open_case(cli, name="Dana Reyes", dob="1990-02-11")
    cli("family", case, "--id", "sister", "--name", "Lena Reyes", "--relationship", "sister")
    cli("assess", case, "--health-status", "x", "--date", ASSESSED, *assess_args)
    return case


# ---------------------------------------------------------------------------------------------
# The adult with schizophrenia


SCHIZOPHRENIA = (
    "--diagnosis",
    "Schizophrenia, unspecified; icd10=F20.9; system=mental-health",
    "--admissions",
    "1",
    "--psychiatric-admissions",
    "1",
    "--discharged",
    "2026-11-10",
    "--adherence",
    "poor",
    "--social-need",
    "housing",
)


def test_an_adult_with_schizophrenia_recently_discharged_off_medication_needing_housing(
    cli: Cli,
) -> None:
    record = risk(cli, adult(cli, *SCHIZOPHRENIA))
    found = factors(record)
    # Each factor explained, with the default points of the README's Risk tier table.
    assert found["serious mental illness"]["points"] == 3
    assert "F20.9" in found["serious mental illness"]["detail"]
    assert found["chronic conditions"]["points"] == 1
    assert found["hospital admissions"]["points"] == 2
    assert found["psychiatric admission"]["points"] == 1
    assert found["recent psychiatric discharge"]["points"] == 2
    assert "15 days ago" in found["recent psychiatric discharge"]["detail"]
    assert found["medication adherence"]["points"] == 2
    assert "poor" in found["medication adherence"]["detail"]
    assert found["social needs"]["points"] == 1
    assert record["score"] == 12 and record["level"] in ("moderate", "high")
    assert record["rules_version"] == "casectl-risk-2"
    assert all(f["source"].startswith("assessment 2026-11-20") for f in record["factors"])


def test_even_without_the_admission_the_diagnosis_and_adherence_make_it_moderate(
    cli: Cli,
) -> None:
    case = adult(
        cli,
        "--diagnosis",
        "Schizophrenia; icd10=F20.9",
        "--adherence",
        "poor",
        "--social-need",
        "housing",
    )
    record = risk(cli, case)
    assert (record["level"], record["score"]) == ("moderate", 1 + 3 + 2 + 1)


@pytest.mark.parametrize(
    ("code", "factor", "points"),
    [
        ("F20.9", "serious mental illness", 3),  # schizophrenia
        ("F25.0", "serious mental illness", 3),  # schizoaffective
        ("F29", "serious mental illness", 3),  # unspecified psychosis
        ("F31.9", "serious mental illness", 3),  # bipolar
        ("F32.2", "serious mental illness", 3),  # major depression, single episode
        ("F33.1", "serious mental illness", 3),  # major depression, recurrent
        ("F34.1", "mental-health diagnosis", 1),  # dysthymia: persistent mood disorder
        ("F41.1", "mental-health diagnosis", 1),  # generalised anxiety
        ("F19.20", "mental-health diagnosis", 1),  # substance use
        ("F90.2", "mental-health diagnosis", 1),  # ADHD
    ],
)
def test_icd10cm_f_codes_count_as_mental_health_and_smi_ranges_count_more(
    cli: Cli, code: str, factor: str, points: int
) -> None:
    record = risk(cli, adult(cli, "--diagnosis", f"Diagnosis; icd10={code}"))
    found = factors(record)
    assert found[factor]["points"] == points and code in found[factor]["detail"]
    other = {"serious mental illness", "mental-health diagnosis"} - {factor}
    assert not other & set(found)


@pytest.mark.parametrize("code", ["F84.0", "F70", "F88", "J45.40"])
def test_developmental_and_non_f_codes_are_not_mental_health_diagnoses(cli: Cli, code: str) -> None:
    found = factors(risk(cli, adult(cli, "--diagnosis", f"Diagnosis; icd10={code}")))
    assert not {"serious mental illness", "mental-health diagnosis"} & set(found)


@pytest.mark.parametrize(("discharged", "recent"), [("2026-10-26", True), ("2026-10-25", False)])
def test_a_discharge_counts_as_recent_for_30_days(cli: Cli, discharged: str, recent: bool) -> None:
    case = adult(cli, "--psychiatric-admissions", "1", "--discharged", discharged)
    found = factors(risk(cli, case))
    assert ("recent psychiatric discharge" in found) is recent
    # A psychiatric admission is an admission too, counted once there.
    assert found["hospital admissions"]["detail"] == "1 admission(s) in 12 months"


def test_the_latest_adherence_counts_a_later_follow_up_over_the_assessment(
    planned: str, cli: Cli
) -> None:
    cli("assess", planned, "--health-status", "x", "--adherence", "good", "--date", "2026-11-01")
    assert "medication adherence" not in factors(risk(cli, planned))
    cli(
        "follow-up",
        planned,
        "--mode",
        "phone",
        "--with",
        "mother",
        "--summary",
        "s",
        "--adherence",
        "partial",
        "--date",
        "2026-11-10",
    )
    found = factors(risk(cli, planned))
    assert found["medication adherence"]["points"] == 1
    assert found["medication adherence"]["source"] == "follow-up 2026-11-10"


# ---------------------------------------------------------------------------------------------
# A caregiver's own depression


def child_with_mother(cli: Cli) -> str:
    case = open_case(cli)  # Mia, born 2016-04-02
    cli("family", case, "--id", "mother", "--name", "Rosa Santos", "--relationship", "mother")
    return case


def test_a_caregivers_own_phq9_counts_as_caregiver_depression_not_as_the_childs_mood(
    cli: Cli,
) -> None:
    case = child_with_mother(cli)
    # PHQ-9 total 12 (moderate), item 9 at 0, answered by the mother about herself.
    cli(
        "assess",
        case,
        "--health-status",
        "x",
        "--instrument",
        "phq-9",
        "--answers",
        "2,2,2,2,1,1,1,1,0",
        "--member",
        "mother",
        "--date",
        ASSESSED,
    )
    stored = load(cli, case)["assessments"][0]["instruments"][0]
    assert stored["member"] == "mother" and stored["total"] == 12
    found = factors(risk(cli, case))
    assert found["caregiver depression"]["points"] == 2
    assert "mother: phq-9 total 12, moderate" in found["caregiver depression"]["detail"]
    assert not [f for f in found if f.startswith("mental health")]


def test_a_caregivers_phq9_below_10_is_not_depression_but_a_flag_still_forces_high(
    cli: Cli,
) -> None:
    case = child_with_mother(cli)
    cli(
        "assess",
        case,
        "--health-status",
        "x",
        "--instrument",
        "phq-9",
        "--answers",
        "1,1,1,1,0,0,0,0,1",
        "--member",
        "mother",
        "--date",
        ASSESSED,
    )
    record = risk(cli, case)
    assert "caregiver depression" not in factors(record)
    assert record["level"] == "high"
    assert any(f["forces_high"] and "(mother)" in f["source"] for f in record["factors"])


def test_a_family_member_flag_counts_as_caregiver_depression(cli: Cli) -> None:
    case = child_with_mother(cli)
    cli("assess", case, "--health-status", "x", "--caregiver-depression", "mother")
    found = factors(risk(cli, case))
    assert found["caregiver depression"]["detail"] == "mother: depression noted"


@pytest.mark.parametrize(
    "args",
    [
        ("--caregiver-depression", "aunt"),
        ("--instrument", "phq-9", "--answers", "0,0,0,0,0,0,0,0,0", "--member", "aunt"),
    ],
)
def test_a_family_member_who_is_not_on_the_case_is_refused(cli: Cli, args: tuple[str, ...]) -> None:
    case = child_with_mother(cli)
    before = cli.path(case).read_bytes()
    result = cli("assess", case, "--health-status", "x", *args, ok=False)
    assert result.exit_code == ExitStatus.INVALID
    assert "'aunt' is not a family member of this case (known: mother)" in result.stderr
    assert cli.path(case).read_bytes() == before


# ---------------------------------------------------------------------------------------------
# Instruments outside their validated ages


@pytest.mark.parametrize("name", ["phq-9", "gad-7", "m-chat-r"])
def test_a_5_year_olds_phq9_gad7_or_mchat_is_refused_and_nothing_is_written(
    cli: Cli, name: str
) -> None:
    case = open_case(cli, name="Leo Park", dob="2021-06-01")
    before = cli.path(case).read_bytes()
    answers = {"phq-9": "0,0,0,0,0,0,0,0,0", "gad-7": "0,0,0,0,0,0,0", "m-chat-r": "2"}[name]
    result = cli(
        "assess",
        case,
        "--health-status",
        "x",
        "--instrument",
        name,
        "--answers",
        answers,
        ok=False,
    )
    assert result.exit_code == ExitStatus.INVALID
    assert "not for a 5-year-old" in result.stderr and "PSC-17 (4–16 years)" in result.stderr
    assert "(age on 2026-11-25)" in result.stderr and result.stderr.count("\n") == 1
    assert cli.path(case).read_bytes() == before


def test_the_age_is_taken_on_the_records_date(cli: Cli) -> None:
    case = open_case(cli, name="Ava Chen", dob="2014-11-21")  # 12 on 2026-11-21
    answers = ("--instrument", "phq-9", "--answers", "0,0,0,0,0,0,0,0,0")
    early = cli("assess", case, "--health-status", "x", "--date", "2026-11-20", *answers, ok=False)
    assert early.exit_code == ExitStatus.INVALID and "an 11-year-old" in early.stderr
    cli("assess", case, "--health-status", "x", "--date", "2026-11-21", *answers)


def test_calc_score_takes_an_age() -> None:
    runner = CliRunner()
    args = ["calc", "score", "c-act", "--answers", "3,3,2,2,3,3,3"]
    refused = runner.invoke(app, [*args, "--age", "12"])
    assert refused.exit_code == ExitStatus.INVALID
    assert "use ACT (12 years and over) instead" in refused.stderr
    fine = runner.invoke(app, [*args, "--age", "11.9", "--format", "json"])
    assert json.loads(fine.stdout)["band"] == "not well controlled"


# ---------------------------------------------------------------------------------------------
# Chronic conditions: asthma control, HbA1c, immunisations, milestones, school plan


@pytest.mark.parametrize(
    ("answers", "points"), [("4,4,4,4,4", 0), ("4,4,4,4,3", 1), ("3,3,3,3,3", 2)]
)
def test_asthma_control_scores_by_the_act_band(cli: Cli, answers: str, points: int) -> None:
    case = adult(cli, "--instrument", "act", "--answers", answers)
    assert factors(risk(cli, case))["asthma control: act"]["points"] == points


@pytest.mark.parametrize(("hba1c", "points"), [("9.0", None), ("9.1", 2)])
def test_an_hba1c_above_9_percent_is_poor_control(cli: Cli, hba1c: str, points: int | None) -> None:
    found = factors(risk(cli, adult(cli, "--hba1c", hba1c)))
    assert found.get("diabetes control", {}).get("points") == points


def test_assess_records_immunisations_milestones_and_a_school_plan(cli: Cli) -> None:
    case = open_case(cli)
    cli(
        "assess",
        case,
        "--health-status",
        "x",
        "--immunisations",
        "up-to-date",
        "--immunisations-date",
        "2026-11-01",
        "--milestone",
        "reads short sentences",
        "--milestone",
        "rides a bike",
        "--school-plan",
        "iep; review=2027-03-01",
        "--hba1c",
        "7.4",
    )
    stored = load(cli, case)["assessments"][0]
    assert stored["immunisations"] == {"status": "up-to-date", "date": dt.date(2026, 11, 1)}
    assert stored["milestones"] == ["reads short sentences", "rides a bike"]
    assert stored["school_plan"]["kind"] == "iep"
    assert str(stored["school_plan"]["review"]) == "2027-03-01"
    assert stored["hba1c_percent"] == 7.4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--hba1c", "2.9"), "--hba1c: 2.9 is out of range"),
        (("--hba1c", "20.1"), "--hba1c: 20.1 is out of range"),
        (("--immunisations", "maybe"), "not one of"),
        (("--immunisations-date", "2026-11-01"), "--immunisations-date needs --immunisations"),
        (
            ("--immunisations", "unknown", "--immunisations-date", "2026-11-24"),
            "after the assessment",
        ),
        (("--school-plan", "none; review=2027-03-01"), "a review date needs a plan"),
        (("--school-plan", "ifsp"), "not one of"),
        (("--psychiatric-admissions", "1", "--discharged", "2026-11-24"), "after the assessment"),
        (("--adherence", "sometimes"), "not one of"),
    ],
)
def test_implausible_or_inconsistent_tracking_is_refused(
    cli: Cli, args: tuple[str, ...], message: str
) -> None:
    case = open_case(cli)
    result = cli("assess", case, "--health-status", "x", "--date", "2026-11-20", *args, ok=False)
    assert result.exit_code == ExitStatus.INVALID and message in result.stderr
    assert "Traceback" not in result.output


# ---------------------------------------------------------------------------------------------
# Infants: WHO growth at the corrected age, in the vitals and the risk tier


def test_an_infants_vitals_show_who_percentiles_at_the_corrected_age(cli: Cli) -> None:
    result = cli(
        "new",
        "--name",
        "Ana Lima",
        "--dob",
        "2026-03-01",
        "--sex",
        "female",
        "--gestational-age",
        "30",
    )
    case = result.stdout.strip().splitlines()[-1]
    assert load(cli, case)["client"]["gestational_age_weeks"] == 30
    shown = cli("assess", case, "--health-status", "x", "--height-cm", "58", "--weight-kg", "5.0")
    # 269 days old, 10 weeks early: read at 199 days, 6.5 months.
    assert "WHO 2006, corrected age 6.5 months: weight-for-age percentile" in shown.stdout
    found = factors(risk(cli, case))
    assert "corrected age 6.5 months" in found["growth"]["detail"]
    assert found["growth"]["detail"].startswith("weight-for-length percentile")


def test_a_thin_infant_scores_the_underweight_points(cli: Cli) -> None:
    case = open_case(cli, name="Sam Ode", dob="2026-05-25")  # 184 days old
    # WHO weight-for-length, girls at 65.0 cm: well below the 2.3rd percentile at 5.5 kg.
    cli("assess", case, "--health-status", "x", "--height-cm", "65", "--weight-kg", "5.5")
    growth = factors(risk(cli, case))["growth"]
    assert growth["points"] == 2 and ": low (WHO 2006, under 2)" in growth["detail"]


# ---------------------------------------------------------------------------------------------
# Config


def test_every_new_point_is_in_the_commented_default_config() -> None:
    text = default_config_text()
    for name, value in Config().risk.points.model_dump().items():
        assert f"{name} = {value}" in text
    assert 'rules_version = "casectl-risk-2"' in text
