"""One dated record per stage of the case-management process.

Doing a stage again appends a record; nothing earlier is rewritten. A record keeps what was
decided on its date (a risk level, a plan), so later views can show how the case moved.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Self

from pydantic import Field, field_validator, model_validator

from casectl.errors import shown
from casectl.models.base import Record
from casectl.models.people import HANDLE
from casectl.models.vocab import (
    Adherence,
    AppointmentStatus,
    CaregiverStrain,
    CaseStatus,
    ContactMode,
    ContactOutcome,
    Decision,
    GoalDomain,
    GoalStatus,
    ImmunisationStatus,
    InterventionStatus,
    Outcome,
    Progress,
    ReferralStatus,
    RiskLevel,
    SchoolPlanKind,
    SocialNeed,
    Urgency,
)

# ICD-10-CM: a letter (U is reserved for special purposes but used, e.g. U07.1), a digit, a
# digit or letter, then optionally a dot and 1–4 characters. CMS, ICD-10-CM Official Guidelines
# for Coding and Reporting, Section I.A (code structure).
ICD10CM = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


class StageRecord(Record):
    """What every stage record has: when it happened and who recorded it."""

    date: dt.date
    recorded_by: str = Field(min_length=1)
    note: str | None = None


class InstrumentRecord(Record):
    """A scored screening or assessment instrument, as scored on the record's date."""

    instrument: str = Field(min_length=1)
    answers: list[int | None] = Field(default_factory=list)
    total: int | None = None
    band: str = Field(min_length=1)
    flags: list[str] = Field(default_factory=list)
    subscales: dict[str, int] = Field(default_factory=dict)
    positive_domains: list[str] = Field(default_factory=list)
    t_score: float | None = None
    valid: bool = True
    source: str | None = None
    # A family member who answered about themselves (a caregiver's PHQ-9), by family id; None
    # when the form is about the client.
    member: str | None = None


class Situation(Record):
    medical: str | None = None
    financial: str | None = None
    living: str | None = None
    social_support: str | None = None


class Screening(StageRecord):
    referral_source: str = Field(min_length=1)
    referral_reason: str = Field(min_length=1)
    records_reviewed: list[str] = Field(default_factory=list)
    situation: Situation = Field(default_factory=Situation)
    instruments: list[InstrumentRecord] = Field(default_factory=list)
    eligible: bool
    eligibility_reason: str = Field(min_length=1)


