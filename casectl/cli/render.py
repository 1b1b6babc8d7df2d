"""Showing a case to a person (rich text) and to a script (JSON with derived fields).

Everything here is derived at display time: ages, blood-pressure and growth categories, the
next review, goal progress. Nothing is written back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.markup import escape

from casectl.cli.output import RISK_STYLE
from casectl.config import Config
from casectl.dates import age_in_years, completed_years
from casectl.models.case import Case
from casectl.models.people import Client
from casectl.models.records import RiskAssessment, Vitals
from casectl.models.timeline import timeline
from casectl.state import CaseState, derive
from casectl.text import printable


def _e(value: object) -> str:
    """Case text as it is: never rich markup, never a control character."""
    return escape(printable(str(value)))


def _ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st, 42nd, 61st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def vitals_lines(client: Client, on: dt.date, v: Vitals) -> list[str]:
    """Vitals with their blood-pressure and growth categories (derived, never stored)."""
    from casectl.clinical.errors import ClinicalInputError
    from casectl.clinical.growth import growth
    from casectl.clinical.risk import classify_reading

    lines = []
    age = age_in_years(client.dob, on)
    if v.systolic is not None and v.diastolic is not None:
        text = f"BP {v.systolic}/{v.diastolic} mm Hg"
        try:
            bp = classify_reading(client, on, v)
            text += f": {bp.category} ({bp.method}) — one reading is not a diagnosis"
            if bp.urgent:
                text += "; ABOVE THE SAME-DAY THRESHOLD: needs medical evaluation today"
        except ClinicalInputError as exc:
            text += f" (not classified: {exc})"
        lines.append(text)
    if v.height_cm is not None or v.weight_kg is not None:
        parts = []
        if v.height_cm is not None:
            parts.append(f"height {v.height_cm:g} cm")
        if v.weight_kg is not None:
            parts.append(f"weight {v.weight_kg:g} kg")
        text = ", ".join(parts)
        if 2 <= age < 20 and client.sex in ("female", "male"):
            try:
                g = growth(age, client.sex, v.height_cm, v.weight_kg)
                if g.bmi is not None and g.bmi_percentile is not None:
                    text += (
                        f"; BMI {g.bmi:.1f} ({_ordinal(round(g.bmi_percentile))} percentile, "
                        f"{g.bmi_category})"
                    )
            except ClinicalInputError as exc:
                text += f" ({exc})"
        elif age < 2 and client.sex in ("female", "male"):
            text += _who_growth(client, on, v)
        lines.append(text)
    others = [
        f"{label} {value}"
        for label, value in (
            ("heart rate", v.heart_rate),
            ("resp. rate", v.respiratory_rate),
            ("temp", v.temperature_c),
            ("SpO2", v.spo2),
        )
        if value is not None
    ]
    if others:
        lines.append(", ".join(others))
    return lines


def _who_growth(client: Client, on: dt.date, v: Vitals) -> str:
    """Under 2: WHO 2006 percentiles, at the corrected age for a child born preterm."""
    from casectl.clinical.errors import ClinicalInputError
    from casectl.clinical.who_growth import who_growth

    try:
        g = who_growth(
            (on - client.dob).days,
            client.sex,
            v.height_cm,
            v.weight_kg,
            gestational_age_weeks=client.gestational_age_weeks,
        )
    except ClinicalInputError as exc:
        return f" ({exc})"
    parts = [
        f"{label} percentile {'<1' if pct < 1 else '>99' if pct > 99 else f'{pct:.0f}'} ({category})"
        for label, pct, category in (
            ("weight-for-age", g.weight_for_age_percentile, g.weight_for_age_category),
            ("length-for-age", g.length_for_age_percentile, g.length_for_age_category),
            ("weight-for-length", g.weight_for_length_percentile, g.weight_for_length_category),
        )
        if pct is not None
    ]
    corrected = f", corrected age {g.age_months:.1f} months" if g.corrected else ""
    return f"; WHO 2006{corrected}: " + ", ".join(parts)


def render_risk(out: Any, risk: RiskAssessment | None) -> None:
    """The risk record factor by factor, so a clinician can agree or override."""
    if risk is None:
        out.print("Risk: not yet assessed (casectl risk CASE)")
        return
    level = risk.effective_level
    head = f"Risk: [{RISK_STYLE[level]}]{level}[/] (score {risk.score}, {risk.date}, rules {_e(risk.rules_version)})"
    out.print(head)
    if risk.override:
        out.print(
            f"  overridden from {risk.level} by {_e(risk.recorded_by)}: {_e(risk.override.reason)}"
        )
    for f in risk.factors:
        mark = "[bold red]![/] " if f.forces_high else "  "
        out.print(f"{mark}{f.points:+d}  {_e(f.factor)}: {_e(f.detail)}  [dim]({_e(f.source)})[/]")
    if not risk.factors:
        out.print("  no risk factors recorded in the assessment")


def render_case(out: Any, case: Case, config: Config, today: dt.date) -> None:
    """A case summary for a person at a terminal (plain text when piped)."""
    state = derive(case, on=today)
    c = case.client
    age = completed_years(c.dob, today)
    out.print(f"[bold]{_e(case.id)}[/]  {_e(c.name)}, {age} y, {c.sex}  — {case.status}")
    out.print(f"Case manager {_e(case.case_manager)}; opened {case.opened}; stage: {state.stage}")
    if case.closed:
        out.print(f"Closed {case.closed}: {_e(case.closed_reason)}")
    if case.transferred_to:
        out.print(f"Transferred to {_e(case.transferred_to)}")
    interp = "; interpreter needed" if c.interpreter_needed else ""
    out.print(f"Language: {_e(c.preferred_language)}{interp}")
    if c.cultural_considerations:
        out.print(f"Culture: {_e(c.cultural_considerations)}")
    _flags(out, state)
    if case.family:
        out.print("\n[bold]Family[/]")
        for m in case.family:
            roles = [
                r for r, on in (("guardian", m.legal_guardian), ("decides", m.decision_maker)) if on
            ]
            extra = f" [{', '.join(roles)}]" if roles else ""
            lang = f", {m.language}" if m.language else ""
            out.print(f"  {_e(m.id)}: {_e(m.name)} ({_e(m.relationship)}{lang}){_e(extra)}")
    if case.care_team:
        out.print("\n[bold]Care team[/]")
        for t in case.care_team:
            org = f", {t.organisation}" if t.organisation else ""
            consent = "" if t.consent_to_share else "  (no consent to share on file)"
            out.print(f"  {_e(t.id)}: {_e(t.name)} — {t.role}{_e(org)}{consent}")
    out.print("")
    render_risk(out, case.current_risk)
    assessment = case.last_assessment
    if assessment and assessment.vitals:
        out.print(f"\n[bold]Vitals[/] ({assessment.date})")
        for line in vitals_lines(c, assessment.date, assessment.vitals):
            out.print(f"  {_e(line)}")
    _plan(out, state, today)
    refs = state.open_referrals
    if refs:
        out.print("\n[bold]Open referrals[/]")
        for r in refs:
            days = (today - r.since).days
            out.print(
                f"  {r.referral.id}: {_e(r.referral.to)} — {r.status} since {r.since} ({days} d); "
                f"{_e(r.referral.reason)}"
            )
    upcoming = [
        a.appointment
        for a in state.appointments
        if a.status == "scheduled" and a.appointment.date >= today
    ]
    if upcoming:
        out.print("\n[bold]Upcoming appointments[/]")
        for a in sorted(upcoming, key=lambda a: a.date):
            out.print(f"  {a.date} {_e(a.id)} {_e(a.with_)}: {_e(a.purpose)}")
    last = state.last_contact
    review = state.next_review
    out.print("")
    out.print(
        f"Last contact: {last.date} ({last.mode}) — {_e(last.summary)}"
        if last
        else "Last contact: none yet"
    )
    attempt = state.last_attempt
    if attempt is not None and attempt is not last:
        out.print(f"Last attempt: {attempt.date} ({attempt.mode}, {attempt.outcome})")
    if review:
        late = (today - review).days
        flag = f" [bold red]overdue by {late} d[/]" if late > 0 else ""
        out.print(f"Next review: {review}{flag}")
    out.print("\n[bold]Timeline[/]")
    for entry in timeline(case):
        out.print(
            f"  {entry.date}  {entry.stage:<10} {_e(entry.summary)}  [dim]({_e(entry.recorded_by)})[/]"
        )


def _flags(out: Any, state: CaseState) -> None:
    for flag in state.safety:
        if flag.open:
            out.print(
                f"[bold red]SAME-DAY FLAG[/] {_e(flag.text)} ({_e(flag.source)}); "
                "record the action with follow-up --safety-action"
            )
        else:
            out.print(
                f"Safety flag {flag.raised}: {_e(flag.text)} — acted on {flag.acted_on}: "
                f"{_e(flag.action)}"
            )


def _plan(out: Any, state: CaseState, today: dt.date) -> None:
    plan = state.plan
    if plan is None:
        return
    agreed = ", ".join(plan.agreed_by)
    out.print(
        f"\n[bold]Care plan[/] ({plan.date}; review every {plan.review_interval_days} d; agreed by {_e(agreed)})"
    )
    for standing in state.goals:
        g = standing.goal
        late = (
            " [red](past target)[/]"
            if g.target_date < today and standing.open and not state.case.is_closed
            else ""
        )
        seen = (
            f", latest: {standing.progress} ({standing.progress_on})"
            if standing.progress and standing.open
            else ""
        )
        out.print(
            f"  {g.id} {_e(f'[{g.domain}]')} {_e(g.description)} — {standing.status}{seen}; "
            f"target {_e(g.target)} by {g.target_date}{late}"
        )
    for step in state.interventions:
        i = step.intervention
        parts = [_e(i.owner)]
        if i.frequency:
            parts.append(_e(i.frequency))
        if step.open and step.next_due:
            parts.append(f"next due {step.next_due}" if i.frequency else f"due {step.next_due}")
        if step.last_done:
            parts.append(f"last done {step.last_done}")
        parts.append(step.status)
        out.print(f"    {i.id}: {_e(i.description)} — {', '.join(parts)}")


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def state_json(state: CaseState) -> dict[str, Any]:
    """The derived state as JSON: `show --format json`'s `derived` block (a documented contract)."""
    case = state.case
    review = state.next_review
    today = state.as_of
    return {
        "as_of": today.isoformat(),
        "age": completed_years(case.client.dob, today),
        "stage": state.stage,
        "risk": state.risk_level,
        "next_review": _day(review),
        "days_overdue": max(0, (today - review).days) if review else None,
        "last_contact": _day(state.last_contact.date) if state.last_contact else None,
        "open_referrals": [
            {
                "id": r.referral.id,
                "to": r.referral.to,
                "reason": r.referral.reason,
                "status": r.status,
                "since": r.since.isoformat(),
            }
            for r in state.open_referrals
        ],
        "goal_progress": {g.goal.id: g.progress for g in state.goals if g.progress},
        "goals": [
            {
                "id": g.goal.id,
                "status": g.status,
                "since": g.since.isoformat(),
                "progress": g.progress,
                "progress_on": _day(g.progress_on),
                "target_date": g.goal.target_date.isoformat(),
                "reason": g.reason,
            }
            for g in state.goals
        ],
        "interventions": [
            {
                "id": i.intervention.id,
                "status": i.status,
                "since": i.since.isoformat(),
                "next_due": _day(i.next_due),
                "last_done": _day(i.last_done),
                "times_done": i.times_done,
                "recurring": i.recurring,
            }
            for i in state.interventions
        ],
        "referrals": [
            {
                "id": r.referral.id,
                "status": r.status,
                "made": r.made.isoformat(),
                "since": r.since.isoformat(),
            }
            for r in state.referrals
        ],
        "appointments": [
            {
                "id": a.appointment.id,
                "date": a.appointment.date.isoformat(),
                "with": a.appointment.with_,
                "status": a.status,
            }
            for a in state.appointments
        ],
        "safety_flags": [
            {
                "code": f.code,
                "raised": f.raised.isoformat(),
                "text": f.text,
                "source": f.source,
                "open": f.open,
                "acted_on": _day(f.acted_on),
                "action": f.action,
            }
            for f in state.safety
        ],
        "consents": [
            {
                "kind": c.consent.kind,
                "given_by": c.consent.given_by,
                "expires": _day(c.consent.expires),
                "standing": c.standing,
                "days_left": c.days_left,
            }
            for c in state.consents
        ],
    }


def case_json(case: Case, config: Config, today: dt.date) -> dict[str, Any]:
    """The whole case as JSON plus a `derived` block (computed as of `today`, never stored)."""
    data = case.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["derived"] = state_json(derive(case, on=today))
    return data
