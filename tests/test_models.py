"""Validation a case manager expects: each rule accepts good data and rejects bad with its message."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from casectl.models import CaseInvalid, validate_case

TODAY = dt.date(2026, 11, 25)

VALID: dict[str, Any] = {
    "schema_version": 1,
    "id": "C-2026-0007",
    "status": "open",
    "opened": dt.date(2026, 3, 1),
    "case_manager": "M. Chen",
    "client": {
        "name": "Ana Lima",
        "dob": dt.date(2020, 5, 1),
        "sex": "female",
        "preferred_language": "pt",
    },
    "family": [
        {
            "id": "mother",
            "name": "Bea Lima",
            "relationship": "mother",
            "legal_guardian": True,
            "decision_maker": True,
        }
    ],
    "care_team": [{"id": "pcp", "name": "Dr. Ito", "role": "primary-care"}],
    "assessments": [
        {
            "date": dt.date(2026, 3, 10),
            "recorded_by": "M. Chen",
            "health_status": "stable",
            "diagnoses": [{"description": "Type 1 diabetes", "icd10": "E10.9"}],
            "vitals": {"height_cm": 110, "weight_kg": 19, "systolic": 100, "diastolic": 60},
        }
    ],
    "risk_assessments": [
        {
            "date": dt.date(2026, 3, 10),
            "recorded_by": "M. Chen",
            "level": "low",
            "score": 1,
            "rules_version": "casectl-risk-1",
        }
    ],
    "care_plans": [
        {
            "date": dt.date(2026, 3, 12),
            "recorded_by": "M. Chen",
            "goals": [
                {
                    "id": "g1",
                    "domain": "health",
                    "description": "HbA1c under 7.5%",
                    "measure": "HbA1c",
                    "target": "< 7.5%",
                    "target_date": dt.date(2026, 9, 1),
                }
            ],
            "interventions": [
                {
                    "id": "i1",
                    "description": "Diabetes education",
                    "owner": "pcp",
                    "goal": "g1",
                    "due": dt.date(2026, 4, 1),
                }
            ],
            "review_interval_days": 30,
            "agreed_by": ["mother"],
        }
    ],
    "follow_ups": [
        {
            "date": dt.date(2026, 4, 1),
            "recorded_by": "M. Chen",
            "mode": "phone",
            "with": ["mother"],
            "summary": "going well",
            "progress": [{"goal": "g1", "progress": "improving"}],
            "next_review": dt.date(2026, 5, 1),
        }
    ],
}


def rejects(change: Any, message: str, where: str) -> None:
    data = copy.deepcopy(VALID)
    change(data)
    with pytest.raises(CaseInvalid) as caught:
        validate_case(data, today=TODAY)
    found = [(".".join(str(p) for p in loc), msg) for loc, msg in caught.value.problems]
    assert any(message in msg and where == loc for loc, msg in found), found


def test_the_valid_case_validates() -> None:
    case = validate_case(VALID, today=TODAY)
    assert case.current_plan is not None and case.current_plan.goals[0].id == "g1"


def test_an_impossible_date() -> None:
    rejects(lambda d: d.update(opened="2026-02-30"), "not a real date", "opened")


def test_date_of_birth_in_the_future() -> None:
    rejects(lambda d: d["client"].update(dob=dt.date(2027, 1, 1)), "in the future", "client.dob")


def test_a_completed_contact_in_the_future() -> None:
    rejects(
        lambda d: d["follow_ups"][0].update(
            date=dt.date(2026, 12, 1), next_review=dt.date(2026, 12, 30)
        ),
        "in the future",
        "follow_ups.0.date",
    )


def test_diastolic_must_be_below_systolic() -> None:
    rejects(
        lambda d: d["assessments"][0]["vitals"].update(systolic=60, diastolic=100),
        "diastolic 100 must be below systolic 60",
        "assessments.0.vitals",
    )


@pytest.mark.parametrize(
    ("field", "value"), [("height_cm", 400), ("weight_kg", -3), ("systolic", 400), ("spo2", 120)]
)
def test_vitals_outside_plausible_ranges(field: str, value: float) -> None:
    rejects(
        lambda d: d["assessments"][0]["vitals"].update({field: value}),
        "out of range",
        f"assessments.0.vitals.{field}",
    )


def test_required_fields_per_stage() -> None:
    rejects(
        lambda d: d["care_plans"][0].pop("review_interval_days"),
        "is required",
        "care_plans.0.review_interval_days",
    )
    rejects(
        lambda d: d["care_plans"][0].update(agreed_by=[]), "at least 1", "care_plans.0.agreed_by"
    )


def test_an_intervention_owner_must_be_on_the_care_team() -> None:
    rejects(
        lambda d: d["care_plans"][0]["interventions"][0].update(owner="nurse"),
        "'nurse' is not on the care team",
        "care_plans.0.interventions.0.owner",
    )


def test_an_intervention_goal_must_exist() -> None:
    rejects(
        lambda d: d["care_plans"][0]["interventions"][0].update(goal="g7"),
        "'g7' is not a goal",
        "care_plans.0.interventions.0.goal",
    )


def test_a_progress_note_goal_must_exist() -> None:
    rejects(
        lambda d: d["follow_ups"][0]["progress"][0].update(goal="g2"),
        "'g2' is not a goal",
        "follow_ups.0.progress.0.goal",
    )


def test_agreement_comes_from_the_client_or_family() -> None:
    rejects(
        lambda d: d["care_plans"][0].update(agreed_by=["pcp"]),
        "is not the client, a family member or a care-team decision-maker",
        "care_plans.0.agreed_by.0",
    )


@pytest.mark.parametrize("code", ["E10", "J45.40", "S06.2X9S", "U07.1", "e10.9"])
def test_icd10_codes_accepted(code: str) -> None:
    data = copy.deepcopy(VALID)
    data["assessments"][0]["diagnoses"][0]["icd10"] = code
    assert validate_case(data, today=TODAY).assessments[0].diagnoses[0].icd10 == code.upper()


@pytest.mark.parametrize("code", ["E1", "1E0.9", "J45.12345", "J45-40", "asthma"])
def test_icd10_codes_rejected(code: str) -> None:
    rejects(
        lambda d: d["assessments"][0]["diagnoses"][0].update(icd10=code),
        "is not an ICD-10-CM code",
        "assessments.0.diagnoses.0.icd10",
    )


def test_a_misspelt_key_is_named() -> None:
    rejects(
        lambda d: d["client"].update(prefered_language="es"),
        "unknown key",
        "client.prefered_language",
    )


def test_user_keys_are_allowed_anywhere() -> None:
    data = copy.deepcopy(VALID)
    data["x-team-notes"] = {"anything": [1, 2]}
    data["client"]["x-nickname"] = "Ani"
    validate_case(data, today=TODAY)


def test_unknown_status_and_stage_values() -> None:
    rejects(lambda d: d.update(status="pending"), "is not one of", "status")
    rejects(
        lambda d: d["follow_ups"][0].update(mode="carrier pigeon"),
        "is not one of",
        "follow_ups.0.mode",
    )


def test_closed_case_needs_date_and_reason() -> None:
    rejects(lambda d: d.update(status="closed"), "needs the date it was closed", "closed")


def test_a_transferred_case_names_where_it_went() -> None:
    rejects(
        lambda d: d.update(status="transferred"), "needs the manager or service", "transferred_to"
    )


def test_duplicate_handles() -> None:
    rejects(
        lambda d: d["care_team"].append({"id": "mother", "name": "X", "role": "school"}),
        "used twice",
        "care_team.1.id",
    )


def test_referral_updates_name_an_earlier_referral() -> None:
    rejects(
        lambda d: d.update(
            coordination=[
                {
                    "date": dt.date(2026, 4, 2),
                    "recorded_by": "M. Chen",
                    "referral_updates": [{"referral": "r5", "status": "accepted"}],
                }
            ]
        ),
        "'r5' is not an earlier referral",
        "coordination.0.referral_updates.0.referral",
    )


def test_an_empty_implement_record_is_refused() -> None:
    rejects(
        lambda d: d.update(coordination=[{"date": dt.date(2026, 4, 2), "recorded_by": "M. Chen"}]),
        "needs at least one",
        "coordination.0",
    )


def test_language_codes() -> None:
    rejects(
        lambda d: d["client"].update(preferred_language="Spanish"),
        "is not a language code",
        "client.preferred_language",
    )


def test_a_care_team_decision_maker_may_agree_and_consent() -> None:
    # A child in foster care: the child-welfare caseworker holds medical decision-making authority.
    data = copy.deepcopy(VALID)
    data["care_team"].append(
        {"id": "caseworker", "name": "R. Diaz", "role": "social-services", "decision_maker": True}
    )
    data["care_plans"][0]["agreed_by"] = ["caseworker"]
    data["consents"] = [
        {"date": dt.date(2026, 3, 2), "kind": "treatment", "given_by": "caseworker"}
    ]
    validate_case(data, today=TODAY)
    rejects(
        lambda d: d["care_plans"][0].update(agreed_by=["pcp"]),
        "care-team decision-maker",
        "care_plans.0.agreed_by.0",
    )


def test_a_closing_date_in_the_future() -> None:
    rejects(
        lambda d: d.update(status="closed", closed=dt.date(2027, 1, 1), closed_reason="x"),
        "in the future",
        "closed",
    )
