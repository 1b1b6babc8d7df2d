"""The seven stage commands through the CLI: what the user sees and what lands in the file."""

from __future__ import annotations

import json

from ruamel.yaml import YAML

from casectl.errors import ExitStatus
from tests.conftest import Cli, open_case


def load(cli: Cli, case: str) -> dict:  # type: ignore[type-arg]
    return YAML(typ="safe").load(cli.path(case).read_text())


def test_all_seven_stages_leave_dated_records(cli: Cli, planned: str) -> None:
    cli(
        "implement",
        planned,
        "--refer",
        "Pulmonology; reason=uncontrolled asthma; member=pulm",
        "--educate",
        "Inhaler technique; to=mother",
        "--date",
        "2026-09-20",
    )
    cli(
        "implement",
        planned,
        "--referral-update",
        "r1=scheduled; note=first visit 3 Oct",
        "--date",
        "2026-09-25",
    )
    cli(
        "follow-up",
        planned,
        "--mode",
        "phone",
        "--with",
        "mother",
        "--summary",
        "fewer night symptoms",
        "--progress",
        "g1=improving",
        "--adherence",
        "good",
        "--date",
        "2026-10-15",
    )
    result = cli(
        "evaluate",
        planned,
        "--outcome",
        "g1=partly-achieved; gas=0",
        "--care-appropriate",
        "--satisfaction",
        "4",
        "--decision",
        "continue",
        "--reason",
        "winter ahead",
        "--date",
        "2026-11-20",
    )
    assert "evaluation recorded (continue)" in result.stdout
    data = load(cli, planned)
    for section in (
        "screening",
        "assessments",
        "risk_assessments",
        "care_plans",
        "coordination",
        "follow_ups",
        "evaluations",
    ):
        assert data[section], section
        assert all("date" in r and r["recorded_by"] == "J. Rivera" for r in data[section])
    assert data["coordination"][1]["referral_updates"] == [
        {"referral": "r1", "status": "scheduled", "note": "first visit 3 Oct"}
    ]
    assert (
        data["follow_ups"][0]["next_review"].isoformat() == "2026-11-14"
    )  # contact + the plan's 30 days


def test_doing_a_stage_again_appends_and_keeps_the_earlier_record(cli: Cli, planned: str) -> None:
    before = load(cli, planned)["assessments"][0]
    cli("assess", planned, "--health-status", "better", "--date", "2026-11-01")
    after = load(cli, planned)["assessments"]
    assert after[0] == before and after[1]["health_status"] == "better"


def test_risk_needs_an_assessment_and_names_the_command(cli: Cli) -> None:
    case = open_case(cli)
    result = cli("risk", case, ok=False)
    assert result.exit_code == ExitStatus.STAGE_ORDER
    assert f"run `casectl assess {case}`" in result.stderr


def test_plan_needs_a_risk_level(cli: Cli) -> None:
    case = open_case(cli)
    cli("assess", case, "--health-status", "ok")
    result = cli(
        "plan",
        case,
        "--goal",
        "x; measure=m; target=t; by=2027-01-01",
        "--review-every",
        "30d",
        "--agreed-by",
        "client",
        ok=False,
    )
    assert result.exit_code == ExitStatus.STAGE_ORDER
    assert "needs a risk level first" in result.stderr and f"casectl risk {case}" in result.stderr


def _scored_case(cli: Cli) -> str:
    case = open_case(cli)
    cli("screen", case, "--referral-source", "school", "--referral-reason", "asthma",
        "--eligible", "--reason", "complex needs", "--date", "2026-09-01")  # fmt: skip
    cli("assess", case, "--health-status", "stable", "--date", "2026-09-10")
    cli("risk", case, "--date", "2026-09-10")
    return case


def _plan_interval(cli: Cli, case: str) -> int:
    data = YAML(typ="safe").load((cli.data_dir / f"{case}.yaml").read_text())
    return int(data["care_plans"][-1]["review_interval_days"])


