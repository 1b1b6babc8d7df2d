"""Properties of the store, checked on generated input (hypothesis).

- A valid case written and read back is the same case, whatever text it holds.
- A stage write on a hand-commented file keeps every comment and every line it did not change.
- No bytes and no YAML make the loader fail with anything but casectl's own error, in one line.

The default run keeps example counts modest; `python tests/fuzz/run_fuzz.py` runs the same
properties for longer (CASECTL_FUZZ_EXAMPLES sets the count per property).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from casectl.clinical.risk import assess_risk
from casectl.config import Config
from casectl.errors import CasectlError, InvalidCaseFile
from casectl.models.case import Case
from casectl.models.people import CareTeamMember, Client, Contact, FamilyMember
from casectl.models.records import (
    Appointment,
    Assessment,
    CarePlan,
    Coordination,
    Diagnosis,
    Education,
    FollowUp,
    Goal,
    GoalProgress,
    Intervention,
    Referral,
    Screening,
    Situation,
    Vitals,
)
from casectl.stages import append
from casectl.stages import records as stage
from casectl.stages.lifecycle import open_case
from casectl.store import CaseStore, yamlio
from casectl.text import UNSAFE, UNSAFE_ONE_LINE

TODAY = dt.date(2026, 11, 25)
# Examples per property: 100 for the loader, half that for properties that write files.
EXAMPLES = int(os.environ.get("CASECTL_FUZZ_EXAMPLES", "100"))
CORPUS = Path(__file__).parent / "hostile"
FAST = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
WRITES = settings(FAST, max_examples=max(1, EXAMPLES // 2))

# Text a person might type that YAML reads as something else unless it is quoted with care.
AWKWARD = [
    "null", "~", "yes", "no", "on", "true", "False", "1", "-1", "0x1F", "0o17", "1e3", ".inf",
    ".nan", "1_000", "2026-01-05", "2026-2-30", "2026-02-30", "2026-01-05 09:30:00", "12:30",
    "- item", "? key", "key: value", "# not a comment", "a #b", "&anchor", "*alias", "!tag",
    "%YAML", "@home", "`cmd`", "|", ">", "'quoted'", '"double"', "back\\slash", "{a: 1}",
    "[1, 2]", "---", "...", "<<", "=", "tab\there", "line one\nline two", "trailing\n\nblank",
    "  indented\nnot", "\u00e9t\u00e9", "\u4e2d\u6587", "\U0001f600", "x\u0085y", "x\u2028y",
    "bell\u0007", "nul\u0000byte", "cr\rlf", "bom\ufeff", "\u200b", "  spaced  ", "_", "-_",
    "+_", "0x_", "0b_", "._", "-.inf", "1__0", "0:30",
]  # fmt: skip


def text(*, free: bool = False) -> st.SearchStrategy[str]:
    """Non-blank text: typed, pasted, or one of the awkward kinds above, alone or combined.

    Less what no field takes (casectl.text: control characters, bidi overrides), and, unless
    `free` (notes, reasons, summaries), tabs and line breaks too; test_models.py checks that
    those are refused.
    """
    plain = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30)
    awkward = st.sampled_from(AWKWARD)
    mixed = st.lists(st.one_of(awkward, plain), min_size=1, max_size=3).map(" ".join)
    unsafe = UNSAFE if free else UNSAFE_ONE_LINE
    return (
        st.one_of(plain, awkward, mixed)
        .map(lambda s: unsafe.sub("", s))
        .filter(lambda s: s.strip() != "")
    )


def dates(low: dt.date, high: dt.date = TODAY) -> st.SearchStrategy[dt.date]:
    return st.dates(min_value=low, max_value=high)


HANDLES = ["mother", "father", "grandma", "aunt-1", "pcp", "school", "pt", "insurer"]
ROLES = ["primary-care", "school", "therapist", "insurer", "specialist"]
ICD10 = [None, "J45.40", "E10.9", "G80.1", "F84.0", "Q90.9"]


@st.composite
def cases(draw: st.DrawFn) -> tuple[Case, list[Callable[[Case], Case]]]:
    """A new case and the stage steps that take it through the process, all valid."""
    dob = draw(dates(dt.date(1930, 1, 1), dt.date(2025, 12, 31)))
    opened = draw(dates(max(dob, dt.date(2020, 1, 1))))
    handles = draw(st.lists(st.sampled_from(HANDLES), unique=True, max_size=4))
    split = draw(st.integers(0, len(handles)))
    family = [
        FamilyMember(
            id=h,
            name=draw(text()),
            relationship=draw(text()),
            decision_maker=draw(st.booleans()),
            language=draw(st.sampled_from([None, "es", "vi", "zh-Hant"])),
        )
        for h in handles[:split]
    ]
    team = [
        CareTeamMember(id=h, name=draw(text()), role=draw(st.sampled_from(ROLES)))
        for h in handles[split:]
    ]
    contact = draw(st.one_of(st.none(), st.builds(Contact, phone=text(), address=text(free=True))))
    client = Client(
        name=draw(text()),
        dob=dob,
        sex=draw(st.sampled_from(["female", "male", "other", "unknown"])),
        preferred_language=draw(st.sampled_from(["en", "es", "vi", "ar"])),
        interpreter_needed=draw(st.booleans()),
        cultural_considerations=draw(st.one_of(st.none(), text(free=True))),
        contact=contact,
    )
    case = open_case(
        "C-2026-0001",
        client,
        opened=opened,
        case_manager=draw(text()),
        family=family,
        care_team=team,
    )
    people = ["client", "case-manager", *handles]
    deciders = ["client", *[m.id for m in family]]
    by = draw(text())

    def day() -> dt.date:
        return draw(dates(opened))

    steps: list[Callable[[Case], Case]] = []
    screening = Screening(
        date=day(),
        recorded_by=by,
        referral_source=draw(text()),
        referral_reason=draw(text(free=True)),
        records_reviewed=draw(st.lists(text(), max_size=2)),
        situation=Situation(living=draw(st.one_of(st.none(), text(free=True)))),
        eligible=draw(st.booleans()),
        eligibility_reason=draw(text(free=True)),
    )
    steps.append(lambda c: stage.screen(c, screening))
    systolic = draw(st.integers(60, 200))
    vitals = Vitals(
        height_cm=draw(st.one_of(st.none(), st.floats(50, 200).map(lambda v: round(v, 1)))),
        weight_kg=draw(st.one_of(st.none(), st.floats(3, 150).map(lambda v: round(v, 1)))),
        systolic=systolic,
        diastolic=draw(st.integers(30, systolic - 1)),
    )
    diagnoses = [
        Diagnosis(description=draw(text()), icd10=draw(st.sampled_from(ICD10)))
        for _ in range(draw(st.integers(0, 2)))
    ]
    assessed_on = day()
    assessment = Assessment(
        date=assessed_on,
        recorded_by=by,
        health_status=draw(text(free=True)),
        diagnoses=diagnoses,
        allergies=draw(st.lists(text(), max_size=2)),
        vitals=draw(st.one_of(st.none(), st.just(vitals))),
        family_dynamics=draw(st.one_of(st.none(), text(free=True))),
    )
    steps.append(lambda c: stage.assess(c, assessment))
    steps.append(
        lambda c: append(c, "risk", assess_risk(c, Config(), on=assessed_on, recorded_by=by))
    )
    goals = [
        Goal(
            id=f"g{n}",
            domain="health",
            description=draw(text()),
            measure=draw(text()),
            target=draw(text()),
            baseline=draw(st.one_of(st.none(), text())),
            target_date=draw(dates(opened, dt.date(2028, 1, 1))),
        )
        for n in range(1, draw(st.integers(1, 3)) + 1)
    ]
    plan = CarePlan(
        date=day(),
        recorded_by=by,
        goals=goals,
        interventions=[
            Intervention(
                id="i1",
                description=draw(text()),
                owner=draw(st.sampled_from(people)),
                goal="g1",
                frequency=draw(text()),
            )
        ],
        review_interval_days=draw(st.integers(1, 366)),
        agreed_by=[draw(st.sampled_from(deciders))],
        family_input=draw(st.one_of(st.none(), text(free=True))),
    )
    steps.append(lambda c: stage.plan(c, plan))
    coordination = Coordination(
        date=day(),
        recorded_by=by,
        referrals=[Referral(id="r1", to=draw(text()), reason=draw(text(free=True)))],
        appointments=[
            Appointment.model_validate(
                {
                    "id": "a1",
                    "date": draw(dates(opened, dt.date(2027, 6, 1))),
                    "with": draw(text()),
                    "purpose": draw(text()),
                }
            )
        ],
        education=[Education(topic=draw(text()), given_to=draw(st.sampled_from(people)))],
    )
    steps.append(lambda c: stage.implement(c, coordination))
    for _ in range(draw(st.integers(0, 2))):
        contact_on = day()
        follow_up = FollowUp.model_validate(
            {
                "date": contact_on,
                "recorded_by": by,
                "mode": draw(st.sampled_from(["phone", "video", "home-visit"])),
                "with": [draw(st.sampled_from(people))],
                "summary": draw(text(free=True)),
                "progress": [
                    GoalProgress(
                        goal=g.id,
                        progress="improving",
                        note=draw(st.one_of(st.none(), text(free=True))),
                    )
                    for g in goals[: draw(st.integers(0, len(goals)))]
                ],
                "barriers": draw(st.lists(text(), max_size=2)),
                "next_review": draw(dates(contact_on, dt.date(2027, 12, 31))),
            }
        )
        steps.append(lambda c, f=follow_up: stage.follow_up(c, f))
    return case, steps


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Durability is test_crash.py's subject; here fsync only costs time."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


def comparable(case: Case) -> dict[str, Any]:
    return case.model_dump(mode="json", by_alias=True)


@WRITES
@given(made=cases())
def test_a_valid_case_written_and_read_back_is_the_same_case(
    tmp_path: Path, made: tuple[Case, list[Callable[[Case], Case]]]
) -> None:
    case, steps = made
    root = tmp_path / f"round-trip-{os.urandom(4).hex()}"
    root.mkdir()
    store = CaseStore(root, today=TODAY)
    store.create(case)
    assert comparable(store.load(case.id).case) == comparable(case)

    def all_steps(current: Case) -> Case:
        for step in steps:
            current = step(current)
        return current

    expected = all_steps(case)
    saved = store.update(case.id, all_steps)
    assert comparable(saved) == comparable(expected)
    again = CaseStore(root, today=TODAY).load(case.id)
    assert comparable(again.case) == comparable(expected)
    # And one more write on top reads back too (the patched document, not a fresh dump).
    store.update(case.id, lambda c: c.model_copy(update={"case_manager": "K. Osei"}))
    final = CaseStore(root, today=TODAY).load(case.id).case
    assert comparable(final) == {**comparable(expected), "case_manager": "K. Osei"}


# --- comments survive ---

COMMENTED = (CORPUS / "valid.yaml").read_text("utf-8")
# A comment on every kind of line: top level, in mappings, in lists, at the end, indented.
for old, new in [
    ("care_team:\n", "# the people around the family\ncare_team:   # consent on file\n"),
    (
        "    referral_source: school nurse\n",
        "    # asked by phone\n    referral_source: school nurse   # the nurse, Ms Lee\n",
    ),
    ("      - id: g1\n", "      # the family's own words\n      - id: g1\n"),
    ("evaluations: []\n", "evaluations: []\n# end of file: nothing below is read\n"),
]:
    COMMENTED = COMMENTED.replace(old, new, 1)


def comments(text: str) -> list[str]:
    return [m.group(0).rstrip() for m in re.finditer(r"(?m)#.*$", text)]


def is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(item in it for item in small)


@st.composite
def stage_writes(draw: st.DrawFn) -> Callable[[Case], Case]:
    on = draw(dates(dt.date(2026, 2, 1)))
    by = draw(text())
    kind = draw(st.sampled_from(["screen", "assess", "implement", "follow-up", "plan", "family"]))
    if kind == "screen":
        record: Any = Screening(
            date=on,
            recorded_by=by,
            referral_source=draw(text()),
            referral_reason=draw(text(free=True)),
            eligible=True,
            eligibility_reason=draw(text(free=True)),
        )
        return lambda c: stage.screen(c, record)
    if kind == "assess":
        record = Assessment(
            date=on,
            recorded_by=by,
            health_status=draw(text(free=True)),
            allergies=draw(st.lists(text(), max_size=2)),
        )
        return lambda c: stage.assess(c, record)
    if kind == "implement":
        record = Coordination(
            date=on, recorded_by=by, education=[Education(topic=draw(text()), given_to="father")]
        )
        return lambda c: stage.implement(c, record)
    if kind == "plan":
        goal = Goal(
            id="g1",
            domain="health",
            description=draw(text()),
            measure=draw(text()),
            target=draw(text()),
            target_date=on,
        )
        record = CarePlan(
            date=on, recorded_by=by, goals=[goal], review_interval_days=30, agreed_by=["father"]
        )
        return lambda c: stage.plan(c, record)
    if kind == "family":
        member = FamilyMember(
            id=f"aunt-{draw(st.integers(0, 999))}", name=draw(text()), relationship=draw(text())
        )
        return lambda c: c.model_copy(
            update={"family": [*[m for m in c.family if m.id != member.id], member]}
        )
    record = FollowUp.model_validate(
        {
            "date": on,
            "recorded_by": by,
            "mode": "phone",
            "with": ["father"],
            "summary": draw(text(free=True)),
            "next_review": TODAY,
        }
    )
    return lambda c: stage.follow_up(c, record)


@WRITES
@given(writes=st.lists(stage_writes(), min_size=1, max_size=3))
def test_stage_writes_keep_every_comment_and_every_untouched_line(
    tmp_path: Path, writes: list[Callable[[Case], Case]]
) -> None:
    root = tmp_path / f"comments-{os.urandom(4).hex()}"
    root.mkdir()
    path = root / "C-2026-0042.yaml"
    path.write_text(COMMENTED, "utf-8")
    store = CaseStore(root, today=TODAY)
    for write in writes:
        store.update("C-2026-0042", write)
    after = path.read_text("utf-8")
    # Every comment the person wrote is still there, in order (text may add `#` in values).
    assert is_subsequence(comments(COMMENTED), comments(after))
    untouched = [line for line in COMMENTED.splitlines() if not line.endswith("[]")]
    assert is_subsequence(untouched, after.splitlines())


# --- the loader fails only with casectl's own error ---


def parse_or_casectl_error(raw: bytes) -> None:
    store = CaseStore(Path("/nonexistent/cases"), today=TODAY)
    try:
        store.parse(Path("/nonexistent/cases/C-2026-0042.yaml"), raw)
    except CasectlError as exc:
        message = exc.message
        assert "\n" not in message, message
        assert len(message) < 400, message
        if isinstance(exc, InvalidCaseFile):
            assert exc.problems and all(len(p.message) <= 300 for p in exc.problems)


VALID = (CORPUS / "valid.yaml").read_bytes()


@FAST
@given(raw=st.binary(max_size=2000))
def test_random_bytes_never_crash_the_loader(raw: bytes) -> None:
    parse_or_casectl_error(raw)


@FAST
@given(cut=st.integers(0, len(VALID)), junk=st.binary(max_size=40), keep=st.integers(0, len(VALID)))
def test_a_damaged_case_file_never_crashes_the_loader(cut: int, junk: bytes, keep: int) -> None:
    parse_or_casectl_error(VALID[:cut] + junk + VALID[keep:])


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.dates(),
    st.datetimes(),
    text(),
)
plain_yaml = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(text(), st.integers()), inner, max_size=4),
    ),
    max_leaves=20,
)


def dump(data: Any) -> bytes:
    import io

    out = io.StringIO()
    yaml = YAML(typ="rt")
    yaml.representer.ignore_aliases = lambda *_: True  # type: ignore[method-assign]
    yaml.dump(data, out)
    return out.getvalue().encode("utf-8", "surrogatepass")


@FAST
@given(data=plain_yaml)
def test_random_yaml_never_crashes_the_loader(data: Any) -> None:
    parse_or_casectl_error(dump(data))


VALID_DATA = yamlio.to_plain(yamlio.load(VALID.decode()).tree)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            found += paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += paths(v, (*prefix, i))
    return found


@FAST
@given(where=st.sampled_from(paths(VALID_DATA)), value=plain_yaml, drop=st.booleans())
def test_a_case_with_one_value_changed_fails_only_with_casectl_s_error(
    where: tuple[Any, ...], value: Any, drop: bool
) -> None:
    import copy

    data = copy.deepcopy(VALID_DATA)
    parent = data
    for part in where[:-1]:
        parent = parent[part]
    if drop:
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    assume(data != VALID_DATA)
    parse_or_casectl_error(dump(data))


def test_a_whole_section_of_the_wrong_type_is_named_not_printed() -> None:
    data = dict(VALID_DATA)
    data["client"] = [VALID_DATA["client"]] * 200  # a list where the client mapping belongs
    with pytest.raises(InvalidCaseFile) as caught:
        CaseStore(Path("/x"), today=TODAY).parse(Path("/x/C-2026-0042.yaml"), dump(data))
    assert str(caught.value).endswith("client: should be a mapping of keys to values, not a list")
    assert "Tom" not in str(caught.value)
