"""Step 3, risk: the tier from the case's records, factor by factor, with a clinician's override."""

from __future__ import annotations

import datetime as dt

from casectl.clinical.risk import assess_risk
from casectl.config import Config
from casectl.models.case import Case
from casectl.models.records import RiskOverride
from casectl.stages import Step, check_order


def risk(
    case: Case,
    config: Config,
    *,
    on: dt.date,
    by: str,
    override: RiskOverride | None = None,
    note: str | None = None,
) -> Step:
    """Add a risk record computed by the config's rules from the records dated on or before `on`."""
    check_order(case, "risk")
    record = assess_risk(case, config, on=on, recorded_by=by)
    updates: dict[str, object] = {}
    if override is not None:
        updates["override"] = override
    if note:
        updates["note"] = note
    if updates:
        record = record.model_copy(update=updates)
    new = case.model_copy(update={"risk_assessments": [*case.risk_assessments, record]})
    return Step(new, record, notes=(f"risk {record.effective_level} (score {record.score})",))
