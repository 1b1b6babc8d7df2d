"""FHIR from other systems: the corpus in tests/fhir-corpus, mapped without the CLI and imported
with it; merges that only add; casectl's own bundles and NDJSON back exactly."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from casectl.errors import ExitStatus, InvalidInput
from casectl.models.case import Case
from casectl.share import fhir_import
from casectl.share.fhir_import import Draft, apply, extract, read_sources
from casectl.share.valuesets import check_codes
from casectl.stages.lifecycle import open_case
from casectl.store import CaseStore, dump_case
from tests.conftest import Cli, planned_case

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fhir-corpus"
FILES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".json", ".ndjson"))
TODAY = dt.date(2026, 11, 25)


def _documents(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ndjson":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


def _drafts(name: str) -> list[Draft]:
    path = CORPUS / name
    return [d for s in read_sources(path.read_bytes(), name) for d in extract(s, today=TODAY)]


def _case(name: str, n: int = 0) -> tuple[Case, fhir_import.Applied]:
    draft = _drafts(name)[n]
    base = open_case("C-2026-0001", draft.client, opened=TODAY, case_manager="J. Rivera")
    applied = apply(
        draft, base, today=TODAY, recorded_by="J. Rivera", review_interval_days=30, source=name
    )
    return applied.case, applied


def _line(applied: fhir_import.Applied, resource: str) -> fhir_import.Line:
    return next(line for line in applied.lines if line.resource == resource)


# --- the corpus itself ---


def test_the_corpus_is_varied_and_synthetic() -> None:
    assert len(FILES) >= 10
    kinds = {
        doc.get("type") or ("ndjson" if p.suffix == ".ndjson" else doc["resourceType"])
        for p in FILES
        for doc in _documents(p)[:1]
    }
    assert {"collection", "transaction", "searchset", "document", "batch", "ndjson"} <= kinds


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_corpus_file_passes_fhir_resources_fhirclient_and_the_value_sets(path: Path) -> None:
    from fhir.resources.R4B import get_fhir_model_class

    fhirclient = pytest.importorskip("fhirclient.models.fhirelementfactory")
    for doc in _documents(path):
        get_fhir_model_class(doc["resourceType"]).model_validate(doc)  # R4B models
        fhirclient.FHIRElementFactory.instantiate(doc["resourceType"], doc)  # R4 (4.0.1) models
        resources = (
            [e["resource"] for e in doc.get("entry", []) if "resource" in e]
            if doc["resourceType"] == "Bundle"
            else [doc]
        )
        for resource in resources:
            assert check_codes(resource) == [], (path.name, resource["resourceType"])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_corpus_file_imports_into_cases_that_pass_check(cli: Cli, path: Path) -> None:
    dry = cli("import", "--format", "fhir", "--dry-run", str(path))
    assert dry.stdout.startswith("Would open C-2026-0001")
    assert list(cli.data_dir.glob("*.yaml")) == []
    result = cli("import", "--format", "fhir", str(path))
    ids = result.stdout.split()
    assert ids and all(cli.path(i).exists() for i in ids)
    check = cli("check")
    assert check.exit_code == 0 and check.stdout == ""
    for case_id in ids:
        assert stat.S_IMODE(cli.path(case_id).stat().st_mode) == 0o600
    assert "resource(s) used" in result.stderr


# --- the bundle: Patient, RelatedPerson, ICD-10-CM and SNOMED, BP panel, plan, goals ---


def test_a_clinic_bundle_becomes_a_case_with_family_diagnoses_vitals_and_plan() -> None:
    case, applied = _case("01-clinic-collection.json")
    client = case.client
    assert (client.name, client.dob, client.sex) == (
        "Lucía Ortega Fictional",
        dt.date(2015, 6, 14),
        "female",
    )
    assert (client.preferred_language, client.interpreter_needed) == ("es", True)
    (mother,) = case.family
    assert (mother.id, mother.relationship, mother.legal_guardian, mother.decision_maker) == (
        "mother",
        "mother",
        True,
        True,
    )
    readings, current = case.assessments
    assert readings.date == dt.date(2026, 10, 20)
    assert readings.vitals is not None
    assert (readings.vitals.systolic, readings.vitals.diastolic) == (112, 71)
    assert (readings.vitals.height_cm, readings.vitals.weight_kg) == (142.2, 36.4)
    assert current.date == TODAY
    assert [(d.description, d.icd10) for d in current.diagnoses] == [
        ("Moderate persistent asthma", "J45.40"),
        ("Attention deficit hyperactivity disorder", None),  # SNOMED CT only: its words
    ]
    (plan,) = case.care_plans
    assert [(g.id, g.status, g.target_date) for g in plan.goals] == [
        ("g1", "in-progress", dt.date(2027, 4, 30)),
        ("g2", "not-started", dt.date(2027, 10, 20)),  # no due date: the plan's end, noted
    ]
    assert plan.goals[0].target == "0 visits" and plan.agreed_by == ["mother"]
    assert plan.interventions[0].goal == "g1" and plan.interventions[0].frequency == "monthly"
    assert "Who agreed to it is not recorded there." in (plan.note or "")
    bmi = [line for line in applied.lines if line.reason and "BMI" in line.reason]
    assert len(bmi) == 1
    assert any("gives no measure, no target, no target date" in n for n in applied.notes)


# --- as real servers write them ---


def test_a_synthea_transaction_resolves_conditional_references_and_converts_units() -> None:
    case, applied = _case("02-synthea-transaction.json")
    by_day = {a.date: a for a in case.assessments}
    vitals = by_day[dt.date(2026, 9, 30)].vitals
    assert vitals is not None
    assert vitals.height_cm == 130.0  # 51.2 in
    assert vitals.weight_kg == 27.9  # 61.5 lb
    assert (vitals.systolic, vitals.heart_rate) == (118, 92)
    assert by_day[dt.date(2026, 3, 2)].vitals.systolic == 101  # type: ignore[union-attr]
    # "Practitioner?identifier=…|9999912345" found the practitioner of the transaction.
    well_child = next(f for f in case.follow_ups if f.date == dt.date(2026, 3, 2))
    assert "Grace Fictional-Osei" in well_child.summary and well_child.mode == "clinic"
    assert case.assessments[-1].utilisation.ed_visits_12m == 1
    (diagnosis,) = case.assessments[-1].diagnoses
    assert diagnosis.description == "Childhood asthma" and diagnosis.chronic is False
    reasons = {line.resource.split("/")[0]: line.reason for line in applied.lines if line.reason}
    assert reasons["Immunization"] == "immunizations have no place in the case file"
    assert reasons["Claim"] == "billing records are not imported"
    assert "history" in str(reasons["Provenance"])
    assert any(
        line.reason and "stopped" in line.reason for line in applied.lines
    )  # the amoxicillin
    assert [m.name for m in case.assessments[-1].medications] == [
        "200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler"
    ]
    assert case.assessments[-1].medications[0].frequency == "once every 4 hours, as needed"


def test_a_hapi_searchset_with_server_ids_reads_relative_and_absolute_references() -> None:
    case, applied = _case("03-hapi-searchset.json")
    current = case.assessments[-1]
    assert {d.icd10 for d in current.diagnoses} == {"I63.9", "I10"}
    assert current.insurance is not None and current.insurance.plan == "Part B"
    assert current.allergies == ["Penicillin (rash)"]
    assert current.utilisation.admissions_12m == 1
    scores = {i.instrument: i for i in case.assessments[0].instruments}
    # Published bands: PHQ-9 10–14 moderate (Kroenke 2001); GAD-7 5–9 mild (Spitzer 2006).
    assert (scores["phq-9"].total, scores["phq-9"].band) == (12, "moderate")
    assert (scores["gad-7"].total, scores["gad-7"].band) == (8, "mild")
    assert "item checks" in str(scores["phq-9"].source)
    (record,) = case.coordination
    (referral,) = record.referrals
    assert (referral.to, referral.status, referral.urgency) == (
        "Example Rehabilitation Hospital",
        "accepted",  # from the Task that tracks it
        "urgent",
    )
    assert _line(applied, "Condition/5102").reason == "its verification status is refuted"
    assert _line(applied, "ServiceRequest/7402").reason == (
        "a laboratory or imaging order, not a referral"
    )
    assert any("one page of search results" in n for n in applied.notes)
    phone = next(f for f in case.follow_ups if f.mode == "phone")
    assert phone.summary.startswith("Telephone follow-up: blood pressure and mood check")


def test_an_epic_document_reads_contained_medications_and_patient_contacts() -> None:
    case, applied = _case("04-epic-document.json")
    gran = next(m for m in case.family if m.name == "Beatrice Fictional")
    assert gran.legal_guardian and gran.decision_maker
    neighbour = next(m for m in case.family if m.name == "Kofi Neighbour-Sample")
    assert neighbour.relationship == "emergency contact" and not neighbour.lives_with_client
    assert [(m.name, m.role) for m in case.care_team] == [
        ("Lena Example, MD", "primary-care"),
        ("Rafael Sample, RN", "nursing"),
    ]
    current = case.assessments[-1]
    (insulin,) = current.medications
    assert insulin.name == "insulin glargine (LANTUS) injection" and insulin.dose == "12 Units"
    assert current.allergies == ["Peanut (Anaphylaxis)"]
    assert "no known allergy" in str(_line(applied, "AllergyIntolerance/eAl2").reason)
    assert "table of contents" in str(_line(applied, "Composition/eCmp4.Y8").reason)
    assert case.assessments[0].vitals.weight_kg == 47.8  # type: ignore[union-attr]


def test_a_foster_family_transaction_with_puts_and_a_delete() -> None:
    case, applied = _case("05-transaction-put-foster.json")
    assert [(m.id, m.relationship) for m in case.family] == [
        ("foster-mother", "foster mother"),
        ("foster-father", "foster father"),
    ]
    assert _line(applied, "RelatedPerson/rp-birth-mother").reason == "marked inactive"
    assert _line(applied, "Observation/old-weight-3").reason == (
        "a request to delete something elsewhere"
    )
    (worker,) = case.care_team
    assert (worker.role, worker.organisation) == (
        "social-services",
        "Fictional County Child Welfare",
    )
    vitals = case.assessments[0].vitals
    assert vitals is not None and vitals.temperature_c == 37.3  # 99.1 °F
    (plan,) = case.care_plans
    assert plan.agreed_by == ["foster-mother"]  # the CarePlan's author
    (therapy,) = plan.interventions
    assert (therapy.owner, therapy.frequency, therapy.goal) == (worker.id, "once a week", "g1")
    assert plan.goals[0].target == ">=5 nights" and plan.goals[0].domain == "mental-health"
    appointment = case.coordination[-1].appointments[0]
    assert (appointment.date, appointment.purpose) == (
        dt.date(2026, 12, 8),
        "Speech therapy evaluation",
    )


def test_bulk_ndjson_gives_one_case_per_patient() -> None:
    first, second = _drafts("06-bulk-export.ndjson")
    assert (first.client.name, second.client.name) == (
        "Elsa Lindgren-Sample",
        "Tomás Fictional Herrera",
    )
    assert second.client.interpreter_needed and second.client.preferred_language == "es-MX"
    case, _ = _case("06-bulk-export.ndjson", 1)
    vitals = case.assessments[0].vitals
    assert vitals is not None and (vitals.systolic, vitals.diastolic) == (131, 84)
    orphan = [line for line in _drafts("06-bulk-export.ndjson")[0].lines if line.reason]
    assert [(line.resource, line.reason) for line in orphan] == [
        ("Observation/bk-o4", "its patient is not in the file")
    ]


def test_resources_casectl_does_not_keep_are_listed_with_why() -> None:
    _, applied = _case("07-unknown-resources.json")
    skipped = {line.resource.split("/")[0]: line.reason for line in applied.lines if line.reason}
    assert skipped["Basic"] == "casectl does not import Basic resources"
    assert skipped["Procedure"] == "procedures have no place in the case file"
    assert skipped["Location"] == "nothing casectl keeps refers to it"
    assert "PHQ-9 and GAD-7" in str(skipped["QuestionnaireResponse"])
    assert [line.resource.split("/")[0] for line in applied.lines if line.to] == [
        "Patient",
        "Condition",
    ]


def test_social_needs_a_coverage_gap_and_an_sdoh_referral() -> None:
    case, _ = _case("08-sdoh-referrals.json")
    current = case.assessments[-1]
    assert current.social_needs == ["food", "housing"]  # Z59.41, Z59.10
    assert [d.icd10 for d in current.diagnoses] == ["G80.1"]
    assert current.insurance is not None and current.insurance.coverage_gap
    assert current.insurance.notes == "coverage ended 2026-06-30"
    assert current.utilisation.ed_visits_12m == 1  # the 2025 visit is older than a year
    (referral,) = case.coordination[0].referrals
    assert (referral.to, referral.status) == ("Example Community Food Bank", "scheduled")
    (goal,) = case.care_plans[0].goals
    assert (goal.description, goal.domain, goal.target) == (
        "Has enough food every day",
        "social",
        "yes",
    )


def test_versioned_absolute_references_and_an_implausible_reading() -> None:
    case, applied = _case("09-batch-absolute-references.json")
    (mother,) = case.family  # the Patient.contact and the RelatedPerson are one person
    assert mother.legal_guardian and mother.contact is not None
    assert (mother.contact.phone, mother.contact.email) == ("555-0199", "funmi@example.org")
    vitals = case.assessments[0].vitals
    assert vitals is not None and (vitals.weight_kg, vitals.height_cm) == (17.2, 104.0)
    assert str(_line(applied, "Observation/o-9b").reason).startswith(
        "weight kg 1720 is not plausible"
    )


def test_a_patient_alone_opens_a_case_with_nothing_else() -> None:
    case, _ = _case("10-patient-only.json")
    assert case.client.preferred_language == "pt-BR" and case.assessments == []


# --- merging: dated records added, nothing overwritten ---


def test_a_patient_matched_by_name_and_birth_date_asks_first(cli: Cli) -> None:
    path = CORPUS / "01-clinic-collection.json"
    assert cli("import", "-f", "fhir", str(path)).stdout.split() == ["C-2026-0001"]
    before = cli.path("C-2026-0001").read_bytes()
    result = cli("import", "-f", "fhir", str(path), ok=False)
    assert result.exit_code == ExitStatus.USAGE
    assert "matches case C-2026-0001 by name and date of birth; add --yes" in result.stderr
    assert cli.path("C-2026-0001").read_bytes() == before
    # The same file again adds nothing.
    again = cli("import", "-f", "fhir", "--yes", str(path))
    assert "added 0 record(s) to C-2026-0001" in again.stderr
    assert cli.path("C-2026-0001").read_bytes() == before
    assert cli("import", "-f", "fhir", "--new", str(path)).stdout.split() == ["C-2026-0002"]


def test_a_merge_only_adds_and_keeps_the_cases_own_plan(cli: Cli) -> None:
    case_id = planned_case(cli)
    before = CaseStore(cli.data_dir, today=TODAY).load(case_id).case
    path = CORPUS / "03-hapi-searchset.json"
    dry = cli("import", "-f", "fhir", "--into", case_id, "--dry-run", "--json", str(path))
    report = json.loads(dry.stdout)
    (planned,) = report["cases"]
    assert (planned["case_id"], planned["action"], planned["matched_by"]) == (
        case_id,
        "merge",
        "--into",
    )
    assert {
        "case_id",
        "action",
        "exact",
        "matched_by",
        "client",
        "dob",
        "mapped",
        "skipped",
    } <= set(planned)
    cli("import", "-f", "fhir", "--into", case_id, str(path))
    after = CaseStore(cli.data_dir, today=TODAY).load(case_id).case
    old, new = dump_case(before), dump_case(after)
    for section, records in old.items():
        if isinstance(records, list):
            assert new[section][: len(records)] == records, section  # nothing changed
    assert new["client"] == old["client"]
    current = after.assessments[-1]
    # The case's own asthma diagnosis is carried, the other system's added.
    assert [d.icd10 for d in current.diagnoses] == ["J45.40", "I63.9", "I10"]
    assert len(after.care_plans) == 1 and after.follow_ups[-1].with_ == ["client"]
    assert cli("check").stdout == ""


def test_a_bundle_carrying_this_folders_case_id_merges_without_asking(
    cli: Cli, tmp_path: Path
) -> None:
    case_id = planned_case(cli)
    bundle = json.loads(cli("export", case_id, "-f", "fhir").stdout)
    # Another system adds a diagnosis and changes a goal: no longer casectl's own export.
    patient_url = next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    bundle["entry"].append(
        {
            "fullUrl": "urn:uuid:0b7c1c55-0000-4000-8000-000000000001",
            "resource": {
                "resourceType": "Condition",
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "code": {
                    "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "L30.9"}],
                    "text": "Eczema",
                },
                "subject": {"reference": patient_url},
            },
        }
    )
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(bundle))
    result = cli("import", "-f", "fhir", "--json", str(path))
    (done,) = json.loads(result.stdout)["cases"]
    assert (done["case_id"], done["action"], done["matched_by"], done["exact"]) == (
        case_id,
        "merge",
        "identifier",
        False,
    )
    assert any("was written by casectl but does not read back exactly" in n for n in done["notes"])
    case = CaseStore(cli.data_dir, today=TODAY).load(case_id).case
    assert [d.description for d in case.assessments[-1].diagnoses] == [
        "Moderate persistent asthma",
        "Eczema",
    ]
    assert len(case.care_plans) == 1  # its own plan stays the plan


# --- casectl's own bundles stay exact ---


def test_export_all_ndjson_imports_back_into_the_same_cases(cli: Cli, tmp_path: Path) -> None:
    examples = ROOT / "examples" / "caseload"
    if not any(examples.glob("*.yaml")):
        pytest.skip("the example caseload has no cases yet")
    source = Cli(tmp_path / "source")
    shutil.copytree(examples, source.data_dir)
    out = tmp_path / "all.ndjson"
    source("export", "--all", "-f", "fhir", "-o", str(out))
    result = cli("import", "-f", "fhir", str(out))
    ids = result.stdout.split()
    assert ids == sorted(p.stem for p in examples.glob("*.yaml"))
    for case_id in ids:
        theirs = CaseStore(source.data_dir, today=TODAY).load(case_id).case
        mine = CaseStore(cli.data_dir, today=TODAY).load(case_id).case
        assert dump_case(mine) == dump_case(theirs)


def test_the_reader_refuses_what_is_not_fhir_json() -> None:
    with pytest.raises(InvalidInput, match=r"x\.ndjson:2: is not JSON"):
        read_sources(b'{"resourceType": "Patient"}\n{nope\n', "x.ndjson")
    with pytest.raises(InvalidInput, match="is not UTF-8"):
        read_sources(b"\xff\xfe", "x.json")
    with pytest.raises(InvalidInput, match="de-identified"):
        read_sources(
            json.dumps(
                {
                    "resourceType": "Bundle",
                    "type": "collection",
                    "meta": {"security": [{"code": "PSEUDED"}]},
                }
            ).encode(),
            "x.json",
        )
