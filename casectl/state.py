"""A case's current state on one day, derived from all of its records and never stored.

`derive(case, on=day)` is the one place that decides where a case stands: each goal's
status, each intervention's (with when it next falls due), each referral's and appointment's,
the safety flags still open, the consents in force, the last contact and the next review.
`show`, `list`, `review`, `report`, the family's care plan and the FHIR export all read it, so
none of them keeps rules of its own.

How records move the state (records dated after `on` are left out):
- A goal starts with the status its plan gives it. A contact's progress note moves it
  (improving, no-change, worsening → in-progress; achieved → achieved), an evaluation's outcome
  sets it (achieved, partly-achieved, not-achieved), a plan revision can discontinue it. A plan
  revision that lists a goal as not-started never undoes progress already made.
- An intervention starts planned; `implement --intervention-update` marks it in-progress, done
  or cancelled. A recurring one (a frequency of a week or more: weekly, every 2 weeks, monthly …)
  marked done falls due again one period later, until an update marks it done with `final`.
- A referral's status is its last update's. An appointment's likewise.
- A safety flag is raised by an instrument's same-day finding (PHQ-9/PHQ-A item 9, an ASQ
  positive, a positive AHC safety screen), by a blood pressure in the urgency range (AAP 2017
  Table 11; ACC/AHA 2017 §11.2) or by a safety concern reported at a contact (abuse, neglect). It
  stays open until a contact on or after its day records a `safety_action`.
- Records on one day apply in the order of the process: plan, then coordination, then contacts,
  then evaluations; within a section, in file order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from casectl.config import Config
from casectl.dates import after, recurrence
from casectl.models.case import STAGE_SECTIONS, Case
from casectl.models.people import Consent
from casectl.models.records import (
    Appointment,
    CarePlan,
    FollowUp,
    Goal,
    InstrumentRecord,
    Intervention,
    Referral,
    RiskAssessment,
    Vitals,
)
from casectl.models.vocab import (
    OPEN_GOAL,
    OPEN_INTERVENTION,
    OPEN_REFERRAL,
    AppointmentStatus,
    GoalStatus,
    InterventionStatus,
    Progress,
    ReferralStatus,
)

STAGE_OF_SECTION = {section: stage for stage, section in STAGE_SECTIONS.items()}
# Consents ending within this many days are shown as expiring.
CONSENT_WARNING_DAYS = 30

# What a progress note at a contact says about a goal's status.
_PROGRESS_STATUS: dict[str, GoalStatus] = {
    "not-started": "not-started",
    "improving": "in-progress",
    "no-change": "in-progress",
    "worsening": "in-progress",
    "achieved": "achieved",
}
# The order records of one day apply in (the order of the process).
_PLAN, _COORDINATION, _CONTACT, _EVALUATION = range(4)

# Same-day flags in plain words, by the code an instrument gives them.
FLAG_WORDS: dict[str, str] = {
    "phq9-item9-self-harm": "PHQ-9 item 9 (thoughts of self-harm) above 0",
    "phq-a-item9-self-harm": "PHQ-A item 9 (thoughts of self-harm) above 0",
    "phq-a-suicidal-ideation-past-month": "PHQ-A: suicidal thoughts in the past month",
    "phq-a-suicide-attempt-ever": "PHQ-A: a suicide attempt at some time",
    "asq-acute-positive": "ASQ acute positive: thoughts of suicide right now",
    "asq-non-acute-positive": "ASQ non-acute positive",
    "asq-positive": "ASQ positive (question 5 not asked)",
    "ahc-interpersonal-safety-positive": "AHC safety screen positive (interpersonal violence)",
    "bp-hypertensive-urgency": "blood pressure in the urgency range",
    "safety-concern": "safety concern reported",
}


@dataclass(frozen=True)
class GoalState:
    """A goal of the plan in force and where it stands."""

    goal: Goal
    status: GoalStatus
    since: dt.date
    progress: Progress | None = None  # the latest progress noted at a contact
    progress_on: dt.date | None = None
    reason: str | None = None  # why it was discontinued

    @property
    def open(self) -> bool:
        """Still being worked on: not achieved and not discontinued."""
        return self.status in OPEN_GOAL


@dataclass(frozen=True)
class InterventionState:
    """An intervention of the plan in force, its status and when it next falls due."""

    intervention: Intervention
    status: InterventionStatus
    since: dt.date
    next_due: dt.date | None
    last_done: dt.date | None = None
    times_done: int = 0
    recurring: bool = False
    note: str | None = None  # the latest update's note, or why it was cancelled

    @property
    def open(self) -> bool:
        return self.status in OPEN_INTERVENTION


@dataclass(frozen=True)
class ReferralState:
    referral: Referral
    status: ReferralStatus
    made: dt.date
    since: dt.date  # the day of its last change
    note: str | None = None
    booked_for: dt.date | None = None  # the day the service set (an intake, a first visit)

    @property
    def open(self) -> bool:
        return self.status in OPEN_REFERRAL


@dataclass(frozen=True)
class AppointmentState:
    appointment: Appointment
    status: AppointmentStatus
    since: dt.date
    note: str | None = None


@dataclass(frozen=True)
class SafetyFlag:
    """A finding that needs action the same day, and whether a contact has recorded it."""

    code: str  # phq9-item9-self-harm, bp-hypertensive-urgency, safety-concern …
    raised: dt.date
    text: str
    source: str
    acted_on: dt.date | None = None
    action: str | None = None

    @property
    def open(self) -> bool:
        return self.acted_on is None


ConsentStanding = Literal["in-force", "expiring", "expired"]


@dataclass(frozen=True)
class ConsentState:
    consent: Consent
    standing: ConsentStanding
    days_left: int | None  # None: no end date


@dataclass(frozen=True)
class CaseState:
    """Where a case stands on `as_of`."""

    case: Case
    as_of: dt.date
    stage: str
    plan: CarePlan | None
    risk: RiskAssessment | None
    goals: tuple[GoalState, ...]
    interventions: tuple[InterventionState, ...]
    referrals: tuple[ReferralState, ...]
    appointments: tuple[AppointmentState, ...]
    safety: tuple[SafetyFlag, ...]
    consents: tuple[ConsentState, ...]
    last_contact: FollowUp | None  # the latest contact that reached someone
    last_attempt: FollowUp | None  # the latest contact of any outcome
    next_review: dt.date | None
    review_set_at: dt.date | None  # the contact that set next_review, if one did
    _by_goal: dict[str, GoalState] = field(default_factory=dict, repr=False, compare=False)

    @property
    def risk_level(self) -> str | None:
        return self.risk.effective_level if self.risk else None

    @property
    def open_safety(self) -> tuple[SafetyFlag, ...]:
        return tuple(f for f in self.safety if f.open)

    @property
    def open_referrals(self) -> tuple[ReferralState, ...]:
        return tuple(r for r in self.referrals if r.open)

    def goal(self, goal_id: str) -> GoalState | None:
        return self._by_goal.get(goal_id)

    def flag_codes(self) -> tuple[str, ...]:
        """The open safety flags' codes, sorted: the `flags` field of `list` and `review`."""
        return tuple(sorted({f.code for f in self.open_safety}))


