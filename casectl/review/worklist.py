"""What needs a case manager's attention, and when: the worklist behind `casectl review`.

Two halves. `review_facts(state, config)` reads one case's derived state (casectl.state) and
lists its dated facts —
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
    from casectl.review.index import CaseSummary
    from casectl.state import CaseState

# What can need attention, in the order `review --help` lists them and ties are broken.
# (Kinds are added at the end: the report's by_kind keeps this order as a contract.)
REVIEW_KINDS = (
    "review",  # the plan's review interval, or the next review set at the last contact
    "referral",  # not answered within referral_no_response_days, or accepted/scheduled and not
    # completed within referral_followup_days
    "appointment",  # still `scheduled`: coming up, or past with no outcome recorded
    "intervention",  # planned or in progress, with a due date (recurring ones after each done)
    "goal",  # target date of a goal still open (not achieved, not discontinued)
    "reassessment",  # reassess_days after the last assessment
    "no-plan",  # an open case without a care plan: due the tier's review interval after its last step
    "stale-risk",  # the last risk record is older than the last assessment
    "safety",  # a same-day flag no contact has yet recorded action on: listed first, always
    "invalid",  # a case file that does not validate (or holds a git conflict): listed next
)
# Kinds listed before every other item (in this order), whatever their dates, and that make
# `--exit-code` exit 3: a person's safety, then a case file the worklist cannot read.
URGENT_ORDER = {"safety": 0, "invalid": 1}
URGENT_KINDS = frozenset(URGENT_ORDER)
GROUPS = ("overdue", "due", "later")
RISK_ORDER = {"high": 0, "moderate": 1, "low": 2, None: 3}

_ACTIVE = ("open", "on-hold")
_NEXT_STEP = {"new": "screen", "screen": "assess", "assess": "risk", "risk": "plan"}


class Fact(NamedTuple):
    """One dated thing a case needs; `due` is an ISO date, `item` the record's handle if any."""

    kind: str
    due: str
    item: str | None
    what: str


def _plain(text: str) -> str:
    """Free text on one line (a line break in a note would break a table or a CSV reader)."""
    return " ".join(text.split())


def review_facts(state: CaseState, config: Config) -> list[Fact]:
    """Every dated fact of an open or on-hold case (none for closed or transferred ones)."""
    case = state.case
    if case.status not in _ACTIVE:
        return []
    from casectl.state import tier_review_days

    facts: list[Fact] = []
    review = config.review
    plan = state.plan
    for flag in state.open_safety:
        facts.append(
            Fact(
                "safety",
                flag.raised.isoformat(),
                None,
                _plain(
                    f"SAME DAY: {flag.text} ({flag.source}); when acted on: "
                    f"casectl follow-up {case.id} --safety-action ..."
                ),
            )
        )
    if plan is not None:
        due = state.next_review
        if due is not None:
            if state.review_set_at is not None:
                what = f"review set at the contact of {state.review_set_at.isoformat()}"
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
        next_step = _NEXT_STEP.get(state.stage, "plan")
        facts.append(
            Fact(
                "no-plan",
                (since + dt.timedelta(days=interval)).isoformat(),
                None,
                f"no care plan yet; next step: {next_step} (last step {since.isoformat()})",
            )
        )
    for ref in state.referrals:
        if not ref.open:
            continue
        waiting = ref.status in ("sent", "no-response")
        if ref.booked_for is not None and not waiting:
            # The service set a day: check the day after that it happened.
            due = ref.booked_for + dt.timedelta(days=1)
            ask = f"booked for {ref.booked_for.isoformat()}; did it happen?"
        else:
            days = review.referral_no_response_days if waiting else review.referral_followup_days
            due = ref.since + dt.timedelta(days=days)
            ask = "no answer yet" if waiting else "not completed yet"
        facts.append(
            Fact(
                "referral",
                due.isoformat(),
                ref.referral.id,
                _plain(
                    f"referral {ref.referral.id} to {ref.referral.to}: {ref.status} since "
                    f"{ref.since.isoformat()}, {ask}"
                ),
            )
        )
    for appt in state.appointments:
        if appt.status == "scheduled":
            a = appt.appointment
            facts.append(
                Fact(
                    "appointment",
                    a.date.isoformat(),
                    a.id,
                    _plain(f"appointment {a.id} with {a.with_}: {a.purpose}"),
                )
            )
    for step in state.interventions:
        if step.open and step.next_due is not None:
            i = step.intervention
            again = f", {i.frequency}, last done {step.last_done}" if step.last_done else ""
            facts.append(
                Fact(
                    "intervention",
                    step.next_due.isoformat(),
                    i.id,
                    _plain(f"intervention {i.id} ({i.owner}{again}): {i.description}"),
                )
            )
    for goal in state.goals:
        if goal.open:
            g = goal.goal
            facts.append(
                Fact(
                    "goal",
                    g.target_date.isoformat(),
                    g.id,
                    _plain(f"goal {g.id} target date ({goal.status}): {g.description}"),
                )
            )
    assessment = case.last_assessment
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
        risk = state.risk
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
    invalid: Sequence[tuple[str, str]] = (),
) -> list[ReviewItem]:
    """The review on `as_of`: safety flags and unreadable files first, then overdue, then due
    within `within_days`, then (if asked) later.

    Within a group: most days overdue first, then high risk first, then the earliest date.
    `invalid` lists the case files that do not validate, with their first problem: each is an
    item of kind `invalid`, due today, so that no case drops out of the review unsaid.
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
            first = URGENT_ORDER.get(kind, 2)
            key = (
                first,
                group,
                -days,
                rank,
                due,
                case.case_id,
                kind_order.get(kind, 99),
                item or "",
            )
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
    if wanted is None or "invalid" in wanted:
        for name, problem in invalid:
            case_id = name.rsplit(".", 1)[0]
            keyed.append(((1, 1, 0, 3, today, case_id), _invalid_item(case_id, problem, today)))
    keyed.sort(key=_first)
    return [item for _, item in keyed]


def _invalid_item(case_id: str, problem: str, today: str) -> ReviewItem:
    what = (
        f"{_plain(problem)} — this case is left out of the review until the file is fixed: "
        f"`casectl edit {case_id}` (`casectl check` lists every problem)"
    )
    return ReviewItem(case_id, "", None, "invalid", today, 0, what, "due", "", "invalid", None, ())


def _first(pair: tuple[tuple[Any, ...], ReviewItem]) -> tuple[Any, ...]:
    return pair[0]


def needs_attention(items: Iterable[ReviewItem]) -> bool:
    """True when an item is overdue or urgent (a same-day safety flag): `review --exit-code`
    exits 3 then."""
    return any(item.group == "overdue" or item.kind in URGENT_KINDS for item in items)
