"""The risk tier: points per factor from the case's records, explained factor by factor.

The rules are casectl's own, not a published score: they add up documented points (config.toml,
`[risk.points]`; defaults reasoned in the README's "Risk tier") for what the published tools
found (AAP 2017 / ACC-AHA 2017 blood pressure, CDC 2000 BMI-for-age, WHO 2006 weight-for-length
under 2, PHQ-9, PHQ-A, GAD-7, PSC-17, M-CHAT-R/F, ACT, C-ACT, Hunger Vital Sign, AHC HRSN) and
for what the assessment and follow-ups recorded (diagnoses, admissions, adherence, HbA1c, a
caregiver's depression). A same-day flag (PHQ item 9 above 0, a PHQ-A suicide item, a positive
ASQ, a positive AHC safety screen, a blood pressure in the urgency range; a family member's
own PHQ-9 included) forces the tier to high whatever the score. Each factor names the record
and date it came from, so a clinician can check it and agree or override.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from casectl.clinical.bp import BPResult, classify_bp
from casectl.clinical.errors import ClinicalInputError
from casectl.clinical.growth import growth
from casectl.clinical.who_growth import UNDER_DAYS, who_growth
from casectl.config import Config, RiskPoints
from casectl.dates import age_in_years
from casectl.models.case import Case
from casectl.models.people import Client
from casectl.models.records import (
    Assessment,
    InstrumentRecord,
    RiskAssessment,
    RiskFactor,
    Vitals,
)
from casectl.models.vocab import RiskLevel

MOOD_INSTRUMENTS = ("phq-9", "phq-a", "gad-7")
ASTHMA_INSTRUMENTS = ("act", "c-act")
# Serious mental illness, by ICD-10-CM category (three characters): F20–F29 schizophrenia,
# schizotypal, delusional and other non-mood psychotic disorders; F30–F31 manic episode and
# bipolar disorder; F32–F33 major depressive disorder (CMS/NCHS ICD-10-CM Tabular List,
# chapter 5). These are the diagnoses by which US health-services research and CMS's Chronic
# Conditions Data Warehouse approximate SMI; SAMHSA's definition (58 FR 29422, 1993) is by
# functional impairment, so a clinician may override the tier. Persistent mood disorders (F34)
# and the rest of chapter 5 (F01–F99) count as a mental-health diagnosis, except F70–F89
# (intellectual disabilities and developmental disorders, autism included): those are
# neurodevelopmental, counted already as chronic conditions and by the developmental screen.
SMI_CATEGORIES: tuple[tuple[str, str], ...] = (("F20", "F29"), ("F30", "F31"), ("F32", "F33"))
NEURODEVELOPMENTAL: tuple[str, str] = ("F70", "F89")
# NCQA HEDIS, Hemoglobin A1c Control for Patients With Diabetes: above 9.0 % is poor control.
HBA1C_POOR_CONTROL = 9.0
# The weeks after a psychiatric discharge carry the highest risk of suicide and readmission
# (Chung DT et al. JAMA Psychiatry 2017;74(7):694–702); HEDIS FUH measures follow-up within 7 and
# 30 days of discharge.
RECENT_DISCHARGE_DAYS = 30
# A family member's own PHQ-9 (or PHQ-A) of 10 or more: moderate depression (Kroenke et al. 2001).
CAREGIVER_PHQ_AT = 10
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
    factors = list(_factors(case, assessment, config.risk.points, on)) if assessment else []
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
    """The most recent result of each instrument, with where it was recorded.

    The client's results are keyed by instrument name; a family member's own (a caregiver's
    PHQ-9) by `name:member`, so the two never replace each other.
    """
    found: dict[str, tuple[dt.date, InstrumentRecord, str]] = {}
    records: list[tuple[str, dt.date, list[InstrumentRecord]]] = [
        ("screening", s.date, s.instruments) for s in case.screening
    ]
    records += [("assessment", a.date, a.instruments) for a in case.assessments]
    records += [("follow-up", f.date, f.instruments) for f in case.follow_ups]
    for kind, day, instruments in records:
        for inst in instruments:
            key = inst.instrument if inst.member is None else f"{inst.instrument}:{inst.member}"
            seen = found.get(key)
            if seen is None or day >= seen[0]:
                whose = "" if inst.member is None else f" ({inst.member})"
                found[key] = (day, inst, f"{kind} {day.isoformat()}, {inst.instrument}{whose}")
    return {name: (inst, where) for name, (_, inst, where) in found.items()}


def _factors(case: Case, a: Assessment, p: RiskPoints, on: dt.date) -> Iterator[RiskFactor]:
    source = f"assessment {a.date.isoformat()}"
    latest = latest_instruments(case)
    yield from _conditions(a, p, source)
    yield from _mental_health(a, p, source)
    yield from _vitals(case, a, p, source)
    yield from _instruments(latest, p)
    yield from _social(latest, a, p, source)
    yield from _use_of_care(case, a, p, source)
    yield from _psychiatric_admission(a, p, source, on)
    yield from _adherence(case, a, p)
    if a.hba1c_percent is not None and a.hba1c_percent > HBA1C_POOR_CONTROL:
        yield RiskFactor(
            factor="diabetes control",
            points=p.hba1c_above_9,
            detail=f"HbA1c {a.hba1c_percent:g} %: above {HBA1C_POOR_CONTROL:g} % (HEDIS poor control)",
            source=source,
        )
    yield from _caregiver_depression(case, latest, a, p, source)
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
        try:
            bp = classify_reading(case.client, a.date, v)
        except ClinicalInputError as exc:
            yield RiskFactor(
                factor="blood pressure",
                points=0,
                detail=f"{v.systolic}/{v.diastolic} not classified: {exc}",
                source=source,
            )
        else:
            if bp.urgent:
                yield hypertensive_urgency_factor(v.systolic, v.diastolic, bp, p, source)
            else:
                column = f", height column {bp.height_percentile}th" if bp.height_percentile else ""
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
    elif (
        v.weight_kg is not None
        and (a.date - case.client.dob).days < UNDER_DAYS
        and sex in ("female", "male")
    ):
        yield from _infant_growth(case, a, p, source)


def classify_reading(client: Client, on: dt.date, vitals: Vitals) -> BPResult:
    """The category of the blood pressure in `vitals`, for the client's age and sex on `on`.

    Raises ClinicalInputError when it cannot be classified: no reading, or a child whose sex is
    neither female nor male (the pediatric tables are by sex); adults' cut-offs do not depend on
    sex, so any adult is classified.
    """
    if vitals.systolic is None or vitals.diastolic is None:
        raise ClinicalInputError("no blood-pressure reading")
    age = age_in_years(client.dob, on)
    sex = client.sex
    if sex not in ("female", "male"):
        if age < 18:
            raise ClinicalInputError("the pediatric tables need sex female or male")
        sex = "female"  # the adult cut-offs are the same for both
    return classify_bp(age, sex, vitals.height_cm, vitals.systolic, vitals.diastolic)


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
        if inst.member is not None:
            # A family member's own form counts under caregiver depression; its flags still
            # need someone today.
            for flag in inst.flags:
                yield _flag(flag, where)
            continue
        total = f"total {inst.total}, " if inst.total is not None else ""
        detail = f"{total}{inst.band}"
        points = 0
        if name in ASTHMA_INSTRUMENTS:
            factor = "asthma control"
            points = {
                "not well controlled": p.asthma_not_well_controlled,
                "very poorly controlled": p.asthma_very_poorly_controlled,
            }.get(inst.band, 0)
        elif name in MOOD_INSTRUMENTS:
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
    admissions = max(use.admissions_12m, use.psychiatric_admissions_12m)
    if use.ed_visits_12m >= 2:
        yield RiskFactor(
            factor="emergency visits",
            points=p.ed_visits_2plus,
            detail=f"{use.ed_visits_12m} ED visits in 12 months",
            source=source,
        )
    if admissions >= 1:
        yield RiskFactor(
            factor="hospital admissions",
            points=p.admissions,
            detail=f"{admissions} admission(s) in 12 months",
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


def _infant_growth(case: Case, a: Assessment, p: RiskPoints, source: str) -> Iterator[RiskFactor]:
    """Under 2: WHO weight-for-length (or weight-for-age without a length), CDC's ±2 z cut-offs."""
    v = a.vitals
    assert v is not None
    try:
        g = who_growth(
            (a.date - case.client.dob).days,
            case.client.sex,
            v.height_cm,
            v.weight_kg,
            gestational_age_weeks=case.client.gestational_age_weeks,
        )
    except ClinicalInputError as exc:
        yield RiskFactor(factor="growth", points=0, detail=f"not classified: {exc}", source=source)
        return
    corrected = f", corrected age {g.age_months:.1f} months" if g.corrected else ""
    # Weight-for-length when there is a length; a heavy infant of unknown length is not a
    # finding on its own, so weight-for-age scores only when low.
    by_length = g.weight_for_length_z is not None
    measure = "weight-for-length" if by_length else "weight-for-age"
    pct = g.weight_for_length_percentile if by_length else g.weight_for_age_percentile
    cat = g.weight_for_length_category if by_length else g.weight_for_age_category
    points = p.growth_underweight if cat == "low" else 0
    if cat == "high" and by_length:
        points = p.growth_obesity
    yield RiskFactor(
        factor="growth",
        points=points,
        detail=f"{measure} percentile {pct or 0:.1f}: {cat} (WHO 2006, under 2{corrected})",
        source=source,
    )


