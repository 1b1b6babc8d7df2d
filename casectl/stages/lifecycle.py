"""Opening, closing, reopening and transferring a case: status changes with their reasons."""

from __future__ import annotations

import datetime as dt

from casectl.errors import StageOrderError
from casectl.models.case import Case
from casectl.models.people import CareTeamMember, Client, FamilyMember
from casectl.models.records import StatusChange


def open_case(
    case_id: str,
    client: Client,
    *,
    opened: dt.date,
    case_manager: str,
    family: list[FamilyMember] | None = None,
    care_team: list[CareTeamMember] | None = None,
) -> Case:
    """A new open case with nothing recorded yet."""
    fields: dict[str, object] = {
        "id": case_id,
        "status": "open",
        "opened": opened,
        "case_manager": case_manager,
        "client": client,
    }
    if family:
        fields["family"] = family
    if care_team:
        fields["care_team"] = care_team
    case = Case.model_validate(fields)
    # Written out so a new file shows every section, in order, ready for the next step.
    return case.model_copy(
        update={
            "schema_version": case.schema_version,
            "family": case.family,
            "care_team": case.care_team,
            "screening": [],
            "assessments": [],
            "risk_assessments": [],
            "care_plans": [],
            "coordination": [],
            "follow_ups": [],
            "evaluations": [],
        }
    )


def close(case: Case, *, on: dt.date, by: str, reason: str) -> Case:
    """Close the case with its reason; the history keeps the change."""
    if case.status == "closed":
        raise StageOrderError(f"case {case.id} is already closed (on {case.closed}).")
    change = StatusChange(date=on, recorded_by=by, status="closed", reason=reason)
    return case.model_copy(
        update={
            "status": "closed",
            "closed": on,
            "closed_reason": reason,
            "status_history": [*case.status_history, change],
        }
    )


def reopen(case: Case, *, on: dt.date, by: str, reason: str) -> Case:
    """Reopen a closed, transferred or on-hold case."""
    if case.status == "open":
        raise StageOrderError(f"case {case.id} is already open.")
    change = StatusChange(date=on, recorded_by=by, status="open", reason=reason)
    data = case.model_dump(by_alias=True, exclude_unset=True)
    # The closing fields go; the history keeps when and why the case was closed.
    for name in ("closed", "closed_reason", "transferred_to"):
        data.pop(name, None)
    data["status"] = "open"
    data["status_history"] = [*data.get("status_history", []), change]
    return Case.model_validate(data)


def hold(case: Case, *, on: dt.date, by: str, reason: str) -> Case:
    """Put an open case on hold (the family is away, a hospital stay): it stays in the caseload."""
    if case.status != "open":
        raise StageOrderError(
            f"only an open case can be put on hold; case {case.id} is {case.status}."
        )
    change = StatusChange(date=on, recorded_by=by, status="on-hold", reason=reason)
    return case.model_copy(
        update={"status": "on-hold", "status_history": [*case.status_history, change]}
    )


def transfer(case: Case, *, on: dt.date, by: str, reason: str, to: str) -> Case:
    """Hand the case to another case manager or service."""
    if case.is_closed:
        raise StageOrderError(f"case {case.id} is {case.status}; reopen it before transferring it.")
    change = StatusChange(date=on, recorded_by=by, status="transferred", reason=reason, to=to)
    return case.model_copy(
        update={
            "status": "transferred",
            "transferred_to": to,
            "status_history": [*case.status_history, change],
        }
    )


def reassign(case: Case, *, on: dt.date, by: str, reason: str, to: str) -> Case:
    """Hand the case to a colleague in the same folder: it stays open (or on hold) for the team,
    with the new case manager; the history keeps who had it and why it moved."""
    if case.is_closed:
        raise StageOrderError(f"case {case.id} is {case.status}; reopen it before transferring it.")
    if case.case_manager == to:
        raise StageOrderError(f"case {case.id} is already {to}'s.")
    change = StatusChange(date=on, recorded_by=by, status=case.status, reason=reason, to=to)
    return case.model_copy(
        update={"case_manager": to, "status_history": [*case.status_history, change]}
    )