def derive(case: Case, *, on: dt.date) -> CaseState:
    """The state of `case` on `on`, from its records dated on or before that day."""
    case = case.up_to(on)
    plan = case.current_plan
    goals = _goals(case, plan)
    contacts = _ordered_contacts(case)
    reached = [c for c in contacts if c.outcome == "reached"]
    review, set_at = _next_review(case, plan, contacts)
    return CaseState(
        case=case,
        as_of=on,
        stage=latest_stage(case),
        plan=plan,
        risk=case.current_risk,
        goals=goals,
        interventions=_interventions(case, plan),
        referrals=_referrals(case),
        appointments=_appointments(case),
        safety=tuple(_safety(case, contacts)),
        consents=tuple(_consent(c, on) for c in case.consents),
        last_contact=reached[-1] if reached else None,
        last_attempt=contacts[-1] if contacts else None,
        next_review=review,
        review_set_at=set_at,
        _by_goal={g.goal.id: g for g in goals},
    )


def latest_stage(case: Case) -> str:
    """The furthest step of the process the case has reached (`new` before screening)."""
    reached = "new"
    for stage, section in STAGE_SECTIONS.items():
        if getattr(case, section):
            reached = stage
    return reached


def tier_review_days(case: Case, config: Config) -> tuple[int, str]:
    """The config's default review interval for the case's risk tier, and the tier.

    The tier is the latest risk record's (after any override); a case not yet scored counts as
    moderate. It is the interval `plan` records when none is agreed, and the time an open case
    without a plan is given to agree one.
    """
    risk = case.current_risk
    level = risk.effective_level if risk else "moderate"
    return int(getattr(config.review, f"interval_{level}_days")), level


