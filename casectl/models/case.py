"""The case: one client, their family and care team, and the records of every stage."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from casectl.ids import CASE_ID
from casectl.models.base import Record
from casectl.models.people import CareTeamMember, Client, Consent, FamilyMember
from casectl.models.records import (
    Appointment,
    Assessment,
    CarePlan,
    Coordination,
    Evaluation,
    FollowUp,
    Referral,
    RiskAssessment,
    Screening,
    StatusChange,
)
from casectl.models.vocab import AppointmentStatus, CaseStatus, ReferralStatus

SCHEMA_VERSION = 1

# A referral's history in one row: (referral, status now, day made, day of its last change,
# last note, the day the service set for it).
ReferralRow = tuple[Referral, ReferralStatus, dt.date, dt.date, str | None, dt.date | None]

# The stage sections, in the order of the process and of the file.
STAGE_SECTIONS: dict[str, str] = {
    "screen": "screening",
    "assess": "assessments",
    "risk": "risk_assessments",
    "plan": "care_plans",
    "implement": "coordination",
    "follow-up": "follow_ups",
    "evaluate": "evaluations",
}


class Case(Record):
    # Older versions are migrated before validation (casectl.store.schema); newer ones are refused.
    schema_version: int = Field(SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)
    id: str = Field(pattern=CASE_ID.pattern)
    status: CaseStatus = "open"
    opened: dt.date
    closed: dt.date | None = None
    closed_reason: str | None = None
    transferred_to: str | None = None
    case_manager: str = Field(min_length=1)
    client: Client
    family: list[FamilyMember] = Field(default_factory=list)
    care_team: list[CareTeamMember] = Field(default_factory=list)
    consents: list[Consent] = Field(default_factory=list)
    status_history: list[StatusChange] = Field(default_factory=list)
    screening: list[Screening] = Field(default_factory=list)
    assessments: list[Assessment] = Field(default_factory=list)
    risk_assessments: list[RiskAssessment] = Field(default_factory=list)
    care_plans: list[CarePlan] = Field(default_factory=list)
    coordination: list[Coordination] = Field(default_factory=list)
    follow_ups: list[FollowUp] = Field(default_factory=list)
    evaluations: list[Evaluation] = Field(default_factory=list)

    # --- what the records add up to (derived, never stored) ---

    @property
    def current_plan(self) -> CarePlan | None:
        return self.care_plans[-1] if self.care_plans else None

    @property
    def current_risk(self) -> RiskAssessment | None:
        return self.risk_assessments[-1] if self.risk_assessments else None

    @property
    def last_assessment(self) -> Assessment | None:
        return self.assessments[-1] if self.assessments else None

    @property
    def last_follow_up(self) -> FollowUp | None:
        return max(self.follow_ups, key=lambda f: f.date) if self.follow_ups else None

    @property
    def is_closed(self) -> bool:
        return self.status in ("closed", "transferred")

    def up_to(self, day: dt.date) -> Case:
        """The case as its records stood on `day`: records and status changes dated later are
        left out, and the status is the one the history gave it then."""
        update: dict[str, object] = {
            section: [r for r in getattr(self, section) if r.date <= day]
            for section in (*STAGE_SECTIONS.values(), "status_history", "consents")
        }
        history = [h for h in self.status_history if h.date <= day]
        if len(history) < len(self.status_history):
            last = history[-1] if history else None
            update["status"] = last.status if last else "open"
            update["closed"] = last.date if last and last.status == "closed" else None
            update["closed_reason"] = last.reason if last and last.status == "closed" else None
            update["transferred_to"] = last.to if last and last.status == "transferred" else None
        return self.model_copy(update=update)

    def people(self) -> dict[str, str]:
        """Every handle a record may name, with the person's name: client, family, care team."""
        named = {"client": self.client.name, "case-manager": self.case_manager}
        named.update({m.id: m.name for m in self.family})
        named.update({m.id: m.name for m in self.care_team})
        return named

    def deciders(self) -> set[str]:
        """Who may consent or agree to a plan: the client, family, and care-team decision-makers."""
        return (
            {"client"}
            | {m.id for m in self.family}
            | {m.id for m in self.care_team if m.decision_maker}
        )

    def referral_history(self) -> dict[str, ReferralRow]:
        """Each referral as (referral, status now, day made, day of its last change, last note,
        the day the service set for it by its last update, if any).

        The one rule for a referral's status (its last update's); casectl.state builds on it.
        """
        found: dict[str, ReferralRow] = {}
        for record in sorted(self.coordination, key=lambda r: r.date):
            for ref in record.referrals:
                found[ref.id] = (ref, ref.status, record.date, record.date, None, None)
            for update in record.referral_updates:
                if update.referral in found:
                    ref, _, made, _, note, _ = found[update.referral]
                    latest = (
                        ref,
                        update.status,
                        made,
                        record.date,
                        update.note or note,
                        update.date,
                    )
                    found[update.referral] = latest
        return found

    def appointment_history(
        self,
    ) -> dict[str, tuple[Appointment, AppointmentStatus, dt.date, str | None]]:
        """Each appointment as (appointment, status now, day of its last change, last note)."""
        found: dict[str, tuple[Appointment, AppointmentStatus, dt.date, str | None]] = {}
        for record in sorted(self.coordination, key=lambda r: r.date):
            for appt in record.appointments:
                found[appt.id] = (appt, appt.status, record.date, None)
            for update in record.appointment_updates:
                if update.appointment in found:
                    appt, _, _, note = found[update.appointment]
                    found[update.appointment] = (
                        appt,
                        update.status,
                        record.date,
                        update.note or note,
                    )
        return found

    def goal_ids(self) -> set[str]:
        """Every goal id any plan has used (a revision keeps ids; a new goal never reuses one)."""
        return {g.id for plan in self.care_plans for g in plan.goals}

    def intervention_ids(self) -> set[str]:
        """Every intervention id any plan has used."""
        return {i.id for plan in self.care_plans for i in plan.interventions}

    def referral_ids(self) -> set[str]:
        return {r.id for record in self.coordination for r in record.referrals}

    def appointment_ids(self) -> set[str]:
        return {a.id for record in self.coordination for a in record.appointments}
