"""The derived current state (casectl.state) and the stage functions (casectl.stages), tested as
functions: a case built step by step in memory, no files and no command line.

Each test reads like a case manager's week: what was recorded, on which day, and where the case
stands afterwards — goal and intervention statuses, what falls due, which safety flags are open.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from casectl.config import Config
from casectl.errors import InvalidInput, StageOrderError
from casectl.models.case import Case
from casectl.models.people import CareTeamMember, Client, FamilyMember
from casectl.review.worklist import review_facts
from casectl.stages.assess import assess
from casectl.stages.draft import DraftInvalid
from casectl.stages.evaluate import evaluate
from casectl.stages.follow_up import follow_up
from casectl.stages.implement import implement
from casectl.stages.instruments import instrument_record
from casectl.stages.lifecycle import open_case
from casectl.stages.plan import plan
from casectl.stages.risk import risk
from casectl.stages.screen import screen
from casectl.state import CaseState, derive

CONFIG = Config()
BY = "J. Rivera"


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def new_case(dob: str = "2012-03-04", sex: str = "female") -> Case:
    return open_case(
        "C-2026-0001",
        Client.model_validate({"name": "Ana Test", "dob": dob, "sex": sex}),
        opened=day("2026-05-01"),
        case_manager=BY,
        family=[
            FamilyMember(
                id="mother",
                name="Rosa Test",
                relationship="mother",
                legal_guardian=True,
                decision_maker=True,
            )
        ],
        care_team=[CareTeamMember(id="pcp", name="Dr. Ruiz", role="primary-care")],
    )


def screened(case: Case | None = None, on: str = "2026-05-01", **extra: Any) -> Case:
    draft = {
        "referral_source": "PCP",
        "referral_reason": "asthma",
        "eligible": True,
        "eligibility_reason": "complex needs",
        **extra,
    }
    return screen(case or new_case(), draft, on=day(on), by=BY).case


def planned(on: str = "2026-05-10", **draft: Any) -> Case:
    case = screened()
    case = assess(case, {"health_status": "stable"}, on=day("2026-05-05"), by=BY).case
    case = risk(case, CONFIG, on=day("2026-05-05"), by=BY).case
    draft = {
        "goals": [
            {
                "description": "No ED visits",
                "measure": "ED visits",
                "target": "0",
                "target_date": day("2026-12-31"),
            },
        ],
        "interventions": [
            {"description": "Action plan review", "owner": "pcp", "due": day("2026-06-01")},
            {"description": "Spacer teaching", "owner": "mother", "frequency": "weekly"},
        ],
        "review_interval_days": 30,
        "agreed_by": ["mother"],
        **draft,
    }
    return plan(case, CONFIG, draft, on=day(on), by=BY).case


def contact(case: Case, on: str, **draft: Any) -> Case:
    base: dict[str, Any] = {"mode": "phone", "with": ["mother"], "summary": "talked"}
    base.update(draft)
    return follow_up(case, CONFIG, base, on=day(on), by=BY).case


def coordinate(case: Case, on: str, **draft: Any) -> Case:
    return implement(case, CONFIG, draft, on=day(on), by=BY).case


def state(case: Case, on: str) -> CaseState:
    return derive(case, on=day(on))


def facts(case: Case, on: str) -> list[tuple[str, str, str | None]]:
    return [(f.kind, f.due, f.item) for f in review_facts(state(case, on), CONFIG)]


# --- goals ---


def test_a_goal_moves_with_progress_outcomes_and_revisions() -> None:
    case = planned()
    assert state(case, "2026-05-10").goal("g1").status == "not-started"  # type: ignore[union-attr]
    case = contact(case, "2026-06-01", progress=[{"goal": "g1", "progress": "improving"}])
    g1 = state(case, "2026-06-01").goal("g1")
    assert g1 is not None and (g1.status, g1.since, g1.progress) == (
        "in-progress",
        day("2026-06-01"),
        "improving",
    )
    case = contact(case, "2026-07-01", progress=[{"goal": "g1", "progress": "achieved"}])
    assert state(case, "2026-07-01").goal("g1").status == "achieved"  # type: ignore[union-attr]
    # An achieved goal is never on the review, even after its target date.
    assert ("goal", "2026-12-31", "g1") not in facts(case, "2027-02-01")
    # A revision carries the achieved status; one written by hand as not-started does not undo it.
    revised = plan(
        case,
        CONFIG,
        {
            "goals": [
                {
                    "description": "Sleeps through",
                    "measure": "nights",
                    "target": "7",
                    "target_date": day("2027-01-31"),
                }
            ],
            "agreed_by": ["mother"],
        },
        on=day("2026-07-15"),
        by=BY,
    )
    assert [(g.id, g.status) for g in revised.record.goals] == [
        ("g1", "achieved"),
        ("g2", "not-started"),
    ]
    hand = revised.case.model_copy(deep=True)
    hand.care_plans[-1].goals[0].status = "not-started"
    assert state(hand, "2026-07-15").goal("g1").status == "achieved"  # type: ignore[union-attr]
    # An evaluation's outcome sets the status.
    case = evaluate(
        revised.case,
        {
            "goal_outcomes": [{"goal": "g2", "outcome": "partly-achieved"}],
            "care_appropriate": True,
            "decision": "continue",
            "decision_reason": "keep going",
        },
        on=day("2026-08-01"),
        by=BY,
    ).case
    assert state(case, "2026-08-01").goal("g2").status == "partly-achieved"  # type: ignore[union-attr]
    # A state as of an earlier day leaves later records out.
    assert state(case, "2026-06-15").goal("g1").status == "in-progress"  # type: ignore[union-attr]


def test_a_plan_revision_keeps_ids_adds_new_ones_and_same_input_twice_changes_nothing() -> None:
    case = planned()
    again = {
        "goals": [
            {
                "description": "no ed visits",
                "measure": "ED visits",
                "target": "0",
                "target_date": day("2026-12-31"),
            }
        ],
        "agreed_by": ["mother"],
    }
    step = plan(case, CONFIG, again, on=day("2026-06-01"), by=BY)
    assert not step.changed and step.case is case
    assert step.notes == ("nothing changed: the plan of 2026-05-10 already says this",)
    more = {
        "goals": [
            {
                "description": "Uses spacer",
                "measure": "observed",
                "target": "5 of 5",
                "target_date": day("2026-09-30"),
            }
        ],
        "agreed_by": ["mother"],
    }
    step = plan(case, CONFIG, more, on=day("2026-06-01"), by=BY)
    assert step.changed and [g.id for g in step.record.goals] == ["g1", "g2"]
    assert [i.id for i in step.record.interventions] == ["i1", "i2"]
    assert len(step.case.care_plans) == 2  # the history stays
    assert not plan(step.case, CONFIG, more, on=day("2026-06-02"), by=BY).changed
    # By id: the goal is updated in place.
    by_id = {"goals": [{"id": "g2", "target": "4 of 5"}], "agreed_by": ["mother"]}
    step = plan(step.case, CONFIG, by_id, on=day("2026-06-03"), by=BY)
    assert [(g.id, g.target) for g in step.record.goals] == [("g1", "0"), ("g2", "4 of 5")]


def test_discontinuing_a_goal_ends_it_with_its_reason_and_a_revision_needs_agreement() -> None:
    case = planned()
    with pytest.raises(DraftInvalid) as missing:
        plan(
            case,
            CONFIG,
            {},
            on=day("2026-06-01"),
            by=BY,
            discontinue=[("g1", "family chose school first")],
        )
    assert missing.value.missing == ["agreed_by"]
    step = plan(
        case,
        CONFIG,
        {"agreed_by": ["mother"]},
        on=day("2026-06-01"),
        by=BY,
        discontinue=[("g1", "family chose school first"), ("i2", "not needed")],
    )
    g1 = state(step.case, "2026-06-01").goal("g1")
    assert g1 is not None and (g1.status, g1.reason) == (
        "discontinued",
        "family chose school first",
    )
    assert [(d.item, d.reason) for d in step.record.discontinued] == [
        ("g1", "family chose school first"),
        ("i2", "not needed"),
    ]
    assert not any(kind in ("goal",) for kind, _, _ in facts(step.case, "2027-06-01"))
    assert ("intervention", "2026-05-17", "i2") not in facts(step.case, "2026-06-01")
    # Discontinuing again records nothing more.
    assert not plan(
        step.case,
        CONFIG,
        {"agreed_by": ["mother"]},
        on=day("2026-06-02"),
        by=BY,
        discontinue=[("g1", "again")],
    ).changed
    with pytest.raises(InvalidInput, match="not a goal or intervention"):
        plan(
            step.case,
            CONFIG,
            {"agreed_by": ["mother"]},
            on=day("2026-06-02"),
            by=BY,
            discontinue=[("g9", "x")],
        )


def test_a_new_plan_never_reuses_an_earlier_plans_goal_ids() -> None:
    case = planned()
    fresh = {
        "goals": [
            {
                "description": "Attends school",
                "measure": "days",
                "target": "all",
                "target_date": day("2026-12-01"),
            }
        ],
        "agreed_by": ["mother"],
    }
    step = plan(case, CONFIG, fresh, on=day("2026-06-01"), by=BY, fresh=True)
    assert [g.id for g in step.record.goals] == ["g2"]
    with pytest.raises(InvalidInput, match="belonged to an earlier plan"):
        plan(
            step.case,
            CONFIG,
            {
                "goals": [
                    {
                        "id": "g1",
                        "description": "x",
                        "measure": "m",
                        "target": "t",
                        "target_date": day("2026-12-01"),
                    }
                ],
                "agreed_by": ["mother"],
            },
            on=day("2026-06-02"),
            by=BY,
        )


def test_plan_without_an_interval_takes_the_risk_tiers_default() -> None:
    case = planned(review_interval_days=None)
    interval = case.care_plans[-1].review_interval_days
    level = case.risk_assessments[-1].effective_level
    assert interval == getattr(CONFIG.review, f"interval_{level}_days")


# --- interventions ---


def test_a_one_off_intervention_is_due_until_done_or_cancelled() -> None:
    case = planned()
    assert ("intervention", "2026-06-01", "i1") in facts(case, "2026-06-10")
    done = coordinate(
        case,
        "2026-06-05",
        intervention_updates=[
            {"intervention": "i1", "status": "done", "note": "reviewed with mother"}
        ],
    )
    i1 = state(done, "2026-06-05").interventions[0]
    assert (i1.status, i1.last_done, i1.next_due, i1.note) == (
        "done",
        day("2026-06-05"),
        None,
        "reviewed with mother",
    )
    assert not any(item == "i1" for _, _, item in facts(done, "2026-06-10"))
    cancelled = coordinate(
        case, "2026-06-05", intervention_updates=[{"intervention": "i1", "status": "cancelled"}]
    )
    assert not any(item == "i1" for _, _, item in facts(cancelled, "2026-06-10"))


def test_a_recurring_intervention_falls_due_again_after_each_done_date() -> None:
    case = planned()  # "Spacer teaching", weekly, planned 2026-05-10
    assert ("intervention", "2026-05-17", "i2") in facts(case, "2026-05-20")
    case = coordinate(
        case, "2026-05-18", intervention_updates=[{"intervention": "i2", "status": "done"}]
    )
    i2 = state(case, "2026-05-18").interventions[1]
    assert (i2.status, i2.next_due, i2.times_done, i2.recurring) == (
        "in-progress",
        day("2026-05-25"),
        1,
        True,
    )
    case = coordinate(
        case, "2026-05-26", intervention_updates=[{"intervention": "i2", "status": "done"}]
    )
    assert ("intervention", "2026-06-02", "i2") in facts(case, "2026-06-01")
    case = coordinate(
        case,
        "2026-06-02",
        intervention_updates=[{"intervention": "i2", "status": "done", "final": True}],
    )
    i2 = state(case, "2026-06-02").interventions[1]
    assert (i2.status, i2.next_due, i2.times_done) == ("done", None, 3)


@pytest.mark.parametrize(
    ("frequency", "first_due"),
    [
        ("every 2 weeks", "2026-05-24"),
        ("monthly", "2026-06-10"),
        ("every 3 months", "2026-08-10"),
        ("twice daily", None),
        ("as needed", None),
        ("nightly", None),
    ],
)
def test_only_periods_of_a_week_or_more_are_dated(frequency: str, first_due: str | None) -> None:
    case = planned(interventions=[{"description": "Task", "owner": "pcp", "frequency": frequency}])
    assert state(case, "2026-05-10").interventions[0].next_due == (
        day(first_due) if first_due else None
    )


def test_an_intervention_update_must_name_one_of_the_plan() -> None:
    with pytest.raises(InvalidInput, match="not an intervention of the plan in force"):
        coordinate(
            planned(), "2026-06-01", intervention_updates=[{"intervention": "i9", "status": "done"}]
        )


# --- referrals, appointments, contacts before the plan ---


def test_referrals_are_chased_until_completed_and_get_ids_inside_the_step() -> None:
    case = screened()
    case = coordinate(
        case,
        "2026-05-02",
        referrals=[
            {"to": "Crisis unit", "reason": "overdose", "urgency": "urgent"},
            {"to": "Food bank", "reason": "food"},
        ],
    )
    assert [r.id for r in case.coordination[-1].referrals] == ["r1", "r2"]
    # Sent: chased after referral_no_response_days (14).
    assert ("referral", "2026-05-16", "r1") in facts(case, "2026-05-20")
    case = coordinate(
        case,
        "2026-05-10",
        referral_updates=[
            {"referral": "r1", "status": "accepted"},
            {"referral": "r2", "status": "completed"},
        ],
    )
    # Accepted: chased after referral_followup_days (30); completed: never.
    got = [f for f in facts(case, "2026-06-20") if f[0] == "referral"]
    assert got == [("referral", "2026-06-09", "r1")]


def test_a_contact_before_any_plan_and_a_failed_attempt() -> None:
    with pytest.raises(StageOrderError, match="needs a screening"):
        contact(new_case(), "2026-05-01")
    case = screened()
    attempt = follow_up(
        case,
        CONFIG,
        {"mode": "phone", "with": ["mother"], "outcome": "no-answer"},
        on=day("2026-05-02"),
        by=BY,
    )
    assert attempt.record.summary is None and attempt.record.next_review is None
    case = contact(attempt.case, "2026-05-03", summary="intake call")
    s = state(case, "2026-05-03")
    assert (s.last_contact.date, s.last_attempt.date) == (day("2026-05-03"), day("2026-05-03"))  # type: ignore[union-attr]
    with pytest.raises(StageOrderError, match="progress toward goals needs a care plan"):
        contact(case, "2026-05-04", progress=[{"goal": "g1", "progress": "improving"}])
    with pytest.raises(DraftInvalid) as missing:
        follow_up(case, CONFIG, {"mode": "phone", "with": ["mother"]}, on=day("2026-05-04"), by=BY)
    assert missing.value.missing == ["summary"]


def test_the_next_review_is_set_by_a_contact_that_reached_someone() -> None:
    case = planned()  # review every 30 d: 2026-06-09
    assert state(case, "2026-05-10").next_review == day("2026-06-09")
    case = contact(case, "2026-06-01")
    assert state(case, "2026-06-01").next_review == day("2026-07-01")
    case = follow_up(
        case,
        CONFIG,
        {"mode": "phone", "with": ["mother"], "outcome": "left-message"},
        on=day("2026-07-02"),
        by=BY,
    ).case
    assert state(case, "2026-07-02").next_review == day("2026-07-01")  # still due


# --- safety ---


def _phq9(answers: str) -> dict[str, Any]:
    return instrument_record("phq-9", answers).model_dump(exclude_unset=True)


def test_a_positive_item_9_is_a_safety_item_due_that_day_until_acted_on() -> None:
    case = screened(on="2026-05-01", instruments=[_phq9("1,1,1,1,1,1,1,1,1")])
    flags = state(case, "2026-05-01").open_safety
    assert [(f.code, f.raised) for f in flags] == [("phq9-item9-self-harm", day("2026-05-01"))]
    assert facts(case, "2026-05-01")[0] == ("safety", "2026-05-01", None)
    # A contact that records no action leaves it open; one that records the action closes it.
    case = contact(case, "2026-05-02")
    assert state(case, "2026-05-02").open_safety
    case = contact(
        case, "2026-05-03", safety_action="safety plan with teen and mother; crisis line given"
    )
    s = state(case, "2026-05-03")
    assert not s.open_safety and s.safety[0].acted_on == day("2026-05-03")
    assert not any(kind == "safety" for kind, _, _ in facts(case, "2026-05-03"))


def test_an_action_before_the_flag_does_not_close_it() -> None:
    case = screened()
    case = contact(case, "2026-05-02", safety_action="earlier plan")
    case = contact(
        case, "2026-05-05", safety_concerns=["school nurse reports bruises; suspected neglect"]
    )
    (flag,) = state(case, "2026-05-05").open_safety
    assert (flag.code, flag.raised, flag.text) == (
        "safety-concern",
        day("2026-05-05"),
        "school nurse reports bruises; suspected neglect",
    )


@pytest.mark.parametrize(
    ("systolic", "diastolic", "urgent"),
    [(190, 125, True), (181, 100, True), (180, 120, False), (141, 91, False)],
)
def test_a_blood_pressure_in_the_urgency_range_is_a_safety_flag_and_forces_high(
    systolic: int, diastolic: int, urgent: bool
) -> None:
    case = screened(new_case(dob="1980-01-01", sex="male"))
    case = assess(
        case,
        {
            "health_status": "stroke recovery",
            "vitals": {"systolic": systolic, "diastolic": diastolic},
        },
        on=day("2026-05-05"),
        by=BY,
    ).case
    codes = [f.code for f in state(case, "2026-05-05").open_safety]
    assert codes == (["bp-hypertensive-urgency"] if urgent else [])
    record = risk(case, CONFIG, on=day("2026-05-05"), by=BY).record
    factors = {f.factor: f for f in record.factors}
    if urgent:
        assert factors["hypertensive urgency"].forces_high and record.level == "high"
        assert "blood pressure" not in factors  # urgency is its own factor, not stage 2 as well
    else:
        assert "hypertensive urgency" not in factors
        assert "stage2" in factors["blood pressure"].detail


def test_stages_refuse_a_closed_case() -> None:
    case = planned()
    closed = evaluate(
        case,
        {"care_appropriate": True, "decision": "close", "decision_reason": "goals met"},
        on=day("2026-06-01"),
        by=BY,
    ).case
    assert closed.status == "closed"
    with pytest.raises(StageOrderError, match="reopen"):
        contact(closed, "2026-06-02")


def test_an_urgent_reading_in_a_child_still_lets_growth_count() -> None:
    # Boy of 10 at the 50th height percentile: AAP 2017 Table 4 95th percentile 116/77, so the
    # same-day threshold is above 146/107 (Table 11); 150/80 is above it.
    case = screened(new_case(dob="2016-01-10", sex="male"))
    vitals = {"systolic": 150, "diastolic": 80, "height_cm": 141.3, "weight_kg": 33}
    case = assess(
        case, {"health_status": "headaches", "vitals": vitals}, on=day("2026-05-05"), by=BY
    ).case
    factors = {f.factor for f in risk(case, CONFIG, on=day("2026-05-05"), by=BY).record.factors}
    assert {"hypertensive urgency", "growth"} <= factors
    assert [f.code for f in state(case, "2026-05-05").open_safety] == ["bp-hypertensive-urgency"]


def test_a_referral_booked_for_a_day_is_chased_the_day_after_it() -> None:
    case = screened()
    case = coordinate(case, "2026-05-02", referrals=[{"to": "Audiology", "reason": "hearing test"}])
    case = coordinate(
        case,
        "2026-05-10",
        referral_updates=[{"referral": "r1", "status": "scheduled", "date": day("2026-07-01")}],
    )
    facts_then = [
        f for f in review_facts(state(case, "2026-06-15"), CONFIG) if f.kind == "referral"
    ]
    assert [
        (f.due, f.what.endswith("booked for 2026-07-01; did it happen?")) for f in facts_then
    ] == [("2026-07-02", True)]


def test_a_family_members_own_form_is_named_in_the_flag() -> None:
    phq = instrument_record("phq-9", "1,1,1,1,1,1,1,1,1").model_dump(exclude_unset=True)
    case = contact(planned(), "2026-06-01", instruments=[{**phq, "member": "mother"}])
    (flag,) = state(case, "2026-06-01").open_safety
    assert flag.source == "follow-up 2026-06-01, phq-9 (mother's own form)"
    assert flag.text.endswith("(mother's own form)")


def test_an_appointment_cannot_be_attended_before_its_day() -> None:
    case = coordinate(
        screened(),
        "2026-05-02",
        appointments=[{"date": day("2026-06-02"), "with": "pcp", "purpose": "check-up"}],
    )
    from casectl.models.validation import CaseInvalid, validate_case

    early = coordinate(
        case, "2026-05-20", appointment_updates=[{"appointment": "a1", "status": "attended"}]
    )
    with pytest.raises(CaseInvalid, match="on 2026-05-20 it cannot have been attended yet"):
        validate_case(early.model_dump(by_alias=True, exclude_unset=True), today=day("2026-05-20"))
    on_time = coordinate(
        case, "2026-06-02", appointment_updates=[{"appointment": "a1", "status": "attended"}]
    )
    validate_case(on_time.model_dump(by_alias=True, exclude_unset=True), today=day("2026-06-02"))
