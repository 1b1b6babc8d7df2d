"""FHIR R4: every case exports to a valid Bundle and reads back as the same case."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from casectl.errors import ExitStatus, InvalidInput
from casectl.models import vocab
from casectl.models.case import Case
from casectl.share import fhir, valuesets
from casectl.share.fhir import RECORD_URL, bundle_to_case, case_to_bundle, validate_bundle
from casectl.share.valuesets import check_codes
from casectl.store import CaseStore, dump_case
from tests.conftest import Cli, planned_case

ROOT = Path(__file__).resolve().parents[1]
CASELOAD = ROOT / "examples" / "caseload"
EXAMPLES = sorted(p.stem for p in CASELOAD.glob("*.yaml"))
TODAY = dt.date(2026, 11, 25)


def _example(case_id: str) -> Case:
    return CaseStore(CASELOAD, today=TODAY).load(case_id).case


def _resources(bundle: dict[str, Any], rtype: str | None = None) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if rtype is None or e["resource"]["resourceType"] == rtype
    ]


def _through_json(bundle: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(bundle))
    return loaded


@pytest.fixture
def examples(tmp_path: Path) -> Cli:
    if not EXAMPLES:
        pytest.skip("the example caseload has no cases yet")
    data = tmp_path / "caseload"
    shutil.copytree(CASELOAD, data)
    return Cli(data)


@pytest.fixture
def planned(cli: Cli) -> Case:
    """The conftest case, taken on through implement and follow-up."""
    case = planned_case(cli)
    cli(
        "screen",
        case,
        "--referral-source",
        "school",
        "--referral-reason",
        "food",
        "--eligible",
        "--reason",
        "needs",
        "--instrument",
        "hunger-vital-sign",
        "--answers",
        "1,0",
        "--date",
        "2026-09-20",
    )
    cli(
        "implement",
        case,
        "--refer",
        "Tenant legal aid; reason=mold",
        "--appointment",
        "Asthma follow-up; date=2026-12-09; with=pcp",
        "--educate",
        "Spacer technique; to=mother",
        "--date",
        "2026-09-21",
    )
    cli(
        "implement",
        case,
        "--referral-update",
        "r1=accepted; note=intake booked",
        "--date",
        "2026-09-28",
    )
    cli(
        "follow-up",
        case,
        "--mode",
        "phone",
        "--with",
        "mother",
        "--summary",
        "better nights",
        "--progress",
        "g1=improving",
        "--date",
        "2026-10-01",
    )
    return CaseStore(cli.data_dir, today=TODAY).load(case).case


# --- the round trip ---


@pytest.mark.parametrize("case_id", EXAMPLES)
def test_every_example_case_comes_back_from_fhir_as_the_same_case(case_id: str) -> None:
    case = _example(case_id)
    bundle = _through_json(case_to_bundle(case, today=TODAY))
    assert dump_case(bundle_to_case(bundle, today=TODAY)) == dump_case(case)


@pytest.mark.parametrize("case_id", EXAMPLES)
def test_every_resource_of_every_example_validates(case_id: str) -> None:
    bundle = _through_json(case_to_bundle(_example(case_id), today=TODAY))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    get_fhir_model_class("Bundle").model_validate(bundle)
    for resource in _resources(bundle):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert check_codes(resource) == [], resource["resourceType"]
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    # Every reference inside the bundle resolves to an entry of it.
    text = json.dumps(bundle)
    for url in {part.split('"')[0] for part in text.split('"reference": "')[1:]}:
        assert url in urls


def test_a_case_built_at_the_command_line_round_trips_too(planned: Case) -> None:
    bundle = _through_json(case_to_bundle(planned, today=TODAY))
    assert dump_case(bundle_to_case(bundle, today=TODAY)) == dump_case(planned)


def test_the_same_case_always_exports_to_the_same_bundle(planned: Case) -> None:
    assert case_to_bundle(planned, today=TODAY) == case_to_bundle(
        planned, today=dt.date(2027, 1, 1)
    )


# --- what other systems see ---


def test_the_resources_carry_the_case_in_fhir_terms(planned: Case) -> None:
    bundle = case_to_bundle(planned, today=TODAY)
    (patient,) = _resources(bundle, "Patient")
    assert patient["name"] == [{"text": "Mia Santos"}] and patient["birthDate"] == "2016-04-02"
    assert patient["gender"] == "female"
    assert patient["communication"][0]["language"]["coding"][0] == {
        "system": "urn:ietf:bcp:47",
        "code": "es",
    }
    assert {"url": fhir.INTERPRETER_URL, "valueBoolean": True} in patient["extension"]
    (mother,) = _resources(bundle, "RelatedPerson")
    assert mother["relationship"][0]["coding"][0]["code"] == "MTH"
    (episode,) = _resources(bundle, "EpisodeOfCare")
    assert episode["status"] == "active" and episode["identifier"][0]["value"] == planned.id
    (team,) = _resources(bundle, "CareTeam")
    roles = [p["role"][0]["coding"][0]["code"] for p in team["participant"]]
    assert roles == ["case-manager", "primary-care", "specialist"]
    (risk,) = _resources(bundle, "RiskAssessment")
    prediction = risk["prediction"][0]
    assert prediction["qualitativeRisk"]["coding"][0]["code"] == planned.risk_assessments[0].level
    assert prediction["rationale"].startswith(f"score {planned.risk_assessments[0].score}")
    (plan,) = _resources(bundle, "CarePlan")
    assert (plan["status"], plan["intent"]) == ("active", "plan")
    kinds = [a["detail"].get("kind") for a in plan["activity"]]
    assert kinds == [None, "Appointment"]
    (goal,) = _resources(bundle, "Goal")
    # Progress "improving" at a contact puts the goal in progress: active, and improving.
    assert goal["lifecycleStatus"] == "active"
    assert goal["achievementStatus"]["coding"][0]["code"] == "improving"
    assert goal["target"][0]["dueDate"] == "2027-05-31"
    (referral,) = _resources(bundle, "ServiceRequest")
    assert referral["status"] == "active" and referral["code"]["coding"][0]["code"] == "3457005"
    tasks = {
        t["code"]["coding"][0]["code"] if "code" in t else "referral": t
        for t in _resources(bundle, "Task")
    }
    assert tasks["referral"]["status"] == "accepted" and tasks["referral"]["focus"][
        "reference"
    ].startswith("urn:uuid:")
    assert tasks["referral"]["note"] == [{"time": "2026-09-28", "text": "intake booked"}]
    assert tasks["implement"]["status"] == "completed"
    contacts = _resources(bundle, "Communication")
    follow_up = next(c for c in contacts if c["category"][0]["coding"][0]["code"] == "follow-up")
    assert follow_up["medium"][0]["coding"][0]["code"] == "PHONE"
    assert follow_up["payload"] == [{"contentString": "better nights"}]
    (answers,) = _resources(bundle, "QuestionnaireResponse")
    assert [i["answer"][0]["valueInteger"] for i in answers["item"]] == [1, 0]
    scores = [
        o
        for o in _resources(bundle, "Observation")
        if o["category"][0]["coding"][0]["code"] == "survey"
    ]
    assert scores[0]["derivedFrom"] == [
        {"reference": next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is answers)}
    ]
    conditions = _resources(bundle, "Condition")
    assert conditions[0]["code"]["coding"][0] == {"system": fhir.ICD10CM, "code": "J45.40"}


def test_vital_signs_use_the_vital_signs_category_loinc_and_ucum(cli: Cli) -> None:
    case_id = planned_case(cli)
    vitals = {
        "height_cm": 132,
        "weight_kg": 30,
        "systolic": 104,
        "diastolic": 66,
        "heart_rate": 88,
        "respiratory_rate": 20,
        "temperature_c": 37.1,
        "spo2": 97,
    }
    cli(
        "assess",
        case_id,
        "--from",
        "-",
        input=json.dumps({"health_status": "ok", "vitals": vitals}),
    )
    case = CaseStore(cli.data_dir, today=TODAY).load(case_id).case
    vitals = [
        o
        for o in _resources(case_to_bundle(case, today=TODAY), "Observation")
        if o["category"][0]["coding"][0]
        == {"system": f"{valuesets.TERMINOLOGY}/observation-category", "code": "vital-signs"}
    ]
    by_code = {o["code"]["coding"][0]["code"]: o for o in vitals}
    assert set(by_code) == {"8302-2", "29463-7", "85354-9", "8867-4", "9279-1", "8310-5", "59408-5"}
    assert by_code["8310-5"]["valueQuantity"] == {
        "value": 37.1,
        "unit": "C",
        "system": fhir.UCUM,
        "code": "Cel",
    }
    assert by_code["8302-2"]["valueQuantity"] == {
        "value": 132.0,
        "unit": "cm",
        "system": fhir.UCUM,
        "code": "cm",
    }
    assert by_code["29463-7"]["valueQuantity"]["code"] == "kg"
    systolic, diastolic = by_code["85354-9"]["component"]
    assert (
        systolic["code"]["coding"][0]["code"] == "8480-6"
        and systolic["valueQuantity"]["value"] == 104
    )
    assert (
        diastolic["code"]["coding"][0]["code"] == "8462-4"
        and diastolic["valueQuantity"]["code"] == "mm[Hg]"
    )
    assert [c["code"] for c in by_code["59408-5"]["code"]["coding"]] == ["59408-5", "2708-6"]


# --- value sets ---


def test_the_value_set_check_rejects_a_bad_code() -> None:
    assert check_codes({"resourceType": "Goal", "lifecycleStatus": "active"}) == []
    bad = check_codes({"resourceType": "Goal", "lifecycleStatus": "bogus"})
    assert bad == [
        "lifecycleStatus: 'bogus' is not in the value set goal-status (http://hl7.org/fhir/ValueSet/goal-status)"
    ]
    concept = {
        "coding": [{"system": f"{valuesets.TERMINOLOGY}/risk-probability", "code": "extreme"}]
    }
    assert check_codes(
        {
            "resourceType": "RiskAssessment",
            "status": "final",
            "prediction": [{"qualitativeRisk": concept}],
        }
    )
    assert check_codes(
        {
            "resourceType": "CarePlan",
            "status": "active",
            "intent": "plan",
            "activity": [{"detail": {"status": "done"}}],
        }
    )
    # A required CodeableConcept binding needs a code from its system.
    assert check_codes({"resourceType": "Condition", "clinicalStatus": {"text": "active"}})


def test_a_bundle_with_a_bad_code_is_refused(planned: Case) -> None:
    bundle = _through_json(case_to_bundle(planned, today=TODAY))
    goal = _resources(bundle, "Goal")[0]
    goal["lifecycleStatus"] = "bogus"
    with pytest.raises(InvalidInput, match="goal-status"):
        bundle_to_case(bundle, today=TODAY)
    with pytest.raises(InvalidInput, match="goal-status"):
        validate_bundle(bundle)


def test_a_resource_fhir_resources_rejects_is_refused(planned: Case) -> None:
    bundle = _through_json(case_to_bundle(planned, today=TODAY))
    del _resources(bundle, "Goal")[0]["subject"]
    with pytest.raises(InvalidInput, match=r"FHIR Goal .*: subject: Field required"):
        bundle_to_case(bundle, today=TODAY)


def _enum(rtype: str, path: str) -> list[str] | None:
    from fhir.resources.R4B.careplan import CarePlanActivityDetail
    from fhir.resources.R4B.consent import ConsentProvision
    from fhir.resources.R4B.contactpoint import ContactPoint
    from fhir.resources.R4B.episodeofcare import EpisodeOfCareStatusHistory

    nested = {
        "statusHistory.status": (EpisodeOfCareStatusHistory, "status"),
        "provision.type": (ConsentProvision, "type"),
        "activity.detail.status": (CarePlanActivityDetail, "status"),
        "activity.detail.kind": (CarePlanActivityDetail, "kind"),
        "telecom.system": (ContactPoint, "system"),
    }
    model, field = nested.get(path) or (get_fhir_model_class(rtype), path)
    extra = model.model_fields[field].json_schema_extra
    return extra.get("enum_values") if isinstance(extra, dict) else None  # type: ignore[return-value]


def test_the_code_lists_agree_with_fhir_resources_where_it_has_them() -> None:
    compared = 0
    for rtype, bindings in valuesets.BINDINGS.items():
        for path, vs in bindings:
            if vs.system is not None:
                continue
            listed = _enum(rtype, path)
            assert listed, f"fhir.resources has no code list for {rtype}.{path}"
            if listed[-1] == "+":  # the set goes on in the specification
                assert set(listed[:-1]) <= vs.codes, (rtype, path)
            else:
                assert set(listed) == vs.codes, (rtype, path)
            compared += 1
    assert compared >= 20


@pytest.mark.parametrize(
    ("mapping", "source", "target"),
    [
        (fhir.EPISODE_STATUS, vocab.CaseStatus, valuesets.EPISODE_OF_CARE_STATUS),
        (fhir.CARE_TEAM_STATUS, vocab.CaseStatus, valuesets.CARE_TEAM_STATUS),
        (fhir.CURRENT_PLAN_STATUS, vocab.CaseStatus, valuesets.REQUEST_STATUS),
        (fhir.GOAL_LIFECYCLE, vocab.GoalStatus, valuesets.GOAL_STATUS),
        (fhir.PROGRESS, vocab.Progress, valuesets.GOAL_ACHIEVEMENT),
        (fhir.INTERVENTION_STATUS, vocab.InterventionStatus, valuesets.CARE_PLAN_ACTIVITY_STATUS),
        (fhir.APPOINTMENT_STATUS, vocab.AppointmentStatus, valuesets.CARE_PLAN_ACTIVITY_STATUS),
        (fhir.REFERRAL_REQUEST, vocab.ReferralStatus, valuesets.REQUEST_STATUS),
        (fhir.REFERRAL_TASK, vocab.ReferralStatus, valuesets.TASK_STATUS),
        (fhir.MEDIUM, vocab.ContactMode, valuesets.PARTICIPATION_MODE),
    ],
)
def test_every_casectl_value_maps_to_a_code_of_its_value_set(
    mapping: dict[str, str], source: object, target: valuesets.ValueSet
) -> None:
    assert set(mapping) == set(vocab.choices(source))
    assert set(mapping.values()) <= target.codes
    assert set(fhir.GOAL_OUTCOME.values()) <= valuesets.GOAL_ACHIEVEMENT.codes
    assert set(vocab.choices(vocab.RiskLevel)) <= valuesets.RISK_PROBABILITY.codes
    assert set(vocab.choices(vocab.Sex)) == valuesets.ADMINISTRATIVE_GENDER.codes
    assert set(vocab.choices(vocab.Urgency)) <= valuesets.REQUEST_PRIORITY.codes


# --- import refuses what casectl did not write ---


def _drop(bundle: dict[str, Any], rtype: str) -> None:
    bundle["entry"].remove(
        next(e for e in bundle["entry"] if e["resource"]["resourceType"] == rtype)
    )


def _broken(planned: Case, change: Any) -> dict[str, Any]:
    bundle = _through_json(case_to_bundle(planned, today=TODAY))
    change(bundle)
    return bundle


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.update(resourceType="Patient"), "not a FHIR Bundle"),
        (lambda b: b.update(type="transaction"), "of type 'transaction'"),
        (lambda b: b.update(meta={"security": [fhir.PSEUDONYMISED]}), "de-identified"),
        (
            lambda b: [r.pop("extension", None) for r in _resources(b)],
            "no single casectl case",
        ),
        (
            lambda b: _resources(b, "Goal")[0]["description"].update(text="changed"),
            r"Goal .* \(element description\); it was changed after export",
        ),
        (lambda b: _drop(b, "RelatedPerson"), r"carries 0 family record\(s\) but its case says 1"),
        (lambda b: _drop(b, "Goal"), "lacks the Goal"),
        (
            lambda b: b["entry"].append(
                {
                    "fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000000",
                    "resource": copy.deepcopy(_resources(b, "Goal")[0]),
                }
            ),
            "not part of the case",
        ),
        (
            lambda b: b["entry"].append({"resource": {"resourceType": "Provenance"}}),
            "neither writes nor reads 'Provenance'",
        ),
        (
            lambda b: _resources(b, "Patient")[0]["extension"][0]["extension"][1].update(
                valueString="{nope"
            ),
            "not valid JSON",
        ),
        (
            lambda b: _resources(b, "Patient")[0]["extension"][0]["extension"][1].update(
                valueString=json.dumps({"name": "X", "dob": "2030-01-01", "sex": "female"})
            ),
            r"not valid: client\.dob: date of birth 2030-01-01 is in the future",
        ),
    ],
)
def test_import_refuses_a_bundle_it_cannot_trust(planned: Case, change: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        bundle_to_case(_broken(planned, change), today=TODAY)


def test_the_record_extension_is_one_per_home_resource(planned: Case) -> None:
    bundle = case_to_bundle(planned, today=TODAY)
    carriers = {
        r["resourceType"]
        for r in _resources(bundle)
        if any(e["url"] == RECORD_URL for e in r.get("extension", []))
    }
    assert carriers == {
        "Patient",
        "EpisodeOfCare",
        "RelatedPerson",
        "Practitioner",
        "ClinicalImpression",
        "RiskAssessment",
        "CarePlan",
        "Task",
        "Communication",
    }
    # Derived resources stay plain FHIR.
    for rtype in (
        "Goal",
        "Condition",
        "Observation",
        "QuestionnaireResponse",
        "ServiceRequest",
        "CareTeam",
    ):
        for resource in _resources(bundle, rtype):
            assert "extension" not in resource, rtype


# --- the command ---


def test_export_fhir_writes_one_bundle_and_says_it_identifies_the_client(
    cli: Cli, tmp_path: Path
) -> None:
    case_id = planned_case(cli)
    result = cli("export", case_id, "--format", "fhir")
    bundle = json.loads(result.stdout)
    validate_bundle(bundle)
    assert bundle["identifier"]["value"] == case_id
    assert (
        result.stderr.strip()
        == "casectl: this export identifies the client; share it only as your consent rules allow."
    )
    assert dump_case(bundle_to_case(bundle, today=TODAY)) == dump_case(
        CaseStore(cli.data_dir, today=TODAY).load(case_id).case
    )


def test_export_all_writes_one_valid_bundle_per_line(examples: Cli, tmp_path: Path) -> None:
    result = examples("export", "--all", "--format", "fhir")
    lines = result.stdout.splitlines()
    assert len(lines) == len(EXAMPLES) and result.stdout.endswith("\n")
    seen = []
    for text in lines:
        bundle = json.loads(text)
        validate_bundle(bundle)
        seen.append(bundle["identifier"]["value"])
        assert dump_case(bundle_to_case(bundle, today=TODAY)) == dump_case(
            _example(bundle["identifier"]["value"])
        )
    assert seen == EXAMPLES
    assert f"identifies {len(EXAMPLES)} client(s)" in result.stderr
    out = tmp_path / "all.ndjson"
    assert examples("export", "--all", "-f", "fhir", "-o", str(out)).stdout == ""
    assert out.read_text(encoding="utf-8") == result.stdout


def test_export_all_in_worker_processes_writes_the_same_lines(
    examples: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casectl import batch

    (examples.data_dir / "C-2026-9999.yaml").write_text("id: [broken\n")
    alone = examples("export", "--all", "--format", "fhir", "--deidentify")
    monkeypatch.setattr(batch, "PARALLEL_FROM", 5)
    monkeypatch.setattr(batch, "CHUNK", 3)
    monkeypatch.setattr(batch, "workers", lambda: 2)
    together = examples("export", "--all", "--format", "fhir", "--deidentify")
    assert together.stdout == alone.stdout and len(alone.stdout.splitlines()) == len(EXAMPLES)
    assert together.stderr == alone.stderr and "1 case file(s) are invalid" in alone.stderr


def test_export_all_leaves_out_an_invalid_file_with_a_warning(examples: Cli) -> None:
    (examples.data_dir / "C-2026-9999.yaml").write_text("id: [broken\n")
    result = examples("export", "--all", "--format", "fhir")
    assert len(result.stdout.splitlines()) == len(EXAMPLES)
    assert "1 case file(s) are invalid" in result.stderr


def test_an_export_to_a_file_that_fails_midway_leaves_the_old_file(
    examples: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    out = exports / "all.ndjson"
    out.write_text("last week's export\n")
    made: list[str] = []
    real = fhir.case_to_bundle

    def failing(case: Case, **kw: Any) -> dict[str, Any]:
        made.append(case.id)
        if len(made) == 3:
            raise RuntimeError("the disk is full")
        return real(case, **kw)

    monkeypatch.setattr(fhir, "case_to_bundle", failing)
    result = examples("export", "--all", "-f", "fhir", "-o", str(out), ok=False)
    assert result.exit_code == 70 and "internal error" in result.stderr
    assert out.read_text() == "last week's export\n"
    assert [p.name for p in exports.iterdir()] == ["all.ndjson"]  # no temporary file left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all"], "use it with --format fhir"),
        (["C-2026-0001", "--all", "--format", "fhir"], "not both"),
        (["C-2026-0001", "--format", "fhir", "--lang", "es"], "--lang sets the language"),
    ],
)
def test_export_refuses_options_that_do_not_go_together(
    cli: Cli, args: list[str], message: str
) -> None:
    result = cli("export", *args, ok=False)
    assert result.exit_code == ExitStatus.INVALID and message in result.stderr


# --- what the export tells other systems truthfully ---


def _family_codes(bundle: dict[str, Any]) -> dict[str, list[str]]:
    return {
        r["name"][0]["text"]: [
            c["code"] for rel in r["relationship"] for c in rel.get("coding", [])
        ]
        for r in _resources(bundle, "RelatedPerson")
    }


def test_legal_guardians_foster_and_adoptive_parents_carry_their_role_codes(cli: Cli) -> None:
    case_id = planned_case(cli)
    for handle, name, relationship, guardian in (
        ("gran", "Ana Santos", "Maternal grandmother", True),
        ("foster", "Lena Ortiz", "foster-mother", False),
        ("adoptive", "Tom Ortiz", "Adoptive father", True),
        ("court", "Pat Reyes", "Legal guardian", True),
        ("friend", "Sam Lee", "family friend", False),
    ):
        args = ["--id", handle, "--name", name, "--relationship", relationship]
        cli("family", case_id, *args, *(["--guardian"] if guardian else []))
    case = CaseStore(cli.data_dir, today=TODAY).load(case_id).case
    codes = _family_codes(case_to_bundle(case, today=TODAY))
    assert codes == {
        "Rosa Santos": ["MTH", "GUARD"],
        "Ana Santos": ["MGRMTH", "GUARD"],
        "Lena Ortiz": ["MTHFOST"],
        "Tom Ortiz": ["ADOPTF", "GUARD"],
        "Pat Reyes": ["GUARD"],
        "Sam Lee": [],
    }
    guardian = next(
        r
        for r in _resources(case_to_bundle(case, today=TODAY), "RelatedPerson")
        if r["name"][0]["text"] == "Rosa Santos"
    )
    assert guardian["relationship"][1] == {"coding": [fhir.GUARDIAN]}
    assert fhir.GUARDIAN["system"] == "http://terminology.hl7.org/CodeSystem/v3-RoleCode"


def test_one_condition_per_diagnosis_across_reassessments(cli: Cli) -> None:
    case_id = planned_case(cli)  # assessed 2026-09-10: asthma J45.40
    cli(
        "assess",
        case_id,
        "--health-status",
        "better",
        "--diagnosis",
        "moderate persistent  ASTHMA",  # the same diagnosis, written without its code
        "--diagnosis",
        "Eczema; icd10=L30.9",
        "--social-need",
        "housing",
        "--date",
        "2026-10-10",
    )
    cli(
        "assess",
        case_id,
        "--health-status",
        "stable",
        "--diagnosis",
        "Asthma, moderate persistent; icd10=J45.40",
        "--social-need",
        "housing",
        "--date",
        "2026-11-10",
    )
    case = CaseStore(cli.data_dir, today=TODAY).load(case_id).case
    bundle = case_to_bundle(case, today=TODAY)
    conditions = {c["code"]["text"]: c for c in _resources(bundle, "Condition")}
    assert set(conditions) == {"Asthma, moderate persistent", "Eczema", "housing"}
    asthma = conditions["Asthma, moderate persistent"]
    assert asthma["recordedDate"] == "2026-09-10"  # first recorded; the latest wording
    assert asthma["code"]["coding"] == [{"system": fhir.ICD10CM, "code": "J45.40"}]
    assert asthma["clinicalStatus"]["coding"][0]["code"] == "active"
    eczema = conditions["Eczema"]
    assert eczema["recordedDate"] == "2026-10-10"
    assert eczema["clinicalStatus"]["coding"][0]["code"] == "inactive"  # not restated since
    assert conditions["housing"]["recordedDate"] == "2026-10-10"
    impressions = [
        r
        for r in _resources(bundle, "ClinicalImpression")
        if r["code"]["coding"][0]["code"] == "assess"
    ]
    url = {r["id"]: e["fullUrl"] for e in bundle["entry"] for r in [e["resource"]]}
    assert [len(i["problem"]) for i in impressions] == [1, 3, 2]
    assert impressions[1]["problem"][0]["reference"] == url[asthma["id"]]
    assert dump_case(bundle_to_case(_through_json(bundle), today=TODAY)) == dump_case(case)


def test_the_case_id_is_a_patient_identifier_in_the_folders_own_system(cli: Cli) -> None:
    case_id = planned_case(cli)
    (patient,) = _resources(json.loads(cli("export", case_id, "-f", "fhir").stdout), "Patient")
    assert patient["identifier"] == [{"system": "urn:casectl:case-id", "value": case_id}]
    config = cli.data_dir / "config.toml"
    config.write_text(
        config.read_text().replace(
            'identifier_system = "urn:casectl:case-id"',
            'identifier_system = "https://example.org/fhir/case-id"',
        )
    )
    bundle = json.loads(cli("export", case_id, "-f", "fhir").stdout)
    (patient,) = _resources(bundle, "Patient")
    assert patient["identifier"] == [
        {"system": "https://example.org/fhir/case-id", "value": case_id}
    ]
    assert bundle["identifier"]["system"] == "https://example.org/fhir/case-id"
    (episode,) = _resources(bundle, "EpisodeOfCare")
    assert episode["identifier"][0]["system"] == "https://example.org/fhir/case-id"
    # Read back anywhere, whatever that folder's own system.
    assert bundle_to_case(bundle, today=TODAY).id == case_id
    config.write_text(
        config.read_text().replace('"https://example.org/fhir/case-id"', '"not a uri"')
    )
    result = cli("export", case_id, "-f", "fhir", ok=False)
    assert result.exit_code == ExitStatus.CONFIG and "fhir.identifier_system" in result.stderr


def test_keys_of_your_own_come_back_from_fhir(cli: Cli, tmp_path: Path) -> None:
    case_id = planned_case(cli)
    path = cli.path(case_id)
    text = path.read_text()
    text = text.replace(
        "client:\n", "x-team-note: moved from Eastside\nclient:\n  x-nickname: Mimi\n", 1
    )
    text = text.replace(
        "  - id: mother\n", "  - id: mother\n    x-seen:\n      on: 2026-10-01\n      ok: true\n", 1
    )
    path.write_text(text)
    assert cli("check").exit_code == 0
    bundle_file = tmp_path / "case.json"
    bundle_file.write_text(cli("export", case_id, "-f", "fhir").stdout)
    other = Cli(tmp_path / "elsewhere")
    other("init")
    assert other("import", "-f", "fhir", str(bundle_file)).stdout.split() == [case_id]
    written = other.path(case_id).read_text()
    assert "x-team-note: moved from Eastside" in written
    assert "x-nickname: Mimi" in written
    assert "x-seen:\n      on: 2026-10-01\n      ok: true" in written
    assert other("check").exit_code == 0
    # A de-identified export carries none of them.
    shared = cli("export", case_id, "-f", "fhir", "--deidentify").stdout
    assert "Mimi" not in shared and "x-keys" not in shared
