"""Asking for a command's input at a terminal, in the case manager's words.

casectl asks only when standard input is a terminal and something the command needs was not
given; a script gets exit 2 naming the options instead (`casectl.cli.common`). A command asks
for everything before it takes the case's lock, so nobody holds a case while typing; the case
it reads to offer ids (goals, people, referrals) is only for offering, and the write checks
again under the lock.

Each question says what it wants — a label, the allowed choices, the default — and checks the
answer as soon as it is given, against the record's own model with the answers so far, asking
again with the reason when it is wrong. Questions go to standard error, so
`CASE=$(casectl new | tail -n 1)` still shows them. Ctrl-C or end of input (Ctrl-D) at any
question raises `Interrupted`: exit 130, nothing written.

A command given nothing of its own (`casectl follow-up C-2026-0001`) is an interview: the
required fields and the few optional ones worth asking at that step. A command given some of
its input asks only for what is still required.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import textwrap
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from casectl.errors import CasectlError, Interrupted

Kind = Literal["text", "lines", "yes-no", "choice", "ids", "date", "span", "integer", "number"]

# Keys every stage draft may hold without the user having given any of the stage's own input.
_STAMPS = frozenset({"date", "recorded_by", "note"})


class Wrong(ValueError):
    """An answer that cannot stand; its text is the reason shown before asking again."""


@dataclass(frozen=True)
class Question:
    """One question: the draft key it fills and how to ask for it and read the answer."""

    key: str
    label: str
    kind: Kind = "text"
    choices: tuple[str, ...] = ()  # the allowed values ("choice"), shown in brackets
    offered: tuple[tuple[str, str], ...] = ()  # ids and what each is ("ids"), a line each
    free: bool = False  # "ids": other text is taken too (an appointment is with anyone)
    many: bool = False  # "choice" or "ids": several, comma-separated
    default: str | None = None  # shown, and taken on Enter
    optional: bool = False  # Enter leaves it out
    past: bool = False  # "date": not after today (a date of birth)
    listed: bool = True  # show the choices with the question (False: shown once above)
    skip: str = "Enter to skip"  # what Enter does to an optional question, shown after it


# --- the terminal ---------------------------------------------------------------------------


def say(text: str = "") -> None:
    """A line for the person answering, on standard error, control characters escaped."""
    from casectl.text import printable

    sys.stderr.write(printable(text) + "\n")
    sys.stderr.flush()


def _width() -> int:
    try:
        return max(40, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        pass
    try:
        return max(40, os.get_terminal_size(sys.stderr.fileno()).columns)
    except (OSError, ValueError, AttributeError):
        return 80


def say_wrapped(text: str, indent: str = "") -> None:
    """`say` a long line wrapped to the terminal, later lines indented two more."""
    for line in textwrap.wrap(
        text,
        width=_width() - 1,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_on_hyphens=False,
        break_long_words=False,
    ):
        say(line)


def read(prompt: str) -> str:
    """One line typed at the terminal, stripped. Ctrl-C or end of input raises Interrupted."""
    from casectl.text import printable

    sys.stderr.write(printable(prompt))
    sys.stderr.flush()
    try:
        line = sys.stdin.readline()
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        raise Interrupted() from None
    if not line:  # Ctrl-D: the person is leaving, not answering
        sys.stderr.write("\n")
        raise Interrupted()
    return line.strip()


# --- one question ---------------------------------------------------------------------------


def ask(
    q: Question,
    *,
    model: type[BaseModel] | None = None,
    data: Mapping[str, Any] | None = None,
) -> Any:
    """Ask `q` until the answer parses and, given a model, validates as that model's field
    with `data` beside it. None when an optional question is skipped."""
    _show_offer(q)
    prompt = _prompt(q)
    while True:
        raw = read(prompt)
        if not raw:
            if q.default is not None:
                raw = q.default
            elif q.optional:
                return None
            else:
                say("  an answer is needed (Ctrl-C stops without saving)")
                continue
        try:
            value = _parse(q, raw)
            if model is not None:
                _check(model, data or {}, q.key, value)
        except Wrong as exc:
            say_wrapped(f"{exc}.", indent="  ")
            continue
        return value


def yes(label: str, *, default: bool | None = None) -> bool:
    """A yes/no question with no record behind it ("another goal?")."""
    shown = None if default is None else ("yes" if default else "no")
    return bool(ask(Question("_", label, "yes-no", default=shown)))


def _prompt(q: Question) -> str:
    label = q.label
    if q.kind == "yes-no":
        label += {"yes": " [Y/n]", "no": " [y/N]"}.get(q.default or "", " [y/n]")
    elif q.kind == "choice" and q.listed and _inline(q):
        label += f" [{'/'.join(q.choices)}]"
        if q.many:
            label += " (comma-separated)"
        if q.default is not None:
            label += f" (Enter: {q.default})"
    elif q.default is not None:
        label += f" [{q.default}]"
    if q.optional and q.default is None and q.skip:
        label += f" ({q.skip})"
    text = label + (" " if label.endswith("?") else ": ")
    if len(text) <= _width() - 8:
        return text
    # Too long to leave room for the answer: all but the last line above the prompt.
    indent = " " * (len(text) - len(text.lstrip()))
    lines = textwrap.wrap(
        text.strip(),
        width=_width() - 8,
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )
    for line in lines[:-1]:
        say(line)
    return lines[-1] + " "


def _inline(q: Question) -> bool:
    return len(q.label) + sum(len(c) + 1 for c in q.choices) + 24 <= _width()


def _show_offer(q: Question) -> None:
    if q.kind == "choice" and q.listed and not _inline(q):
        say_wrapped("choose from: " + ", ".join(q.choices), indent="  ")
        if q.many:
            say("  (one or more, comma-separated)")
    if q.offered:
        wide = max(len(key) for key, _ in q.offered)
        for key, what in q.offered:
            say(f"  {key.ljust(wide)}  {what}")
        if q.many:
            say("  (one or more, comma-separated)")


def _parse(q: Question, raw: str) -> Any:
    from casectl.text import describe, unsafe_char

    bad = unsafe_char(raw, one_line=True)
    if bad is not None:
        raise Wrong(
            f"the answer holds {describe(bad)}; arrow and other special keys do not edit "
            "here, so type the answer again"
        )
    if q.kind == "yes-no":
        word = raw.lower()
        if word in ("y", "yes"):
            return True
        if word in ("n", "no"):
            return False
        raise Wrong(f"{raw!r}: answer yes or no")
    if q.kind == "choice":
        picked = list(dict.fromkeys(_pick(part, q.choices) for part in _parts(raw, q.many)))
        return picked if q.many else picked[0]
    if q.kind == "ids":
        known = [key for key, _ in q.offered]
        ids = [part if q.free else _pick(part, known, exact=True) for part in _parts(raw, q.many)]
        return ids if q.many else ids[0]
    if q.kind == "date":
        return _date(raw, q)
    if q.kind == "span":
        from casectl.dates import parse_duration_days

        return _or_wrong(lambda: parse_duration_days(raw, what=""))
    if q.kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise Wrong(f"{raw!r} is not a whole number") from None
    if q.kind == "number":
        try:
            return float(raw)
        except ValueError:
            raise Wrong(f"{raw!r} is not a number") from None
    return raw


def _parts(raw: str, many: bool) -> list[str]:
    parts = [p.strip() for p in raw.split(",")] if many else [raw]
    parts = list(dict.fromkeys(p for p in parts if p))  # "mother, mother" names her once
    if not parts:
        raise Wrong("an answer is needed")
    return parts


def _pick(raw: str, choices: Sequence[str], *, exact: bool = False) -> str:
    """The choice `raw` names: itself, or (for vocabularies) the one choice it begins."""
    word = raw.strip().lower()
    if word in choices:
        return word
    # A number is never a prefix of another ("1" is not "10"); a word may be ("fem").
    exact = exact or all(c.lstrip("-").isdigit() for c in choices)
    begun = [c for c in choices if c.startswith(word)] if not exact else []
    if len(begun) == 1:
        return begun[0]
    listed = ", ".join(choices) or "none"
    raise Wrong(f"{raw!r} is not one of {listed}")


def _date(raw: str, q: Question) -> dt.date:
    from casectl.dates import parse_date, today

    day: dt.date = _or_wrong(lambda: parse_date(raw, what=""))
    if q.past and day > today():
        raise Wrong(f"{day} is in the future (today is {today()})")
    return day


def _or_wrong(read_it: typing.Callable[[], Any]) -> Any:
    try:
        return read_it()
    except CasectlError as exc:
        raise Wrong(exc.message.strip().rstrip(".")) from None


def _check(model: type[BaseModel], data: Mapping[str, Any], key: str, value: Any) -> None:
    """Refuse `value` when the model, given the answers so far, finds fault with that field."""
    from casectl.models.validation import describe_error, error_loc

    names = _names(model, key)
    try:
        model.model_validate({**data, key: value})
    except ValidationError as exc:
        for err in exc.errors():
            loc = error_loc(err)
            if loc and loc[0] in names and err["type"] != "missing":
                raise Wrong(describe_error(err)) from None


def _names(model: type[BaseModel], key: str) -> set[str]:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return {name, info.alias or name}
    return {key}


# --- a field of a model, asked by what its type is ------------------------------------------

# Labels in the case manager's words, by field name; a field not here gets its name in words.
LABELS: dict[str, str] = {
    "name": "Full name",
    "dob": "Date of birth (YYYY-MM-DD)",
    "sex": "Sex",
    "preferred_language": "Preferred language (a code: en, es, vi …)",
    "interpreter_needed": "Interpreter needed?",
    "referral_source": "Referral source (who referred the client)",
    "referral_reason": "Reason for the referral",
    "eligible": "Eligible for case management?",
    "eligibility_reason": "Why?",
    "health_status": "Overall health status, in a sentence",
    "level": "Clinician's level",
    "reason": "Reason",
    "agreed_by": "Who agreed to the plan?",
    "review_interval_days": "Review every (30d, 2w, 3m)",
    "family_input": "What the family asked for or chose",
    "mode": "Contact mode",
    "with": "Who took part?",
    "outcome": "Outcome",
    "summary": "What was discussed, in a sentence",
    "adherence": "Medication adherence",
    "care_appropriate": "Was the care received appropriate?",
    "satisfaction": "Family satisfaction, 1 to 5 (5: very satisfied)",
    "decision": "Decision",
    "decision_reason": "Why that decision?",
    "transition_to": "Service taking over",
    "id": "Short id (lower-case, e.g. mother, pcp)",
    "relationship": "Relationship to the client",
    "role": "Role",
    "kind": "Kind",
    "given_by": "Given by",
}


def question_for(model: type[BaseModel], key: str, **changes: Any) -> Question:
    """A question for the model's field `key` (or the field whose alias it is): its label,
    and choices from its Literal type; `changes` override what is inferred."""
    info = None
    for name, field_info in model.model_fields.items():
        if key in (name, field_info.alias):
            info = field_info
    annotation = info.annotation if info is not None else str
    label = LABELS.get(key) or key.replace("_", " ").capitalize()
    inferred: dict[str, Any] = {"key": key, "label": label, **_kind_of(annotation)}
    inferred.update(changes)
    return Question(**inferred)


def _kind_of(annotation: Any) -> dict[str, Any]:
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _kind_of(inner[0]) if len(inner) == 1 else {}
    if origin is Literal:
        return {"kind": "choice", "choices": tuple(str(a) for a in args)}
    if origin is list:
        item = _kind_of(args[0]) if args else {}
        if item.get("kind") == "choice":
            return {**item, "many": True}
        return {"kind": "lines"}
    if annotation is bool:
        return {"kind": "yes-no"}
    if annotation is dt.date:
        return {"kind": "date"}
    if annotation is int:
        return {"kind": "integer"}
    if annotation is float:
        return {"kind": "number"}
    return {}


def fill(model: type[BaseModel], data: dict[str, Any], q: Question | str) -> Any:
    """Ask `q` (or the question for the model's field so named), checked as a field of
    `model` beside `data`, and put the answer in `data` (nothing when skipped)."""
    if isinstance(q, str):
        q = question_for(model, q)
    value = (
        ask_lines(q, model=model, data=data)
        if q.kind == "lines"
        else ask(q, model=model, data=data)
    )
    if value is not None and value != []:
        data[q.key] = value
    return value


def ask_lines(
    q: Question, *, model: type[BaseModel] | None = None, data: Mapping[str, Any] | None = None
) -> list[str]:
    """Several free-text items, one per line after a "-"; an empty line ends the list.
    (A comma would split a record's name such as "Discharge summary, March 2026".)"""
    say(f"{q.label}, one per line (an empty line ends):")
    items: list[str] = []
    while True:
        raw = read("  - ")
        try:
            if not raw:
                if items or q.optional:
                    return items
                raise Wrong("at least one is needed")
            value = _parse(q, raw)
            if model is not None:
                _check(model, data or {}, q.key, [*items, value])
        except Wrong as exc:
            say_wrapped(f"{exc}.", indent="  ")
            continue
        items.append(value)


def ask_missing(
    model: type[BaseModel],
    missing: Iterable[str],
    data: dict[str, Any],
    questions: Mapping[str, Question] | None = None,
) -> None:
    """Ask for each missing field of `model` (the fallback when a stage finds one missing)."""
    intro("Still needed:")
    for key in missing:
        fill(model, data, (questions or {}).get(key) or key)


def given(draft: Mapping[str, Any]) -> bool:
    """Whether the user gave any of the command's own input (beyond date, recorder, note)."""
    return any(key not in _STAMPS and value not in (None, [], {}) for key, value in draft.items())


def intro(text: str) -> None:
    """The line an interview opens with: what is being recorded, and how to stop."""
    stop = "Ctrl-C stops without saving."
    if len(text) + len(stop) < _width():
        say(f"{text} {stop}")
    else:
        say_wrapped(text)
        say(stop)


# --- the people, goals and other ids a question can offer -----------------------------------


def people(case: Any) -> tuple[tuple[str, str], ...]:
    """Everyone a record may name, with who they are: client, case manager, family, team."""
    out = [("client", f"{case.client.name} (client)"), ("case-manager", case.case_manager)]
    out += [(m.id, f"{m.name} ({m.relationship})") for m in case.family]
    out += [(m.id, f"{m.name} ({m.role})") for m in case.care_team]
    return tuple(out)


def deciders(case: Any) -> tuple[tuple[str, str], ...]:
    """Who may agree to a plan: the client, family members, care-team decision-makers."""
    allowed = case.deciders()
    return tuple((key, what) for key, what in people(case) if key in allowed)


def _choices_of(literal: object, leave_out: Iterable[str] = ()) -> tuple[str, ...]:
    from casectl.models.vocab import choices

    return tuple(c for c in choices(literal) if c not in set(leave_out))


# --- the interviews, command by command -----------------------------------------------------

Q = Question


def _lacking(draft: Mapping[str, Any], *keys: str) -> list[str]:
    return [key for key in keys if draft.get(key) in (None, "", [])]


def _day(draft: Mapping[str, Any]) -> dt.date:
    from casectl.dates import today

    day = draft.get("date")
    return day if isinstance(day, dt.date) else today()


def _about(case: Any, what: str, draft: Mapping[str, Any]) -> None:
    intro(f"{what} for {case.id} ({case.client.name}), dated {_day(draft)}.")


def new_client(data: dict[str, Any]) -> None:
    """`new`: the client's name, date of birth and sex when any is missing, with the language
    and whether an interpreter is needed (defaults shown)."""
    from casectl.models.people import Client

    required = _lacking(data, "name", "dob", "sex")
    if not required:
        return
    intro("Opening a new case.")
    questions = {
        "name": Q("name", "Client's full name"),
        "dob": Q("dob", "Date of birth (YYYY-MM-DD)", "date", past=True),
        "sex": question_for(Client, "sex"),
        "preferred_language": question_for(Client, "preferred_language", default="en"),
        "interpreter_needed": question_for(Client, "interpreter_needed", default="no"),
    }
    extra = [k for k in ("preferred_language", "interpreter_needed") if data.get(k) is None]
    for key in [*required, *extra]:
        fill(Client, data, questions[key])


def screening(draft: dict[str, Any], case: Any) -> None:
    """`screen`: who referred and why, whether the client is eligible, and why."""
    from casectl.models.records import Screening

    needed = _lacking(draft, "referral_source", "referral_reason", "eligible", "eligibility_reason")
    if not needed:
        return
    _about(case, "Screening", draft)
    for key in needed:
        if key == "eligibility_reason":
            why = "Why eligible?" if draft.get("eligible") else "Why not eligible?"
            fill(Screening, draft, question_for(Screening, key, label=why))
        else:
            fill(Screening, draft, key)


def assessment(draft: dict[str, Any], case: Any) -> None:
    """`assess`: the health status; given nothing else, also the diagnoses, use of care in the
    last year, social needs and caregiver strain, which the risk tier is computed from."""
    from casectl.models.records import Assessment, Caregiving, Diagnosis, Utilisation

    if draft.get("health_status"):
        return
    bare = not given(draft)
    _about(case, "Assessment", draft)
    fill(Assessment, draft, "health_status")
    if not bare:
        return
    say("Diagnoses, one at a time (Enter when there are no more):")
    while True:
        item: dict[str, Any] = {}
        if (
            fill(
                Diagnosis,
                item,
                Q("description", "  Diagnosis", optional=True, skip="Enter: no more"),
            )
            is None
        ):
            break
        fill(Diagnosis, item, Q("icd10", "  ICD-10-CM code, e.g. J45.40", optional=True))
        draft.setdefault("diagnoses", []).append(item)
    say("Use of care in the last 12 months:")
    use: dict[str, Any] = {}
    for key, label in (
        ("ed_visits_12m", "  Emergency department visits"),
        ("admissions_12m", "  Hospital admissions"),
        ("missed_appointments_12m", "  Missed appointments"),
    ):
        fill(Utilisation, use, question_for(Utilisation, key, label=label, default="0"))
    draft["utilisation"] = use
    fill(Assessment, draft, question_for(Assessment, "social_needs", optional=True))
    care: dict[str, Any] = {}
    fill(
        Caregiving,
        care,
        question_for(Caregiving, "strain", label="Caregiver strain", default="none"),
    )
    draft["caregiving"] = care


def risk_override(level: str | None, reason: str | None, computed: str | None) -> tuple[str, str]:
    """`risk` given --override or --reason alone: the other half of the pair."""
    from casectl.models.records import RiskOverride

    data: dict[str, Any] = {k: v for k, v in (("level", level), ("reason", reason)) if v}
    intro("A clinician's level is kept beside the computed one, with its reason.")
    if computed:
        say(f"The computed level is {computed}.")
    if level is None:
        fill(RiskOverride, data, "level")
    if reason is None:
        fill(RiskOverride, data, Q("reason", "Why override the computed level?"))
    return str(data["level"]), str(data["reason"])


def agreement(case: Any) -> Question:
    """Who agreed to a plan, offered from the client, the family and team decision-makers."""
    return Q("agreed_by", "Who agreed to the plan?", "ids", offered=deciders(case), many=True)


def care_plan(draft: dict[str, Any], case: Any, config: Any, *, fresh: bool) -> None:
    """`plan`, a new plan: the goals one by one, then (given nothing else) interventions and
    the review interval; who agreed. A revision asks nothing here: the stage says whether it
    changes anything, and only then is asked who agreed (`agreement`)."""
    from casectl.models.records import CarePlan
    from casectl.state import tier_review_days

    if case.current_plan is not None and not fresh:
        return
    if not _lacking(draft, "goals", "agreed_by"):
        return
    bare = not given(draft)
    _about(case, "A new care plan", draft)
    if not draft.get("goals"):
        draft["goals"] = _goals(case)
    if bare:
        items = _interventions(case, tuple((g["id"], g["description"]) for g in draft["goals"]))
        if items:
            draft["interventions"] = items
        days, level = tier_review_days(case, config)
        say(f"Reviews for {level} risk are every {days} days unless the family agrees another.")
        every = Q("review_interval_days", "Review every (2w, 30d, 3m)", "span", default=f"{days}d")
        fill(CarePlan, draft, every)
    if not draft.get("agreed_by"):
        fill(CarePlan, draft, agreement(case))
    if bare:
        fill(CarePlan, draft, question_for(CarePlan, "family_input", optional=True))


def _goals(case: Any) -> list[dict[str, Any]]:
    from casectl.models.records import Goal
    from casectl.models.vocab import GoalDomain
    from casectl.stages.draft import next_handle

    goals: list[dict[str, Any]] = []
    taken = set(case.goal_ids())
    domains = _choices_of(GoalDomain)
    while True:
        # The id the plan will give it, so an intervention can name it before it is saved.
        goal: dict[str, Any] = {"id": next_handle("g", taken | {g["id"] for g in goals})}
        say(f"Goal {goal['id']}:")
        for q in (
            Q("description", "  The goal, in the family's words"),
            Q("domain", "  Domain", "choice", choices=domains, default="health"),
            Q("measure", "  How it is measured"),
            Q("target", "  Target"),
            Q("target_date", "  Target date (YYYY-MM-DD, +6m)", "date"),
            Q("baseline", "  Baseline, where it stands now", optional=True),
        ):
            fill(Goal, goal, q)
        goals.append(goal)
        if not yes("Another goal?", default=False):
            return goals


def _interventions(case: Any, goals: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    from casectl.models.records import Intervention

    items: list[dict[str, Any]] = []
    more = yes("Add an intervention?", default=True)
    while more:
        item: dict[str, Any] = {}
        fill(Intervention, item, Q("description", "  What will be done"))
        fill(Intervention, item, Q("owner", "  Who does it", "ids", offered=people(case)))
        fill(Intervention, item, Q("goal", "  For goal", "ids", offered=goals, optional=True))
        due = Q("due", "  Due date", "date", optional=True, skip="Enter if it recurs instead")
        if fill(Intervention, item, due) is None:
            fill(Intervention, item, Q("frequency", "  How often (weekly, every 2 weeks, monthly)"))
        items.append(item)
        more = yes("Another intervention?", default=False)
    return items


def contact(draft: dict[str, Any], case: Any) -> None:
    """`follow-up`: the mode, who took part and what was said; given nothing else, also the
    outcome, progress on each open goal of the plan, adherence and safety."""
    from casectl.models.records import FollowUp
    from casectl.state import derive

    bare = not given(draft)
    reached = draft.get("outcome", "reached") == "reached"
    needed = _lacking(draft, "mode", "with", *(("summary",) if reached else ()))
    if not bare and not needed:
        return
    _about(case, "A contact", draft)
    if not draft.get("mode"):
        fill(FollowUp, draft, "mode")
    if not draft.get("with"):
        fill(FollowUp, draft, Q("with", "Who took part?", "ids", offered=people(case), many=True))
    if bare:
        fill(FollowUp, draft, question_for(FollowUp, "outcome", default="reached"))
    if draft.get("outcome", "reached") != "reached":
        return
    if not draft.get("summary"):
        fill(FollowUp, draft, "summary")
    if not bare:
        return
    state = derive(case, on=_day(draft))
    _progress(draft, state)
    fill(
        FollowUp,
        draft,
        question_for(FollowUp, "barriers", label="Barriers to the plan", optional=True),
    )
    fill(FollowUp, draft, question_for(FollowUp, "adherence", default="unknown"))
    concern = Q(
        "safety_concerns", "Safety concern reported (abuse, neglect, self-harm)", optional=True
    )
    said = ask(concern)
    if said:
        draft["safety_concerns"] = [*draft.get("safety_concerns", []), said]
    if state.open_safety:
        say_wrapped("Open safety flags: " + "; ".join(f.text for f in state.open_safety))
        fill(FollowUp, draft, Q("safety_action", "What was done about them", optional=True))


def _progress(draft: dict[str, Any], state: Any) -> None:
    from casectl.models.records import GoalProgress
    from casectl.models.vocab import Progress

    goals = [g for g in state.goals if g.open]
    if not goals:
        return
    choices = _choices_of(Progress)
    say_wrapped(f"Progress on each open goal ({', '.join(choices)}); Enter skips a goal:")
    for goal in goals:
        last = f", last noted {goal.progress} on {goal.progress_on}" if goal.progress else ""
        say_wrapped(f"{goal.goal.id}  {goal.goal.description} — {goal.status}{last}", indent="  ")
        item: dict[str, Any] = {"goal": goal.goal.id}
        label = f"  {goal.goal.id} progress"
        q = Q("progress", label, "choice", choices=choices, optional=True, listed=False, skip="")
        if fill(GoalProgress, item, q) is not None:
            draft.setdefault("progress", []).append(item)


def evaluation(draft: dict[str, Any], case: Any) -> None:
    """`evaluate`: whether the care was appropriate, the decision and why; given nothing else,
    also an outcome (and GAS score) for each open goal and the family's satisfaction."""
    from casectl.models.records import Evaluation

    bare = not given(draft)
    needed = _lacking(draft, "care_appropriate", "decision", "decision_reason")
    if draft.get("decision") == "transition":
        needed += _lacking(draft, "transition_to")
    if not bare and not needed:
        return
    _about(case, "An evaluation", draft)
    if bare:
        _outcomes(draft, case)
    if draft.get("care_appropriate") is None:
        fill(Evaluation, draft, "care_appropriate")
    if bare:
        fill(Evaluation, draft, question_for(Evaluation, "satisfaction", optional=True))
    for key in _lacking(draft, "decision", "decision_reason"):
        fill(Evaluation, draft, key)
    if draft.get("decision") == "transition" and not draft.get("transition_to"):
        fill(Evaluation, draft, "transition_to")


def _outcomes(draft: dict[str, Any], case: Any) -> None:
    from casectl.models.records import GoalOutcome
    from casectl.models.vocab import Outcome
    from casectl.state import derive

    goals = [g for g in derive(case, on=_day(draft)).goals if g.open]
    if not goals:
        return
    choices = _choices_of(Outcome)
    say_wrapped(f"Outcome of each open goal ({', '.join(choices)}); Enter skips a goal:")
    for goal in goals:
        gid = goal.goal.id
        say_wrapped(f"{gid}  {goal.goal.description} — {goal.status}", indent="  ")
        item: dict[str, Any] = {"goal": gid}
        q = Q(
            "outcome",
            f"  {gid} outcome",
            "choice",
            choices=choices,
            optional=True,
            listed=False,
            skip="",
        )
        if fill(GoalOutcome, item, q) is None:
            continue
        fill(GoalOutcome, item, Q("gas", f"  {gid} GAS score, -2 to +2", "integer", optional=True))
        draft.setdefault("goal_outcomes", []).append(item)


# What `implement` can record, in the order offered: (choice, what it is, draft key).
_COORDINATION = (
    ("referral", "a new referral to a service", "referrals"),
    ("referral-update", "an answer to a referral already made", "referral_updates"),
    ("appointment", "an appointment booked", "appointments"),
    ("appointment-update", "an appointment attended, missed or cancelled", "appointment_updates"),
    (
        "intervention-update",
        "a plan's intervention started, done or cancelled",
        "intervention_updates",
    ),
    ("education", "education given to the client or family", "education"),
    ("resource", "a community resource connected", "resources_connected"),
)


@dataclass(frozen=True)
class _Open:
    """What updates can name, each id with what it is; the recurring interventions."""

    referrals: tuple[tuple[str, str], ...]
    appointments: tuple[tuple[str, str], ...]
    interventions: tuple[tuple[str, str], ...]
    recurring: frozenset[str]


def coordination(draft: dict[str, Any], case: Any, config: Any) -> None:
    """`implement` given nothing: what to record, item by item, offering the referrals,
    appointments and interventions that updates can name. Each item is then tried on the case
    as it stands, so a rule of the whole case (a referral cannot go back from scheduled to
    accepted; an appointment next week cannot be attended yet) asks again at once."""
    from casectl.state import derive

    if given(draft):
        return
    state = derive(case, on=_day(draft))
    known = _Open(
        referrals=tuple(
            (r.referral.id, f"{r.referral.to} — {r.status} since {r.since}")
            for r in state.referrals
            if r.open
        ),
        appointments=tuple(
            (a.appointment.id, f"{a.appointment.purpose}, {a.appointment.date} — {a.status}")
            for a in state.appointments
            if a.status == "scheduled"
        ),
        interventions=tuple(
            (
                i.intervention.id,
                f"{i.intervention.description} ({i.intervention.owner}) — {i.status}",
            )
            for i in state.interventions
            if i.open
        ),
        recurring=frozenset(i.intervention.id for i in state.interventions if i.recurring),
    )
    possible = {
        "referral-update": bool(known.referrals),
        "appointment-update": bool(known.appointments),
        "intervention-update": bool(known.interventions),
    }
    menu = [(c, what, key) for c, what, key in _COORDINATION if possible.get(c, True)]
    _about(case, "Care coordination", draft)
    while True:
        say("What to record:")
        for choice, what, _ in menu:
            say(f"  {choice.ljust(19)}  {what}")
        choices = tuple(c for c, _, _ in menu)
        picked = ask(Q("what", "Record", "choice", choices=choices, listed=False))
        key = next(k for c, _, k in menu if c == picked)
        model, questions = _item_questions(picked, case, known)
        item: dict[str, Any] = {}
        for q in questions:
            if q.key == "final" and not (
                item.get("status") == "done" and item.get("intervention") in known.recurring
            ):
                continue
            fill(model, item, q)
            # Once the item is whole, try it on the case after every answer.
            while (refusal := _refused(case, config, draft, key, item)) is not None:
                field, reason = refusal
                again = next((a for a in questions if a.key == field and a.key in item), None)
                if again is None:  # not a field asked yet: the write names it
                    break
                say_wrapped(f"{reason}.", indent="  ")
                del item[field]
                fill(model, item, again)
        if not item.get("final", True):
            del item["final"]  # "no" is what a missing `final` says
        draft.setdefault(key, []).append(item)
        if not yes("Record something else?", default=False):
            return


def _item_questions(
    picked: str, case: Any, known: _Open
) -> tuple[type[BaseModel], tuple[Question, ...]]:
    """The record model of an `implement` item and its questions, in order."""
    from casectl.models import records as r
    from casectl.models.vocab import AppointmentStatus, ReferralStatus

    team = tuple((m.id, f"{m.name} ({m.role})") for m in case.care_team)
    if picked == "referral":
        member = Q("member", "  Care-team member it goes to", "ids", offered=team, optional=True)
        return r.Referral, (
            Q("to", "  Service referred to"),
            Q("reason", "  Reason for the referral"),
            *((member,) if team else ()),
            Q("urgency", "  Urgency", "choice", choices=("routine", "urgent"), default="routine"),
        )
    if picked == "referral-update":
        return r.ReferralUpdate, (
            Q("referral", "  Referral", "ids", offered=known.referrals),
            Q("status", "  Now", "choice", choices=_choices_of(ReferralStatus, ("sent",))),
            Q("note", "  Note", optional=True),
        )
    if picked == "appointment":
        return r.Appointment, (
            Q("purpose", "  Purpose"),
            Q("date", "  Date (YYYY-MM-DD, +7d)", "date"),
            Q("with", "  With (a care-team id, or a name)", "ids", offered=team, free=True),
        )
    if picked == "appointment-update":
        statuses = _choices_of(AppointmentStatus, ("scheduled",))
        return r.AppointmentUpdate, (
            Q("appointment", "  Appointment", "ids", offered=known.appointments),
            Q("status", "  Now", "choice", choices=statuses),
        )
    if picked == "intervention-update":
        complete = "  Is the series complete (it does not fall due again)?"
        return r.InterventionUpdate, (
            Q("intervention", "  Intervention", "ids", offered=known.interventions),
            Q("status", "  Now", "choice", choices=("in-progress", "done", "cancelled")),
            Q("final", complete, "yes-no", default="no"),  # asked of a recurring one done
            Q("note", "  Note", optional=True),
        )
    if picked == "education":
        return r.Education, (
            Q("topic", "  Topic"),
            Q("given_to", "  Given to", "ids", offered=people(case)),
            Q("materials", "  Materials given", optional=True),
        )
    return r.ResourceConnection, (
        Q("name", "  Resource"),
        Q("kind", "  Kind (food bank, respite …)", optional=True),
        Q("contact", "  Contact", optional=True),
    )


def _refused(
    case: Any, config: Any, draft: Mapping[str, Any], key: str, item: Mapping[str, Any]
) -> tuple[str, str] | None:
    """The field of `item` a rule of the whole case refuses, and why; None when it fits.

    The item is tried on the case read for offering, through the same stage function and
    case validation as the write, so no rule is written twice; anything else wrong (or a case
    changed meanwhile) is for the write, under the lock, to report."""
    from casectl.dates import today
    from casectl.models.validation import CaseInvalid, validate_case
    from casectl.stages.implement import implement

    items = list(draft.get(key) or [])
    trial = {**draft, key: [*items, dict(item)]}
    try:
        step = implement(case, config, trial, on=_day(draft), by=case.case_manager)
        validate_case(step.case.model_dump(by_alias=True, exclude_none=True), today=today())
    except CaseInvalid as exc:
        where = step.case.coordination.index(step.record)
        for loc, reason in exc.problems:
            if loc[:4] == ("coordination", where, key, len(items)) and len(loc) > 4:
                return str(loc[4]), reason
    except CasectlError:
        pass
    return None
