"""`casectl report`: the caseload's figures, their JSON contract, and a report that names no one."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from casectl.review.report import closure_category
from tests.conftest import Cli, open_case

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "caseload"


def _report(cli: Cli, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(cli("report", "--format", "json", *args).stdout)
    return data


def _row(report: dict[str, Any], case_id: str) -> dict[str, Any]:
    return next(r for r in report["cases"] if r["case_id"] == case_id)


# --- the contract ---


def test_the_json_field_names_are_pinned(cli: Cli) -> None:
    planned_case(cli)
    data = _report(cli)
    assert list(data) == [
        "as_of",
        "since",
        "deidentified",
        "caseload",
        "overdue",
        "screening_to_plan",
        "referrals",
        "goal_attainment",
        "closures",
        "contacts",
        "cases",
        "by_manager",
    ]
    assert list(data["caseload"]) == [
        "total",
        "active",
        "by_status",
        "active_by_risk",
        "active_by_stage",
        "invalid_files",
    ]
    assert list(data["caseload"]["by_status"]) == ["open", "on-hold", "closed", "transferred"]
    assert list(data["caseload"]["active_by_risk"]) == ["high", "moderate", "low", "none"]
    assert list(data["caseload"]["active_by_stage"]) == [
        "new",
        "screen",
        "assess",
        "risk",
        "plan",
        "implement",
        "follow-up",
        "evaluate",
    ]
    assert list(data["overdue"]) == ["cases", "items", "by_kind"]
    assert list(data["overdue"]["by_kind"]) == [
        "review",
        "referral",
        "appointment",
        "intervention",
        "goal",
        "reassessment",
        "no-plan",
        "stale-risk",
        "safety",
    ]
    assert list(data["screening_to_plan"]) == ["cases", "median_days"]
    assert list(data["referrals"]) == [
        "total",
        "open",
        "completed",
        "declined",
        "median_days_to_close",
        "median_days_open",
    ]
    assert list(data["goal_attainment"]) == [
        "cases_scored",
        "median_t_score",
        "achieved",
        "partly_achieved",
        "not_achieved",
    ]
    assert list(data["closures"]) == ["closed", "transferred", "by_category", "by_reason"]
    assert list(data["closures"]["by_category"]) == [
        "deceased",
        "moved",
        "aged-out",
        "no-longer-eligible",
        "declined-or-disengaged",
        "goals-met",
        "other",
        "transferred",
    ]
    assert list(data["contacts"]) == [
        "total",
        "cases_with_contact",
        "active_without_contact",
        "median_per_active_case",
        "by_mode",
    ]
    assert list(data["cases"][0]) == [
        "case_id",
        "age",
        "status",
        "risk",
        "stage",
        "contacts",
        "days_overdue",
        "open_referrals",
        "days_screening_to_plan",
        "gas_t_score",
        "manager",
    ]


# --- the figures, from a caseload built step by step ---


def planned_case(cli: Cli) -> str:
    """Opened 2026-08-25, screened 2026-09-01, assessed, planned 2026-09-15 (review every 30 d)."""
    case = cli(
        "new",
        "--name",
        "Mia Santos",
        "--dob",
        "2016-04-02",
        "--sex",
        "female",
        "--opened",
        "2026-08-25",
    ).stdout.split()[-1]
    cli(
        "family",
        case,
        "--id",
        "mother",
        "--name",
        "Rosa Santos",
        "--relationship",
        "mother",
        "--guardian",
    )
    cli(
        "screen",
        case,
        "--referral-source",
        "Eastside Pediatrics",
        "--referral-reason",
        "3 ED visits",
        "--eligible",
        "--reason",
        "uncontrolled asthma",
        "--date",
        "2026-09-01",
    )
    cli(
        "assess",
        case,
        "--health-status",
        "poorly controlled asthma",
        "--ed-visits",
        "3",
        "--date",
        "2026-09-10",
    )
    cli("risk", case, "--date", "2026-09-10")
    cli(
        "plan",
        case,
        "--goal",
        "No ED visits; measure=ED visits per quarter; target=0; by=2027-05-31",
        "--review-every",
        "30d",
        "--agreed-by",
        "mother",
        "--date",
        "2026-09-15",
    )
    return case


@pytest.fixture
def caseload(cli: Cli) -> dict[str, str]:
    """Three cases: one followed closely, one past its review, one closed because the family moved."""
    followed = planned_case(cli)  # screened 2026-09-01, planned 2026-09-15, review every 30 d
    cli("implement", followed, "--refer", "Tenant legal aid; reason=mold", "--date", "2026-09-20")
    cli("implement", followed, "--referral-update", "r1=completed", "--date", "2026-10-05")
    cli("implement", followed, "--refer", "Allergy clinic; reason=testing", "--date", "2026-10-05")
    cli(
        "follow-up",
        followed,
        "--mode",
        "phone",
        "--with",
        "mother",
        "--summary",
        "spacer in use",
        "--date",
        "2026-09-20",
    )
    cli(
        "follow-up",
        followed,
        "--mode",
        "home-visit",
        "--with",
        "mother",
        "--summary",
        "mold worse",
        "--date",
        "2026-11-01",
    )
    cli(
        "plan",
        followed,
        "--goal",
        "No ED visits; measure=ED visits; target=0; by=2027-05-31; weight=2",
        "--goal",
        "Spacer every time; measure=observed; target=5 of 5; by=2027-01-31",
        "--review-every",
        "30d",
        "--agreed-by",
        "mother",
        "--date",
        "2026-11-01",
    )
    cli(
        "evaluate",
        followed,
        "--outcome",
        "g1=achieved; gas=1",
        "--outcome",
        "g2=not-achieved; gas=-1",
        "--care-appropriate",
        "--decision",
        "continue",
        "--reason",
        "keep going",
        "--date",
        "2026-11-20",
    )

    late = planned_case(cli)  # planned 2026-09-15 + 30 d: review due 2026-10-15, no contact since

    moved = planned_case(cli)
    cli("close", moved, "--reason", "Family moved out of state", "--date", "2026-11-10")
    return {"followed": followed, "late": late, "moved": moved}


def test_cases_by_status_risk_and_stage(cli: Cli, caseload: dict[str, str]) -> None:
    c = _report(cli)["caseload"]
    assert c["total"] == 3 and c["active"] == 2
    assert c["by_status"] == {"open": 2, "on-hold": 0, "closed": 1, "transferred": 0}
    assert sum(c["active_by_risk"].values()) == 2
    assert c["active_by_stage"]["evaluate"] == 1 and c["active_by_stage"]["plan"] == 1


def test_overdue_items_are_the_worklists(cli: Cli, caseload: dict[str, str]) -> None:
    data = _report(cli)
    # "late": review due 2026-09-15 + 30 d = 2026-10-15, 41 days before 2026-11-25.
    # "followed": r2 sent 2026-10-05, unanswered after 14 days (2026-10-19): 37 days.
    assert data["overdue"]["cases"] == 2 and data["overdue"]["items"] == 2
    assert data["overdue"]["by_kind"]["review"] == 1
    assert data["overdue"]["by_kind"]["referral"] == 1
    assert _row(data, caseload["late"])["days_overdue"] == 41
    assert _row(data, caseload["followed"])["days_overdue"] == 37
    assert _row(data, caseload["moved"])["days_overdue"] is None
    review = json.loads(cli("review", "--format", "json").stdout)
    assert {(i["case_id"], i["days_overdue"]) for i in review if i["group"] == "overdue"} == {
        (caseload["late"], 41),
        (caseload["followed"], 37),
    }


def test_median_days_from_screening_to_plan(cli: Cli, caseload: dict[str, str]) -> None:
    data = _report(cli)
    # Screened 2026-09-01, first plan 2026-09-15, in every case.
    assert data["screening_to_plan"] == {"cases": 3, "median_days": 14.0}


def test_referrals_closed_and_open_with_how_long_they_took(
    cli: Cli, caseload: dict[str, str]
) -> None:
    r = _report(cli)["referrals"]
    # r1 sent 2026-09-20, completed 2026-10-05: 15 days. r2 sent 2026-10-05, open 51 days.
    assert r == {
        "total": 2,
        "open": 1,
        "completed": 1,
        "declined": 0,
        "median_days_to_close": 15.0,
        "median_days_open": 51.0,
    }


def test_goal_attainment_uses_gas_with_the_plans_goal_weights(
    cli: Cli, caseload: dict[str, str]
) -> None:
    data = _report(cli)
    g = data["goal_attainment"]
    # Kiresuk & Sherman 1968, rho 0.3: T = 50 + 10 * (2*1 + 1*-1) / sqrt(0.7*(4+1) + 0.3*(2+1)^2)
    #   = 50 + 10 / sqrt(6.2) = 54.02
    assert g["median_t_score"] == 54.0
    assert g["cases_scored"] == 1
    assert (g["achieved"], g["partly_achieved"], g["not_achieved"]) == (1, 0, 1)
    assert _row(data, caseload["followed"])["gas_t_score"] == 54.0


def test_closure_reasons_as_written_and_by_category(cli: Cli, caseload: dict[str, str]) -> None:
    cl = _report(cli)["closures"]
    assert cl["closed"] == 1
    assert cl["by_reason"] == {"Family moved out of state": 1}
    assert cl["by_category"]["moved"] == 1
    assert sum(cl["by_category"].values()) == 1


def test_contacts_are_counted_in_the_period_only(cli: Cli, caseload: dict[str, str]) -> None:
    default = _report(cli)  # since 90 days before 2026-11-25: 2026-08-27
    assert default["since"] == "2026-08-27"
    assert default["contacts"]["total"] == 2
    assert _row(default, caseload["followed"])["contacts"] == 2
    assert default["contacts"]["by_mode"] == {"home-visit": 1, "phone": 1}
    assert default["contacts"]["active_without_contact"] == 1
    october = _report(cli, "--since", "2026-10-01")
    assert october["contacts"]["total"] == 1
    assert october["contacts"]["median_per_active_case"] == 0.5


def test_as_of_reports_the_caseload_as_it_stood_that_day(
    cli: Cli, caseload: dict[str, str]
) -> None:
    data = _report(cli, "--as-of", "2026-10-01")
    assert data["caseload"]["by_status"]["closed"] == 0  # closed on 2026-11-10
    assert data["referrals"]["total"] == 1 and data["referrals"]["open"] == 1
    assert data["goal_attainment"]["cases_scored"] == 0
    assert _row(data, caseload["followed"])["stage"] == "follow-up"
    assert cli("report", "--since", "2026-12-01", ok=False).exit_code == 5


def test_table_and_markdown_carry_the_same_figures(cli: Cli, caseload: dict[str, str]) -> None:
    table = cli("report").stdout
    assert "median days to close\t15.0" in table
    assert caseload["late"] in table
    markdown = cli("report", "--format", "markdown").stdout
    assert markdown.startswith("# Caseload report\n")
    assert "## Referrals" in markdown and "| median days to close | 15.0 |" in markdown
    assert "| case id | age |" in markdown


def test_an_empty_caseload_reports_zeros_not_errors(cli: Cli) -> None:
    data = _report(cli)
    assert data["caseload"]["total"] == 0 and data["cases"] == []
    assert data["referrals"]["median_days_to_close"] is None


# --- de-identified ---


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def _identifiers(data_dir: Path) -> set[str]:
    """Everything in the case files that could identify someone: names, contact details, dates
    of birth, case ids, and every piece of free text (any string with a space in it)."""
    found: set[str] = set()
    for path in data_dir.glob("*.yaml"):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        found.add(case["id"])
        found.add(str(case["client"]["dob"]))
        people = [case["client"], *case.get("family", []), *case.get("care_team", [])]
        for person in people:
            found.add(person["name"])
            found.update(str(v) for v in (person.get("contact") or {}).values())
        found.update(s for s in _strings(case) if " " in s.strip())
    return {s for s in found if len(s) >= 4}


@pytest.fixture
def example_copy(tmp_path: Path) -> Cli:
    if not any(EXAMPLES.glob("*.yaml")):
        pytest.skip("the example caseload has no cases yet")
    data = tmp_path / "examples"
    shutil.copytree(EXAMPLES, data)
    copy = Cli(data)
    # A closed case, so a free-text closing reason is in the data too.
    first = sorted(p.stem for p in data.glob("*.yaml"))[0]
    reason = "Family moved to Lakeside; new phone 555-0199"
    result = copy("close", first, "--reason", reason, "--date", "2026-11-24", ok=False)
    if result.exit_code != 0:  # already closed in the example
        copy("reopen", first, "--reason", "for the test", "--date", "2026-11-24")
        copy("close", first, "--reason", reason, "--date", "2026-11-24")
    return copy


def test_a_deidentified_report_contains_no_identifier_from_the_example_caseload(
    example_copy: Cli,
) -> None:
    identifiers = _identifiers(example_copy.data_dir)
    assert "Family moved to Lakeside; new phone 555-0199" in identifiers
    assert len(identifiers) > 20
    for fmt in ("json", "markdown", "table"):
        out = example_copy("report", "--deidentify", "--format", fmt).stdout
        leaked = sorted(s for s in identifiers if s in out)
        assert leaked == [], f"--format {fmt} leaks {leaked}"
        assert not re.search(
            r"\d{4}-\d{2}-\d{2}", out.replace("2026-11-25", "").replace("2026-08-27", "")
        )
    data = json.loads(example_copy("report", "--deidentify", "--format", "json").stdout)
    assert data["deidentified"] is True
    assert data["closures"]["by_reason"] is None
    assert data["closures"]["by_category"]["moved"] >= 1
    assert all(re.fullmatch(r"P-[0-9a-f]{10}", r["case_id"]) for r in data["cases"])


def test_pseudonyms_are_stable_from_run_to_run(example_copy: Cli) -> None:
    first = json.loads(example_copy("report", "--deidentify", "--format", "json").stdout)
    again = json.loads(example_copy("report", "--deidentify", "--format", "json").stdout)
    assert [r["case_id"] for r in first["cases"]] == [r["case_id"] for r in again["cases"]]
    plain = json.loads(example_copy("report", "--format", "json").stdout)
    assert {r["case_id"] for r in plain["cases"]}.isdisjoint(r["case_id"] for r in first["cases"])


def test_ages_of_90_and_over_are_grouped_when_deidentified(cli: Cli) -> None:
    open_case(cli, name="Very Old", dob="1925-01-01")
    assert _report(cli)["cases"][0]["age"] == 101
    assert _report(cli, "--deidentify")["cases"][0]["age"] == 90


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        ("Goals met; family confident managing", "goals-met"),
        ("Family moved out of state", "moved"),
        ("Turned 18, referred to adult services", "aged-out"),
        ("Family declined further contact", "declined-or-disengaged"),
        ("Metabolic clinic now coordinates care", "other"),
    ],
)
def test_closing_reasons_fall_into_categories(reason: str, category: str) -> None:
    assert closure_category(reason) == category
