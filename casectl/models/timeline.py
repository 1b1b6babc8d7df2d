"""Every record of a case in one line each, oldest first: `show`'s timeline and the summary of a
git commit. A reading of the records as they are; nothing is derived or judged here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from casectl.models.case import Case


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
    for n, p in enumerate(case.care_plans):
        text = f"{len(p.goals)} goal(s), review every {p.review_interval_days} d"
        if n:
            text = "revised: " + text
        if p.discontinued:
            text += "; ended " + ", ".join(d.item for d in p.discontinued)
        entries.append(TimelineEntry(p.date, "plan", p.recorded_by, text))
    for c in case.coordination:
        parts = [f"referral {r.id} to {r.to}" for r in c.referrals]
        parts += [f"referral {u.referral} {u.status}" for u in c.referral_updates]
        parts += [f"appointment {a.id} {a.date}" for a in c.appointments]
        parts += [f"appointment {u.appointment} {u.status}" for u in c.appointment_updates]
        parts += [f"intervention {u.intervention} {u.status}" for u in c.intervention_updates]
        parts += [f"education: {e.topic}" for e in c.education]
        parts += [f"resource: {r.name}" for r in c.resources_connected]
        entries.append(TimelineEntry(c.date, "implement", c.recorded_by, "; ".join(parts)))
    for f in case.follow_ups:
        if f.outcome == "reached":
            text = f"{f.mode}: {f.summary}"
        else:
            text = f"{f.mode} attempt ({f.outcome}) with {', '.join(f.with_)}"
        if f.safety_concerns:
            text += "; SAFETY CONCERN: " + "; ".join(f.safety_concerns)
        if f.safety_action:
            text += f"; safety action: {f.safety_action}"
        entries.append(TimelineEntry(f.date, "follow-up", f.recorded_by, text))
    for e in case.evaluations:
        entries.append(
            TimelineEntry(e.date, "evaluate", e.recorded_by, f"{e.decision}: {e.decision_reason}")
        )
    for h in case.status_history:
        to = f" to {h.to}" if h.to else ""
        entries.append(TimelineEntry(h.date, h.status, h.recorded_by, f"{h.reason}{to}"))
    return sorted(entries, key=lambda e: e.date)
