"""Step 5, implement (care coordination): referrals, appointments, interventions carried out,
education, resources — and following each referral until it is closed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from casectl.config import Config
from casectl.errors import InvalidInput
from casectl.models.case import Case
from casectl.models.records import Coordination
from casectl.stages import Step, check_order, records
from casectl.stages.draft import build, next_handle, stamped


def implement(
    case: Case, config: Config, draft: Mapping[str, Any], *, on: dt.date, by: str
) -> Step:
    """Add a coordination record; new referrals and appointments get the next free ids (r1, a1 …)."""
    check_order(case, "implement")
    data = stamped(draft, on=on, by=by)
    for section, prefix, taken, first in (
        ("referrals", "r", case.referral_ids(), "sent"),
        ("appointments", "a", case.appointment_ids(), "scheduled"),
    ):
        if data.get(section):
            data[section] = _with_ids(data[section], prefix, taken, first)
    record = build(Coordination, data)
    _check_interventions(case, record)
    new = records.implement(case, record)
    return Step(new, record, notes=tuple(_notes(case, config, record)))


def _with_ids(
    items: list[Any], prefix: str, taken: set[str], first_status: str
) -> list[dict[str, Any]]:
    """The items with the next free id (r1, a1 …) where none was given, and a first status."""
    out = []
    for item in items:
        item = dict(item)
        if not item.get("id"):
            item["id"] = next_handle(prefix, taken)
        item.setdefault("status", first_status)
        taken.add(str(item["id"]))
        out.append(item)
    return out


def _check_interventions(case: Case, record: Coordination) -> None:
    if not record.intervention_updates:
        return
    from casectl.state import derive

    state = derive(case, on=record.date)
    known = {s.intervention.id for s in state.interventions}
    for update in record.intervention_updates:
        if update.intervention not in known:
            listed = ", ".join(sorted(known)) or "none: make a plan first"
            raise InvalidInput(
                f"--intervention-update {update.intervention}: not an intervention of the plan "
                f"in force (its interventions: {listed})."
            )


def _notes(before: Case, config: Config, record: Coordination) -> list[str]:
    notes = ["coordination recorded"]
    notes += [f"referral {r.id} to {r.to}: {r.status}" for r in record.referrals]
    notes += [f"referral {u.referral}: {u.status}" for u in record.referral_updates]
    notes += [f"appointment {a.id} on {a.date} with {a.with_}" for a in record.appointments]
    notes += [f"appointment {u.appointment}: {u.status}" for u in record.appointment_updates]
    if record.intervention_updates:
        from casectl.state import derive

        after = records.implement(before, record)
        steps = {s.intervention.id: s for s in derive(after, on=record.date).interventions}
        for u in record.intervention_updates:
            step = steps[u.intervention]
            again = f"; next due {step.next_due}" if step.next_due else ""
            notes.append(f"intervention {u.intervention}: {step.status}{again}")
    return notes
