"""Validating a whole case: field rules from the models, then the rules that span the file.

`validate_case` is the one gate every write and every `check` goes through. Problems come back
with their location in the data (a tuple path) so that the store can name the file line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from casectl.errors import shown
from casectl.models.case import Case
from casectl.models.people import CareTeamMember, FamilyMember
from casectl.models.vocab import CLOSED_REFERRAL, REFERRAL_ORDER

Loc = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")


class CaseInvalid(Exception):
    """The data is not a valid case; `problems` lists each (location, message)."""

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        super().__init__("; ".join(f"{format_loc(loc)}: {msg}" for loc, msg in problems))
        self.problems = problems


def format_loc(loc: Iterable[str | int]) -> str:
    """`("care_plans", 0, "goals", 1, "id")` → `care_plans[0].goals[1].id`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # A key from the file may hold anything (a line break, 10 kB): quote it, cut short.
            name = part if _PLAIN_KEY.fullmatch(part) else shown(part)
            out += f".{name}" if out else name
    return out or "(top level)"


# Pydantic's type errors name Python types ("a valid dictionary or instance of Client").
_WRONG_TYPE = {
    "model_type": "should be a mapping of keys to values",
    "dict_type": "should be a mapping of keys to values",
    "list_type": "should be a list",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "int_type": "should be a whole number",
    "int_parsing": "should be a whole number",
    "int_from_float": "should be a whole number",
    "float_type": "should be a number",
    "float_parsing": "should be a number",
    "string_type": "should be text (put quotes around it)",
    "string_unicode": "should be UTF-8 text (check the terminal's or the file's encoding)",
}


def error_loc(error: Mapping[str, Any]) -> Loc:
    """Where an error is, down to the field: a record's own checks (a control character in one
    of its fields, casectl.models.base) put the field's name in the error's context."""
    loc: Loc = tuple(error["loc"])
    if error["type"] == "control_character":
        ctx = error.get("ctx") or {}
        loc += (ctx["field"],)
        if ctx.get("index") is not None:
            loc += (ctx["index"],)
    return loc


def describe_error(error: Mapping[str, Any]) -> str:
    """Pydantic's message, reworded where a case manager would not follow it."""
    kind = error["type"]
    given = error.get("input")
    if kind == "control_character":
        return str(error["msg"])
    if kind in _WRONG_TYPE:
        return f"{_WRONG_TYPE[kind]}, " + (
            "but it is empty" if given is None else f"not {shown(given)}"
        )
    if kind == "extra_forbidden":
        return "unknown key (misspelt? keys of your own must start with x-)"
    if kind == "missing":
        return "is required but missing"
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"{shown(given)} is not a real date; use YYYY-MM-DD"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{shown(given)} is not one of {expected}"
    if kind == "string_pattern_mismatch":
        return f"{shown(given)} may hold only lower-case letters, digits and dashes"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{shown(given)} is out of range: {error['msg'].lower()}"
    return f"{error['msg']} (got {shown(given)})" if given is not None else str(error["msg"])


# A record's date is the calendar day where it was recorded. A colleague in a time zone ahead of
# yours may already be on tomorrow: a date up to this many days after the reader's own today is
# not "in the future" (any two time zones less than 24 hours apart; the README says so).
DATE_GRACE_DAYS = 1


def latest_day(today: dt.date) -> dt.date:
    """The last date a valid record may carry when read on `today`."""
    return today + dt.timedelta(days=DATE_GRACE_DAYS)


def validate_case(data: Mapping[str, Any], *, today: dt.date, model: type[Case] = Case) -> Case:
    """Validate plain case data and return the Case, or raise CaseInvalid with every problem.

    `model` is the case model of the schema being read (a migration test gives a future one).
    """
    try:
        case = model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt key explains the "missing" field it was meant to be: report it first.
        errors.sort(key=lambda e: e["type"] != "extra_forbidden")
        problems = [(error_loc(err), describe_error(err)) for err in errors]
        raise CaseInvalid(problems) from None
    problems = list(_cross_checks(case, today))
    if problems:
        raise CaseInvalid(problems)
    return case


def _cross_checks(case: Case, today: dt.date) -> Iterable[tuple[Loc, str]]:
    yield from _dates(case, today)
    yield from _status(case)
    yield from _handles(case)
    yield from _assessments(case)
    yield from _plans(case)
    yield from _coordination(case, today)
    yield from _follow_ups(case)
    yield from _evaluations(case)


def _future(day: dt.date, today: dt.date) -> str:
    return f"{day.isoformat()} is in the future (today is {today.isoformat()})"


