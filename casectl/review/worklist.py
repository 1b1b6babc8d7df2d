"""What needs a case manager's attention, and when: the worklist behind `casectl review`.

Two halves. `review_facts(case, config)` reads one validated case and lists its dated facts —
a review, an appointment whose outcome is due, a referral to chase, a goal's target date — each
with the day it falls due. Those facts do not depend on today, so the summary index keeps them.
`review_items(...)` takes the facts of a whole caseload and, for one day, sorts them into
overdue, due within the window and later, with the days overdue computed then.

Only open and on-hold cases have facts: a closed or transferred case needs nothing more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from casectl.config import Config
    from casectl.models.case import Case
    from casectl.review.index import CaseSummary

# What can need attention, in the order `review --help` lists them.
REVIEW_KINDS = (
    "review",  # the plan's review interval, or the next review set at the last contact
    "referral",  # sent (or no-response) and not answered within referral_no_response_days
    "appointment",  # still `scheduled`: coming up, or past with no outcome recorded
    "intervention",  # planned or in progress, with a due date
    "goal",  # target date of a goal not achieved or discontinued
    "reassessment",  # reassess_days after the last assessment
    "no-plan",  # an open case without a care plan: due the tier's review interval after its last step
    "stale-risk",  # the last risk record is older than the last assessment
)
GROUPS = ("overdue", "due", "later")
RISK_ORDER = {"high": 0, "moderate": 1, "low": 2, None: 3}

_WHAT_LENGTH = 60  # free text in `what` is cut here: the index keeps no more of it than this
_ACTIVE = ("open", "on-hold")
_NEXT_STEP = {"new": "screen", "screen": "assess", "assess": "risk", "risk": "plan"}


class Fact(NamedTuple):
    """One dated thing a case needs; `due` is an ISO date, `item` the record's handle if any."""

    kind: str
    due: str
    item: str | None
    what: str


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _WHAT_LENGTH else text[: _WHAT_LENGTH - 1].rstrip() + "…"


def review_facts(case: Case, config: Config) -> list[Fact]:
    """Every dated fact of an open or on-hold case (none for closed or transferred ones)."""
    if case.status not in _ACTIVE:
        return []
    from casectl.state import latest_stage, next_review, tier_review_days

    facts: list[Fact] = []
    review = config.review
    plan = case.current_plan
    risk = case.current_risk
    assessment = case.last_assessment
    if plan is not None:
        due = next_review(case, config)
        last = case.last_follow_up
        if due is not None:
            if last is not None and last.date >= plan.date:
                what = f"review set at the contact of {last.date.isoformat()}"
            else:
                what = (
                    f"review: plan of {plan.date.isoformat()}, every {plan.review_interval_days} d"
                )
            facts.append(Fact("review", due.isoformat(), None, what))
    else:
        # No plan yet: the tier's default review interval is the time allowed to agree one,
        # counted from the last step taken.
        interval, _ = tier_review_days(case, config)
        dates = [case.opened]
        dates += [r.date for r in case.screening]
        dates += [r.date for r in case.assessments]
        dates += [r.date for r in case.risk_assessments]
        dates += [h.date for h in case.status_history]
        since = max(dates)
        next_step = _NEXT_STEP.get(latest_stage(case), "plan")
        facts.append(
            Fact(
                "no-plan",
                (since + dt.timedelta(days=interval)).isoformat(),
                None,
                f"no care plan yet; next step: {next_step} (last step {since.isoformat()})",
            )
        )
    for ref, status, changed in case.referrals().values():
        if status in ("sent", "no-response"):
            due = changed + dt.timedelta(days=review.referral_no_response_days)
            facts.append(
                Fact(
                    "referral",
                    due.isoformat(),
                    ref.id,
                    _short(f"referral {ref.id} to {ref.to}: {status} since {changed.isoformat()}"),
                )
            )
    for appt, booked in case.appointments().values():
        if booked == "scheduled":
            facts.append(
                Fact(
                    "appointment",
                    appt.date.isoformat(),
                    appt.id,
                    _short(f"appointment {appt.id} with {appt.with_}: {appt.purpose}"),
                )
            )
    if plan is not None:
        for action in plan.interventions:
            if action.due is not None and action.status in ("planned", "in-progress"):
                facts.append(
                    Fact(
                        "intervention",
                        action.due.isoformat(),
                        action.id,
                        _short(f"intervention {action.id} ({action.owner}): {action.description}"),
                    )
                )
        for goal in plan.goals:
            if goal.status not in ("achieved", "discontinued"):
                facts.append(
                    Fact(
                        "goal",
                        goal.target_date.isoformat(),
                        goal.id,
                        _short(f"goal {goal.id} target date ({goal.status}): {goal.description}"),
                    )
                )
    if assessment is not None:
        due = assessment.date + dt.timedelta(days=review.reassess_days)
        facts.append(
            Fact(
                "reassessment",
                due.isoformat(),
                None,
                f"reassessment: last assessed {assessment.date.isoformat()}",
            )
        )
        if risk is not None and risk.date < assessment.date:
            facts.append(
                Fact(
                    "stale-risk",
                    assessment.date.isoformat(),
                    None,
                    f"risk of {risk.date.isoformat()} predates the assessment of "
                    f"{assessment.date.isoformat()}; run casectl risk",
                )
            )
    return facts