def _is_smi(code: str) -> bool:
    category = code[:3]
    return any(low <= category <= high for low, high in SMI_CATEGORIES)


def _mental_health(a: Assessment, p: RiskPoints, source: str) -> Iterator[RiskFactor]:
    low, high = NEURODEVELOPMENTAL
    coded = [
        d
        for d in a.diagnoses
        if d.icd10 and d.icd10.startswith("F") and not low <= d.icd10[:3] <= high
    ]
    if not coded:
        return
    serious = [d for d in coded if _is_smi(str(d.icd10))]
    if serious:
        names = ", ".join(f"{d.description} ({d.icd10})" for d in serious)
        yield RiskFactor(
            factor="serious mental illness",
            points=p.serious_mental_illness,
            detail=f"{names}: psychotic, bipolar or major depressive disorder",
            source=source,
        )
        return
    names = ", ".join(f"{d.description} ({d.icd10})" for d in coded)
    yield RiskFactor(
        factor="mental-health diagnosis",
        points=p.mental_health_diagnosis,
        detail=names,
        source=source,
    )


def _psychiatric_admission(
    a: Assessment, p: RiskPoints, source: str, on: dt.date
) -> Iterator[RiskFactor]:
    use = a.utilisation
    discharged = use.last_psychiatric_discharge
    if use.psychiatric_admissions_12m >= 1:
        yield RiskFactor(
            factor="psychiatric admission",
            points=p.psychiatric_admission,
            detail=f"{use.psychiatric_admissions_12m} psychiatric admission(s) in 12 months",
            source=source,
        )
    if discharged is not None and 0 <= (on - discharged).days <= RECENT_DISCHARGE_DAYS:
        yield RiskFactor(
            factor="recent psychiatric discharge",
            points=p.psychiatric_discharge_30d,
            detail=(
                f"discharged {discharged.isoformat()}, {(on - discharged).days} days ago: the "
                f"first {RECENT_DISCHARGE_DAYS} days carry the highest risk"
            ),
            source=source,
        )


