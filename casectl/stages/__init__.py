"""The seven steps of case management, each a pure function: a case in, the new case out.

Each step has its own module (screen, assess, risk, plan, implement, follow_up, evaluate; and
lifecycle and people for status changes and the people around the client). A step function takes
the case and the step's input (a draft: what the user gave), fills in what depends on the case —
ids, defaults, the next review — validates the record and returns a `Step`: the new case, the
record, whether anything changed and what to tell the user. The store runs it under the case's
lock (`CaseStore.update`), so every read-modify-write and id allocation happens there; the CLI
only parses options and renders the Step. `records` appends records that are already complete
(the demo generator builds those directly).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from casectl.errors import StageOrderError
from casectl.models.case import STAGE_SECTIONS, Case

# What each stage needs before it, and the command that provides it. Contacts and coordination
# (a same-day crisis referral, an intake call) need only a screening; progress toward goals
# needs a plan, which follow_up checks itself.
_NEEDS: dict[str, tuple[str, str]] = {
    "risk": ("assessments", "assess"),
    "plan": ("risk_assessments", "risk"),
    "implement": ("screening", "screen"),
    "follow-up": ("screening", "screen"),
    "evaluate": ("care_plans", "plan"),
}
_WHAT = {
    "screening": "a screening",
    "assessments": "an assessment",
    "risk_assessments": "a risk level",
    "care_plans": "a care plan",
}


class Step(NamedTuple):
    """What a step did: the new case, the record it added (or the one in force when nothing
    changed), whether the case changed, lines that tell the user what happened, and the case
    as it was before (filled in by whoever ran the step, to say what the step raised)."""

    case: Case
    record: Any
    changed: bool = True
    notes: tuple[str, ...] = ()
    previous: Case | None = None


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
