"""The controlled vocabularies of a case file, in the case manager's words.

Literal types rather than Enums so that a dumped case holds plain strings and YAML stays readable.
"""

from __future__ import annotations

from typing import Literal, get_args

Sex = Literal["female", "male", "other", "unknown"]
CaseStatus = Literal["open", "on-hold", "closed", "transferred"]
TeamRole = Literal[
    "case-manager",
    "primary-care",
    "specialist",
    "nursing",
    "therapist",
    "mental-health",
    "hospital",
    "home-health",
    "pharmacy",
    "school",
    "early-intervention",
    "insurer",
    "social-services",
    "community-organisation",
    "employer",
    "legal",
    "other",
]
GoalDomain = Literal[
    "health",
    "self-care",
    "development",
    "education",
    "mental-health",
    "social",
    "family",
    "financial",
    "housing",
    "employment",
    "other",
]
GoalStatus = Literal[
    "not-started", "in-progress", "achieved", "partly-achieved", "not-achieved", "discontinued"
]
InterventionStatus = Literal["planned", "in-progress", "done", "cancelled"]
ReferralStatus = Literal["sent", "accepted", "scheduled", "completed", "declined", "no-response"]
AppointmentStatus = Literal["scheduled", "attended", "missed", "cancelled"]
ContactMode = Literal[
    "phone",
    "video",
    "home-visit",
    "office",
    "clinic",
    "school-visit",
    "hospital-visit",
    "email",
    "text",
    "letter",
]
# Whether a contact reached anyone: a failed call is worth recording (it shows the effort made
# and when to try again) but carries no progress and sets no review date.
ContactOutcome = Literal["reached", "no-answer", "left-message"]
Adherence = Literal["good", "partial", "poor", "unknown"]
Progress = Literal["not-started", "improving", "no-change", "worsening", "achieved"]
Outcome = Literal["achieved", "partly-achieved", "not-achieved"]
Decision = Literal["continue", "transition", "close"]
RiskLevel = Literal["low", "moderate", "high"]
SocialNeed = Literal[
    "housing", "food", "transportation", "utilities", "safety", "finances", "childcare", "legal"
]
CaregiverStrain = Literal["none", "mild", "moderate", "severe"]
Urgency = Literal["routine", "urgent"]
ImmunisationStatus = Literal["up-to-date", "not-up-to-date", "unknown"]
# iep: an Individualized Education Program (IDEA); 504: a Section 504 plan; evaluation: an
# evaluation for one is under way.
SchoolPlanKind = Literal["iep", "504", "evaluation", "none"]

RISK_LEVELS: tuple[RiskLevel, ...] = get_args(RiskLevel)
CASE_STATUSES: tuple[CaseStatus, ...] = get_args(CaseStatus)
OPEN_GOAL: frozenset[str] = frozenset(
    {"not-started", "in-progress", "partly-achieved", "not-achieved"}
)
OPEN_INTERVENTION: frozenset[str] = frozenset({"planned", "in-progress"})
OPEN_REFERRAL: frozenset[str] = frozenset({"sent", "accepted", "scheduled", "no-response"})
CLOSED_REFERRAL: frozenset[str] = frozenset({"completed", "declined"})
# Forward order of a referral's life; `no-response` may be followed by anything still open
# (the referral was chased or resent).
REFERRAL_ORDER: dict[str, int] = {"sent": 0, "accepted": 1, "scheduled": 2, "completed": 3}


def choices(literal: object) -> tuple[str, ...]:
    """The allowed values of a Literal type, for help text and messages."""
    return tuple(str(v) for v in get_args(literal))
