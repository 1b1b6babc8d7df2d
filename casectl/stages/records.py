"""Recording the screen, assess, plan, implement, follow-up and evaluate steps.

Each function takes the case and the stage's validated record and returns the new case. The
rules that depend on more than one record (a referral update names an open referral, an
intervention's owner is on the care team) are checked for the whole case when it is saved.
"""

from __future__ import annotations

from casectl.models.case import Case
from casectl.models.records import (
    Assessment,
    CarePlan,
    Coordination,
    Evaluation,
    FollowUp,
    Screening,
    StatusChange,
)
from casectl.stages import append
from casectl.stages.instruments import check_ages


def screen(case: Case, record: Screening) -> Case:
    """Add a screening: who referred the client, why, and whether they are eligible."""
    check_ages(case.client.dob, record.date, record.instruments)
    return append(case, "screen", record)


def assess(case: Case, record: Assessment) -> Case:
    """Add an in-depth assessment."""
    check_ages(case.client.dob, record.date, record.instruments)
    return append(case, "assess", record)


def plan(case: Case, record: CarePlan) -> Case:
    """Add a care plan; the newest plan is the one in force."""
    return append(case, "plan", record)


def implement(case: Case, record: Coordination) -> Case:
    """Add a coordination step: referrals, appointments, education, resources."""
    return append(case, "implement", record)


def follow_up(case: Case, record: FollowUp) -> Case:
    """Add a contact with the client, family or care team, and the next review date."""
    check_ages(case.client.dob, record.date, record.instruments)
    return append(case, "follow-up", record)


def evaluate(case: Case, record: Evaluation) -> Case:
    """Add an evaluation; a decision to close or transition also changes the case's status."""
    if record.decision == "continue":
        return append(case, "evaluate", record)
    status = "closed" if record.decision == "close" else "transferred"
    change = StatusChange(
        date=record.date,
        recorded_by=record.recorded_by,
        status=status,
        reason=record.decision_reason,
        to=record.transition_to,
    )
    changes: dict[str, object] = {
        "status": status,
        "status_history": [*case.status_history, change],
    }
    if status == "closed":
        changes.update(closed=record.date, closed_reason=record.decision_reason)
    else:
        changes["transferred_to"] = record.transition_to
    return append(case, "evaluate", record, **changes)