class Diagnosis(Record):
    description: str = Field(min_length=1)
    icd10: str | None = None
    chronic: bool = True
    complex: bool = False
    progressive: bool = False
    body_system: str | None = None

    @field_validator("icd10")
    @classmethod
    def _icd10(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if not ICD10CM.match(code):
            raise ValueError(
                f"{shown(value)} is not an ICD-10-CM code; codes look like E10.9 or J45.40"
            )
        return code


class Medication(Record):
    name: str = Field(min_length=1)
    dose: str | None = None
    frequency: str | None = None
    purpose: str | None = None


class Vitals(Record):
    """Vital signs taken at the assessment; ranges are the limits of the plausible, not of normal."""

    height_cm: float | None = Field(default=None, ge=30, le=250)
    weight_kg: float | None = Field(default=None, gt=0, le=350)
    systolic: int | None = Field(default=None, ge=40, le=300)
    diastolic: int | None = Field(default=None, ge=20, le=200)
    heart_rate: int | None = Field(default=None, ge=20, le=250)
    respiratory_rate: int | None = Field(default=None, ge=4, le=100)
    temperature_c: float | None = Field(default=None, ge=30, le=45)
    spo2: int | None = Field(default=None, ge=50, le=100)

    @model_validator(mode="after")
    def _pressure(self) -> Self:
        if (self.systolic is None) != (self.diastolic is None):
            raise ValueError("give both systolic and diastolic, or neither")
        if (
            self.systolic is not None
            and self.diastolic is not None
            and self.diastolic >= self.systolic
        ):
            raise ValueError(
                f"diastolic {self.diastolic} must be below systolic {self.systolic}; "
                "check the two numbers were not swapped"
            )
        return self


class Insurance(Record):
    payer: str | None = None
    plan: str | None = None
    coverage_gap: bool = False
    notes: str | None = None


class Utilisation(Record):
    ed_visits_12m: int = Field(default=0, ge=0, le=365)
    admissions_12m: int = Field(default=0, ge=0, le=365)
    missed_appointments_12m: int = Field(default=0, ge=0, le=365)
    # Psychiatric admissions are admissions too; the risk rules count them in both.
    psychiatric_admissions_12m: int = Field(default=0, ge=0, le=365)
    last_psychiatric_discharge: dt.date | None = None


class FunctionalImpact(Record):
    independence: str | None = None
    finances: str | None = None
    safety: str | None = None
    family: str | None = None
    social: str | None = None
    school_or_work: str | None = None


class Caregiving(Record):
    strain: CaregiverStrain = "none"
    support: str | None = None
    # Family members (by id) with depression, diagnosed or reported: a caregiver's own illness.
    depression: list[str] = Field(default_factory=list)


class Immunisations(Record):
    """Whether immunisations are up to date, as checked on `date` (the record, registry or card)."""

    status: ImmunisationStatus
    date: dt.date | None = None


class SchoolPlan(Record):
    """Special-education plan: an IEP (IDEA) or a Section 504 plan, and its next review date."""

    kind: SchoolPlanKind
    review: dt.date | None = None

    @model_validator(mode="after")
    def _review(self) -> Self:
        if self.kind == "none" and self.review is not None:
            raise ValueError("a review date needs a plan: kind iep or 504")
        return self


class Assessment(StageRecord):
    health_status: str = Field(min_length=1)
    diagnoses: list[Diagnosis] = Field(default_factory=list)
    medications: list[Medication] = Field(default_factory=list)
    allergies: list[str] = Field(default_factory=list)
    vitals: Vitals | None = None
    providers_consulted: list[str] = Field(default_factory=list)
    insurance: Insurance | None = None
    support_system: str | None = None
    treatment_history: str | None = None
    family_dynamics: str | None = None
    language_culture: str | None = None
    emotional_social: str | None = None
    development_school: str | None = None
    functional_impact: FunctionalImpact | None = None
    utilisation: Utilisation = Field(default_factory=Utilisation)
    social_needs: list[SocialNeed] = Field(default_factory=list)
    caregiving: Caregiving = Field(default_factory=Caregiving)
    instruments: list[InstrumentRecord] = Field(default_factory=list)
    # Medication adherence at the assessment, before any follow-up has recorded one.
    medication_adherence: Adherence | None = None
    # Glycated haemoglobin (%), the latest lab value: plausible 3–20 %, not a target range.
    hba1c_percent: float | None = Field(default=None, ge=3, le=20)
    immunisations: Immunisations | None = None
    milestones: list[str] = Field(default_factory=list)
    school_plan: SchoolPlan | None = None


class RiskFactor(Record):
    factor: str = Field(min_length=1)
    points: int
    detail: str = Field(min_length=1)
    source: str = Field(min_length=1)
    forces_high: bool = False


class RiskOverride(Record):
    level: RiskLevel
    reason: str = Field(min_length=1)


class RiskAssessment(StageRecord):
    level: RiskLevel
    score: int
    factors: list[RiskFactor] = Field(default_factory=list)
    rules_version: str = Field(min_length=1)
    override: RiskOverride | None = None

    @property
    def effective_level(self) -> RiskLevel:
        """The level that stands: the clinician's override when there is one."""
        return self.override.level if self.override else self.level


class Goal(Record):
    id: str = Field(pattern=HANDLE)
    domain: GoalDomain
    description: str = Field(min_length=1)
    measure: str = Field(min_length=1)
    baseline: str | None = None
    target: str = Field(min_length=1)
    target_date: dt.date
    status: GoalStatus = "not-started"
    weight: float = Field(default=1.0, gt=0, le=10)


class Intervention(Record):
    id: str = Field(pattern=HANDLE)
    description: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    goal: str | None = None
    due: dt.date | None = None
    frequency: str | None = None
    status: InterventionStatus = "planned"


class ScheduleItem(Record):
    what: str = Field(min_length=1)
    when: str = Field(min_length=1)
    who: str | None = None


class Discontinuation(Record):
    """A goal or intervention a plan revision ended, and why (its status in that plan says so)."""

    item: str = Field(min_length=1)
    reason: str = Field(min_length=1)


class CarePlan(StageRecord):
    """A plan or a revision of it: the newest is in force, earlier ones stay as the history.

    A revision repeats every goal and intervention still in the plan, under the same ids, with
    the status each had reached on the revision's date; `discontinued` says why any were ended.
    """

    goals: list[Goal] = Field(min_length=1)
    interventions: list[Intervention] = Field(default_factory=list)
    schedule: list[ScheduleItem] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    review_interval_days: int = Field(ge=1, le=366)
    agreed_by: list[str] = Field(min_length=1)
    family_input: str | None = None
    discontinued: list[Discontinuation] = Field(default_factory=list)


class Referral(Record):
    id: str = Field(pattern=HANDLE)
    to: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    member: str | None = None
    urgency: Urgency = "routine"
    status: ReferralStatus = "sent"


class ReferralUpdate(Record):
    """A referral's answer. `date` is the day the service set for it (an intake or first visit,
    with status scheduled): the referral is chased the day after instead of a month on."""

    referral: str = Field(min_length=1)
    status: ReferralStatus
    date: dt.date | None = None
    note: str | None = None


class Appointment(Record):
    id: str = Field(pattern=HANDLE)
    date: dt.date
    with_: str = Field(min_length=1, alias="with")
    purpose: str = Field(min_length=1)
    status: AppointmentStatus = "scheduled"


class AppointmentUpdate(Record):
    appointment: str = Field(min_length=1)
    status: AppointmentStatus
    note: str | None = None


class InterventionUpdate(Record):
    """An intervention carried out, started or cancelled. A recurring one marked done falls due
    again one period later, unless `final` says the series is complete."""

    intervention: str = Field(min_length=1)
    status: InterventionStatus
    final: bool = False
    note: str | None = None


class Education(Record):
    topic: str = Field(min_length=1)
    given_to: str = Field(min_length=1)
    materials: str | None = None


class ResourceConnection(Record):
    name: str = Field(min_length=1)
    kind: str | None = None
    contact: str | None = None


class Coordination(StageRecord):
    """One implement step: referrals made or updated, appointments, education, resources."""

    referrals: list[Referral] = Field(default_factory=list)
    referral_updates: list[ReferralUpdate] = Field(default_factory=list)
    appointments: list[Appointment] = Field(default_factory=list)
    appointment_updates: list[AppointmentUpdate] = Field(default_factory=list)
    intervention_updates: list[InterventionUpdate] = Field(default_factory=list)
    education: list[Education] = Field(default_factory=list)
    resources_connected: list[ResourceConnection] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not (
            self.referrals
            or self.referral_updates
            or self.appointments
            or self.appointment_updates
            or self.intervention_updates
            or self.education
            or self.resources_connected
        ):
            raise ValueError(
                "an implement record needs at least one referral, appointment, intervention "
                "update, education or resource"
            )
        return self


class GoalProgress(Record):
    goal: str = Field(min_length=1)
    progress: Progress
    note: str | None = None


class FollowUp(StageRecord):
    """A contact, or an attempt at one, with the client, family, care team or support network.

    A contact that reached someone may note progress per goal and sets the next review (when
    there is a plan). Safety concerns reported at the contact (abuse, neglect, self-harm) are
    same-day flags until a contact records `safety_action`.
    """

    mode: ContactMode
    with_: list[str] = Field(min_length=1, alias="with")
    outcome: ContactOutcome = "reached"
    summary: str | None = Field(default=None, min_length=1)
    progress: list[GoalProgress] = Field(default_factory=list)
    barriers: list[str] = Field(default_factory=list)
    adherence: Adherence = "unknown"
    plan_change: str | None = None
    instruments: list[InstrumentRecord] = Field(default_factory=list)
    safety_concerns: list[str] = Field(default_factory=list)
    safety_action: str | None = None
    next_review: dt.date | None = None

    @model_validator(mode="after")
    def _reached(self) -> Self:
        if self.outcome == "reached":
            if not self.summary:
                raise ValueError("a contact that reached someone needs a summary of what was said")
            return self
        said = [
            name
            for name, given in (
                ("progress", self.progress),
                ("instruments", self.instruments),
                ("safety_action", self.safety_action),
            )
            if given
        ]
        if said:
            raise ValueError(
                f"a contact with outcome {self.outcome} reached nobody, so it cannot record "
                f"{', '.join(said)}; record those at the contact that reaches them"
            )
        return self


class GoalOutcome(Record):
    goal: str = Field(min_length=1)
    outcome: Outcome
    gas: int | None = Field(default=None, ge=-2, le=2)


class Evaluation(StageRecord):
    goal_outcomes: list[GoalOutcome] = Field(default_factory=list)
    well_being: str | None = None
    health: str | None = None
    financial_standing: str | None = None
    care_appropriate: bool
    care_appropriate_note: str | None = None
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    cost: float | None = Field(default=None, ge=0)
    decision: Decision
    decision_reason: str = Field(min_length=1)
    transition_to: str | None = None

    @model_validator(mode="after")
    def _transition(self) -> Self:
        if self.decision == "transition" and not self.transition_to:
            raise ValueError("a transition decision needs transition_to: the service taking over")
        return self


class StatusChange(Record):
    """A close, reopen, hold or transfer of the case, with its reason."""

    date: dt.date
    recorded_by: str = Field(min_length=1)
    status: CaseStatus
    reason: str = Field(min_length=1)
    to: str | None = None
