"""Step 1, screen: who referred the client and why, the situation, instruments, eligibility."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from casectl.models.case import Case
from casectl.models.records import Screening
from casectl.stages import Step, records
from casectl.stages.draft import build, stamped


def screen(case: Case, draft: Mapping[str, Any], *, on: dt.date, by: str) -> Step:
    """Add a screening; a same-day finding of its instruments is a safety flag from today."""
    record = build(Screening, stamped(draft, on=on, by=by))
    verdict = "eligible" if record.eligible else "not eligible"
    return Step(records.screen(case, record), record, notes=(f"screening recorded ({verdict})",))