def test_plan_without_an_agreed_interval_takes_the_tiers_default_and_says_so(cli: Cli) -> None:
    config = cli.data_dir / "config.toml"
    text = config.read_text()
    for level, days in (("low", 45), ("moderate", 21), ("high", 10)):
        text = text.replace(f"interval_{level}_days = ", f"interval_{level}_days = {days} # ", 1)
    config.write_text(text)
    case = _scored_case(cli)
    shown = json.loads(cli("show", case, "--format", "json").stdout)
    level = shown["risk_assessments"][-1]["level"]
    goal = ("--goal", "Sleep through; measure=nights; target=5; by=2027-01-01")
    result = cli("plan", case, *goal, "--agreed-by", "client", "--date", "2026-09-15")
    expected = {"low": 45, "moderate": 21, "high": 10}[level]
    assert f"review every {expected} days (the default for {level} risk;" in result.stdout
    assert _plan_interval(cli, case) == expected
    # A revision keeps the interval of the plan it revises; an agreed one is recorded as given.
    result = cli("plan", case, "--agreed-by", "client", "--date", "2026-09-16")
    assert "nothing changed: the plan of 2026-09-15 already says this" in result.stdout
    result = cli(
        "plan", case, "--review-every", "2w", "--agreed-by", "client", "--date", "2026-09-17"
    )
    assert "review every 14 days" in result.stdout
    assert _plan_interval(cli, case) == 14
    # A clinician's override sets the tier, and with it the default.
    other = _scored_case(cli)
    cli("risk", other, "--override", "high", "--reason", "new seizures", "--date", "2026-09-16")
    result = cli("plan", other, *goal, "--agreed-by", "client", "--date", "2026-09-16")
    assert "the default for high risk" in result.stdout and _plan_interval(cli, other) == 10


def test_contacts_and_coordination_need_a_screening_evaluation_a_plan(cli: Cli) -> None:
    case = open_case(cli)
    contact = ("follow-up", case, "--mode", "phone", "--with", "client", "--summary", "intake")
    for args in (("implement", case, "--educate", "topic; to=client"), contact):
        result = cli(*args, ok=False)
        assert result.exit_code == ExitStatus.STAGE_ORDER, args
        assert f"casectl screen {case}" in result.stderr
    result = cli(
        "evaluate", case, "--care-appropriate", "--decision", "continue", "--reason", "r", ok=False
    )
    assert result.exit_code == ExitStatus.STAGE_ORDER
    assert f"casectl plan {case}" in result.stderr


def test_an_intake_call_and_a_crisis_referral_before_any_plan(cli: Cli) -> None:
    case = open_case(cli)
    cli(
        "screen",
        case,
        "--referral-source",
        "ED",
        "--referral-reason",
        "overdose",
        "--eligible",
        "--reason",
        "crisis",
    )
    called = cli("follow-up", case, "--mode", "phone", "--with", "client", "--outcome", "no-answer")
    assert "attempt recorded (no-answer)" in called.stdout
    cli("follow-up", case, "--mode", "phone", "--with", "client", "--summary", "intake call done")
    referred = cli(
        "implement", case, "--refer", "Crisis stabilisation unit; reason=overdose; urgent"
    )
    assert "referral r1 to Crisis stabilisation unit: sent" in referred.stdout
    progress = cli(
        "follow-up",
        case,
        "--mode",
        "phone",
        "--with",
        "client",
        "--summary",
        "s",
        "--progress",
        "g1=improving",
        ok=False,
    )
    assert progress.exit_code == ExitStatus.STAGE_ORDER
    assert "progress toward goals needs a care plan" in progress.stderr


def test_a_closed_case_takes_no_stage_records_until_reopened(cli: Cli, planned: str) -> None:
    cli("close", planned, "--reason", "family moved away")
    result = cli(
        "follow-up", planned, "--mode", "phone", "--with", "mother", "--summary", "s", ok=False
    )
    assert result.exit_code == ExitStatus.STAGE_ORDER
    assert "reopen" in result.stderr
    cli("reopen", planned, "--reason", "family returned")
    cli("follow-up", planned, "--mode", "phone", "--with", "mother", "--summary", "back in town")
    data = load(cli, planned)
    assert data["status"] == "open" and "closed" not in data
    assert [h["status"] for h in data["status_history"]] == ["closed", "open"]


