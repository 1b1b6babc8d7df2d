"""The seven steps of case management, each a pure function: a case in, the new case out.

Stage functions check the order of the process and append a dated record; they never touch a
file. The store persists what they return; the CLI renders it.
"""

from __future__ import annotations

from typing import Any

from casectl.errors import StageOrderError
from casectl.models.case import STAGE_SECTIONS, Case

# What each stage needs before it, and the command that provides it.
_NEEDS: dict[str, tuple[str, str]] = {
    "risk": ("assessments", "assess"),
    "plan": ("risk_assessments", "risk"),
    "implement": ("care_plans", "plan"),
    "follow-up": ("care_plans", "plan"),
    "evaluate": ("care_plans", "plan"),
}
_WHAT = {
    "assessments": "an assessment",
    "risk_assessments": "a risk level",
    "care_plans": "a care plan",
}


def check_order(case: Case, stage: str) -> None:
    """Refuse a stage the case is not ready for, naming the step (and command) that comes first."""
    if case.is_closed:
        raise StageOrderError(
            f"case {case.id} is {case.status}; reopen it with `casectl reopen {case.id} --reason ...` "
            f"before recording a {stage} step."
        )
    needed = _NEEDS.get(stage)
    if needed and not getattr(case, needed[0]):
        section, command = needed
        raise StageOrderError(
            f"`{stage}` needs {_WHAT[section]} first and case {case.id} has none; "
            f"run `casectl {command} {case.id}`."
        )


def append(case: Case, stage: str, record: Any, **changes: Any) -> Case:
    """The case with `record` appended to the stage's section (and any top-level changes)."""
    check_order(case, stage)
    section = STAGE_SECTIONS[stage]
    return case.model_copy(update={section: [*getattr(case, section), record], **changes})
