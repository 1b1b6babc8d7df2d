"""Prompts at a real terminal: each command driven through a pseudo-terminal as a person would.

casectl runs in a pty (pexpect) 80 columns wide; every test gives at least one wrong answer and
sees it refused with its reason and asked again, and every command is also interrupted with
Ctrl-C (or Ctrl-D) at a question: exit 130, one line on standard error, the case file byte for
byte as it was. The expectations are on text, with generous timeouts, never on timing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest
import yaml

from casectl.errors import ExitStatus
from tests.conftest import Cli, open_case

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

TIMEOUT = 60  # seconds for one expected text: a loaded machine is slow, never wrong
CORPUS = Path(__file__).parent / "fhir-corpus"


class Terminal:
    """One casectl command running in a pseudo-terminal, answered question by question."""

    def __init__(self, cli: Cli, *args: str, width: int = 80) -> None:
        env = {**os.environ, "COLUMNS": str(width), "LINES": "24", "TERM": "xterm"}
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "casectl", "--data-dir", str(cli.data_dir), *args],
            env=env,
            encoding="utf-8",
            timeout=TIMEOUT,
            dimensions=(24, width),
        )

    def sees(self, text: str) -> Terminal:
        self.child.expect_exact(text)
        return self

    def answer(self, prompt: str, text: str) -> Terminal:
        """Wait for `prompt`, then type `text` and Enter."""
        self.child.expect_exact(prompt)
        self.child.sendline(text)
        return self

    def refused(self, reason: str, prompt: str, text: str) -> Terminal:
        """The last answer was refused with `reason`, then `prompt` is asked again."""
        self.child.expect_exact(reason)
        return self.answer(prompt, text)

    def interrupt(self, prompt: str, *, eof: bool = False) -> str:
        """Ctrl-C (or Ctrl-D) at `prompt`; what the command printed, after checking it
        stopped with exit 130 and said so."""
        self.child.expect_exact(prompt)
        if eof:
            self.child.sendeof()
        else:
            self.child.sendintr()
        out, status = self.finish()
        assert status == ExitStatus.INTERRUPTED, out
        assert "casectl: interrupted; nothing was written." in out
        assert "Traceback" not in out and "Aborted!" not in out
        return out

    def finish(self) -> tuple[str, int]:
        """Everything printed from the last expectation to the end, and the exit code."""
        self.child.expect(pexpect.EOF)
        out: str = self.child.before
        self.child.close()
        assert self.child.exitstatus is not None, "casectl was killed by a signal"
        return out, self.child.exitstatus

    def succeeds(self) -> str:
        out, status = self.finish()
        assert status == 0, out
        return out


def case_data(cli: Cli, case: str) -> Any:
    return yaml.safe_load(cli.path(case).read_text())


def assessed(cli: Cli) -> str:
    """A case screened, assessed and scored, with a mother and a care team: ready for a plan
    (or another risk record)."""
    case = open_case(cli)
    cli("family", case, "--id", "mother", "--name", "Rosa Santos", "--relationship", "mother")
    cli("team", case, "--id", "pcp", "--name", "Dr. Ana Ruiz", "--role", "primary-care")
    cli(
        "screen",
        case,
        "--referral-source",
        "PCP",
        "--referral-reason",
        "asthma",
        "--eligible",
        "--reason",
        "needs",
    )
    cli("assess", case, "--health-status", "poorly controlled asthma", "--ed-visits", "3")
    cli("risk", case)
    return case


# --- new ---


def test_new_asks_for_the_client_in_words_and_checks_each_answer(cli: Cli) -> None:
    t = Terminal(cli, "new")
    t.sees("Opening a new case. Ctrl-C stops without saving.")
    t.answer("Client's full name: ", "")
    t.refused("an answer is needed", "Client's full name: ", "Mia Santos")
    t.answer("Date of birth (YYYY-MM-DD): ", "2031-01-01")
    t.refused("2031-01-01 is in the future", "Date of birth (YYYY-MM-DD): ", "02/04/2019")
    t.refused("'02/04/2019' is not a date", "Date of birth (YYYY-MM-DD): ", "2019-04-02")
    t.answer("Sex [female/male/other/unknown]: ", "x")
    t.refused(
        "'x' is not one of female, male, other, unknown", "Sex [female/male/other/unknown]: ", "f"
    )
    t.answer("Preferred language (a code: en, es, vi …) [en]: ", "spanish")
    t.refused("is not a language code", "[en]: ", "es")
    t.answer("Interpreter needed? [y/N]: ", "maybe")
    t.refused("answer yes or no", "Interpreter needed? [y/N]: ", "")
    out = t.succeeds()
    assert out.strip().splitlines()[-1] == "C-2026-0001"
    client = case_data(cli, "C-2026-0001")["client"]
    assert client["name"] == "Mia Santos" and client["sex"] == "female"
    assert str(client["dob"]) == "2019-04-02" and client["preferred_language"] == "es"
    assert client.get("interpreter_needed", False) is False


def test_new_asks_only_for_what_is_missing(cli: Cli) -> None:
    t = Terminal(cli, "new", "--name", "Mia Santos", "--sex", "female", "--language", "en")
    t.answer("Date of birth (YYYY-MM-DD): ", "2019-04-02")
    t.answer("Interpreter needed? [y/N]: ", "y")
    assert t.succeeds().strip().splitlines()[-1] == "C-2026-0001"
    assert case_data(cli, "C-2026-0001")["client"]["interpreter_needed"] is True


def test_new_interrupted_opens_no_case(cli: Cli) -> None:
    t = Terminal(cli, "new")
    t.answer("Client's full name: ", "Mia Santos")
    t.interrupt("Date of birth (YYYY-MM-DD): ")
    t = Terminal(cli, "new")
    t.interrupt("Client's full name: ", eof=True)
    assert sorted(p.name for p in cli.data_dir.glob("C-*")) == []


# --- screen ---


def test_screen_asks_who_referred_and_whether_eligible(cli: Cli) -> None:
    case = open_case(cli)
    t = Terminal(cli, "screen", case)
    t.sees(f"Screening for {case} (Mia Santos), dated 2026-11-25.")
    t.answer("Referral source (who referred the client): ", "NICU social work")
    t.answer("Reason for the referral: ", "feeding problems")
    t.answer("Eligible for case management? [y/n]: ", "perhaps")
    t.refused("'perhaps': answer yes or no", "Eligible for case management? [y/n]: ", "yes")
    t.answer("Why eligible? ", "complex needs, housing unstable")
    assert f"{case}: screening recorded (eligible)" in t.succeeds()
    screening = case_data(cli, case)["screening"][0]
    assert screening["referral_source"] == "NICU social work"
    assert screening["eligible"] is True
    assert screening["eligibility_reason"] == "complex needs, housing unstable"


def test_screen_interrupted_writes_nothing(cli: Cli) -> None:
    case = open_case(cli)
    before = cli.path(case).read_bytes()
    t = Terminal(cli, "screen", case, "--referral-source", "school nurse")
    t.answer("Reason for the referral: ", "absences")
    t.interrupt("Eligible for case management? [y/n]: ")
    assert cli.path(case).read_bytes() == before


def test_an_instrument_item_by_item_refuses_a_wrong_answer_and_stops_on_ctrl_c(cli: Cli) -> None:
    case = open_case(cli, dob="2012-01-10")  # 14: the PHQ-9 is validated from 12
    before = cli.path(case).read_bytes()
    args = ("--referral-source", "school", "--referral-reason", "mood", "--eligible")
    t = Terminal(cli, "screen", case, *args, "--reason", "r", "--instrument", "phq-9")
    t.sees("1. Little interest or pleasure in doing things")
    t.answer("answer: ", "7")
    t.refused("'7' is not one of 0, 1, 2, 3", "answer: ", "1")
    t.sees("2. ")
    t.interrupt("answer: ")
    assert cli.path(case).read_bytes() == before


# --- assess ---


def test_assess_given_nothing_asks_what_the_risk_tier_is_computed_from(cli: Cli) -> None:
    case = open_case(cli)
    cli(
        "screen",
        case,
        "--referral-source",
        "PCP",
        "--referral-reason",
        "asthma",
        "--eligible",
        "--reason",
        "needs",
    )
    t = Terminal(cli, "assess", case)
    t.answer("Overall health status, in a sentence: ", "stable, poorly controlled asthma")
    t.answer("Diagnosis (Enter: no more): ", "Moderate persistent asthma")
    t.answer("ICD-10-CM code, e.g. J45.40 (Enter to skip): ", "asthma")
    t.refused("'asthma' is not an ICD-10-CM code", "(Enter to skip): ", "J45.40")
    t.answer("Diagnosis (Enter: no more): ", "")
    t.answer("Emergency department visits [0]: ", "three")
    t.refused("'three' is not a whole number", "Emergency department visits [0]: ", "3")
    t.answer("Hospital admissions [0]: ", "-1")
    t.refused("is out of range", "Hospital admissions [0]: ", "1")
    t.answer("Missed appointments [0]: ", "")
    t.sees("choose from: housing, food")
    t.answer("Social needs (Enter to skip): ", "housing, fo")
    t.answer("Caregiver strain [none/mild/moderate/severe] (Enter: none): ", "mi")
    assert f"{case}: assessment recorded." in t.succeeds()
    record = case_data(cli, case)["assessments"][0]
    assert record["diagnoses"] == [{"description": "Moderate persistent asthma", "icd10": "J45.40"}]
    # Enter takes the default shown, and it is recorded as answered.
    assert record["utilisation"] == {
        "ed_visits_12m": 3,
        "admissions_12m": 1,
        "missed_appointments_12m": 0,
    }
    assert record["social_needs"] == ["housing", "food"]
    assert record["caregiving"] == {"strain": "mild"}


def test_assess_interrupted_writes_nothing(cli: Cli) -> None:
    case = open_case(cli)
    cli(
        "screen",
        case,
        "--referral-source",
        "PCP",
        "--referral-reason",
        "asthma",
        "--eligible",
        "--reason",
        "needs",
    )
    before = cli.path(case).read_bytes()
    t = Terminal(cli, "assess", case)
    t.answer("Overall health status, in a sentence: ", "stable")
    t.interrupt("Diagnosis (Enter: no more): ")
    assert cli.path(case).read_bytes() == before


# --- risk ---


def test_risk_reason_alone_asks_for_the_level(cli: Cli) -> None:
    case = assessed(cli)
    t = Terminal(cli, "risk", case, "--reason", "new seizure activity reported by neurology")
    t.sees("The computed level is")
    t.answer("Clinician's level [low/moderate/high]: ", "extreme")
    t.refused(
        "'extreme' is not one of low, moderate, high",
        "Clinician's level [low/moderate/high]: ",
        "high",
    )
    t.succeeds()
    override = case_data(cli, case)["risk_assessments"][-1]["override"]
    assert override == {"level": "high", "reason": "new seizure activity reported by neurology"}


def test_risk_override_alone_asks_why_and_ctrl_c_writes_nothing(cli: Cli) -> None:
    case = assessed(cli)
    before = cli.path(case).read_bytes()
    t = Terminal(cli, "risk", case, "--override", "high")
    t.answer("Why override the computed level? ", "")
    t.refused("an answer is needed", "Why override the computed level? ", "")
    t.interrupt("Why override the computed level? ")
    assert cli.path(case).read_bytes() == before


# --- plan ---


def test_plan_asks_goal_by_goal_then_interventions_offering_people_and_goals(cli: Cli) -> None:
    case = assessed(cli)
    t = Terminal(cli, "plan", case)
    t.sees("A new care plan for")
    t.sees("Goal g1:")
    t.answer("The goal, in the family's words: ", "No asthma ED visits")
    t.sees("choose from: health, self-care")
    t.answer("Domain [health]: ", "")
    t.answer("How it is measured: ", "ED visits per quarter")
    t.answer("Target: ", "0")
    t.answer("Target date (YYYY-MM-DD, +6m): ", "next spring")
    t.refused("'next spring' is not a date", "Target date (YYYY-MM-DD, +6m): ", "+6m")
    t.answer("Baseline, where it stands now (Enter to skip): ", "3 a year")
    t.answer("Another goal? [y/N]: ", "y")
    t.sees("Goal g2:")
    t.answer("The goal, in the family's words: ", "Stable housing")
    t.answer("Domain [health]: ", "hous")
    t.answer("How it is measured: ", "lease signed")
    t.answer("Target: ", "a lease")
    t.answer("Target date (YYYY-MM-DD, +6m): ", "2027-03-01")
    t.answer("Baseline, where it stands now (Enter to skip): ", "")
    t.answer("Another goal? [y/N]: ", "")
    t.answer("Add an intervention? [Y/n]: ", "")
    t.answer("What will be done: ", "Asthma action plan review")
    t.sees("pcp           Dr. Ana Ruiz (primary-care)")
    t.answer("Who does it: ", "dr ruiz")
    t.refused("'dr ruiz' is not one of client, case-manager, mother, pcp", "Who does it: ", "pcp")
    t.sees("g2  Stable housing")
    t.answer("For goal (Enter to skip): ", "g3")
    t.refused("'g3' is not one of g1, g2", "For goal (Enter to skip): ", "g1")
    t.answer("Due date (Enter if it recurs instead): ", "")
    t.answer("How often (weekly, every 2 weeks, monthly): ", "monthly")
    t.answer("Another intervention? [y/N]: ", "n")
    t.sees("Reviews for ")
    t.answer("Review every (2w, 30d, 3m) [", "often")
    t.refused("'often' is not a span of time", "Review every (2w, 30d, 3m) [", "30d")
    t.answer("Who agreed to the plan? ", "father")
    t.refused("'father' is not one of client, mother", "Who agreed to the plan? ", "mother")
    t.answer("What the family asked for or chose (Enter to skip): ", "")
    assert f"{case}: care plan recorded: goals g1, g2." in t.succeeds()
    plan = case_data(cli, case)["care_plans"][0]
    assert [(g["id"], g["domain"], str(g["target_date"])) for g in plan["goals"]] == [
        ("g1", "health", "2027-05-25"),
        ("g2", "housing", "2027-03-01"),
    ]
    assert plan["interventions"] == [
        {
            "id": "i1",
            "description": "Asthma action plan review",
            "owner": "pcp",
            "goal": "g1",
            "frequency": "monthly",
            "status": "planned",
        }
    ]
    assert plan["review_interval_days"] == 30 and plan["agreed_by"] == ["mother"]


def test_plan_revision_asks_only_who_agreed(cli: Cli, planned: str) -> None:
    goal = "Attend school; domain=education; measure=days missed; target=under 2; by=+6m"
    t = Terminal(cli, "plan", planned, "--goal", goal)
    t.sees("mother  Rosa Santos (mother)")
    t.answer("Who agreed to the plan? ", "pcp")
    t.refused("'pcp' is not one of client, mother", "Who agreed to the plan? ", "mother")
    assert "care plan revised" in t.succeeds()
    assert [g["id"] for g in case_data(cli, planned)["care_plans"][-1]["goals"]] == ["g1", "g2"]


def test_plan_interrupted_writes_nothing(cli: Cli) -> None:
    case = assessed(cli)
    before = cli.path(case).read_bytes()
    t = Terminal(cli, "plan", case)
    t.answer("The goal, in the family's words: ", "No asthma ED visits")
    t.answer("Domain [health]: ", "")
    t.interrupt("How it is measured: ")
    assert cli.path(case).read_bytes() == before


# --- implement ---


def test_implement_asks_what_to_record_and_offers_the_plans_interventions(
    cli: Cli, planned: str
) -> None:
    t = Terminal(cli, "implement", planned)
    t.sees("intervention-update  a plan's intervention started, done or cancelled")
    t.answer("Record: ", "phone call")
    t.refused("'phone call' is not one of referral, appointment", "Record: ", "intervention")
    t.sees("i1  Asthma action plan review (pcp)")
    t.answer("Intervention: ", "i2")
    t.refused("'i2' is not one of i1", "Intervention: ", "i1")
    t.answer("Now [in-progress/done/cancelled]: ", "finished")
    t.refused("'finished' is not one of", "Now [in-progress/done/cancelled]: ", "done")
    t.answer("Is the series complete (it does not fall due again)? [y/N]: ", "")
    t.answer("Note (Enter to skip): ", "plan reviewed with mother")
    t.answer("Record something else? [y/N]: ", "y")
    t.answer("Record: ", "ref")
    t.answer("Service referred to: ", "Pulmonology")
    t.answer("Reason for the referral: ", "uncontrolled asthma")
    t.answer("Care-team member it goes to (Enter to skip): ", "pulm")
    t.answer("Urgency [routine/urgent] (Enter: routine): ", "urg")
    t.answer("Record something else? [y/N]: ", "")
    out = t.succeeds()
    assert "referral r1 to Pulmonology: sent" in out
    record = case_data(cli, planned)["coordination"][-1]
    assert record["intervention_updates"] == [
        {"intervention": "i1", "status": "done", "note": "plan reviewed with mother"}
    ]
    assert record["referrals"][0]["member"] == "pulm"
    assert record["referrals"][0]["urgency"] == "urgent"


def test_implement_asks_again_when_the_case_refuses_an_update(cli: Cli, planned: str) -> None:
    cli("implement", planned, "--refer", "Pulmonology; reason=asthma; member=pulm")
    cli("implement", planned, "--referral-update", "r1=scheduled")
    t = Terminal(cli, "implement", planned)
    t.answer("Record: ", "referral-update")
    t.sees("r1  Pulmonology — scheduled since 2026-11-25")
    t.answer("Referral: ", "r1")
    now = "Now [accepted/scheduled/completed/declined/no-response]: "
    t.answer(now, "accepted")
    t.refused("referral r1 cannot go back from scheduled to accepted", now, "completed")
    t.answer("Note (Enter to skip): ", "seen 20 Nov")
    t.answer("Record something else? [y/N]: ", "")
    assert "referral r1: completed" in t.succeeds()


def test_implement_interrupted_writes_nothing(cli: Cli, planned: str) -> None:
    before = cli.path(planned).read_bytes()
    t = Terminal(cli, "implement", planned)
    t.answer("Record: ", "education")
    t.answer("Topic: ", "Inhaler technique")
    t.interrupt("Given to: ")
    assert cli.path(planned).read_bytes() == before


# --- follow-up ---


def test_follow_up_asks_the_contact_and_progress_goal_by_goal(cli: Cli, planned: str) -> None:
    t = Terminal(cli, "follow-up", planned)
    t.sees("choose from: phone, video")
    t.answer("Contact mode: ", "phon")
    t.sees("mother        Rosa Santos (mother)")
    t.answer("Who took part? ", "mom")
    t.refused("'mom' is not one of client, case-manager, mother", "Who took part? ", "mother")
    t.answer("Outcome [reached/no-answer/left-message] (Enter: reached): ", "")
    t.answer("What was discussed, in a sentence: ", "no night symptoms this month")
    t.sees("g1  No ED visits — not-started")
    t.answer("g1 progress: ", "better")
    t.refused("'better' is not one of not-started, improving", "g1 progress: ", "improving")
    t.sees("Barriers to the plan, one per line (an empty line ends):")
    t.answer("  - ", "no car for clinic visits, since March")
    t.answer("  - ", "")
    t.answer("Medication adherence [good/partial/poor/unknown] (Enter: unknown): ", "good")
    t.answer("Safety concern reported (abuse, neglect, self-harm) (Enter to skip): ", "")
    assert "goal g1: in-progress" in t.succeeds()
    contact = case_data(cli, planned)["follow_ups"][-1]
    assert contact["mode"] == "phone" and contact["with"] == ["mother"]
    assert contact["progress"] == [{"goal": "g1", "progress": "improving"}]
    assert contact["adherence"] == "good"
    assert contact["barriers"] == ["no car for clinic visits, since March"]


def test_follow_up_missing_with_asks_for_it(cli: Cli, planned: str) -> None:
    # The case: `--with` missing on a terminal was an internal error (KeyError).
    t = Terminal(cli, "follow-up", planned, "--mode", "phone", "--summary", "checked in")
    t.answer("Who took part? ", "mother, pcp")
    out = t.succeeds()
    assert "internal error" not in out
    assert case_data(cli, planned)["follow_ups"][-1]["with"] == ["mother", "pcp"]


def test_follow_up_interrupted_writes_nothing(cli: Cli, planned: str) -> None:
    before = cli.path(planned).read_bytes()
    t = Terminal(cli, "follow-up", planned, "--mode", "phone")
    t.answer("Who took part? ", "mother")
    t.interrupt("What was discussed, in a sentence: ")
    assert cli.path(planned).read_bytes() == before


# --- evaluate ---


def test_evaluate_asks_an_outcome_per_open_goal_and_the_decision(cli: Cli, planned: str) -> None:
    t = Terminal(cli, "evaluate", planned)
    t.sees("g1  No ED visits — not-started")
    t.answer("g1 outcome: ", "great")
    t.refused("'great' is not one of achieved, partly-achieved", "g1 outcome: ", "achieved")
    t.answer("g1 GAS score, -2 to +2 (Enter to skip): ", "5")
    t.refused("5 is out of range", "g1 GAS score, -2 to +2 (Enter to skip): ", "1")
    t.answer("Was the care received appropriate? [y/n]: ", "y")
    t.answer("Family satisfaction, 1 to 5 (5: very satisfied) (Enter to skip): ", "")
    t.answer("Decision [continue/transition/close]: ", "trans")
    t.answer("Why that decision? ", "moving to the school-based health centre")
    t.answer("Service taking over: ", "Northside school-based health centre")
    assert "evaluation recorded (transition)" in t.succeeds()
    record = case_data(cli, planned)["evaluations"][-1]
    assert record["goal_outcomes"] == [{"goal": "g1", "outcome": "achieved", "gas": 1}]
    assert record["decision"] == "transition" and record["care_appropriate"] is True
    assert record["transition_to"] == "Northside school-based health centre"


def test_evaluate_interrupted_writes_nothing(cli: Cli, planned: str) -> None:
    before = cli.path(planned).read_bytes()
    t = Terminal(cli, "evaluate", planned, "--decision", "close")
    t.answer("Was the care received appropriate? [y/n]: ", "yes")
    t.interrupt("Why that decision? ", eof=True)
    assert cli.path(planned).read_bytes() == before


# --- Typer's own questions ---


def test_ctrl_c_at_a_confirmation_is_an_interrupt_not_aborted(cli: Cli) -> None:
    path = CORPUS / "01-clinic-collection.json"
    cli("import", "-f", "fhir", str(path))
    before = cli.path("C-2026-0001").read_bytes()
    t = Terminal(cli, "import", "-f", "fhir", str(path))
    t.interrupt("Add the records to C-2026-0001? [y/N]: ")
    assert cli.path("C-2026-0001").read_bytes() == before
