"""The risk tier: points per factor from the case's records, explained factor by factor.

The rules are casectl's own, not a published score: they add up documented points (config.toml,
`[risk.points]`; defaults reasoned in the README's "Risk tier") for what the published tools
found (AAP 2017 / ACC-AHA 2017 blood pressure, CDC 2000 BMI-for-age, PHQ-9, PHQ-A, GAD-7,
PSC-17, M-CHAT-R/F, Hunger Vital Sign, AHC HRSN) and for what the assessment recorded. A
same-day flag (PHQ item 9 above 0, a PHQ-A suicide item, a positive ASQ, a positive AHC safety
screen, a blood pressure in the urgency range) forces the tier to high whatever the score. Each factor names the record and date it came from, so a
clinician can check it and agree or override.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from casectl.clinical.bp import BPResult, classify_bp
from casectl.clinical.errors import ClinicalInputError
from casectl.clinical.growth import growth
from casectl.config import Config, RiskPoints
from casectl.dates import age_in_years
from casectl.models.case import Case
from casectl.models.records import Assessment, InstrumentRecord, RiskAssessment, RiskFactor
from casectl.models.vocab import RiskLevel

MOOD_INSTRUMENTS = ("phq-9", "phq-a", "gad-7")
_BP_POINTS = {"elevated": "bp_elevated", "stage1": "bp_stage1", "stage2": "bp_stage2"}
_GROWTH_POINTS = {
    "underweight": "growth_underweight",
    "obesity": "growth_obesity",
    "severe-obesity": "growth_severe_obesity",
}
# AHC HRSN domains (as casectl.clinical.instruments names them) → the assessment's social needs,
# so a need found by both the screen and the assessment counts once.
_AHC_NEEDS = {
    "housing-instability": "housing",
    "food-insecurity": "food",
    "transportation": "transportation",
    "utilities": "utilities",
    "interpersonal-safety": "safety",
}


def tier(score: int, forced: bool, config: Config) -> RiskLevel:
    """The tier for a score under the config's thresholds; a forcing flag makes it high."""
    if forced or score >= config.risk.high_at:
        return "high"
    if score >= config.risk.moderate_at:
        return "moderate"
    return "low"


def assess_risk(case: Case, config: Config, *, on: dt.date, recorded_by: str) -> RiskAssessment:
    """Compute the tier from the latest assessment and instrument results dated on or before `on`.

    Records dated after `on` are left out, so a risk record dated in the past is what the rules
    gave on that day.
    """
    case = case.up_to(on)
    assessment = case.last_assessment
    factors = list(_factors(case, assessment, config.risk.points)) if assessment else []
    score = sum(f.points for f in factors)
    forced = any(f.forces_high for f in factors)
    return RiskAssessment(
        date=on,
        recorded_by=recorded_by,
        level=tier(score, forced, config),
        score=score,
        factors=factors,
        rules_version=config.risk.rules_version,
    )


def latest_instruments(case: Case) -> dict[str, tuple[InstrumentRecord, str]]:
    """The most recent result of each instrument, with where it was recorded."""
    found: dict[str, tuple[dt.date, InstrumentRecord, str]] = {}
    records: list[tuple[str, dt.date, list[InstrumentRecord]]] = [
        ("screening", s.date, s.instruments) for s in case.screening
    ]
    records += [("assessment", a.date, a.instruments) for a in case.assessments]
    records += [("follow-up", f.date, f.instruments) for f in case.follow_ups]
    for kind, day, instruments in records:
        for inst in instruments:
            seen = found.get(inst.instrument)
            if seen is None or day >= seen[0]:
                found[inst.instrument] = (day, inst, f"{kind} {day.isoformat()}, {inst.instrument}")
    return {name: (inst, where) for name, (_, inst, where) in found.items()}


