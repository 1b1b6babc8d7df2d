"""Step 6, follow-up: a contact (or an attempt at one), progress per goal, barriers, adherence,
safety concerns and what was done about them, and the next review."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from casectl.config import Config
from casectl.errors import InvalidInput, StageOrderError
from casectl.models.case import Case
from casectl.models.records import FollowUp
from casectl.stages import Step, check_order, records
from casectl.stages.draft import build, missing, stamped


def follow_up(
    case: Case, config: Config, draft: Mapping[str, Any], *, on: dt.date, by: str
) -> Step:
    """Add a contact. One that reached someone sets the next review (date + the plan's interval
    unless given); progress toward goals needs a plan."""
    check_order(case, "follow-up")
    data = stamped(draft, on=on, by=by)
    reached = data.get("outcome", "reached") == "reached"
    plan = case.current_plan
    if data.get("progress") and plan is None:
        raise StageOrderError(
            f"progress toward goals needs a care plan and case {case.id} has none; record the "
            f"contact without --progress now, and make the plan with `casectl plan {case.id}`."
        )
    if reached and not data.get("summary"):
        raise missing(FollowUp, "summary")
    if reached and data.get("next_review") is None and plan is not None:
        day = (
            data["date"]
            if isinstance(data["date"], dt.date)
            else dt.date.fromisoformat(str(data["date"]))
        )
        data["next_review"] = day + dt.timedelta(days=plan.review_interval_days)
    record = build(FollowUp, data)
    if plan is not None:
        known = {g.id for g in plan.goals}
        for note in record.progress:
            if note.goal not in known:
                raise InvalidInput(
                    f"--progress {note.goal}: the plan in force has no goal {note.goal} "
                    f"(its goals: {', '.join(sorted(known))})."
                )
    new = records.follow_up(case, record)
    return Step(new, record, notes=tuple(_notes(new, config, record)))


def _notes(case: Case, config: Config, record: FollowUp) -> list[str]:
    from casectl.state import derive

    if record.outcome == "reached":
        head = f"{record.mode} contact recorded"
    else:
        head = f"{record.mode} attempt recorded ({record.outcome}); the review stays due"
    if record.next_review is not None:
        head += f"; next review {record.next_review}"
    notes = [head]
    state = derive(case, on=record.date)
    for note in record.progress:
        goal = state.goal(note.goal)
        if goal is not None:
            notes.append(f"goal {note.goal}: {goal.status}")
    if record.safety_action:
        acted = [f for f in state.safety if f.acted_on == record.date]
        notes.append(f"safety action recorded; {len(acted)} flag(s) marked acted on")
    open_flags = state.open_safety
    if open_flags:
        notes.append(
            f"{len(open_flags)} safety flag(s) still open; record what was done with "
            f"`casectl follow-up {case.id} --safety-action ...`"
        )
    return notes
