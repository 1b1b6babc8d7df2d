"""`export --deidentify`: nothing that identifies a client leaves in any format."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from casectl.dates import completed_years
from casectl.errors import InvalidInput
from casectl.models.case import Case
from casectl.share.deidentify import pseudonym, pseudonym_key
from casectl.share.fhir import LOINC, bundle_to_case, validate_bundle
from casectl.store import CaseStore, dump_case
from tests.conftest import Cli, planned_case

ROOT = Path(__file__).resolve().parents[1]
CASELOAD = ROOT / "examples" / "caseload"
EXAMPLES = sorted(p.stem for p in CASELOAD.glob("*.yaml"))
TODAY = dt.date(2026, 11, 25)

# Keys whose text a person wrote or that name or reach someone: every such value in a case
# file must be absent from a de-identified export. (Coded values, numbers and record dates stay.)
IDENTIFYING_KEYS = frozenset(
    [
        "name",
        "case_manager",
        "recorded_by",
        "organisation",
        "phone",
        "email",
        "address",
        "contact",
        "to",
        "transferred_to",
        "relationship",
        "involvement",
        "cultural_considerations",
        "note",
        "notes",
        "summary",
        "description",
        "reason",
        "referral_source",
        "referral_reason",
        "eligibility_reason",
        "health_status",
        "measure",
        "baseline",
        "target",
        "purpose",
        "topic",
        "materials",
        "family_input",
        "scope",
        "closed_reason",
        "detail",
        "decision_reason",
        "well_being",
        "health",
        "financial_standing",
        "care_appropriate_note",
        "plan_change",
        "support",
        "support_system",
        "treatment_history",
        "family_dynamics",
        "language_culture",
        "emotional_social",
        "development_school",
        "independence",
        "finances",
        "safety",
        "family",
        "social",
        "school_or_work",
        "medical",
        "financial",
        "living",
        "social_support",
        "records_reviewed",
        "barriers",
        "resources",
        "allergies",
        "providers_consulted",
        "payer",
        "plan",
        "what",
        "when",
        "frequency",
        "dose",
        "source",
    ]
)


def _strings(value: Any, key: str | None = None) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)
    elif isinstance(value, str) and key in IDENTIFYING_KEYS:
        yield value


def identifiers(case: Case) -> set[str]:
    """Everything in the case that could identify the client, as it would appear in text."""
    found = set(_strings(dump_case(case)))
    found |= {case.id, case.client.dob.isoformat(), case.client.name, *case.client.name.split()}
    # Short words ("daily", "weekly") are not identifiers and occur in fixed text by chance.
    return {text for text in found if len(text) >= 6}


@pytest.fixture
def examples(tmp_path: Path) -> Cli:
    if not EXAMPLES:
        pytest.skip("the example caseload has no cases yet")
    data = tmp_path / "caseload"
    shutil.copytree(CASELOAD, data)
    return Cli(data)


@pytest.mark.parametrize("fmt", ["fhir", "markdown", "html"])
@pytest.mark.parametrize("case_id", EXAMPLES)
def test_no_identifier_of_an_example_case_leaves_in_a_deidentified_export(
    examples: Cli, case_id: str, fmt: str
) -> None:
    case = CaseStore(examples.data_dir, today=TODAY).load(case_id).case
    # The check has teeth: the same export, identified, shows the client's name.
    identified = examples("export", case_id, "--format", fmt).stdout
    assert case.client.name.split()[0] in identified
    result = examples("export", case_id, "--format", fmt, "--deidentify")
    leaked = sorted(text for text in identifiers(case) if text in result.stdout)
    assert leaked == []
    assert "identifies" not in result.stderr
    if fmt == "html":
        import html

        assert not [t for t in identifiers(case) if html.escape(t) in result.stdout]


def test_the_whole_folder_deidentified_leaks_nothing(examples: Cli) -> None:
    text = examples("export", "--all", "--format", "fhir", "--deidentify").stdout
    store = CaseStore(examples.data_dir, today=TODAY)
    for case_id in EXAMPLES:
        leaked = sorted(t for t in identifiers(store.load(case_id).case) if t in text)
        assert leaked == [], case_id


def test_a_deidentified_bundle_has_pseudonyms_and_an_age_instead(cli: Cli) -> None:
    case_id = planned_case(cli)
    first = json.loads(cli("export", case_id, "--format", "fhir", "--deidentify").stdout)
    second = json.loads(cli("export", case_id, "--format", "fhir", "--deidentify").stdout)
    assert first == second  # stable pseudonyms, stable ids
    validate_bundle(first)
    expected = pseudonym(case_id, pseudonym_key(cli.data_dir))
    assert first["identifier"]["value"] == expected
    assert first["meta"]["security"][0]["code"] == "PSEUDED"
    resources = [e["resource"] for e in first["entry"]]
    (patient,) = [r for r in resources if r["resourceType"] == "Patient"]
    assert "birthDate" not in patient and "name" not in patient and "telecom" not in patient
    assert patient["identifier"][0]["value"] == expected
    (age,) = [
        r
        for r in resources
        if r["resourceType"] == "Observation"
        and r["code"]["coding"][0] == {"system": LOINC, "code": "30525-0", "display": "Age"}
    ]
    assert age["valueQuantity"]["value"] == completed_years(dt.date(2016, 4, 2), TODAY) == 10
    assert not any("casectl-record" in json.dumps(r.get("extension", [])) for r in resources)
    with pytest.raises(InvalidInput, match="de-identified"):
        bundle_to_case(first, today=TODAY)


def test_ages_of_ninety_and_over_are_given_as_ninety_or_older(cli: Cli) -> None:
    case_id = cli(
        "new", "--name", "Old Timer", "--dob", "1931-01-01", "--sex", "male"
    ).stdout.split()[-1]
    bundle = json.loads(cli("export", case_id, "--format", "fhir", "--deidentify").stdout)
    (age,) = [
        e["resource"] for e in bundle["entry"] if e["resource"].get("code", {}).get("text") == "Age"
    ]
    assert age["valueQuantity"]["value"] == 90 and age["valueQuantity"]["comparator"] == ">="


def test_a_deidentified_care_plan_keeps_its_shape(cli: Cli) -> None:
    case_id = planned_case(cli)
    text = cli("export", case_id, "--deidentify", "--lang", "en").stdout
    assert text.startswith("# Care plan\n")
    assert "**Goal 1: health**" in text and "**Target date:** May 31, 2027" in text
    assert "**Who:** primary care" in text
    assert "Mia" not in text and "Rosa" not in text and "Ruiz" not in text
