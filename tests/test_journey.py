"""One case's six months, as a case manager lives them, command by command on the day they happen.

At each step the test reads what the case manager would read: `review --format json` (exactly the
items expected that day), `show --format json` (the derived statuses), the family's care plan and
the FHIR Goals. Everything goes through the command line with "today" set to the step's day.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from casectl.errors import ExitStatus
from tests.conftest import Cli

CASE = "C-2026-0001"


@pytest.fixture
def on(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`on("2026-06-01", "screen", ...)`: run a command as if on that day."""

    def run(day: str, *args: str, ok: bool = True) -> Any:
        monkeypatch.setenv("CASECTL_TODAY", day)
        return cli(*args, ok=ok)

    return run


def review(on: Any, day: str) -> list[tuple[str, str | None, str, str]]:
    items = json.loads(on(day, "review", "--format", "json").stdout)
    return [(i["kind"], i["item"], i["due"], i["group"]) for i in items]


def derived(on: Any, day: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(on(day, "show", CASE, "--format", "json").stdout)["derived"]
    return data


def goals(on: Any, day: str) -> dict[str, str]:
    return {g["id"]: g["status"] for g in derived(on, day)["goals"]}


def fhir_goals(on: Any, day: str) -> dict[str, tuple[str, str | None]]:
    bundle = json.loads(on(day, "export", CASE, "--format", "fhir").stdout)
    plans = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan"]
    current = next(p for p in plans if p["status"] != "revoked")
    ids = {g["reference"] for g in current["goal"]}
    out = {}
    for entry in bundle["entry"]:
        goal = entry["resource"]
        if goal["resourceType"] == "Goal" and entry["fullUrl"] in ids:
            achieved = goal.get("achievementStatus", {}).get("coding", [{}])[0].get("code")
            out[goal["description"]["text"]] = (goal["lifecycleStatus"], achieved)
    return out


def test_six_months_of_one_case(cli: Cli, on: Any) -> None:
    # --- 1 June: a 15-year-old is referred; the PHQ-A item 9 is positive. ---
    assert (
        on(
            "2026-06-01",
            "new",
            "--name",
            "Lena Park",
            "--dob",
            "2011-02-14",
            "--sex",
            "female",
            "--id",
            CASE,
        ).stdout.strip()
        == CASE
    )
    on(
        "2026-06-01",
        "family",
        CASE,
        "--id",
        "mother",
        "--name",
        "Mina Park",
        "--relationship",
        "mother",
        "--guardian",
        "--decision-maker",
    )
    on(
        "2026-06-01",
        "team",
        CASE,
        "--id",
        "mh",
        "--name",
        "Harbor Behavioral Health",
        "--role",
        "mental-health",
    )
    screened = on(
        "2026-06-01",
        "screen",
        CASE,
        "--referral-source",
        "school counselor",
        "--referral-reason",
        "low mood, missed school",
        "--eligible",
        "--reason",
        "depression with school refusal",
        "--instrument",
        "phq-a",
        "--answers",
        "2,2,2,1,1,2,1,1,1",
    )
    assert "SAME-DAY ACTION" in screened.stderr
    # Today's review: the safety item first, in the default view; --exit-code exits 3.
    assert review(on, "2026-06-01")[0] == ("safety", None, "2026-06-01", "due")
    assert on("2026-06-01", "review", "--exit-code", ok=False).exit_code == ExitStatus.OVERDUE
    # A crisis referral and the safety plan, the same day, before any plan.
    referred = on(
        "2026-06-01",
        "implement",
        CASE,
        "--refer",
        "Mobile crisis team; reason=suicidal thoughts; urgent",
    )
    assert "referral r1 to Mobile crisis team: sent" in referred.stdout
    on(
        "2026-06-01",
        "follow-up",
        CASE,
        "--mode",
        "home-visit",
        "--with",
        "client,mother",
        "--summary",
        "safety plan made",
        "--safety-action",
        "safety plan with Lena and her mother; means secured; crisis line given",
    )
    assert [k for k, *_ in review(on, "2026-06-01")] == []
    assert on("2026-06-01", "review", "--exit-code").exit_code == 0

    # --- 5–8 June: assessment, risk, plan. ---
    on(
        "2026-06-05",
        "assess",
        CASE,
        "--health-status",
        "moderate depression",
        "--diagnosis",
        "Major depressive disorder, single episode; icd10=F32.1",
    )
    risk = on("2026-06-05", "risk", CASE, "--format", "json")
    assert json.loads(risk.stdout)["effective_level"] == "high"  # the same-day flag forces high
    planned = on("2026-06-08", "plan", CASE,
                 "--goal", "Attends school 4 days a week; domain=education; measure=days a week; target=4; by=2026-08-31",
                 "--goal", "PHQ-A below 10; domain=mental-health; measure=PHQ-A total; target=under 10; by=2026-11-30",
                 "--intervention", "Weekly therapy; owner=mh; goal=g2; every=weekly",
                 "--intervention", "Letter to school about a reduced timetable; owner=case-manager; goal=g1; due=2026-06-20",
                 "--review-every", "14d", "--agreed-by", "mother,client")  # fmt: skip
    assert "goals g1, g2" in planned.stdout and "i1 (mh), i2 (case-manager)" in planned.stdout
    # The referral is chased 14 days after it was sent (no answer), due within the week.
    assert review(on, "2026-06-08") == [
        ("referral", "r1", "2026-06-15", "due"),
        ("intervention", "i1", "2026-06-15", "due"),
    ]

    # --- 15–22 June: weekly therapy done, the letter sent, the referral answered. ---
    on(
        "2026-06-15",
        "implement",
        CASE,
        "--intervention-update",
        "i1=done; note=first session",
        "--referral-update",
        "r1=completed",
    )
    assert derived(on, "2026-06-15")["interventions"][0]["next_due"] == "2026-06-22"
    on("2026-06-19", "implement", CASE, "--intervention-update", "i2=done")
    assert review(on, "2026-06-19") == [
        ("review", None, "2026-06-22", "due"),
        ("intervention", "i1", "2026-06-22", "due"),
    ]
    assert review(on, "2026-06-24") == [
        ("review", None, "2026-06-22", "overdue"),
        ("intervention", "i1", "2026-06-22", "overdue"),
    ]

    # --- 1 July: a contact; school attendance improving. ---
    on("2026-06-29", "implement", CASE, "--intervention-update", "i1=done")
    on(
        "2026-07-01",
        "follow-up",
        CASE,
        "--mode",
        "phone",
        "--with",
        "mother",
        "--summary",
        "3 days at school this week",
        "--progress",
        "g1=improving",
    )
    assert goals(on, "2026-07-01") == {"g1": "in-progress", "g2": "not-started"}
    assert fhir_goals(on, "2026-07-01")["Attends school 4 days a week"] == ("active", "improving")

    # --- 10 July: the plan is revised: a sleep goal added; the same command twice changes nothing. ---
    sleep = (
        "--goal",
        "Sleeps 8 hours; domain=health; measure=hours a night; target=8; by=2026-10-31",
        "--agreed-by",
        "mother,client",
    )
    assert "new g3" in on("2026-07-10", "plan", CASE, *sleep).stdout
    assert "nothing changed" in on("2026-07-10", "plan", CASE, *sleep).stdout
    assert goals(on, "2026-07-10") == {
        "g1": "in-progress",
        "g2": "not-started",
        "g3": "not-started",
    }

    # --- 15 August: school attendance goal achieved. ---
    on(
        "2026-07-15",
        "follow-up",
        CASE,
        "--mode",
        "phone",
        "--with",
        "mother",
        "--summary",
        "summer break",
    )
    on(
        "2026-08-15",
        "follow-up",
        CASE,
        "--mode",
        "video",
        "--with",
        "client",
        "--summary",
        "summer school every day",
        "--progress",
        "g1=achieved",
        "--progress",
        "g2=improving",
    )
    assert goals(on, "2026-08-15") == {"g1": "achieved", "g2": "in-progress", "g3": "not-started"}
    # An achieved goal is never listed, even after its target date (31 August).
    assert ("goal", "g1", "2026-08-31", "overdue") not in review(on, "2026-09-05")
    plan_text = on("2026-08-15", "export", CASE, "--lang", "en").stdout
    assert "**Where we are now:** reached" in plan_text
    assert fhir_goals(on, "2026-08-15")["Attends school 4 days a week"] == ("completed", "achieved")

    # --- 1 September: the plan revised again: the sleep goal ended, with its reason. ---
    ended = on(
        "2026-09-01",
        "plan",
        CASE,
        "--discontinue",
        "g3",
        "--reason",
        "sleep fine since the medication change",
        "--agreed-by",
        "mother,client",
    )
    assert "g3 ended: sleep fine since the medication change" in ended.stdout
    assert goals(on, "2026-09-01") == {"g1": "achieved", "g2": "in-progress", "g3": "discontinued"}
    assert fhir_goals(on, "2026-09-01")["Sleeps 8 hours"] == ("cancelled", None)
    # The revision is itself a review with the family: the next one is 14 days on (15 September).
    # What remains on 2 September: the weekly therapy, overdue since 6 July.
    assert review(on, "2026-09-02") == [("intervention", "i1", "2026-07-06", "overdue")]
    on(
        "2026-09-02",
        "implement",
        CASE,
        "--intervention-update",
        "i1=done; note=weekly since July, missed log",
    )
    # A call that reaches nobody is recorded, and leaves the review where it was.
    on(
        "2026-09-02",
        "follow-up",
        CASE,
        "--mode",
        "phone",
        "--with",
        "mother",
        "--outcome",
        "no-answer",
    )
    assert derived(on, "2026-09-02")["next_review"] == "2026-09-15"
    assert review(on, "2026-09-09") == [
        ("intervention", "i1", "2026-09-09", "due"),
        ("review", None, "2026-09-15", "due"),
    ]
    on(
        "2026-09-10",
        "follow-up",
        CASE,
        "--mode",
        "phone",
        "--with",
        "mother",
        "--summary",
        "therapy weekly; mood better",
    )
    assert derived(on, "2026-09-10")["next_review"] == "2026-09-24"

    # --- 30 November: the evaluation. ---
    on(
        "2026-11-30",
        "implement",
        CASE,
        "--intervention-update",
        "i1=done; final; note=therapy ended by agreement",
    )
    evaluated = on(
        "2026-11-30",
        "evaluate",
        CASE,
        "--outcome",
        "g2=achieved; gas=1",
        "--care-appropriate",
        "--satisfaction",
        "5",
        "--decision",
        "continue",
        "--reason",
        "follow through the winter",
    )
    assert "goal g2: achieved" in evaluated.stdout
    state = derived(on, "2026-11-30")
    assert {g["id"]: g["status"] for g in state["goals"]} == {
        "g1": "achieved",
        "g2": "achieved",
        "g3": "discontinued",
    }
    assert {i["id"]: i["status"] for i in state["interventions"]} == {"i1": "done", "i2": "done"}
    assert state["safety_flags"][0]["open"] is False
    assert fhir_goals(on, "2026-11-30")["PHQ-A below 10"] == ("completed", "achieved")
    # Nothing of the plan is left to chase; only the review missed since 24 September.
    assert [(k, item) for k, item, *_ in review(on, "2026-11-30")] == [("review", None)]
    on("2026-11-30", "check")