def _ordered_contacts(case: Case) -> list[FollowUp]:
    return [c for _, c in sorted(enumerate(case.follow_ups), key=lambda p: (p[1].date, p[0]))]


def _next_review(
    case: Case, plan: CarePlan | None, contacts: list[FollowUp]
) -> tuple[dt.date | None, dt.date | None]:
    """The next review: set at the latest contact since the plan, else plan date + interval."""
    if case.is_closed or plan is None:
        return None, None
    for contact in reversed(contacts):
        if contact.date < plan.date:
            break
        if contact.next_review is not None:
            return contact.next_review, contact.date
    return plan.date + dt.timedelta(days=plan.review_interval_days), None


# --- goals ---


def _goals(case: Case, plan: CarePlan | None) -> tuple[GoalState, ...]:
    if plan is None:
        return ()
    events: list[tuple[dt.date, int, int, str, str, Any]] = []
    seen: set[str] = set()
    for n, p in enumerate(case.care_plans):
        reasons = {d.item: d.reason for d in p.discontinued}
        for goal in p.goals:
            # A revision's "not-started" never undoes progress made before it.
            if goal.id not in seen or goal.status != "not-started":
                events.append((p.date, _PLAN, n, goal.id, goal.status, reasons.get(goal.id)))
            seen.add(goal.id)
    for n, contact in enumerate(case.follow_ups):
        for note in contact.progress:
            events.append((contact.date, _CONTACT, n, note.goal, "progress", note.progress))
    for n, evaluation in enumerate(case.evaluations):
        for outcome in evaluation.goal_outcomes:
            events.append((evaluation.date, _EVALUATION, n, outcome.goal, outcome.outcome, None))
    events.sort(key=lambda e: e[:3])
    states: list[GoalState] = []
    for goal in plan.goals:
        status: GoalStatus = "not-started"
        since = plan.date
        progress: Progress | None = None
        progress_on: dt.date | None = None
        reason: str | None = None
        for day, _, _, goal_id, what, extra in events:
            if goal_id != goal.id:
                continue
            if what == "progress":
                progress, progress_on = extra, day
                new = _PROGRESS_STATUS[extra]
            else:
                new = what  # type: ignore[assignment]
                reason = extra if new == "discontinued" else None
            if new != status:
                status, since = new, day
        states.append(GoalState(goal, status, since, progress, progress_on, reason))
    return tuple(states)


# --- interventions ---


def _interventions(case: Case, plan: CarePlan | None) -> tuple[InterventionState, ...]:
    if plan is None:
        return ()
    first_planned: dict[str, dt.date] = {}
    events: list[tuple[dt.date, int, int, str, str, bool, str | None]] = []
    for n, p in enumerate(case.care_plans):
        reasons = {d.item: d.reason for d in p.discontinued}
        for item in p.interventions:
            if item.id not in first_planned or item.status != "planned":
                events.append((p.date, _PLAN, n, item.id, item.status, False, reasons.get(item.id)))
            first_planned.setdefault(item.id, p.date)
    for n, record in enumerate(case.coordination):
        for update in record.intervention_updates:
            events.append(
                (
                    record.date,
                    _COORDINATION,
                    n,
                    update.intervention,
                    update.status,
                    update.final,
                    update.note,
                )
            )
    events.sort(key=lambda e: e[:3])
    states: list[InterventionState] = []
    for item in plan.interventions:
        period = recurrence(item.frequency)
        status: InterventionStatus = "planned"
        since = first_planned.get(item.id, plan.date)
        last_done: dt.date | None = None
        times = 0
        note: str | None = None
        for day, _, _, item_id, new, final, said in events:
            if item_id != item.id:
                continue
            if new == "done":
                last_done, times = day, times + 1
                if period is not None and not final:
                    new = "in-progress"  # one occurrence done; the series goes on
            if new != status:
                status, since = new, day  # type: ignore[assignment]
            note = said or note
        if status not in OPEN_INTERVENTION:
            due = None
        elif period is None:
            due = item.due
        elif last_done is not None:
            due = after(last_done, period)
        else:
            due = item.due or after(first_planned.get(item.id, plan.date), period)
        states.append(
            InterventionState(item, status, since, due, last_done, times, period is not None, note)
        )
    return tuple(states)


