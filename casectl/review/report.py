"""The caseload report: how the caseload stands and how the work went, for a team meeting or a funder.

`build_report` is pure: it takes validated cases and returns plain data; the CLI prints it as a
table, JSON or Markdown. Everything is computed from the records, judged as of one day (`as_of`);
only contacts are counted over a period (`since` … `as_of`). Cases opened after `as_of` are left
out, and so are records dated after it.

JSON fields (a contract pinned by tests/test_report.py: new fields are added, none renamed):

- `as_of`, `since` (ISO dates), `deidentified` (bool)
- `caseload`: `total`, `active` (open + on-hold), `by_status` {open, on-hold, closed,
  transferred}, `active_by_risk` {high, moderate, low, none}, `active_by_stage` {new, screen,
  assess, risk, plan, implement, follow-up, evaluate}, `invalid_files` (case files left out of
  every figure because they do not validate)
- `overdue`: `cases` (active cases with at least one overdue item), `items`, `by_kind` {review,
  referral, appointment, intervention, goal, reassessment, no-plan, stale-risk}: the items
  `casectl review --as-of` lists as overdue (casectl.review.worklist)
- `screening_to_plan`: `cases`, `median_days` (first screening to first care plan)
- `referrals`: `total`, `open`, `completed`, `declined`, `median_days_to_close` (sent to
  completed or declined), `median_days_open` (age of the referrals still open)
- `goal_attainment`: `cases_scored`, `median_t_score` (Goal Attainment Scaling T-score of each
  case's latest evaluation with GAS values, goals weighted as in the plan), `achieved`,
  `partly_achieved`, `not_achieved` (goal outcomes of each case's latest evaluation)
- `closures`: `closed`, `transferred`, `by_category` (closing reasons sorted into
  CLOSURE_CATEGORIES by keyword), `by_reason` (the reasons as written; null when de-identified)
- `contacts`: `total`, `cases_with_contact`, `active_without_contact`,
  `median_per_active_case`, `by_mode` (follow-up contacts dated `since` … `as_of`)
- `cases`: one row per case: `case_id`, `age` (completed years), `status`, `risk`, `stage`,
  `contacts` (in the period), `days_overdue` (its most overdue item; null when not active),
  `open_referrals`, `days_screening_to_plan`, `gas_t_score`, `manager`
- `by_manager`: per case manager, `active`, `high_risk`, `overdue_cases`, `overdue_items`,
  `contacts` (in the period): who carries what in a team's shared folder (null, and each
  case's `manager` null, when de-identified)

De-identified (`pseudonyms` given): case ids become pseudonyms, ages of 90 and over are shown as
90 (HIPAA Safe Harbor groups them), and closing reasons appear only as categories. No row holds
a name, contact detail, date of birth, date or free text in either mode.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from casectl.clinical.instruments import score
from casectl.config import Config
from casectl.dates import completed_years
from casectl.models.case import STAGE_SECTIONS, Case
from casectl.models.records import CarePlan, Evaluation
from casectl.models.vocab import CASE_STATUSES, CLOSED_REFERRAL, RISK_LEVELS
from casectl.review.worklist import REVIEW_KINDS, review_facts
from casectl.state import CaseState, derive, latest_stage

# One row of `report`'s `cases`: no names, contact details, dates or free text.
CASE_FIELDS = [
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
# One entry of `by_manager` per case manager: the team view of who carries what.
MANAGER_FIELDS = ["active", "high_risk", "overdue_cases", "overdue_items", "contacts"]
SECTIONS = [
    "caseload",
    "overdue",
    "screening_to_plan",
    "referrals",
    "goal_attainment",
    "closures",
    "contacts",
]
REPORT_FIELDS = ["as_of", "since", "deidentified", *SECTIONS, "cases", "by_manager"]
DEFAULT_PERIOD_DAYS = 90
# Safe Harbor (45 CFR 164.514(b)(2)(i)(C)): ages over 89 are grouped into one category.
AGE_CAP = 90

ACTIVE = ("open", "on-hold")
STAGES = ("new", *STAGE_SECTIONS)
# Closing reasons are free text; de-identified reports show only these buckets. Each pattern is
# matched from the start of a word (so "declin" finds declined and declining); first match wins.
CLOSURE_CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("deceased", ("deceased", "died", "death", "passed away")),
    ("moved", ("moved", "relocat", "out of area", "out of state", "left the area")),
    ("aged-out", ("aged out", "turned 18", "turned 21", "age limit", "adult services")),
    ("no-longer-eligible", ("not eligible", "no longer eligible", "ineligible", "lost coverage")),
    (
        "declined-or-disengaged",
        ("declin", "refus", "withdr", "unable to reach", "no contact", "lost to", "disengag"),
    ),
    ("goals-met", ("goal", r"met\b", "achiev", r"stable\b", "resolved", "no longer need")),
]
OTHER = "other"
TRANSFERRED = "transferred"


def default_since(as_of: dt.date) -> dt.date:
    """The start of the contact period when none is given: 90 days before `as_of`."""
    return as_of - dt.timedelta(days=DEFAULT_PERIOD_DAYS)


def closure_category(reason: str | None) -> str:
    """The bucket a free-text closing reason falls in (`other` when no keyword matches)."""
    text = (reason or "").lower()
    for category, words in CLOSURE_CATEGORIES:
        if any(re.search(rf"\b{pattern}", text) for pattern in words):
            return category
    return OTHER


def _median(values: Sequence[float]) -> float | None:
    return round(float(statistics.median(values)), 1) if values else None


def _screening_to_plan(case: Case) -> int | None:
    if not case.screening or not case.care_plans:
        return None
    days = (min(p.date for p in case.care_plans) - min(s.date for s in case.screening)).days
    return days if days >= 0 else None


def _plan_for(case: Case, evaluation: Evaluation) -> CarePlan | None:
    earlier = [p for p in case.care_plans if p.date <= evaluation.date]
    return max(earlier, key=lambda p: p.date) if earlier else case.current_plan


def _goal_weight(case: Case, plan: CarePlan | None, goal_id: str) -> float:
    for candidate in [plan, *reversed(case.care_plans)]:
        if candidate is not None:
            for goal in candidate.goals:
                if goal.id == goal_id:
                    return goal.weight
    return 1.0


def gas_t_score(case: Case) -> float | None:
    """The GAS T-score of the latest evaluation that scored goals, weighted as in its plan."""
    for evaluation in sorted(case.evaluations, key=lambda e: e.date, reverse=True):
        scored = [o for o in evaluation.goal_outcomes if o.gas is not None]
        if scored:
            plan = _plan_for(case, evaluation)
            weights = [_goal_weight(case, plan, o.goal) for o in scored]
            result = score("gas", [o.gas for o in scored], weights)
            return round(result.t_score, 1) if result.t_score is not None else None
    return None


def _referral_times(state: CaseState) -> Iterable[tuple[str, int]]:
    """Each referral as (status, days): days to close when closed, else days open so far."""
    for ref in state.referrals:
        end = ref.since if ref.status in CLOSED_REFERRAL else state.as_of
        yield ref.status, (end - ref.made).days


def overdue_items(state: CaseState, config: Config) -> list[tuple[str, int]]:
    """The case's overdue worklist items as (kind, days overdue): the facts `casectl review`
    lists as overdue on the state's day."""
    items = []
    for fact in review_facts(state, config):
        due = dt.date.fromisoformat(fact.due)
        if due < state.as_of:
            items.append((fact.kind, (state.as_of - due).days))
    return items