def _adherence(case: Case, a: Assessment, p: RiskPoints) -> Iterator[RiskFactor]:
    """The latest adherence recorded at the assessment or a later follow-up."""
    seen: list[tuple[dt.date, int, str, str]] = []
    if a.medication_adherence is not None:
        seen.append((a.date, 0, a.medication_adherence, f"assessment {a.date.isoformat()}"))
    for f in case.follow_ups:
        if f.adherence != "unknown" and f.date >= a.date:
            seen.append((f.date, 1, f.adherence, f"follow-up {f.date.isoformat()}"))
    if not seen:
        return
    _, _, adherence, where = max(seen)
    points = {"partial": p.adherence_partial, "poor": p.adherence_poor}.get(adherence)
    if points is not None:
        yield RiskFactor(
            factor="medication adherence",
            points=points,
            detail=f"{adherence} adherence to medication",
            source=where,
        )


def _caregiver_depression(
    case: Case,
    latest: dict[str, tuple[InstrumentRecord, str]],
    a: Assessment,
    p: RiskPoints,
    source: str,
) -> Iterator[RiskFactor]:
    found: dict[str, list[tuple[str, str]]] = {
        who: [("depression noted", source)] for who in a.caregiving.depression
    }
    for inst, where in latest.values():
        if (
            inst.member is not None
            and inst.instrument in ("phq-9", "phq-a")
            and inst.total is not None
            and inst.total >= CAREGIVER_PHQ_AT
        ):
            found.setdefault(inst.member, []).append(
                (f"{inst.instrument} total {inst.total}, {inst.band}", where)
            )
    if not found:
        return
    relationship = {m.id: m.relationship for m in case.family}

    def named(who: str) -> str:
        rel = relationship.get(who, who)
        return who if rel == who else f"{rel} ({who})"

    detail = "; ".join(
        f"{named(who)}: {', '.join(what for what, _ in found[who])}" for who in sorted(found)
    )
    sources = sorted({where for evidence in found.values() for _, where in evidence})
    yield RiskFactor(
        factor="caregiver depression",
        points=p.caregiver_depression,
        detail=detail,
        source="; ".join(sources),
    )
