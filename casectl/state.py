"""What a case adds up to today: its stage, next review, open referrals, timeline.

All of it is derived from the records and never stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from casectl.config import Config
from casectl.models.case import STAGE_SECTIONS, Case
from casectl.models.vocab import OPEN_REFERRAL

STAGE_OF_SECTION = {section: stage for stage, section in STAGE_SECTIONS.items()}


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


def next_review(case: Case, config: Config) -> dt.date | None:
    """When the case is next due for review: the last follow-up's date for it, else plan date + interval."""
    if case.is_closed:
        return None
    plan = case.current_plan
    last = case.last_follow_up
    if last is not None and (plan is None or last.date >= plan.date):
        return last.next_review
    if plan is not None:
        return plan.date + dt.timedelta(days=plan.review_interval_days)
    return None


def open_referrals(case: Case) -> list[dict[str, Any]]:
    """Referrals not yet completed or declined, oldest first."""
    rows = []
    for ref, status, changed in case.referrals().values():
        if status in OPEN_REFERRAL:
            rows.append(
                {
                    "id": ref.id,
                    "to": ref.to,
                    "reason": ref.reason,
                    "status": status,
                    "since": changed,
                }
            )
    return sorted(rows, key=lambda r: r["since"])


def same_day_flags(case: Case) -> list[str]:
    """Same-day action flags of the latest instrument results (PHQ item 9, a PHQ-A suicide item,
    a positive AHC safety screen) of a case still in the caseload; they stand out in every view."""
    if case.is_closed:
        return []
    from casectl.clinical.risk import latest_instruments

    return sorted({flag for inst, _ in latest_instruments(case).values() for flag in inst.flags})


@dataclass(frozen=True)
class TimelineEntry:
    date: dt.date
    stage: str
    recorded_by: str
    summary: str


def timeline(case: Case) -> list[TimelineEntry]:
    """Every stage record and status change, oldest first."""
    entries: list[TimelineEntry] = []
    for s in case.screening:
        verdict = "eligible" if s.eligible else "not eligible"
        entries.append(
            TimelineEntry(s.date, "screen", s.recorded_by, f"{s.referral_reason} ({verdict})")
        )
    for a in case.assessments:
        entries.append(TimelineEntry(a.date, "assess", a.recorded_by, a.health_status))
    for r in case.risk_assessments:
        text = f"{r.effective_level} (score {r.score})"
        if r.override:
            text += f", overridden from {r.level}: {r.override.reason}"
        entries.append(TimelineEntry(r.date, "risk", r.recorded_by, text))
    for p in case.care_plans:
        entries.append(
            TimelineEntry(
                p.date,
                "plan",
                p.recorded_by,
                f"{len(p.goals)} goal(s), review every {p.review_interval_days} d",
            )
        )
    for c in case.coordination:
        parts = [f"{len(c.referrals)} referral(s)"] if c.referrals else []
        parts += [f"referral {u.referral} {u.status}" for u in c.referral_updates]
        parts += [f"appointment {a.id} {a.date}" for a in c.appointments]
        parts += [f"appointment {u.appointment} {u.status}" for u in c.appointment_updates]
        parts += [f"education: {e.topic}" for e in c.education]
        parts += [f"resource: {r.name}" for r in c.resources_connected]
        entries.append(TimelineEntry(c.date, "implement", c.recorded_by, "; ".join(parts)))
    for f in case.follow_ups:
        entries.append(TimelineEntry(f.date, "follow-up", f.recorded_by, f"{f.mode}: {f.summary}"))
    for e in case.evaluations:
        entries.append(
            TimelineEntry(e.date, "evaluate", e.recorded_by, f"{e.decision}: {e.decision_reason}")
        )
    for h in case.status_history:
        to = f" to {h.to}" if h.to else ""
        entries.append(TimelineEntry(h.date, h.status, h.recorded_by, f"{h.reason}{to}"))
    return sorted(entries, key=lambda e: e.date)


# The fields of `casectl list --format json|csv`, in order. A documented contract: add to the
# end, never rename or remove.
LIST_FIELDS = [
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