class ReviewItem(NamedTuple):
    """One line of the review: a fact of a case, judged on one day, in REVIEW_FIELDS order."""

    case_id: str
    client: str
    risk: str | None
    kind: str
    due: str  # ISO date
    days_overdue: int
    what: str
    group: str
    manager: str
    status: str
    item: str | None
    flags: tuple[str, ...] = ()


# The fields of `casectl review --format json|csv|tsv`: ReviewItem's, in order. A documented
# contract (see the README, and tests/test_review.py): add to the end, never rename or remove.
REVIEW_FIELDS = list(ReviewItem._fields)


def review_items(
    cases: Iterable[CaseSummary],
    *,
    as_of: dt.date,
    within_days: int,
    include_later: bool = False,
    kinds: Sequence[str] | frozenset[str] | None = None,
) -> list[ReviewItem]:
    """The review on `as_of`: overdue first, then due within `within_days`, then (if asked) later.

    Within a group: most days overdue first, then high risk first, then the earliest date.
    """
    today = as_of.isoformat()
    horizon = (as_of + dt.timedelta(days=within_days)).isoformat()
    wanted = frozenset(kinds) if kinds else None
    kind_order = {kind: n for n, kind in enumerate(REVIEW_KINDS)}
    overdue_by: dict[str, int] = {}  # a caseload has far fewer distinct dates than items
    keyed: list[tuple[tuple[Any, ...], ReviewItem]] = []
    for case in cases:
        if case.status not in _ACTIVE:
            continue
        rank = RISK_ORDER.get(case.risk, 3)
        for kind, due, item, what in case.facts:
            if wanted is not None and kind not in wanted:
                continue
            # ISO dates compare as text, so only overdue items' dates are parsed.
            if due < today:
                group = 0
                days = overdue_by.get(due)
                if days is None:
                    days = overdue_by[due] = (as_of - dt.date.fromisoformat(due)).days
            elif due <= horizon:
                group, days = 1, 0
            elif include_later:
                group, days = 2, 0
            else:
                continue
            key = (group, -days, rank, due, case.case_id, kind_order.get(kind, 99), item or "")
            keyed.append(
                (
                    key,
                    ReviewItem(
                        case.case_id,
                        case.client,
                        case.risk,
                        kind,
                        due,
                        days,
                        what,
                        GROUPS[group],
                        case.manager,
                        case.status,
                        item,
                        case.flags,
                    ),
                )
            )
    keyed.sort(key=_first)
    return [item for _, item in keyed]


def _first(pair: tuple[tuple[Any, ...], ReviewItem]) -> tuple[Any, ...]:
    return pair[0]


def any_overdue(items: Iterable[ReviewItem]) -> bool:
    """True when at least one item is overdue (`review --exit-code` exits 3)."""
    return any(item.group == "overdue" for item in items)
