"""Whole-case commands: init, new, show, list, check, edit, status changes, people and consents."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from casectl.errors import ExitStatus
from casectl.review.caseload import LIST_FIELDS
from tests.conftest import Cli, open_case


def test_init_makes_a_private_folder_with_a_commented_config(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "new-cases")
    result = cli("init")
    assert "data directory ready" in result.stdout
    config = (cli.data_dir / "config.toml").read_text()
    assert config.startswith("# casectl configuration") and "[risk.points]" in config
    assert ".locks/" in (cli.data_dir / ".gitignore").read_text()
    assert stat.S_IMODE(cli.data_dir.stat().st_mode) == 0o700
    cli("init")  # again: nothing to do, no error


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_init_git(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "cases")
    cli("init", "--git")
    assert (cli.data_dir / ".git").is_dir()


def test_new_prints_the_id_last_and_numbers_cases_by_year(cli: Cli) -> None:
    assert open_case(cli) == "C-2026-0001"
    assert open_case(cli, name="Li Wei") == "C-2026-0002"
    result = cli("new", "--name", "A B", "--dob", "2019-01-01", "--sex", "male", "--id", "HOSP-17")
    assert result.stdout.strip().splitlines()[-1] == "HOSP-17"
    assert cli.path("HOSP-17").exists()


def test_new_refuses_an_existing_id(cli: Cli) -> None:
    open_case(cli)
    result = cli(
        "new",
        "--name",
        "A B",
        "--dob",
        "2019-01-01",
        "--sex",
        "male",
        "--id",
        "C-2026-0001",
        ok=False,
    )
    assert result.exit_code == ExitStatus.UNSAFE and "already exists" in result.stderr


def test_new_without_required_input_and_no_terminal(cli: Cli) -> None:
    result = cli("new", "--name", "A B", ok=False)
    assert result.exit_code == ExitStatus.USAGE
    assert "--dob" in result.stderr and "--sex" in result.stderr


def test_new_with_family_and_team_from_a_file(cli: Cli, tmp_path: Path) -> None:
    intake = tmp_path / "intake.yaml"
    intake.write_text(
        "client: {name: Omar Haddad, dob: 2018-02-03, sex: male, preferred_language: ar, interpreter_needed: true}\n"
        "family:\n  - {id: mother, name: Lina Haddad, relationship: mother, legal_guardian: true, decision_maker: true, language: ar}\n"
        "care_team:\n  - {id: school, name: Ms. Park, role: school, organisation: Lincoln Elementary}\n"
    )
    case = cli("new", "--from", str(intake)).stdout.strip().splitlines()[-1]
    data = json.loads(cli("show", case, "--format", "json").stdout)
    assert data["family"][0]["language"] == "ar" and data["care_team"][0]["role"] == "school"


def test_new_rejects_a_future_birth_date(cli: Cli) -> None:
    result = cli("new", "--name", "A B", "--dob", "2030-01-01", "--sex", "male", ok=False)
    assert result.exit_code == ExitStatus.INVALID and "in the future" in result.stderr


def test_show_summarises_the_case(cli: Cli, planned: str) -> None:
    cli(
        "implement",
        planned,
        "--refer",
        "Pulmonology; reason=asthma; member=pulm",
        "--date",
        "2026-09-20",
    )
    out = cli("show", planned).stdout
    for text in (
        "Mia Santos, 10 y, female",
        "interpreter needed",
        "mother: Rosa Santos",
        "pcp: Dr. Ana Ruiz",
        "Risk:",
        "emergency visits",
        "Care plan",
        "g1",
        "Open referrals",
        "r1: Pulmonology — sent",
        "Next review: 2026-10-15 overdue by 41 d",
        "Timeline",
    ):
        assert text in out, text


def test_show_json_has_the_case_and_derived_fields(cli: Cli, planned: str) -> None:
    data = json.loads(cli("show", planned, "--format", "json").stdout)
    assert data["id"] == planned
    assert data["derived"] == {
        "as_of": "2026-11-25",
        "age": 10,
        "stage": "plan",
        "risk": data["risk_assessments"][-1]["level"],
        "next_review": "2026-10-15",
        "days_overdue": 41,
        "last_contact": None,
        "open_referrals": [],
        "goal_progress": {},
        "goals": [
            {
                "id": "g1",
                "status": "not-started",
                "since": "2026-09-15",
                "progress": None,
                "progress_on": None,
                "target_date": "2027-05-31",
                "reason": None,
            }
        ],
        # "every=monthly" from the plan of 2026-09-15: first due a month later.
        "interventions": [
            {
                "id": "i1",
                "status": "planned",
                "since": "2026-09-15",
                "next_due": "2026-10-15",
                "last_done": None,
                "times_done": 0,
                "recurring": True,
            }
        ],
        "referrals": [],
        "appointments": [],
        "safety_flags": [],
        "consents": [],
    }


def test_show_an_unknown_case(cli: Cli) -> None:
    result = cli("show", "C-2026-0999", ok=False)
    assert result.exit_code == ExitStatus.NOT_FOUND
    assert "no case C-2026-0999" in result.stderr and "casectl list" in result.stderr


def test_a_missing_data_directory_is_explained(tmp_path: Path) -> None:
    result = Cli(tmp_path / "nowhere")("list", ok=False)
    assert result.exit_code == ExitStatus.NOT_FOUND and "init" in result.stderr


def test_list_formats_and_filters(cli: Cli, planned: str) -> None:
    other = open_case(cli, name="Li Wei", dob="2012-01-01")
    cli("close", other, "--reason", "moved away")
    rows = json.loads(cli("list", "--format", "json").stdout)
    assert [r["case_id"] for r in rows] == [planned, other]
    assert list(rows[0]) == LIST_FIELDS
    active = cli("list", "--status", "active", "--format", "ids").stdout.split()
    assert active == [planned]
    table = list(
        csv.DictReader(io.StringIO(cli("list", "--format", "csv", "--status", "closed").stdout))
    )
    assert [r["case_id"] for r in table] == [other] and table[0]["status"] == "closed"
    plain = cli("list").stdout.splitlines()
    assert plain[0].split("\t") == LIST_FIELDS  # piped: plain tab-separated, no box drawing
    bad = cli("list", "--risk", "severe", ok=False)
    assert bad.exit_code == ExitStatus.INVALID and "low, moderate, high" in bad.stderr


def test_list_json_fields_are_a_stable_contract() -> None:
    # Scripts depend on these names and this order: add new fields at the end only.
    assert LIST_FIELDS == [
        "case_id",
        "client",
        "age",
        "status",
        "risk",
        "stage",
        "manager",
        "opened",
        "last_contact",
        "next_review",
        "open_referrals",
        "language",
        "flags",
    ]


def test_check_is_silent_when_all_is_well(cli: Cli, planned: str) -> None:
    result = cli("check")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""


def test_check_reports_file_line_message_and_json(cli: Cli, planned: str) -> None:
    path = cli.path(planned)
    path.write_text(path.read_text().replace("sex: female", "sex: femal"))
    result = cli("check", ok=False)
    assert result.exit_code == ExitStatus.PROBLEMS_FOUND
    line = result.stdout.strip()
    assert line.startswith(f"{path}:") and "client.sex: 'femal' is not one of" in line
    problems = json.loads(cli("check", "--format", "json", ok=False).stdout)
    assert (
        problems[0]["file"] == str(path)
        and problems[0]["field"] == "client.sex"
        and problems[0]["line"] > 1
    )


def test_edit_keeps_a_valid_edit(
    cli: Cli, planned: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text(
        "#!/bin/sh\nsed -i 's/name: Mia Santos/name: Mia R. Santos  # corrected/' \"$1\"\n"
    )
    editor.chmod(0o700)
    monkeypatch.setenv("EDITOR", str(editor))
    cli("edit", planned)
    assert "name: Mia R. Santos  # corrected" in cli.path(planned).read_text()
    assert stat.S_IMODE(cli.path(planned).stat().st_mode) == 0o600


def test_edit_never_keeps_an_invalid_file(
    cli: Cli, planned: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = cli.path(planned).read_bytes()
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/dob: 2016-04-02/dob: 2016-04-31/' \"$1\"\n")
    editor.chmod(0o700)
    monkeypatch.setenv("EDITOR", str(editor))
    result = cli("edit", planned, ok=False)
    assert result.exit_code == ExitStatus.INVALID and "not a real date" in result.stderr
    assert cli.path(planned).read_bytes() == before
    assert not [p for p in cli.data_dir.iterdir() if p.name.startswith(".casectl-")]


def test_edit_without_an_editor(cli: Cli, planned: str) -> None:
    result = cli("edit", planned, ok=False)
    assert result.exit_code == ExitStatus.EXTERNAL and "$EDITOR" in result.stderr


def test_close_reopen_hold_and_transfer_keep_a_history(cli: Cli, planned: str) -> None:
    cli("hold", planned, "--reason", "family abroad")
    cli("reopen", planned, "--reason", "back")
    cli("transfer", planned, "--to", "North team, K. Osei", "--reason", "moved district")
    again = cli("transfer", planned, "--to", "x", "--reason", "y", ok=False)
    assert again.exit_code == ExitStatus.STAGE_ORDER
    data = json.loads(cli("show", planned, "--format", "json").stdout)
    assert data["status"] == "transferred" and data["transferred_to"] == "North team, K. Osei"
    assert [h["status"] for h in data["status_history"]] == ["on-hold", "open", "transferred"]
    result = cli("transfer", planned, "--reason", "x", ok=False)
    assert result.exit_code != 0


def test_family_team_and_consent(cli: Cli) -> None:
    case = open_case(cli)
    cli(
        "family",
        case,
        "--id",
        "grandma",
        "--name",
        "Ines Santos",
        "--relationship",
        "grandmother",
        "--involvement",
        "does school pick-up",
    )
    cli(
        "team",
        case,
        "--id",
        "school",
        "--name",
        "Lincoln Elementary",
        "--role",
        "school",
        "--consent-to-share",
    )
    cli("consent", case, "--kind", "share-information", "--given-by", "client", "--scope", "school")
    bad = cli("consent", case, "--kind", "share-information", "--given-by", "school", ok=False)
    assert (
        bad.exit_code == ExitStatus.INVALID
        and "not the client, a family member or a care-team decision-maker" in bad.stderr
    )
    dup = cli("team", case, "--id", "grandma", "--name", "X", "--role", "school", ok=False)
    assert dup.exit_code == ExitStatus.INVALID and "used twice" in dup.stderr
    role = cli("team", case, "--id", "t2", "--name", "X", "--role", "wizard", ok=False)
    assert role.exit_code == ExitStatus.INVALID and "--role" in role.stderr


def test_a_bad_config_is_named(cli: Cli, planned: str) -> None:
    (cli.data_dir / "config.toml").write_text("[risk]\nhigh_at = 'lots'\n")
    result = cli("risk", planned, ok=False)
    assert result.exit_code == ExitStatus.CONFIG
    assert "config.toml: risk.high_at" in result.stderr


def test_an_internal_error_shows_no_traceback_and_no_case_data(
    cli: Cli, planned: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("Mia Santos secret")

    monkeypatch.setattr("casectl.cli.render.render_case", broken)
    result = cli("show", planned, ok=False)
    assert result.exit_code == 70
    assert "Traceback" not in result.output and "Mia Santos" not in result.output
    assert "internal error (RuntimeError)" in result.stderr


def test_usage_errors_exit_2(cli: Cli) -> None:
    assert cli("show", ok=False).exit_code == ExitStatus.USAGE
    assert cli("frobnicate", ok=False).exit_code == ExitStatus.USAGE


def test_data_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from casectl.cli.app import app

    monkeypatch.setenv("CASECTL_DATA_DIR", str(tmp_path / "env-cases"))
    assert CliRunner().invoke(app, ["init"]).exit_code == 0
    assert (tmp_path / "env-cases" / "config.toml").exists()
    assert os.environ["CASECTL_DATA_DIR"].endswith("env-cases")


def test_show_names_each_goal_domain_and_leaves_no_empty_field(cli: Cli, planned: str) -> None:
    cli("implement", planned, "--intervention-update", "i1=done; final", "--date", "2026-09-20")
    out = cli("show", planned).stdout
    assert "g1 [health] No ED visits — not-started" in out
    assert "i1: Asthma action plan review — pcp, monthly, last done 2026-09-20, done" in out
    assert ", ," not in out