def _risk(case: Case) -> str:
    risk = case.current_risk
    return risk.effective_level if risk else "none"


def build_report(
    cases: Iterable[Case],
    config: Config,
    *,
    as_of: dt.date,
    since: dt.date,
    pseudonyms: Callable[[str], str] | None = None,
    invalid_files: int = 0,
) -> dict[str, Any]:
    """The caseload report as plain data (see the module docstring for its fields).

    `pseudonyms` maps a case id to its pseudonym and makes the report de-identified;
    `invalid_files` counts the case files left out because they do not validate.
    """
    selected = sorted((c.up_to(as_of) for c in cases if c.opened <= as_of), key=lambda c: c.id)
    active = [c for c in selected if c.status in ACTIVE]
    rows: list[dict[str, Any]] = []
    referral_days: list[tuple[str, int]] = []
    outcomes: Counter[str] = Counter()
    t_scores: list[float] = []
    modes: Counter[str] = Counter()
    overdue_kinds: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    categories: Counter[str] = Counter({name: 0 for name, _ in CLOSURE_CATEGORIES})
    categories.update({OTHER: 0, TRANSFERRED: 0})
    managers: dict[str, dict[str, int]] = {}
    for case in selected:
        state = derive(case, on=as_of)
        referrals = list(_referral_times(state))
        referral_days += referrals
        contacts = [f for f in case.follow_ups if since <= f.date <= as_of]
        modes.update(f.mode for f in contacts)
        t_score = gas_t_score(case)
        if t_score is not None:
            t_scores.append(t_score)
        if case.evaluations:
            latest = max(case.evaluations, key=lambda e: e.date)
            outcomes.update(o.outcome for o in latest.goal_outcomes)
        if case.status == "closed":
            categories[closure_category(case.closed_reason)] += 1
            reasons[" ".join((case.closed_reason or "").split()) or "(none given)"] += 1
        elif case.status == "transferred":
            categories[TRANSFERRED] += 1
        age = completed_years(case.client.dob, as_of)
        late: int | None = None
        mine = managers.setdefault(case.case_manager, dict.fromkeys(MANAGER_FIELDS, 0))
        mine["contacts"] += len(contacts)
        if case.status in ACTIVE:
            items = overdue_items(state, config)
            overdue_kinds.update(kind for kind, _ in items)
            late = max((days for _, days in items), default=0)
            mine["active"] += 1
            mine["high_risk"] += _risk(case) == "high"
            mine["overdue_cases"] += late > 0
            mine["overdue_items"] += len(items)
        rows.append(
            {
                "case_id": pseudonyms(case.id) if pseudonyms else case.id,
                "age": min(age, AGE_CAP) if pseudonyms else age,
                "status": case.status,
                "risk": state.risk_level,
                "stage": state.stage,
                "contacts": len(contacts),
                "days_overdue": late,
                "open_referrals": sum(1 for s, _ in referrals if s not in CLOSED_REFERRAL),
                "days_screening_to_plan": _screening_to_plan(case),
                "gas_t_score": t_score,
                "manager": None if pseudonyms else case.case_manager,
            }
        )
    if pseudonyms:
        rows.sort(key=lambda r: str(r["case_id"]))
    by_status = Counter(c.status for c in selected)
    screening_days = [
        r["days_screening_to_plan"] for r in rows if r["days_screening_to_plan"] is not None
    ]
    active_rows = [r for r in rows if r["status"] in ACTIVE]
    return {
        "as_of": as_of.isoformat(),
        "since": since.isoformat(),
        "deidentified": pseudonyms is not None,
        "caseload": {
            "total": len(selected),
            "active": len(active),
            "by_status": {s: by_status[s] for s in CASE_STATUSES},
            "active_by_risk": _counts((_risk(c) for c in active), (*reversed(RISK_LEVELS), "none")),
            "active_by_stage": _counts((latest_stage(c) for c in active), STAGES),
            "invalid_files": invalid_files,
        },
        "overdue": {
            "cases": sum(1 for r in active_rows if (r["days_overdue"] or 0) > 0),
            "items": sum(overdue_kinds.values()),
            # Invalid files are not a case's items: `caseload.invalid_files` counts them.
            "by_kind": {kind: overdue_kinds[kind] for kind in REVIEW_KINDS if kind != "invalid"},
        },
        "screening_to_plan": {
            "cases": len(screening_days),
            "median_days": _median(screening_days),
        },
        "referrals": {
            "total": len(referral_days),
            "open": sum(1 for s, _ in referral_days if s not in CLOSED_REFERRAL),
            "completed": sum(1 for s, _ in referral_days if s == "completed"),
            "declined": sum(1 for s, _ in referral_days if s == "declined"),
            "median_days_to_close": _median([d for s, d in referral_days if s in CLOSED_REFERRAL]),
            "median_days_open": _median([d for s, d in referral_days if s not in CLOSED_REFERRAL]),
        },
        "goal_attainment": {
            "cases_scored": len(t_scores),
            "median_t_score": _median(t_scores),
            "achieved": outcomes["achieved"],
            "partly_achieved": outcomes["partly-achieved"],
            "not_achieved": outcomes["not-achieved"],
        },
        "closures": {
            "closed": by_status["closed"],
            "transferred": by_status["transferred"],
            "by_category": dict(categories),
            "by_reason": None if pseudonyms else dict(sorted(reasons.items())),
        },
        "contacts": {
            "total": sum(modes.values()),
            "cases_with_contact": sum(1 for r in rows if r["contacts"]),
            "active_without_contact": sum(1 for r in active_rows if not r["contacts"]),
            "median_per_active_case": _median([r["contacts"] for r in active_rows]),
            "by_mode": dict(sorted(modes.items())),
        },
        "cases": rows,
        # Staff names stay out of a de-identified report too: it is for sharing outside the team.
        "by_manager": None
        if pseudonyms
        else {name: managers[name] for name in sorted(managers, key=str.lower)},
    }