def _factors(case: Case, a: Assessment, p: RiskPoints) -> Iterator[RiskFactor]:
    source = f"assessment {a.date.isoformat()}"
    latest = latest_instruments(case)
    yield from _conditions(a, p, source)
    yield from _vitals(case, a, p, source)
    yield from _instruments(latest, p)
    yield from _social(latest, a, p, source)
    yield from _use_of_care(case, a, p, source)
    strain = a.caregiving.strain
    if strain in ("moderate", "severe"):
        points = p.caregiver_strain_severe if strain == "severe" else p.caregiver_strain_moderate
        support = f"; support: {a.caregiving.support}" if a.caregiving.support else ""
        yield RiskFactor(
            factor="caregiver strain",
            points=points,
            detail=f"{strain} caregiver strain{support}",
            source=source,
        )


def _conditions(a: Assessment, p: RiskPoints, source: str) -> Iterator[RiskFactor]:
    chronic = [d for d in a.diagnoses if d.chronic]
    if chronic:
        names = ", ".join(d.description for d in chronic)
        yield RiskFactor(
            factor="chronic conditions",
            points=min(len(chronic) * p.chronic_condition, p.chronic_condition_max),
            detail=f"{len(chronic)} chronic condition(s): {names}",
            source=source,
        )
    systems = sorted({d.body_system for d in chronic if d.body_system})
    if len(systems) >= 3:
        yield RiskFactor(
            factor="body systems affected",
            points=p.multi_system,
            detail=f"{len(systems)} body systems: {', '.join(systems)}",
            source=source,
        )
    marked = [d.description for d in a.diagnoses if d.complex or d.progressive]
    if marked:
        yield RiskFactor(
            factor="complex or progressive condition",
            points=p.complex_or_progressive,
            detail=", ".join(marked),
            source=source,
        )


def _vitals(case: Case, a: Assessment, p: RiskPoints, source: str) -> Iterator[RiskFactor]:
    v = a.vitals
    if v is None:
        return
    age = age_in_years(case.client.dob, a.date)
    sex = case.client.sex
    if v.systolic is not None and v.diastolic is not None:
        if sex not in ("female", "male") and age < 18:
            yield RiskFactor(
                factor="blood pressure",
                points=0,
                detail=f"{v.systolic}/{v.diastolic} not classified: the pediatric tables need sex female or male",
                source=source,
            )
        else:
            try:
                bp = classify_bp(
                    age,
                    sex if sex in ("female", "male") else "female",
                    v.height_cm,
                    v.systolic,
                    v.diastolic,
                )
            except ClinicalInputError as exc:
                yield RiskFactor(
                    factor="blood pressure",
                    points=0,
                    detail=f"{v.systolic}/{v.diastolic} not classified: {exc}",
                    source=source,
                )
            else:
                column = f", height column {bp.height_percentile}th" if bp.height_percentile else ""
                if bp.urgent:
                    yield hypertensive_urgency_factor(v.systolic, v.diastolic, bp, p, source)
                    return
                yield RiskFactor(
                    factor="blood pressure",
                    points=getattr(p, _BP_POINTS[bp.category]) if bp.category in _BP_POINTS else 0,
                    detail=f"{v.systolic}/{v.diastolic} mm Hg: {bp.category} ({bp.method}{column}); one reading, not a diagnosis",
                    source=source,
                )
    if (
        v.height_cm is not None
        and v.weight_kg is not None
        and 2 <= age < 20
        and sex in ("female", "male")
    ):
        try:
            g = growth(age, sex, v.height_cm, v.weight_kg)
        except ClinicalInputError as exc:
            yield RiskFactor(
                factor="growth", points=0, detail=f"not classified: {exc}", source=source
            )
        else:
            category = g.bmi_category or "unknown"
            pct = f"percentile {g.bmi_percentile:.1f}" if g.bmi_percentile is not None else ""
            yield RiskFactor(
                factor="growth",
                points=getattr(p, _GROWTH_POINTS[category]) if category in _GROWTH_POINTS else 0,
                detail=f"BMI {g.bmi:.1f}, {pct}: {category} (CDC 2000 BMI-for-age)",
                source=source,
            )


def urgency_text(systolic: int, diastolic: int, urgent_above: dict[str, int]) -> str:
    """Why a reading is in the urgency range, in words a case manager can act on."""
    limit = f"{urgent_above['systolic']}/{urgent_above['diastolic']}"
    return (
        f"{systolic}/{diastolic} mm Hg is above {limit}, the same-day threshold "
        "(AAP 2017 Table 11; ACC/AHA 2017 §11.2): needs medical evaluation today"
    )