def test_an_owner_not_on_the_care_team_is_refused_and_nothing_is_written(
    cli: Cli, planned: str
) -> None:
    before = cli.path(planned).read_bytes()
    result = cli(
        "plan",
        planned,
        "--intervention",
        "Home visit; owner=nurse; every=weekly",
        "--agreed-by",
        "mother",
        ok=False,
    )
    assert result.exit_code == ExitStatus.INVALID
    assert "'nurse' is not on the care team" in result.stderr
    assert "care_plans[1].interventions[1].owner" in result.stderr
    assert cli.path(planned).read_bytes() == before


def test_a_progress_note_must_name_a_goal_of_the_plan(cli: Cli, planned: str) -> None:
    result = cli(
        "follow-up",
        planned,
        "--mode",
        "phone",
        "--with",
        "mother",
        "--summary",
        "s",
        "--progress",
        "g9=improving",
        ok=False,
    )
    assert result.exit_code == ExitStatus.INVALID
    assert "the plan in force has no goal g9 (its goals: g1)" in result.stderr


def test_missing_input_without_a_terminal_names_the_options_and_does_not_prompt(cli: Cli) -> None:
    case = open_case(cli)
    result = cli("screen", case, "--referral-source", "school nurse", ok=False)
    assert result.exit_code == ExitStatus.USAGE
    assert "--referral-reason" in result.stderr and "--eligible/--not-eligible" in result.stderr
    assert "does not ask" in result.stderr