def _dates(case: Case, today: dt.date) -> Iterable[tuple[Loc, str]]:
    latest = latest_day(today)
    if case.client.dob > latest:
        yield ("client", "dob"), "date of birth " + _future(case.client.dob, today)
    if case.opened > latest:
        yield ("opened",), "the case opening date " + _future(case.opened, today)
    if case.client.dob > case.opened:
        yield ("client", "dob"), "date of birth is after the date the case was opened"
    if case.closed and case.closed < case.opened:
        yield ("closed",), "the case is closed before it was opened"
    if case.closed and case.closed > latest:
        yield ("closed",), "the closing date " + _future(case.closed, today)
    sections: dict[str, Iterable[Any]] = {
        "status_history": case.status_history,
        "consents": case.consents,
        "screening": case.screening,
        "assessments": case.assessments,
        "risk_assessments": case.risk_assessments,
        "care_plans": case.care_plans,
        "coordination": case.coordination,
        "follow_ups": case.follow_ups,
        "evaluations": case.evaluations,
    }
    for name, records in sections.items():
        for i, record in enumerate(records):
            if record.date > latest:
                yield (name, i, "date"), "a record of what happened " + _future(record.date, today)


def _status(case: Case) -> Iterable[tuple[Loc, str]]:
    if case.status == "closed":
        if case.closed is None:
            yield ("closed",), "a closed case needs the date it was closed"
        if not case.closed_reason:
            yield ("closed_reason",), "a closed case needs the reason it was closed"
    elif case.status == "transferred":
        if not case.transferred_to:
            yield ("transferred_to",), "a transferred case needs the manager or service it went to"
    elif case.closed is not None:
        yield ("closed",), f"a case with status {case.status} has a closing date; remove it"


def _handles(case: Case) -> Iterable[tuple[Loc, str]]:
    seen: set[str] = {"client", "case-manager"}
    groups: tuple[tuple[str, Sequence[FamilyMember | CareTeamMember]], ...] = (
        ("family", case.family),
        ("care_team", case.care_team),
    )
    for section, members in groups:
        for i, member in enumerate(members):
            if member.id in seen:
                yield (section, i, "id"), f"the id {member.id!r} is used twice in this case"
            seen.add(member.id)
    deciders = case.deciders()
    for i, consent in enumerate(case.consents):
        if consent.given_by not in deciders:
            yield (
                ("consents", i, "given_by"),
                f"{shown(consent.given_by)} is not the client, a family member or a care-team "
                "decision-maker of this case",
            )


def _unknown(handle: str, kind: str, known: Iterable[str]) -> str:
    names = ", ".join(sorted(known))
    return f"{shown(handle)} is not {kind} of this case (known: {names})"


def _assessments(case: Case) -> Iterable[tuple[Loc, str]]:
    """Family members named by instruments and caregiving exist; dated findings precede the record."""
    family = {m.id for m in case.family}
    sections: tuple[tuple[str, Sequence[Any]], ...] = (
        ("screening", case.screening),
        ("assessments", case.assessments),
    )
    for section, records in sections:
        for r, record in enumerate(records):
            for n, inst in enumerate(record.instruments):
                if inst.member is not None and inst.member not in family:
                    yield (
                        (section, r, "instruments", n, "member"),
                        _unknown(inst.member, "a family member", family),
                    )
    for a, assessment in enumerate(case.assessments):
        base: Loc = ("assessments", a)
        for n, who in enumerate(assessment.caregiving.depression):
            if who not in family:
                yield (
                    (*base, "caregiving", "depression", n),
                    _unknown(who, "a family member", family),
                )
        dated: tuple[tuple[Loc, dt.date | None, str], ...] = (
            (
                (*base, "utilisation", "last_psychiatric_discharge"),
                assessment.utilisation.last_psychiatric_discharge,
                "the discharge",
            ),
            (
                (*base, "immunisations", "date"),
                assessment.immunisations.date if assessment.immunisations else None,
                "the immunisation check",
            ),
        )
        for loc, day, what in dated:
            if day is not None and day > assessment.date:
                yield (
                    loc,
                    f"{what} ({day}) is after the assessment it is recorded in ({assessment.date})",
                )


def _plans(case: Case) -> Iterable[tuple[Loc, str]]:
    people = case.people()
    deciders = case.deciders()
    for p, plan in enumerate(case.care_plans):
        goals: set[str] = set()
        for g, goal in enumerate(plan.goals):
            if goal.id in goals:
                yield ("care_plans", p, "goals", g, "id"), f"goal id {goal.id!r} is used twice"
            goals.add(goal.id)
        ids: set[str] = set()
        for n, item in enumerate(plan.interventions):
            loc: Loc = ("care_plans", p, "interventions", n)
            if item.id in ids:
                yield (*loc, "id"), f"intervention id {item.id!r} is used twice"
            ids.add(item.id)
            if item.owner not in people:
                yield (*loc, "owner"), _unknown(item.owner, "on the care team", people)
            if item.goal is not None and item.goal not in goals:
                yield (*loc, "goal"), _unknown(item.goal, "a goal", goals)
            if item.due is None and not item.frequency:
                yield loc, "an intervention needs a due date or a frequency"
        steps = {i.id: i for i in plan.interventions}
        goal_of = {g.id: g for g in plan.goals}
        for d, ended in enumerate(plan.discontinued):
            where: Loc = ("care_plans", p, "discontinued", d, "item")
            if ended.item in goal_of:
                if goal_of[ended.item].status != "discontinued":
                    yield (
                        where,
                        f"goal {ended.item} is ended here, so its status should be discontinued",
                    )
            elif ended.item in steps:
                if steps[ended.item].status != "cancelled":
                    yield (
                        where,
                        f"intervention {ended.item} is ended here, so its status should be cancelled",
                    )
            else:
                yield (
                    where,
                    _unknown(ended.item, "a goal or intervention of this plan", [*goal_of, *steps]),
                )
        for s, slot in enumerate(plan.schedule):
            if slot.who is not None and slot.who not in people:
                yield (
                    ("care_plans", p, "schedule", s, "who"),
                    _unknown(slot.who, "a person", people),
                )
        for a, who in enumerate(plan.agreed_by):
            if who not in deciders:
                yield (
                    ("care_plans", p, "agreed_by", a),
                    _unknown(
                        who, "the client, a family member or a care-team decision-maker", deciders
                    ),
                )