def _counts(values: Iterable[str], keys: Sequence[str]) -> dict[str, int]:
    found = Counter(values)
    return {k: found[k] for k in keys}


# --- for people: the same numbers as labelled lines ---


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items() if v) or "none"
    return str(value)


def summary_rows(report: dict[str, Any]) -> list[dict[str, str]]:
    """The report's figures as (section, measure, value) rows for a table or Markdown."""
    c, o, s = report["caseload"], report["overdue"], report["screening_to_plan"]
    r, g, cl, k = (
        report["referrals"],
        report["goal_attainment"],
        report["closures"],
        report["contacts"],
    )
    lines: list[tuple[str, str, Any]] = [
        ("caseload", "cases", c["total"]),
        ("caseload", "active (open + on hold)", c["active"]),
        ("caseload", "by status", c["by_status"]),
        ("caseload", "active by risk", c["active_by_risk"]),
        ("caseload", "active by stage", c["active_by_stage"]),
        ("caseload", "invalid case files (left out of every figure)", c["invalid_files"]),
        ("overdue", "cases with an overdue item", o["cases"]),
        ("overdue", "overdue items", o["items"]),
        ("overdue", "by kind", o["by_kind"]),
        ("screening to plan", "cases with both", s["cases"]),
        ("screening to plan", "median days", s["median_days"]),
        ("referrals", "made", r["total"]),
        ("referrals", "still open", r["open"]),
        ("referrals", "completed", r["completed"]),
        ("referrals", "declined", r["declined"]),
        ("referrals", "median days to close", r["median_days_to_close"]),
        ("referrals", "median days open so far", r["median_days_open"]),
        ("goal attainment", "cases with GAS scores", g["cases_scored"]),
        ("goal attainment", "median GAS T-score", g["median_t_score"]),
        ("goal attainment", "goals achieved", g["achieved"]),
        ("goal attainment", "goals partly achieved", g["partly_achieved"]),
        ("goal attainment", "goals not achieved", g["not_achieved"]),
        ("closures", "closed", cl["closed"]),
        ("closures", "transferred", cl["transferred"]),
        ("closures", "by category", cl["by_category"]),
    ]
    if cl["by_reason"] is not None:
        lines.append(("closures", "by reason", cl["by_reason"]))
    period = f"{report['since']} to {report['as_of']}"
    lines += [
        ("contacts", "period", period),
        ("contacts", "contacts", k["total"]),
        ("contacts", "cases with a contact", k["cases_with_contact"]),
        ("contacts", "active cases without one", k["active_without_contact"]),
        ("contacts", "median per active case", k["median_per_active_case"]),
        ("contacts", "by mode", k["by_mode"]),
    ]
    lines += [
        (
            "by manager",
            name,
            f"{m['active']} active, {m['high_risk']} high risk, {m['overdue_cases']} overdue "
            f"({m['overdue_items']} items), {m['contacts']} contacts",
        )
        for name, m in (report["by_manager"] or {}).items()
    ]
    return [{"section": a, "measure": b, "value": _show(v)} for a, b, v in lines]


def _md_cell(value: Any) -> str:
    return _show(value).replace("|", "\\|")


def render_markdown(report: dict[str, Any]) -> str:
    """The report as a Markdown document: a table of figures per section, then the cases."""
    title = "Caseload report (de-identified)" if report["deidentified"] else "Caseload report"
    out = [
        f"# {title}",
        "",
        f"As of {report['as_of']}; contacts counted from {report['since']}.",
    ]
    section = None
    for row in summary_rows(report):
        if row["section"] != section:
            section = row["section"]
            out += ["", f"## {section.capitalize()}", "", "| measure | value |", "|---|---|"]
        out.append(f"| {row['measure']} | {_md_cell(row['value'])} |")
    out += [
        "",
        "## Cases",
        "",
        "| " + " | ".join(f.replace("_", " ") for f in CASE_FIELDS) + " |",
        "|" + "---|" * len(CASE_FIELDS),
    ]
    for case_row in report["cases"]:
        out.append("| " + " | ".join(_md_cell(case_row[f]) for f in CASE_FIELDS) + " |")
    return "\n".join(out) + "\n"