def test_stage_input_from_a_file_and_from_stdin(cli: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    case = open_case(cli)
    record = {
        "referral_source": "PCP",
        "referral_reason": "complex needs",
        "eligible": True,
        "eligibility_reason": "two specialists",
        "records_reviewed": ["NICU discharge summary"],
    }
    (tmp_path / "screen.json").write_text(json.dumps(record))
    cli("screen", case, "--from", str(tmp_path / "screen.json"))
    cli(
        "screen",
        case,
        "--from",
        "-",
        "--date",
        "2026-11-20",
        input="referral_source: school\nreferral_reason: absences\neligible: false\neligibility_reason: needs met by school nurse\n",
    )
    data = load(cli, case)
    assert data["screening"][0]["records_reviewed"] == ["NICU discharge summary"]
    assert data["screening"][1]["eligible"] is False


def test_a_misspelt_key_in_a_from_file_is_named(cli: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    case = open_case(cli)
    (tmp_path / "s.yaml").write_text(
        "referal_source: PCP\nreferral_reason: r\neligible: true\neligibility_reason: e\n"
    )
    result = cli("screen", case, "--from", str(tmp_path / "s.yaml"), ok=False)
    assert result.exit_code in (ExitStatus.INVALID, ExitStatus.USAGE)
    assert "referal_source" in result.stderr


def test_screen_scores_an_instrument_and_flags_same_day_action(cli: Cli) -> None:
    case = open_case(cli, dob="2012-01-10")  # 14: the PHQ-9 is validated from 12
    result = cli(
        "screen",
        case,
        "--referral-source",
        "school",
        "--referral-reason",
        "low mood",
        "--eligible",
        "--reason",
        "r",
        "--instrument",
        "phq-9",
        "--answers",
        "1,1,1,1,1,1,1,1,1",
    )
    assert "phq-9: total 9, mild" in result.stdout
    assert "SAME-DAY ACTION" in result.stderr
    inst = load(cli, case)["screening"][0]["instruments"][0]
    assert inst["total"] == 9 and inst["band"] == "mild" and inst["flags"]


def test_bad_instrument_answers_are_explained(cli: Cli) -> None:
    case = open_case(cli)
    result = cli(
        "screen",
        case,
        "--referral-source",
        "s",
        "--referral-reason",
        "r",
        "--eligible",
        "--reason",
        "r",
        "--instrument",
        "phq-9",
        "--answers",
        "1,2,x",
        ok=False,
    )
    assert result.exit_code == ExitStatus.INVALID and "answer 3" in result.stderr


def test_risk_prints_each_factor_and_an_override_keeps_the_computed_level(
    cli: Cli, planned: str
) -> None:
    shown = cli("risk", planned, "--dry-run")
    assert "emergency visits: 3 ED visits in 12 months" in shown.stdout
    assert "nothing recorded" in shown.stdout
    cli(
        "risk", planned, "--override", "high", "--reason", "new oxygen need reported by pulmonology"
    )
    record = load(cli, planned)["risk_assessments"][-1]
    assert record["override"] == {
        "level": "high",
        "reason": "new oxygen need reported by pulmonology",
    }
    assert record["level"] in ("low", "moderate")
    explained = cli("risk", planned, "--explain")
    assert "overridden from" in explained.stdout


def test_override_without_reason_is_refused(cli: Cli, planned: str) -> None:
    result = cli("risk", planned, "--override", "high", ok=False)
    assert result.exit_code == ExitStatus.INVALID and "--reason" in result.stderr


def test_evaluate_close_closes_the_case(cli: Cli, planned: str) -> None:
    cli(
        "evaluate",
        planned,
        "--outcome",
        "g1=achieved; gas=1",
        "--care-appropriate",
        "--decision",
        "close",
        "--reason",
        "goals met",
    )
    data = load(cli, planned)
    assert data["status"] == "closed" and data["closed_reason"] == "goals met"


def test_evaluate_transition_needs_a_receiving_service(cli: Cli, planned: str) -> None:
    result = cli(
        "evaluate",
        planned,
        "--care-appropriate",
        "--decision",
        "transition",
        "--reason",
        "turns 18",
        ok=False,
    )
    assert result.exit_code == ExitStatus.INVALID and "transition_to" in result.stderr
    cli(
        "evaluate",
        planned,
        "--care-appropriate",
        "--decision",
        "transition",
        "--reason",
        "turns 18",
        "--to",
        "Adult complex care",
    )
    assert load(cli, planned)["transferred_to"] == "Adult complex care"


def test_referral_cannot_go_back_once_completed(cli: Cli, planned: str) -> None:
    cli("implement", planned, "--refer", "Pulmonology; reason=asthma")
    cli("implement", planned, "--referral-update", "r1=completed")
    result = cli("implement", planned, "--referral-update", "r1=accepted", ok=False)
    assert result.exit_code == ExitStatus.INVALID and "already completed" in result.stderr


def phone_call(cli: Cli, case: str, *extra: str, ok: bool = True):  # type: ignore[no-untyped-def]
    """A phone follow-up with the mother: the smallest valid contact, plus `extra` options."""
    args = ("follow-up", case, "--mode", "phone", "--with", "mother", "--summary", "s", *extra)
    return cli(*args, ok=ok)


def test_a_future_contact_is_refused(cli: Cli, planned: str) -> None:
    result = phone_call(cli, planned, "--date", "2026-12-01", ok=False)
    assert result.exit_code == ExitStatus.INVALID and "in the future" in result.stderr


def test_an_impossible_date_on_the_command_line_is_refused(cli: Cli, planned: str) -> None:
    result = phone_call(cli, planned, "--date", "2026-02-30", ok=False)
    assert result.exit_code == ExitStatus.INVALID and "is not a date" in result.stderr


def test_stage_commands_prompt_on_a_terminal(cli: Cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    case = open_case(cli)
    monkeypatch.setattr("casectl.cli.common.stdin_is_tty", lambda: True)
    cli("screen", case, "--eligible", "--reason", "r", input="school nurse\nabsences\n")
    assert load(cli, case)["screening"][0]["referral_source"] == "school nurse"


def test_confirmations_print_case_text_as_written(cli: Cli, planned: str) -> None:
    # Brackets in case data are text, not terminal markup to be swallowed.
    result = cli("implement", planned, "--refer", "Clinic [bold]North[/bold]; reason=asthma")
    assert f"{planned}: coordination recorded." in result.stdout
    assert "to Clinic [bold]North[/bold]: sent" in result.stdout
