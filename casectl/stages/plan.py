"""Step 4, plan: goals with a measure and target date, interventions with an owner, the review
interval agreed with the family — and revising that plan as the case moves.

A case's first `plan` makes the plan. Later ones revise it: a new dated plan record repeats every
goal and intervention still in the plan under the same ids, with the status each has reached;
a goal or intervention given again (by `id=`, or by the same description) is updated in place, a
new one gets the next unused id, `discontinue` ends one with its reason. Giving the same input
twice changes nothing the second time. The earlier plans stay in the file as the history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from casectl.config import Config
from casectl.errors import InvalidInput
from casectl.models.case import Case
from casectl.models.records import CarePlan
from casectl.stages import Step, check_order, records
from casectl.stages.draft import build, missing, next_handle, stamped

# What a revision compares to decide whether anything changed.
_SAME_WHEN = (
    "goals",
    "interventions",
    "schedule",
    "resources",
    "review_interval_days",
    "agreed_by",
    "family_input",
)


def plan(
    case: Case,
    config: Config,
    draft: Mapping[str, Any],
    *,
    on: dt.date,
    by: str,
    discontinue: Sequence[tuple[str, str]] = (),
    fresh: bool = False,
) -> Step:
    """Make the care plan, or revise the one in force (see the module's docstring).

    `draft` holds the plan's fields as given: goals and interventions as mappings (without ids
    for new ones), schedule, resources, review_interval_days, agreed_by, family_input, note.
    `discontinue` lists (goal or intervention id, reason). `fresh` starts a new plan instead of
    carrying the current goals and interventions.
    """
    check_order(case, "plan")
    data = stamped(draft, on=on, by=by)
    day = _day(data["date"])
    current = None if fresh else case.current_plan
    goals: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    if current is not None:
        from casectl.state import derive

        state = derive(case, on=day)
        goals = [_dump(g.goal, status=g.status) for g in state.goals]
        steps = [_dump(i.intervention, status=i.status) for i in state.interventions]
    carried_goals = {g["id"] for g in goals}
    carried_steps = {i["id"] for i in steps}
    standing = (
        current.model_copy(
            update={
                "goals": [
                    g.model_copy(update={"status": s.status})
                    for g, s in zip(current.goals, state.goals, strict=True)
                ],
                "interventions": [
                    i.model_copy(update={"status": s.status})
                    for i, s in zip(current.interventions, state.interventions, strict=True)
                ],
            }
        )
        if current is not None
        else None
    )

    for spec in data.get("goals") or []:
        _merge(goals, spec, "g", case.goal_ids(), "goal", {"domain": "health"}, "not-started")
    for spec in data.get("interventions") or []:
        _merge(steps, spec, "i", case.intervention_ids(), "intervention", {}, "planned")
    ended = _discontinue(goals, steps, discontinue, current)

    fields: dict[str, Any] = {
        "date": data["date"],
        "recorded_by": data["recorded_by"],
        "goals": goals,
        "interventions": steps,
        "schedule": _union(_dumps(current.schedule) if current else [], data.get("schedule")),
        "resources": _union(list(current.resources) if current else [], data.get("resources")),
        "discontinued": ended,
    }
    for name in ("family_input", "note", "agreed_by"):
        if data.get(name):
            fields[name] = data[name]
    interval = data.get("review_interval_days")
    if interval is None and current is not None:
        interval = current.review_interval_days
    how_often = ""
    if interval is None:
        # None agreed yet: the config's interval for the case's risk tier, and say so.
        from casectl.state import tier_review_days

        interval, level = tier_review_days(case, config)
        how_often = f" (the default for {level} risk; agree another with --review-every)"
    fields["review_interval_days"] = interval
    if standing is not None and not data.get("agreed_by"):
        if _unchanged(fields, standing, agreed=standing.agreed_by):
            return _nothing(case, standing)
        # A revision is a decision the family takes part in: it needs their agreement again.
        raise missing(CarePlan, "agreed_by")
    record = build(CarePlan, {k: v for k, v in fields.items() if v not in (None, [])})
    if standing is not None and _unchanged(fields, standing, agreed=record.agreed_by):
        return _nothing(case, standing)

    kept = [g.id for g in record.goals if g.id in carried_goals]
    added = [g.id for g in record.goals if g.id not in carried_goals]
    head = "care plan revised" if current is not None else "care plan recorded"
    lines = [f"{head}: goals {', '.join(g.id for g in record.goals)}"]
    if current is not None:
        lines.append(f"  kept {', '.join(kept) or 'none'}; new {', '.join(added) or 'none'}")
    new_steps = [i.id for i in record.interventions if i.id not in carried_steps]
    if record.interventions:
        lines.append(
            "  interventions "
            + ", ".join(f"{i.id} ({i.owner})" for i in record.interventions)
            + (f"; new {', '.join(new_steps)}" if current is not None and new_steps else "")
        )
    lines += [f"  {d.item} ended: {d.reason}" for d in record.discontinued]
    lines.append(f"  review every {record.review_interval_days} days{how_often}")
    return Step(records.plan(case, record), record, notes=tuple(lines))


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _dump(model: Any, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(by_alias=True, exclude_unset=True)
    data.update(changes)
    return data


def _dumps(items: Iterable[Any]) -> list[dict[str, Any]]:
    return [_dump(item) for item in items]


def _same_words(a: object, b: object) -> bool:
    return " ".join(str(a).lower().split()) == " ".join(str(b).lower().split())


def _merge(
    items: list[dict[str, Any]],
    spec: Mapping[str, Any],
    prefix: str,
    used: set[str],
    what: str,
    defaults: dict[str, Any],
    first_status: str,
) -> None:
    """Add `spec` to `items`, or update the item it names (by id, else by its description)."""
    spec = dict(spec)
    given_id = spec.get("id")
    match = None
    for item in items:
        if (given_id and item["id"] == given_id) or (
            not given_id and _same_words(item.get("description"), spec.get("description"))
        ):
            match = item
            break
    if match is not None:
        spec.pop("id", None)
        if not given_id:
            spec.pop("description")  # matched by it: keep the wording as the plan has it
        match.update(spec)
        return
    if given_id and given_id in used:
        raise InvalidInput(
            f"{what} id {given_id} belonged to an earlier plan's {what}; leave id= out to get a "
            "new one, or revise the one in force by its id."
        )
    taken = used | {item["id"] for item in items}
    new = {"id": given_id or next_handle(prefix, taken), **defaults, **spec}
    new.setdefault("status", first_status)
    items.append(new)


def _discontinue(
    goals: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    ending: Sequence[tuple[str, str]],
    current: CarePlan | None,
) -> list[dict[str, str]]:
    ended: list[dict[str, str]] = []
    for item_id, reason in ending:
        goal = next((g for g in goals if g["id"] == item_id), None)
        step = next((i for i in steps if i["id"] == item_id), None)
        target, final = (goal, "discontinued") if goal is not None else (step, "cancelled")
        if target is None:
            known = ", ".join([g["id"] for g in goals] + [i["id"] for i in steps]) or "none"
            raise InvalidInput(
                f"--discontinue {item_id}: not a goal or intervention of the plan in force "
                f"(known: {known})."
            )
        if target.get("status") == final:
            continue  # already ended: nothing to record again
        if not reason:
            raise InvalidInput(f"--discontinue {item_id} needs --reason: why it is ended.")
        target["status"] = final
        ended.append({"item": item_id, "reason": reason})
    if ended and current is None:
        raise InvalidInput("--discontinue needs a plan in force; this case has none yet.")
    return ended


def _union(kept: list[Any], given: Iterable[Any] | None) -> list[Any]:
    out = list(kept)
    for item in given or []:
        if item not in out:
            out.append(item)
    return out


def _unchanged(fields: Mapping[str, Any], standing: CarePlan, *, agreed: Sequence[str]) -> bool:
    """True when the revision would say what the plan in force says, statuses as they stand."""
    if fields["discontinued"]:
        return False
    try:
        proposed = CarePlan.model_validate(
            {
                **{k: fields[k] for k in _SAME_WHEN if fields.get(k) is not None},
                "agreed_by": list(agreed),
                "date": standing.date,
                "recorded_by": standing.recorded_by,
            }
        )
    except ValueError:  # an invalid revision is not "unchanged": build() reports it
        return False
    keep = set(_SAME_WHEN)
    return proposed.model_dump(include=keep, exclude_none=True) == standing.model_dump(
        include=keep, exclude_none=True
    )


def _nothing(case: Case, current: CarePlan) -> Step:
    return Step(
        case,
        current,
        changed=False,
        notes=(f"nothing changed: the plan of {current.date} already says this",),
    )
