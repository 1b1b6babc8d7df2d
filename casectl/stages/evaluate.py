"""Step 7, evaluate: outcomes per goal, well-being, satisfaction, cost; continue, transition or close."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from casectl.models.case import Case
from casectl.models.records import Evaluation
from casectl.stages import Step, check_order, records
from casectl.stages.draft import build, stamped


def evaluate(case: Case, draft: Mapping[str, Any], *, on: dt.date, by: str) -> Step:
    """Add an evaluation; a decision to close or transition also ends the case."""
    check_order(case, "evaluate")
    record = build(Evaluation, stamped(draft, on=on, by=by))
    # An outcome may name a goal of an earlier plan (the evaluation looks back over the
    # period); the case's validation checks that every goal named exists.
    new = records.evaluate(case, record)
    notes = [f"evaluation recorded ({record.decision}); the case is {new.status}"]
    notes += [f"goal {o.goal}: {o.outcome}" for o in record.goal_outcomes]
    return Step(new, record, notes=tuple(notes))
