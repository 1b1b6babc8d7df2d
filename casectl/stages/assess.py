"""Step 2, assess: health, diagnoses, medications, vitals, family, culture, needs, impact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from casectl.models.case import Case
from casectl.models.records import Assessment
from casectl.stages import Step, records
from casectl.stages.draft import build, stamped


def assess(case: Case, draft: Mapping[str, Any], *, on: dt.date, by: str) -> Step:
    """Add an in-depth assessment."""
    record = build(Assessment, stamped(draft, on=on, by=by))
    return Step(records.assess(case, record), record, notes=("assessment recorded",))
