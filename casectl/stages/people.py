"""The people around the client: family members, the care team, consents on file."""

from __future__ import annotations

from casectl.errors import StageOrderError
from casectl.models.case import Case
from casectl.models.people import CareTeamMember, Consent, FamilyMember
from casectl.stages import Step


def _open(case: Case) -> None:
    if case.is_closed:
        raise StageOrderError(f"case {case.id} is {case.status}; reopen it before changing it.")


def add_family(case: Case, member: FamilyMember) -> Step:
    """Add a family or household member (the id must be new in the case)."""
    _open(case)
    new = case.model_copy(update={"family": [*case.family, member]})
    return Step(new, member, notes=(f"added {member.id}: {member.name} ({member.relationship})",))


def add_team_member(case: Case, member: CareTeamMember) -> Step:
    """Add a member of the care team."""
    _open(case)
    new = case.model_copy(update={"care_team": [*case.care_team, member]})
    return Step(new, member, notes=(f"added {member.id}: {member.name} ({member.role})",))


def add_consent(case: Case, consent: Consent) -> Step:
    """Record a consent on file."""
    _open(case)
    new = case.model_copy(update={"consents": [*case.consents, consent]})
    until = f" until {consent.expires}" if consent.expires else ""
    return Step(
        new, consent, notes=(f"consent to {consent.kind} by {consent.given_by}{until} recorded",)
    )