# --- referrals and appointments ---


def _referrals(case: Case) -> tuple[ReferralState, ...]:
    return tuple(ReferralState(*entry) for entry in case.referral_history().values())


def _appointments(case: Case) -> tuple[AppointmentState, ...]:
    return tuple(AppointmentState(*entry) for entry in case.appointment_history().values())


# --- safety ---


def _raised(case: Case, contacts: list[FollowUp]) -> Iterator[tuple[str, dt.date, str, str]]:
    """Every same-day finding as (code, day, text, where it was recorded)."""
    instrument_records: list[tuple[str, dt.date, list[InstrumentRecord]]] = [
        ("screening", s.date, s.instruments) for s in case.screening
    ]
    instrument_records += [("assessment", a.date, a.instruments) for a in case.assessments]
    instrument_records += [("follow-up", f.date, f.instruments) for f in contacts]
    for kind, day, instruments in instrument_records:
        for inst in instruments:
            whose = f" ({inst.member}'s own form)" if inst.member else ""
            for code in inst.flags:
                text = FLAG_WORDS.get(code, code) + whose
                yield code, day, text, f"{kind} {day}, {inst.instrument}{whose}"
    for assessment in case.assessments:
        urgent = _urgent_bp(case, assessment.date, assessment.vitals)
        if urgent:
            yield (
                "bp-hypertensive-urgency",
                assessment.date,
                urgent,
                f"assessment {assessment.date}",
            )
    for contact in contacts:
        for concern in contact.safety_concerns:
            with_whom = ", ".join(contact.with_)
            yield "safety-concern", contact.date, concern, f"follow-up {contact.date} ({with_whom})"


def _urgent_bp(case: Case, day: dt.date, vitals: Vitals | None) -> str | None:
    if vitals is None or vitals.systolic is None or vitals.diastolic is None:
        return None
    from casectl.clinical.errors import ClinicalInputError
    from casectl.clinical.risk import classify_reading, urgency_text

    try:
        bp = classify_reading(case.client, day, vitals)
    except ClinicalInputError:
        return None
    return urgency_text(vitals.systolic, vitals.diastolic, bp.urgent_above) if bp.urgent else None


def _safety(case: Case, contacts: list[FollowUp]) -> Iterator[SafetyFlag]:
    actions = [(c.date, c.safety_action) for c in contacts if c.safety_action]
    for code, day, text, source in _raised(case, contacts):
        acted = next(((d, a) for d, a in actions if d >= day), None)
        yield SafetyFlag(code, day, text, source, *(acted or (None, None)))


def raised_between(before: Case | None, after: Case, *, on: dt.date) -> list[SafetyFlag]:
    """The open safety flags of `after` that `before` did not have: what a step just raised."""
    seen = set()
    if before is not None:
        seen = {(f.code, f.raised, f.source) for f in derive(before, on=on).safety}
    return [f for f in derive(after, on=on).open_safety if (f.code, f.raised, f.source) not in seen]


# --- consents ---


def _consent(consent: Consent, on: dt.date) -> ConsentState:
    if consent.expires is None:
        return ConsentState(consent, "in-force", None)
    left = (consent.expires - on).days
    if left < 0:
        return ConsentState(consent, "expired", left)
    return ConsentState(consent, "expiring" if left <= CONSENT_WARNING_DAYS else "in-force", left)