def hypertensive_urgency_factor(
    systolic: int, diastolic: int, bp: BPResult, p: RiskPoints, source: str
) -> RiskFactor:
    """A reading in the urgency range: its own factor, and a same-day flag that forces high."""
    return RiskFactor(
        factor="hypertensive urgency",
        points=p.bp_urgency,
        detail=urgency_text(systolic, diastolic, bp.urgent_above),
        source=source,
        forces_high=True,
    )


def _instruments(
    latest: dict[str, tuple[InstrumentRecord, str]], p: RiskPoints
) -> Iterator[RiskFactor]:
    for name, (inst, where) in sorted(latest.items()):
        total = f"total {inst.total}, " if inst.total is not None else ""
        detail = f"{total}{inst.band}"
        points = 0
        if name in MOOD_INSTRUMENTS:
            if inst.band == "severe":
                points = p.mental_health_severe
            elif inst.band in ("moderate", "moderately severe"):
                points = p.mental_health_moderate
            factor = "mental health"
        elif name == "psc-17":
            factor = "behaviour and emotions"
            points = p.behaviour_screen_positive if inst.band == "positive" else 0
            if inst.subscales:
                detail += " (" + ", ".join(f"{k} {v}" for k, v in inst.subscales.items()) + ")"
        elif name == "m-chat-r":
            factor = "development"
            points = p.developmental_screen_risk if inst.band in ("medium", "high") else 0
        else:
            factor = ""  # social-need instruments count under social needs; the ASQ only flags
        if factor:
            yield RiskFactor(factor=f"{factor}: {name}", points=points, detail=detail, source=where)
        for flag in inst.flags:
            yield _flag(flag, where)


def _flag(flag: str, where: str) -> RiskFactor:
    return RiskFactor(
        factor="same-day flag",
        points=0,
        detail=f"{flag}: needs assessment today; forces the tier to high",
        source=where,
        forces_high=True,
    )


def _social(
    latest: dict[str, tuple[InstrumentRecord, str]], a: Assessment, p: RiskPoints, source: str
) -> Iterator[RiskFactor]:
    needs: dict[str, str] = {need: source for need in a.social_needs}
    if "ahc-hrsn" in latest:
        inst, where = latest["ahc-hrsn"]
        for domain in inst.positive_domains:
            needs.setdefault(_AHC_NEEDS.get(domain, domain), where)
    if "hunger-vital-sign" in latest and latest["hunger-vital-sign"][0].band == "positive":
        needs.setdefault("food", latest["hunger-vital-sign"][1])
    if needs:
        sources = sorted(set(needs.values()))
        yield RiskFactor(
            factor="social needs",
            points=min(len(needs) * p.social_need, p.social_need_max),
            detail=f"{len(needs)} need(s): {', '.join(sorted(needs))}",
            source="; ".join(sources),
        )
    if a.insurance is not None and a.insurance.coverage_gap:
        yield RiskFactor(
            factor="insurance",
            points=p.insurance_gap,
            detail="gap in insurance coverage",
            source=source,
        )


def _use_of_care(case: Case, a: Assessment, p: RiskPoints, source: str) -> Iterator[RiskFactor]:
    use = a.utilisation
    if use.ed_visits_12m >= 2:
        yield RiskFactor(
            factor="emergency visits",
            points=p.ed_visits_2plus,
            detail=f"{use.ed_visits_12m} ED visits in 12 months",
            source=source,
        )
    if use.admissions_12m >= 1:
        yield RiskFactor(
            factor="hospital admissions",
            points=p.admissions,
            detail=f"{use.admissions_12m} admission(s) in 12 months",
            source=source,
        )
    year_ago = a.date - dt.timedelta(days=365)
    missed_logged = sum(
        1
        for appt, status, _, _ in case.appointment_history().values()
        if status == "missed" and year_ago <= appt.date <= a.date
    )
    missed = max(use.missed_appointments_12m, missed_logged)
    if missed >= 2:
        yield RiskFactor(
            factor="missed appointments",
            points=p.missed_appointments_2plus,
            detail=f"{missed} missed appointments in 12 months",
            source=source,
        )