def _coordination(case: Case, today: dt.date) -> Iterable[tuple[Loc, str]]:
    people = case.people()
    team = {m.id for m in case.care_team}
    referrals: dict[str, str] = {}
    appointments: dict[str, dt.date] = {}
    # In date order, as casectl.state reads them (a merge may interleave two people's records).
    for r, record in sorted(enumerate(case.coordination), key=lambda pair: pair[1].date):
        base: Loc = ("coordination", r)
        for n, ref in enumerate(record.referrals):
            if ref.id in referrals:
                yield (*base, "referrals", n, "id"), f"referral id {ref.id!r} is used twice"
            referrals[ref.id] = ref.status
            if ref.member is not None and ref.member not in team:
                yield (
                    (*base, "referrals", n, "member"),
                    _unknown(ref.member, "on the care team", team),
                )
        for n, update in enumerate(record.referral_updates):
            loc: Loc = (*base, "referral_updates", n)
            current = referrals.get(update.referral)
            if current is None:
                yield (
                    (*loc, "referral"),
                    _unknown(update.referral, "an earlier referral", referrals),
                )
                continue
            if current in CLOSED_REFERRAL:
                yield (*loc, "status"), f"referral {update.referral} is already {current}"
            elif (
                update.status in REFERRAL_ORDER
                and current in REFERRAL_ORDER
                and REFERRAL_ORDER[update.status] < REFERRAL_ORDER[current]
            ):
                yield (
                    (*loc, "status"),
                    (
                        f"referral {update.referral} cannot go back from {current} to {update.status}"
                    ),
                )
            referrals[update.referral] = update.status
        for n, appt in enumerate(record.appointments):
            loc = (*base, "appointments", n)
            if appt.id in appointments:
                yield (*loc, "id"), f"appointment id {appt.id!r} is used twice"
            appointments[appt.id] = appt.date
            if appt.status in ("attended", "missed") and appt.date > latest_day(today):
                yield (*loc, "status"), f"an appointment on {appt.date} cannot be {appt.status} yet"
        for n, appt_update in enumerate(record.appointment_updates):
            booked = appointments.get(appt_update.appointment)
            if booked is None:
                yield (
                    (*base, "appointment_updates", n, "appointment"),
                    _unknown(appt_update.appointment, "an earlier appointment", appointments),
                )
            elif appt_update.status in ("attended", "missed") and booked > record.date:
                yield (
                    (*base, "appointment_updates", n, "status"),
                    f"appointment {appt_update.appointment} is on {booked}; on {record.date} it "
                    f"cannot have been {appt_update.status} yet",
                )
        planned = {
            i.id for plan in case.care_plans if plan.date <= record.date for i in plan.interventions
        }
        for n, step in enumerate(record.intervention_updates):
            if step.intervention not in planned:
                yield (
                    (*base, "intervention_updates", n, "intervention"),
                    _unknown(step.intervention, "an intervention of a plan made by then", planned),
                )
        for n, taught in enumerate(record.education):
            if taught.given_to not in people:
                yield (
                    (*base, "education", n, "given_to"),
                    _unknown(taught.given_to, "a person", people),
                )


def _follow_ups(case: Case) -> Iterable[tuple[Loc, str]]:
    people = case.people()
    goals = case.goal_ids()
    for f, contact in enumerate(case.follow_ups):
        for w, who in enumerate(contact.with_):
            if who not in people:
                yield ("follow_ups", f, "with", w), _unknown(who, "a person", people)
        for g, note in enumerate(contact.progress):
            if note.goal not in goals:
                yield ("follow_ups", f, "progress", g, "goal"), _unknown(note.goal, "a goal", goals)
        if contact.next_review is not None and contact.next_review < contact.date:
            yield ("follow_ups", f, "next_review"), "the next review is before the contact itself"


def _evaluations(case: Case) -> Iterable[tuple[Loc, str]]:
    goals = case.goal_ids()
    for e, evaluation in enumerate(case.evaluations):
        for g, outcome in enumerate(evaluation.goal_outcomes):
            if outcome.goal not in goals:
                yield (
                    ("evaluations", e, "goal_outcomes", g, "goal"),
                    _unknown(outcome.goal, "a goal", goals),
                )
