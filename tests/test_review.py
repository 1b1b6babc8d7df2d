"""`casectl review`: each kind of item appears exactly when it should, grouped and sorted, in
every format, with the filters `list` shares, and `--exit-code` for scripts.

Cases are written by hand (through the store, so they validate) with dates chosen so that
each one holds the fact under test; "today" is fixed by conftest (2026-11-25).
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from casectl.errors import ExitStatus
from casectl.models.case import Case
from casectl.review.worklist import REVIEW_FIELDS, REVIEW_KINDS
from casectl.store import CaseStore
from tests.conftest import Cli

BY = "J. Rivera"


def _day(text: str, days: int = 0) -> str:
    return (dt.date.fromisoformat(text) + dt.timedelta(days=days)).isoformat()


def base(case_id: str, *, opened: str = "2026-01-05", manager: str = BY) -> dict[str, Any]:
    return {
        "id": case_id,
        "status": "open",
        "opened": opened,
        "case_manager": manager,
        "client": {"name": f"Client {case_id}", "dob": "2016-04-02", "sex": "female"},
        "family": [{"id": "mother", "name": "Rosa Santos", "relationship": "mother"}],
        "care_team": [{"id": "pcp", "name": "Dr. Ana Ruiz", "role": "primary-care"}],
    }


def screened(data: dict[str, Any], day: str) -> dict[str, Any]:
    data["screening"] = [
        {
            "date": day,
            "recorded_by": BY,
            "referral_source": "Primary care",
            "referral_reason": "asthma",
            "eligible": True,
            "eligibility_reason": "complex needs",
        }
    ]
    return data


def assessed(data: dict[str, Any], *days: str) -> dict[str, Any]:
    data["assessments"] = [{"date": d, "recorded_by": BY, "health_status": "stable"} for d in days]
    return data


def risked(data: dict[str, Any], day: str, level: str = "moderate") -> dict[str, Any]:
    data.setdefault("risk_assessments", []).append(
        {
            "date": day,
            "recorded_by": BY,
            "level": level,
            "score": {"low": 1, "moderate": 5, "high": 9}[level],
            "rules_version": "casectl-risk-1",
        }
    )
    return data


def goal(target: str, status: str = "in-progress", goal_id: str = "g1") -> dict[str, Any]:
    return {
        "id": goal_id,
        "domain": "health",
        "description": "No asthma ED visits",
        "measure": "ED visits",
        "target": "0",
        "target_date": target,
        "status": status,
    }


def planned(
    case_id: str,
    plan_day: str = "2026-06-01",
    *,
    interval: int = 30,
    goals: list[dict[str, Any]] | None = None,
    interventions: list[dict[str, Any]] | None = None,
    level: str = "moderate",
    manager: str = BY,
) -> dict[str, Any]:
    """A case through screen, assess and risk (all on 2026-05-20) with a plan on `plan_day`."""
    data = risked(
        assessed(screened(base(case_id, manager=manager), "2026-05-19"), "2026-05-20"),
        "2026-05-20",
        level,
    )
    data["care_plans"] = [
        {
            "date": plan_day,
            "recorded_by": BY,
            "goals": goals or [goal("2027-06-30")],
            "interventions": interventions or [],
            "review_interval_days": interval,
            "agreed_by": ["mother"],
        }
    ]
    return data


def coordinated(data: dict[str, Any], *records: dict[str, Any]) -> dict[str, Any]:
    data["coordination"] = [{"recorded_by": BY, **r} for r in records]
    return data


def followed_up(data: dict[str, Any], day: str, next_review: str) -> dict[str, Any]:
    data["follow_ups"] = [
        {
            "date": day,
            "recorded_by": BY,
            "mode": "phone",
            "with": ["mother"],
            "summary": "no new concerns",
            "next_review": next_review,
        }
    ]
    return data


def write(cli: Cli, *cases: dict[str, Any]) -> None:
    store = CaseStore(cli.data_dir)
    for data in cases:
        store.create(Case.model_validate(copy.deepcopy(data)))


def review(cli: Cli, *args: str, ok: bool = True) -> Any:
    result = cli("review", "--format", "json", *args, ok=ok)
    return json.loads(result.stdout)


# --- each kind, at and either side of its boundary ---

# (case, the kind under test, the day it falls due)
SINGLE_FACTS: list[tuple[dict[str, Any], str, str]] = [
    # the plan's interval agreed with the family: 2026-06-01 + 30 d
    (planned("REVIEW-PLAN"), "review", "2026-07-01"),
    # the next review set at the last contact wins over the plan's interval
    (
        followed_up(planned("REVIEW-CONTACT"), "2026-06-20", "2026-07-10"),
        "review",
        "2026-07-10",
    ),
    # no plan and no risk yet: the moderate tier's 30 days from the last step (opening)
    (base("NOPLAN-NEW", opened="2026-06-01"), "no-plan", "2026-07-01"),
    # no plan, high risk: 14 days from the risk record, the last step
    (
        risked(
            assessed(
                screened(base("NOPLAN-HIGH", opened="2026-05-01"), "2026-05-02"), "2026-05-03"
            ),
            "2026-06-01",
            "high",
        ),
        "no-plan",
        "2026-06-15",
    ),
    # a referral sent and not answered: chased after referral_no_response_days (14)
    (
        coordinated(
            planned("REFERRAL-SENT"),
            {
                "date": "2026-06-01",
                "referrals": [{"id": "r1", "to": "Pulmonology", "reason": "asthma"}],
            },
        ),
        "referral",
        "2026-06-15",
    ),
    # marked no-response: counted again from that change
    (
        coordinated(
            planned("REFERRAL-NR"),
            {
                "date": "2026-06-01",
                "referrals": [{"id": "r1", "to": "Pulmonology", "reason": "asthma"}],
            },
            {
                "date": "2026-06-10",
                "referral_updates": [{"referral": "r1", "status": "no-response"}],
            },
        ),
        "referral",
        "2026-06-24",
    ),
    # an appointment still `scheduled`: due on its day
    (
        coordinated(
            planned("APPOINTMENT"),
            {
                "date": "2026-06-01",
                "appointments": [
                    {"id": "a1", "date": "2026-06-20", "with": "pcp", "purpose": "Spirometry"}
                ],
            },
        ),
        "appointment",
        "2026-06-20",
    ),
    # a planned intervention with a due date
    (
        planned(
            "INTERVENTION",
            interventions=[
                {
                    "id": "i1",
                    "description": "Action plan review",
                    "owner": "pcp",
                    "due": "2026-06-25",
                }
            ],
        ),
        "intervention",
        "2026-06-25",
    ),
    # a goal not achieved: its target date
    (planned("GOAL", goals=[goal("2026-06-30")]), "goal", "2026-06-30"),
    # reassess_days (365) after the last assessment
    (
        assessed(screened(base("REASSESS"), "2025-05-01"), "2025-06-01"),
        "reassessment",
        "2026-06-01",
    ),
    # the risk record is older than the last assessment: due from that assessment
    (
        assessed(
            risked(assessed(screened(base("STALE"), "2026-04-01"), "2026-04-02"), "2026-05-01"),
            "2026-04-02",
            "2026-05-20",
        ),
        "stale-risk",
        "2026-05-20",
    ),
]


@pytest.fixture
def single_facts(cli: Cli) -> Cli:
    write(cli, *(case for case, _, _ in SINGLE_FACTS))
    return cli


# Days from the due date, and the group the item is in (None: not listed without --all).
BOUNDARIES = [(-8, None), (-7, "due"), (-1, "due"), (0, "due"), (1, "overdue"), (30, "overdue")]


@pytest.mark.parametrize(
    ("case", "kind", "due"), SINGLE_FACTS, ids=[c["id"] for c, _, _ in SINGLE_FACTS]
)
def test_each_kind_is_listed_exactly_when_due(
    single_facts: Cli, case: dict[str, Any], kind: str, due: str
) -> None:
    for offset, group in BOUNDARIES:
        as_of = _day(due, offset)
        items = review(single_facts, "--as-of", as_of, "--case", case["id"], "--kind", kind)
        if group is None:
            assert items == [], (as_of, items)
            everything = review(
                single_facts, "--as-of", as_of, "--case", case["id"], "--kind", kind, "--all"
            )
            assert [(i["group"], i["due"]) for i in everything] == [("later", due)]
            continue
        assert len(items) == 1, (as_of, items)
        item = items[0]
        assert (item["group"], item["due"], item["kind"]) == (group, due, kind), as_of
        assert item["days_overdue"] == max(0, offset)
        assert item["case_id"] == case["id"] and item["status"] == "open"


def test_a_follow_up_before_the_current_plan_gives_way_to_the_plan(cli: Cli) -> None:
    data = planned("REPLANNED", "2026-06-01", interval=30)
    followed_up(data, "2026-05-25", "2026-09-01")
    write(cli, data)
    items = review(cli, "--as-of", "2026-07-01", "--kind", "review")
    assert [i["due"] for i in items] == ["2026-07-01"]


def test_an_accepted_or_scheduled_referral_is_chased_until_it_is_completed(cli: Cli) -> None:
    # Accepted on 5 June and never completed: chased referral_followup_days (30) later.
    write(
        cli,
        coordinated(
            planned("REF-ACCEPTED"),
            {
                "date": "2026-06-01",
                "referrals": [{"id": "r1", "to": "Pulmonology", "reason": "asthma"}],
            },
            {"date": "2026-06-05", "referral_updates": [{"referral": "r1", "status": "accepted"}]},
        ),
    )
    items = review(cli, "--as-of", "2026-07-10", "--kind", "referral")
    assert [(i["item"], i["due"], i["group"]) for i in items] == [("r1", "2026-07-05", "overdue")]
    assert "accepted since 2026-06-05, not completed yet" in items[0]["what"]


NOTHING_DUE: list[tuple[dict[str, Any], str]] = [
    (
        coordinated(
            planned("REF-DECLINED"),
            {
                "date": "2026-06-01",
                "referrals": [{"id": "r1", "to": "Pulmonology", "reason": "asthma"}],
            },
            {"date": "2026-06-05", "referral_updates": [{"referral": "r1", "status": "declined"}]},
        ),
        "referral",
    ),
    (
        coordinated(
            planned("REF-COMPLETED"),
            {
                "date": "2026-06-01",
                "referrals": [
                    {"id": "r1", "to": "Pulmonology", "reason": "asthma", "status": "completed"}
                ],
            },
        ),
        "referral",
    ),
    (
        coordinated(
            planned("APPT-ATTENDED"),
            {
                "date": "2026-06-01",
                "appointments": [
                    {"id": "a1", "date": "2026-06-20", "with": "pcp", "purpose": "Spirometry"}
                ],
            },
            {
                "date": "2026-06-21",
                "appointment_updates": [{"appointment": "a1", "status": "attended"}],
            },
        ),
        "appointment",
    ),
    (
        planned(
            "STEP-DONE",
            interventions=[
                {
                    "id": "i1",
                    "description": "Review",
                    "owner": "pcp",
                    "due": "2026-06-25",
                    "status": "done",
                },
                {
                    "id": "i2",
                    "description": "Call",
                    "owner": "mother",
                    "due": "2026-06-25",
                    "status": "cancelled",
                },
                # A routine more often than weekly, or "as needed", is not a dated worklist item.
                {"id": "i3", "description": "Check-in", "owner": "pcp", "frequency": "as needed"},
                {
                    "id": "i4",
                    "description": "Nebuliser",
                    "owner": "mother",
                    "frequency": "twice daily",
                },
            ],
        ),
        "intervention",
    ),
    (
        planned(
            "GOALS-DONE",
            goals=[goal("2026-06-30", "achieved"), goal("2026-06-30", "discontinued", "g2")],
        ),
        "goal",
    ),
    (planned("HAS-PLAN"), "no-plan"),
    (
        risked(assessed(screened(base("RISK-CURRENT"), "2026-04-01"), "2026-04-02"), "2026-04-02"),
        "stale-risk",
    ),
    (base("NO-ASSESSMENT"), "reassessment"),
]


@pytest.mark.parametrize(("case", "kind"), NOTHING_DUE, ids=[c["id"] for c, _ in NOTHING_DUE])
def test_what_is_settled_is_never_listed(cli: Cli, case: dict[str, Any], kind: str) -> None:
    write(cli, case)
    for as_of in ("2026-06-01", "2026-11-25", "2027-12-31"):
        assert review(cli, "--as-of", as_of, "--kind", kind, "--all") == []


def test_closed_and_transferred_cases_have_nothing_due_on_hold_ones_do(cli: Cli) -> None:
    held = planned("HELD")
    held["status"] = "on-hold"
    held["status_history"] = [
        {"date": "2026-06-02", "recorded_by": BY, "status": "on-hold", "reason": "family away"}
    ]
    closed = planned("CLOSED")
    closed.update(status="closed", closed="2026-06-02", closed_reason="goals met")
    moved = planned("MOVED")
    moved.update(status="transferred", transferred_to="North clinic")
    write(cli, held, closed, moved)
    items = review(cli, "--as-of", "2026-11-25", "--all")
    assert {i["case_id"] for i in items} == {"HELD"}
    assert {i["status"] for i in items} == {"on-hold"}
    assert review(cli, "--as-of", "2026-11-25", "--all", "--status", "closed") == []


# --- grouping, sorting, window ---


def test_grouped_overdue_first_then_by_days_overdue_risk_and_date(cli: Cli) -> None:
    write(
        cli,
        planned("LOW-OLD", "2026-05-01", interval=30, level="low"),  # review 2026-05-31
        planned("HIGH-NEW", "2026-06-01", interval=30, level="high"),  # review 2026-07-01
        planned("LOW-NEW", "2026-06-01", interval=30, level="low"),  # review 2026-07-01
        planned("MOD-SOON", "2026-06-01", interval=45, level="moderate"),  # review 2026-07-16
        planned("HIGH-SOON", "2026-06-01", interval=47, level="high"),  # review 2026-07-18
        planned("HIGH-LATER", "2026-06-01", interval=90, level="high"),  # review 2026-08-30
    )
    items = review(cli, "--as-of", "2026-07-12", "--kind", "review")
    assert [(i["case_id"], i["group"], i["days_overdue"]) for i in items] == [
        ("LOW-OLD", "overdue", 42),
        ("HIGH-NEW", "overdue", 11),  # same days overdue: high risk first
        ("LOW-NEW", "overdue", 11),
        ("HIGH-SOON", "due", 0),  # nothing overdue in the window: high risk first ...
        ("MOD-SOON", "due", 0),  # ... then the earlier date
    ]
    everything = review(cli, "--as-of", "2026-07-12", "--kind", "review", "--all")
    assert [i["case_id"] for i in everything][-1] == "HIGH-LATER"
    assert everything[-1]["group"] == "later"


def test_within_widens_the_window_and_the_config_sets_its_default(cli: Cli) -> None:
    write(cli, planned("P", "2026-06-01", interval=30))  # review 2026-07-01
    assert review(cli, "--as-of", "2026-06-20", "--kind", "review") == []
    assert len(review(cli, "--as-of", "2026-06-20", "--kind", "review", "--within", "2w")) == 1
    config = cli.data_dir / "config.toml"
    config.write_text(config.read_text().replace("window_days = 7", "window_days = 11"))
    assert len(review(cli, "--as-of", "2026-06-20", "--kind", "review")) == 1


def test_config_sets_the_referral_and_reassessment_delays(cli: Cli) -> None:
    data = coordinated(
        planned("REF"),
        {
            "date": "2026-06-01",
            "referrals": [{"id": "r1", "to": "Pulmonology", "reason": "asthma"}],
        },
    )
    write(cli, data)
    config = cli.data_dir / "config.toml"
    text = config.read_text().replace(
        "referral_no_response_days = 14", "referral_no_response_days = 21"
    )
    config.write_text(text.replace("reassess_days = 365", "reassess_days = 180"))
    items = {i["kind"]: i["due"] for i in review(cli, "--as-of", "2026-06-01", "--all")}
    assert items["referral"] == "2026-06-22"
    assert items["reassessment"] == "2026-11-16"


# --- filters shared with list ---


@pytest.fixture
def caseload(cli: Cli) -> Cli:
    held = planned("HOLD-1", level="low", manager="A. Okafor")
    held["status"] = "on-hold"
    write(
        cli,
        planned("HIGH-1", level="high"),
        planned("HIGH-2", level="high", manager="A. Okafor"),
        held,
        base("NEW-1"),
        coordinated(
            planned("REF-1", level="moderate"),
            {
                "date": "2026-06-01",
                "referrals": [{"id": "r1", "to": "Pulmonology", "reason": "asthma"}],
            },
        ),
    )
    return cli


def _cases(items: list[dict[str, Any]]) -> set[str]:
    return {i["case_id"] for i in items}


def test_filters(caseload: Cli) -> None:
    on = ("--as-of", "2026-11-25", "--all")
    assert _cases(review(caseload, *on, "--risk", "high")) == {"HIGH-1", "HIGH-2"}
    assert _cases(review(caseload, *on, "--risk", "none")) == {"NEW-1"}
    assert _cases(review(caseload, *on, "--risk", "low,none")) == {"HOLD-1", "NEW-1"}
    assert _cases(review(caseload, *on, "--manager", "a. okafor")) == {"HIGH-2", "HOLD-1"}
    assert _cases(review(caseload, *on, "--status", "on-hold")) == {"HOLD-1"}
    assert _cases(review(caseload, *on, "--stage", "new")) == {"NEW-1"}
    assert _cases(review(caseload, *on, "--kind", "referral")) == {"REF-1"}
    assert {i["kind"] for i in review(caseload, *on, "--kind", "no-plan,goal")} == {
        "no-plan",
        "goal",
    }
    assert _cases(review(caseload, *on, "--case", "HIGH-1", "--case", "REF-1,NEW-1")) == {
        "HIGH-1",
        "REF-1",
        "NEW-1",
    }
    wrong = caseload("review", "--kind", "reviews", ok=False)
    assert wrong.exit_code == ExitStatus.INVALID and "--kind 'reviews'" in wrong.stderr
    for kind in REVIEW_KINDS:
        caseload("review", "--kind", kind)


def test_list_and_review_share_the_filter_vocabulary(caseload: Cli) -> None:
    listed = json.loads(caseload("list", "--risk", "high", "--format", "json").stdout)
    reviewed = review(caseload, "--risk", "high", "--all")
    assert {r["case_id"] for r in listed} == _cases(reviewed) == {"HIGH-1", "HIGH-2"}
    wrong = caseload("list", "--stage", "planning", ok=False)
    assert wrong.exit_code == ExitStatus.INVALID
    assert caseload("review", "--stage", "planning", ok=False).stderr == wrong.stderr


def test_as_of_takes_the_same_dates_as_everywhere(caseload: Cli) -> None:
    assert review(caseload, "--as-of", "today") == review(caseload, "--as-of", "2026-11-25")
    assert review(caseload, "--as-of", "+7d", "--all") == review(
        caseload, "--as-of", "2026-12-02", "--all"
    )
    wrong = caseload("review", "--as-of", "next week", ok=False)
    assert wrong.exit_code == ExitStatus.INVALID and "--as-of" in wrong.stderr


# --- formats and the contract ---


def test_json_and_csv_fields_are_a_contract() -> None:
    # Scripts read these names: add to the end, never rename or remove (README, "review").
    assert REVIEW_FIELDS == [
        "case_id",
        "client",
        "risk",
        "kind",
        "due",
        "days_overdue",
        "what",
        "group",
        "manager",
        "status",
        "item",
        "flags",
    ]


def test_every_format(caseload: Cli) -> None:
    on = ("--as-of", "2026-11-25")
    items = review(caseload, *on)
    assert items and all(list(i) == REVIEW_FIELDS for i in items)
    referral = next(i for i in items if i["kind"] == "referral")
    assert referral["item"] == "r1" and "Pulmonology" in referral["what"]
    assert isinstance(referral["days_overdue"], int) and referral["risk"] == "moderate"

    rows = list(csv.DictReader(io.StringIO(caseload("review", *on, "--format", "csv").stdout)))
    assert list(rows[0]) == REVIEW_FIELDS
    assert [r["case_id"] for r in rows] == [i["case_id"] for i in items]
    assert rows[0]["days_overdue"] == str(items[0]["days_overdue"])

    tsv = caseload("review", *on, "--format", "tsv").stdout.splitlines()
    assert tsv[0].split("\t") == REVIEW_FIELDS and len(tsv) == len(items) + 1

    ids = caseload("review", *on, "--format", "ids").stdout.splitlines()
    assert ids == list(dict.fromkeys(i["case_id"] for i in items))  # once each, in order

    table = caseload("review", *on).stdout.splitlines()  # piped: plain columns, a header
    assert table[0].split("\t") == REVIEW_FIELDS and len(table) == len(items) + 1


def test_exit_code_3_only_when_something_is_overdue(cli: Cli) -> None:
    write(cli, planned("P", "2026-06-01", interval=30))  # review 2026-07-01
    assert cli("review", "--as-of", "2026-06-28", "--exit-code").exit_code == 0  # due only
    late = cli("review", "--as-of", "2026-07-02", "--exit-code", ok=False)
    assert late.exit_code == ExitStatus.OVERDUE == 3
    assert "P" in late.stdout
    assert cli("review", "--as-of", "2026-07-02").exit_code == 0  # without the flag
    # Only what is listed counts: filter the overdue item away and all is well.
    assert cli("review", "--as-of", "2026-07-02", "--kind", "goal", "--exit-code").exit_code == 0


def test_an_invalid_file_is_an_item_of_its_own_listed_first_and_exit_3(caseload: Cli) -> None:
    (caseload.data_dir / "BROKEN.yaml").write_text("id: BROKEN\nstatus: [\n")
    result = caseload("review", "--format", "json", "--all", "--exit-code", ok=False)
    assert result.exit_code == ExitStatus.OVERDUE
    items = json.loads(result.stdout)
    first = items[0]
    assert (first["case_id"], first["kind"], first["status"], first["group"]) == (
        "BROKEN",
        "invalid",
        "invalid",
        "due",
    )
    assert "BROKEN.yaml:" in first["what"] and "casectl edit BROKEN" in first["what"]
    assert _cases(items) == {"BROKEN", "HIGH-1", "HIGH-2", "HOLD-1", "NEW-1", "REF-1"}
    # Nothing else is needed for --exit-code: the unreadable file alone makes it exit 3.
    only = caseload("review", "--case", "BROKEN", "--exit-code", ok=False)
    assert only.exit_code == ExitStatus.OVERDUE and "BROKEN" in only.stdout
    # `list` and `report` count it and name it on stderr.
    listed = caseload("list", "--format", "json")
    assert "1 case file(s) are invalid and were left out: " in listed.stderr
    assert "BROKEN.yaml:" in listed.stderr
    report = caseload("report", "--format", "json")
    assert json.loads(report.stdout)["caseload"]["invalid_files"] == 1
    assert "BROKEN.yaml:" in report.stderr


def test_a_git_merge_conflict_drops_no_case_from_the_review(cli: Cli) -> None:
    write(cli, planned("P", "2026-06-01", interval=30))
    path = cli.data_dir / "P.yaml"
    text = path.read_text()
    path.write_text(
        text.replace(
            "status: open\n",
            "<<<<<<< HEAD\nstatus: open\n=======\nstatus: on-hold\n>>>>>>> theirs\n",
        )
    )
    items = json.loads(
        cli("review", "--format", "json", "--as-of", "2026-06-02", "--exit-code", ok=False).stdout
    )
    assert [(i["case_id"], i["kind"]) for i in items] == [("P", "invalid")]


def test_a_record_dated_tomorrow_by_a_colleague_ahead_in_time_is_valid(cli: Cli) -> None:
    """A record's date is the calendar day where it was recorded: a colleague whose day has
    begun may date it tomorrow by the reader's clock. Two days ahead is still refused."""
    data = planned("TZ", "2026-06-01", interval=30)
    data["follow_ups"] = [
        {
            "date": "2026-11-26",
            "recorded_by": BY,
            "mode": "phone",
            "with": ["mother"],
            "summary": "called from Manila",
            "next_review": "2026-12-26",
        }
    ]
    write(cli, data)  # today is 2026-11-25 here
    cli("check")
    assert [(i["kind"], i["due"]) for i in review(cli, "--kind", "review", "--all")] == [
        ("review", "2026-12-26")
    ]
    path = cli.data_dir / "TZ.yaml"
    path.write_text(path.read_text().replace("date: 2026-11-26", "date: 2026-11-27"))
    result = cli("check", ok=False)
    assert result.exit_code == ExitStatus.PROBLEMS_FOUND and "is in the future" in result.stdout


def test_an_empty_caseload_reviews_to_nothing(cli: Cli) -> None:
    assert review(cli) == []
    assert cli("review", "--exit-code").exit_code == 0


def test_a_missing_data_directory_is_one_clear_sentence(tmp_path: Path) -> None:
    result = Cli(tmp_path / "nowhere")("review", ok=False)
    assert result.exit_code == ExitStatus.NOT_FOUND
    assert "no data directory" in result.stderr and "Traceback" not in result.output


def test_at_a_terminal_a_flag_raised_today_heads_the_review_above_overdue_items(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casectl.cli import output

    flagged = followed_up(
        planned("FLAG-TODAY", "2026-11-02", interval=30), "2026-11-25", "2026-11-26"
    )
    flagged["follow_ups"][0]["safety_concerns"] = ["bruises the school nurse could not explain"]
    write(cli, flagged, planned("LATE", "2026-06-01", interval=30))  # review 2026-07-01
    monkeypatch.setattr(output, "is_tty", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")
    shown = cli("review").stdout
    first, overdue = shown.index("Act today — 1"), shown.index("Overdue — ")
    assert first < shown.index("FLAG-TODAY") < overdue < shown.index("LATE")
