"""A case as a FHIR R4 Bundle (type `collection`), and such a Bundle back into the same case.

How a case maps (FHIR R4B models from fhir.resources, which share R4's structure here):

| casectl | FHIR |
|---|---|
| the case | EpisodeOfCare (status, status history, period, care manager, team) |
| client | Patient (name, birthDate, gender, language, interpreter-required extension) |
| family member | RelatedPerson (relationship coded in v3-RoleCode when it is a common one) |
| care-team member | Practitioner, or Organization for an agency with no organisation named; all in a CareTeam |
| consent | Consent (scope, performer, provision period) |
| screening, assessment, evaluation | ClinicalImpression (summary, problems, investigations) |
| diagnosis, social need | Condition (ICD-10-CM when recorded) |
| vitals | Observation, vital-signs category, LOINC codes, UCUM units |
| instrument | QuestionnaireResponse (the answers) and an Observation (the total and band) |
| risk | RiskAssessment (`prediction.qualitativeRisk`, rationale from the factors) |
| care plan | CarePlan with its interventions and appointments as activities, Goal per goal |
| referral | ServiceRequest and a Task tracking it (the SDOH Clinical Care pattern) |
| implement step | Task (completed) whose outputs are the referrals and education it made |
| education, follow-up contact | Communication |

The exact round trip. Much of a case has no FHIR element (who decides, who lives with the
child, a goal's baseline, a referral's update notes), so each resource made from a casectl record
carries that record, as casectl writes it, in one extension (`RECORD_URL`: `section` and `json`).
The FHIR elements are the record's meaning for other systems; the extension is what casectl
reads back. Derived resources (Goal, Condition, Observation, ServiceRequest …) carry nothing
extra. On import the case is rebuilt from the records, validated, exported again and compared
with the bundle, so a bundle whose FHIR elements were changed elsewhere is refused rather than
silently half-imported.

Every resource is validated with fhir.resources and its codes against their value sets
(`casectl.share.valuesets`) before a bundle is returned or read.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from casectl.config import DEFAULT_IDENTIFIER_SYSTEM
from casectl.dates import completed_years
from casectl.errors import InvalidInput
from casectl.models.base import is_user_key
from casectl.models.case import Case
from casectl.models.people import CareTeamMember, Contact, FamilyMember
from casectl.models.records import (
    Assessment,
    CarePlan,
    Coordination,
    Evaluation,
    FollowUp,
    Goal,
    InstrumentRecord,
    RiskAssessment,
    Screening,
    Vitals,
)
from casectl.models.validation import CaseInvalid, format_loc, validate_case
from casectl.share.redaction import IDENTIFIED, Redaction
from casectl.share.valuesets import TERMINOLOGY, check_codes
from casectl.state import CaseState, GoalState, derive

Json = dict[str, Any]

BASE = "https://casectl.example.org/fhir"
RECORD_URL = f"{BASE}/StructureDefinition/casectl-record"
# The identifier system of case ids is the data folder's choice: `[fhir] identifier_system`.
PSEUDONYM_SYSTEM = f"{BASE}/NamingSystem/case-pseudonym"
CODES = f"{BASE}/CodeSystem"  # casectl's own vocabularies, e.g. f"{CODES}/team-role"
QUESTIONNAIRE = f"{BASE}/Questionnaire"

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
BCP47 = "urn:ietf:bcp:47"
INTERPRETER_URL = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
PSEUDONYMISED = {
    "system": f"{TERMINOLOGY}/v3-ObservationValue",
    "code": "PSEUDED",
    "display": "pseudonymized",
}

# The resource types casectl writes, and so the only ones it reads.
RESOURCE_TYPES = frozenset(
    {
        "Patient",
        "RelatedPerson",
        "Practitioner",
        "Organization",
        "CareTeam",
        "EpisodeOfCare",
        "Consent",
        "ClinicalImpression",
        "Condition",
        "Observation",
        "QuestionnaireResponse",
        "RiskAssessment",
        "CarePlan",
        "Goal",
        "ServiceRequest",
        "Task",
        "Communication",
    }
)
# The case's lists whose records live on resources of their own; the case record keeps counts.
RECORD_SECTIONS = (
    "family",
    "care_team",
    "consents",
    "screening",
    "assessments",
    "risk_assessments",
    "care_plans",
    "coordination",
    "follow_ups",
    "evaluations",
)

# --- casectl vocabularies onto FHIR codes (each target code is in its value set: tested) ---

EPISODE_STATUS = {
    "open": "active",
    "on-hold": "onhold",
    "closed": "finished",
    "transferred": "finished",
}
CARE_TEAM_STATUS = {
    "open": "active",
    "on-hold": "suspended",
    "closed": "inactive",
    "transferred": "inactive",
}
# The current plan follows the case; an earlier plan was replaced ("revoked … though it may
# have been replaced by a new plan", request-status).
CURRENT_PLAN_STATUS = {
    "open": "active",
    "on-hold": "on-hold",
    "closed": "completed",
    "transferred": "completed",
}
GOAL_LIFECYCLE = {
    "not-started": "accepted",  # agreed with the family, not yet worked on
    "in-progress": "active",
    "achieved": "completed",
    "partly-achieved": "completed",
    "not-achieved": "completed",
    "discontinued": "cancelled",
}
GOAL_OUTCOME = {
    "achieved": "achieved",
    "partly-achieved": "not-achieved",
    "not-achieved": "not-achieved",
}
PROGRESS = {
    "not-started": "no-progress",
    "improving": "improving",
    "no-change": "no-change",
    "worsening": "worsening",
    "achieved": "achieved",
}
INTERVENTION_STATUS = {
    "planned": "not-started",
    "in-progress": "in-progress",
    "done": "completed",
    "cancelled": "cancelled",
}
APPOINTMENT_STATUS = {
    "scheduled": "scheduled",
    "attended": "completed",
    "missed": "cancelled",  # with statusReason `missed`
    "cancelled": "cancelled",
}
REFERRAL_REQUEST = {
    "sent": "active",
    "accepted": "active",
    "scheduled": "active",
    "no-response": "active",
    "completed": "completed",
    "declined": "revoked",
}
REFERRAL_TASK = {
    "sent": "requested",
    "accepted": "accepted",
    "scheduled": "in-progress",
    "no-response": "requested",  # with businessStatus `no-response`
    "completed": "completed",
    "declined": "rejected",
}
MEDIUM = {
    "phone": "PHONE",
    "video": "VIDEOCONF",
    "home-visit": "FACE",
    "office": "FACE",
    "clinic": "FACE",
    "school-visit": "FACE",
    "hospital-visit": "FACE",
    "email": "EMAILWRIT",
    "text": "WRITTEN",
    "letter": "MAILWRIT",
}
# Care-team roles that are usually an agency: written as an Organization when no organisation
# is named for the member (a named organisation means the member is a person working there).
AGENCY_ROLES = frozenset(
    {
        "school",
        "insurer",
        "social-services",
        "community-organisation",
        "early-intervention",
        "home-health",
        "employer",
        "legal",
        "pharmacy",
        "hospital",
    }
)
# v3-RoleCode (http://terminology.hl7.org/CodeSystem/v3-RoleCode) for common relationships,
# keyed by the relationship as written, lower case, dashes and underscores as spaces; anything
# else keeps its text only. A legal guardian gets GUARD besides (`write_family`).
RELATIONSHIP = {
    "mother": "MTH",
    "father": "FTH",
    "parent": "PRN",
    "stepmother": "STPMTH",
    "stepfather": "STPFTH",
    "grandmother": "GRMTH",
    "grandfather": "GRFTH",
    "maternal grandmother": "MGRMTH",
    "maternal grandfather": "MGRFTH",
    "paternal grandmother": "PGRMTH",
    "paternal grandfather": "PGRFTH",
    "sister": "SIS",
    "brother": "BRO",
    "sibling": "SIB",
    "aunt": "AUNT",
    "uncle": "UNCLE",
    "cousin": "COUSN",
    "spouse": "SPS",
    "husband": "HUSB",
    "wife": "WIFE",
    "domestic partner": "DOMPART",
    "son": "SONC",
    "daughter": "DAUC",
    "child": "CHILD",
    "friend": "FRND",
    "neighbor": "NBOR",
    "neighbour": "NBOR",
    "step parent": "STPPRN",
    "stepparent": "STPPRN",
    "grandparent": "GRPRN",
    "great grandmother": "GGRMTH",
    "great grandfather": "GGRFTH",
    "half sister": "HSIS",
    "half brother": "HBRO",
    "stepsister": "STPSIS",
    "stepbrother": "STPBRO",
    "niece": "NIECE",
    "nephew": "NEPHEW",
    "foster mother": "MTHFOST",
    "foster father": "FTHFOST",
    "foster parent": "PRNFOST",
    "adoptive mother": "ADOPTM",
    "adoptive father": "ADOPTF",
    "adoptive parent": "ADOPTP",
    "guardian": "GUARD",
    "legal guardian": "GUARD",
}
ROLE_CODE = f"{TERMINOLOGY}/v3-RoleCode"
GUARDIAN = {"system": ROLE_CODE, "code": "GUARD", "display": "guardian"}
# LOINC codes of the vital signs (the FHIR vital-signs profile's codes) and UCUM units.
VITALS: tuple[tuple[str, str, str, str, str], ...] = (
    ("height_cm", "8302-2", "Body height", "cm", "cm"),
    ("weight_kg", "29463-7", "Body weight", "kg", "kg"),
    ("heart_rate", "8867-4", "Heart rate", "beats/minute", "/min"),
    ("respiratory_rate", "9279-1", "Respiratory rate", "breaths/minute", "/min"),
    ("temperature_c", "8310-5", "Body temperature", "C", "Cel"),
)
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
# US Core's pulse-oximetry pattern: the pulse-oximetry code with the vital-signs base code.
SPO2 = (
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
    ("2708-6", "Oxygen saturation in Arterial blood"),
)
AGE = ("30525-0", "Age")
AGE_CAP = 90
# LOINC codes of instrument totals, where LOINC has one.
INSTRUMENT_TOTAL = {
    "phq-9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
    "gad-7": ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"),
}
PATIENT_REFERRAL = {"system": SNOMED, "code": "3457005", "display": "Patient referral"}
CONSENT_CATEGORY = {"system": LOINC, "code": "59284-0", "display": "Patient Consent"}
OPT_IN = {"system": f"{TERMINOLOGY}/v3-ActCode", "code": "OPTIN"}
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, BASE)


class FhirInvalid(InvalidInput):
    """A resource fails fhir.resources' validation or carries a code outside its value set."""


# --- export ---


def case_to_bundle(
    case: Case,
    *,
    today: dt.date,
    redaction: Redaction = IDENTIFIED,
    identifier_system: str = DEFAULT_IDENTIFIER_SYSTEM,
    user_keys: UserKeys = (),
) -> dict[str, Any]:
    """The case as a FHIR R4 collection Bundle (JSON-ready), every resource validated.

    `today` gives the age of a de-identified client; an identified bundle does not depend on it.
    `identifier_system` names the case id (Patient, EpisodeOfCare and Bundle identifiers);
    `user_keys` are the case file's own `x-` keys (`user_keys_of`), carried so that an import
    gives them back; a de-identified bundle carries neither the case id nor those keys.
    """
    writer = _Writer(case, redaction, today, identifier_system, user_keys)
    bundle = writer.bundle()
    validate_bundle(bundle)
    return bundle


# --- the case file's own keys (`x-…`) ---

# Each `x-` key of a case file: where it sits (keys and list positions from the top) and its
# name and value, as the file holds them.
UserKey = tuple[tuple[str | int, ...], str, Any]
UserKeys = Sequence[UserKey]


def user_keys_of(data: Any, where: tuple[str | int, ...] = ()) -> list[UserKey]:
    """Every `x-` key in a case file's plain data, with its place, in file order."""
    found: list[UserKey] = []
    if isinstance(data, Mapping):
        for key, value in data.items():
            if is_user_key(key):
                found.append((where, str(key), value))
            else:
                found += user_keys_of(value, (*where, str(key)))
    elif isinstance(data, list):
        for n, item in enumerate(data):
            found += user_keys_of(item, (*where, n))
    return found


def with_user_keys(data: dict[str, Any], keys: UserKeys) -> dict[str, Any]:
    """Case data with the `x-` keys put back where they were (a place that is gone is skipped)."""
    for where, key, value in keys:
        node: Any = data
        for part in where:
            found = (isinstance(node, Mapping) and isinstance(part, str) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and part < len(node)
            )
            if found:
                node = node[part]
            else:
                node = None
                break
        if isinstance(node, dict):
            node[key] = value
    return data


def _user_keys_text(keys: UserKeys) -> str:
    # YAML keeps what JSON cannot (a date stays a date), and is read back by the store's own
    # safe reader.
    from casectl.store import yamlio

    listed = [{"at": list(where), "key": key, "value": value} for where, key, value in keys]
    return yamlio.Document(yamlio.to_yaml({"x-keys": listed}), 2, 2).dumps()


def _user_keys_from(text: str, where: str) -> list[UserKey]:
    from casectl.store import yamlio

    try:
        listed = yamlio.to_plain(yamlio.load(text).tree).get("x-keys")
    except yamlio.YamlProblem as exc:
        raise InvalidInput(
            f"the x- keys carried on {where} cannot be read ({exc.message})."
        ) from None
    keys: list[UserKey] = []
    for item in listed if isinstance(listed, list) else [None]:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("at"), list)
            or not is_user_key(item.get("key"))
        ):
            raise InvalidInput(f"the x- keys carried on {where} are not as casectl writes them.")
        keys.append((tuple(item["at"]), item["key"], item.get("value")))
    return keys


def _uuid(seed: str, key: str) -> str:
    # Stable ids: the same case exports to the same bundle. De-identified bundles are seeded by
    # the pseudonym, so no id can be recomputed from a case id.
    return str(uuid.uuid5(_NAMESPACE, f"{seed}/{key}"))


def _clean(value: Any) -> Any:
    """Drop what FHIR does not allow to be empty: None, "", [] and {} (never False or 0)."""
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        items = [_clean(v) for v in value]
        return [v for v in items if v not in (None, "", [], {})]
    return value


def _record_extension(section: str, data: Any) -> Json:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return {
        "url": RECORD_URL,
        "extension": [
            {"url": "section", "valueCode": section},
            {"url": "json", "valueString": text},
        ],
    }


def _dump(record: Any) -> Any:
    """A record as casectl writes it: only what was set, dates as ISO text."""
    return record.model_dump(mode="json", by_alias=True, exclude_unset=True)


def _coding(system: str, code: str, display: str | None = None) -> Json:
    return {"system": system, "code": code, "display": display}


def _concept(system: str, code: str, display: str | None = None) -> Json:
    return {"coding": [_coding(system, code, display)]}


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def relationship_code(relationship: str) -> str | None:
    """The v3-RoleCode of a family relationship as written ("Foster mother" → MTHFOST)."""
    words = " ".join(relationship.lower().replace("-", " ").replace("_", " ").split())
    return RELATIONSHIP.get(words) or RELATIONSHIP.get(words.replace("step ", "step"))


def _diagnosis_keys(d: Any) -> list[str]:
    """What makes two diagnoses the same: the ICD-10-CM code, else the description."""
    text = "text:" + " ".join(d.description.casefold().split())
    return [f"icd10:{d.icd10}", text] if d.icd10 else [text]


def _problem_key(d: Any) -> str:
    return _diagnosis_keys(d)[0]


class _Writer:
    """Builds the entries of one case's bundle; `redaction` decides what may be written."""

    def __init__(
        self,
        case: Case,
        redaction: Redaction,
        today: dt.date,
        identifier_system: str = DEFAULT_IDENTIFIER_SYSTEM,
        user_keys: UserKeys = (),
    ) -> None:
        self.case = case
        self.r = redaction
        self.today = today
        self.identifier_system = identifier_system
        # x- keys are the user's own free text: never in a de-identified bundle.
        self.user_keys = () if redaction.deidentified else user_keys
        # The Condition each diagnosis and social need of each assessment is written as.
        self.problems: dict[tuple[int, str], Json] = {}
        self.seed = redaction.case_id(case.id)
        self.entries: list[Json] = []
        self.family = {m.id for m in case.family}
        self.team = {m.id for m in case.care_team}
        self.patient = self.ref("patient")
        self._standing: dict[int, CaseState] = {}

    def standing(self, i: int) -> CaseState:
        """Where plan `i` stood: now for the plan in force, else when the next replaced it."""
        if i not in self._standing:
            plans = self.case.care_plans
            on = plans[i + 1].date if i + 1 < len(plans) else self.today
            upto = self.case.model_copy(update={"care_plans": plans[: i + 1]})
            self._standing[i] = derive(upto, on=on)
        return self._standing[i]

    # --- plumbing ---

    def url(self, key: str) -> str:
        return f"urn:uuid:{_uuid(self.seed, key)}"

    def ref(self, key: str) -> Json:
        return {"reference": self.url(key)}

    def add(self, key: str, rtype: str, body: Json, record: tuple[str, Any] | None = None) -> Json:
        extensions = list(body.pop("extension", []))
        if record is not None and not self.r.deidentified:
            extensions.insert(0, _record_extension(*record))
        resource = {"resourceType": rtype, "id": _uuid(self.seed, key), "extension": extensions}
        resource.update(body)
        self.entries.append({"fullUrl": self.url(key), "resource": _clean(resource)})
        return self.ref(key)

    def text(self, value: str | None) -> str | None:
        return self.r.text(value)

    def display(self, value: str | None) -> Json | None:
        shown = self.r.text(value)
        return {"display": shown} if shown else None

    def person(self, handle: str) -> Json | None:
        """A reference to whoever a handle names (client, family, care team, case manager)."""
        if handle == "client":
            return self.patient
        if handle in self.family:
            return self.ref(f"family/{handle}")
        if handle in self.team:
            return self.ref(f"team/{handle}")
        if handle == "case-manager":
            return self.display(self.case.case_manager)
        return self.display(handle)  # someone outside the case, named as written

    def telecom(self, contact: Contact | None) -> list[Json]:
        if contact is None or self.r.deidentified:
            return []
        return [
            {"system": system, "value": value}
            for system, value in (("phone", contact.phone), ("email", contact.email))
            if value
        ]

    def address(self, contact: Contact | None) -> list[Json]:
        if contact is None or not contact.address or self.r.deidentified:
            return []
        return [{"text": contact.address}]

    def language(self, code: str | None) -> list[Json]:
        if not code:
            return []
        return [{"language": _concept(BCP47, code), "preferred": True}]

    def plan_at(self, day: dt.date) -> int | None:
        """The plan in force on `day`: the latest one made on or before it (else the first)."""
        plans = self.case.care_plans
        if not plans:
            return None
        made = [i for i, p in enumerate(plans) if p.date <= day]
        return made[-1] if made else 0

    def plan_ref(self, day: dt.date) -> list[Json]:
        index = self.plan_at(day)
        return [] if index is None else [self.ref(f"plan/{index}")]

    # --- the bundle ---

    def bundle(self) -> dict[str, Any]:
        c = self.case
        self.write_patient()
        self.write_episode()
        for relative in c.family:
            self.write_family(relative)
        for member in c.care_team:
            self.write_team_member(member)
        self.write_care_team()
        for i, consent in enumerate(c.consents):
            self.add(f"consent/{i}", "Consent", self.consent(consent), ("consents", _dump(consent)))
        for i, screening in enumerate(c.screening):
            self.write_screening(i, screening)
        self.write_problems()
        for i, assessment in enumerate(c.assessments):
            self.write_assessment(i, assessment)
        for i, risk in enumerate(c.risk_assessments):
            self.write_risk(i, risk)
        for i, plan in enumerate(c.care_plans):
            self.write_plan(i, plan)
        for i, record in enumerate(c.coordination):
            self.write_coordination(i, record)
        for i, contact in enumerate(c.follow_ups):
            self.write_follow_up(i, contact)
        for i, evaluation in enumerate(c.evaluations):
            self.write_evaluation(i, evaluation)
        if self.r.deidentified:
            self.write_age()
        identifier_system = PSEUDONYM_SYSTEM if self.r.deidentified else self.identifier_system
        bundle: Json = {
            "resourceType": "Bundle",
            "id": _uuid(self.seed, "bundle"),
            "meta": {"security": [PSEUDONYMISED]} if self.r.deidentified else None,
            "identifier": {"system": identifier_system, "value": self.seed},
            "type": "collection",
        }
        result: dict[str, Any] = _clean(bundle)
        result["entry"] = self.entries
        return result

    # --- people ---

    def write_patient(self) -> None:
        client = self.case.client
        body: Json = {
            "extension": [{"url": INTERPRETER_URL, "valueBoolean": client.interpreter_needed}],
            "identifier": (
                [
                    {
                        "type": {"coding": [PSEUDONYMISED]},
                        "system": PSEUDONYM_SYSTEM,
                        "value": self.seed,
                    }
                ]
                if self.r.deidentified
                else [{"system": self.identifier_system, "value": self.case.id}]
            ),
            "name": [{"text": self.text(client.name)}],
            "telecom": self.telecom(client.contact),
            "gender": client.sex,
            "birthDate": None if self.r.deidentified else client.dob.isoformat(),
            "address": self.address(client.contact),
            "communication": self.language(client.preferred_language),
        }
        self.add("patient", "Patient", body, ("client", _dump(client)))

    def write_episode(self) -> None:
        c = self.case
        end = c.closed
        if end is None and c.status == "transferred":
            end = next(
                (h.date for h in reversed(c.status_history) if h.status == "transferred"), None
            )
        identifier = (
            {"type": {"coding": [PSEUDONYMISED]}, "system": PSEUDONYM_SYSTEM, "value": self.seed}
            if self.r.deidentified
            else {"system": self.identifier_system, "value": c.id}
        )
        data = _dump(c)
        data.pop("client", None)
        for section in RECORD_SECTIONS:
            if section in data:
                data[section] = len(data[section])
        body: Json = {
            "identifier": [identifier],
            "status": EPISODE_STATUS[c.status],
            "statusHistory": self.status_history(),
            "type": [_concept(f"{CODES}/episode-type", "case-management", "Case management")],
            "patient": self.patient,
            "period": {"start": c.opened.isoformat(), "end": _day(end)},
            "careManager": self.display(c.case_manager),
            "team": [self.ref("care-team")],
        }
        self.add("episode", "EpisodeOfCare", body, ("case", data))
        if self.user_keys:
            extension = self.entries[-1]["resource"]["extension"][0]["extension"]
            extension.append({"url": "x-keys", "valueString": _user_keys_text(self.user_keys)})

    def status_history(self) -> list[Json]:
        changes = [(self.case.opened, "open")] + [
            (h.date, h.status) for h in self.case.status_history
        ]
        if len(changes) == 1:
            return []
        history = []
        for n, (start, status) in enumerate(changes):
            end = changes[n + 1][0] if n + 1 < len(changes) else None
            history.append(
                {
                    "status": EPISODE_STATUS[status],
                    "period": {"start": start.isoformat(), "end": _day(end)},
                }
            )
        return history

    def write_family(self, member: FamilyMember) -> None:
        code = relationship_code(member.relationship)
        relationship: list[Json] = [
            {
                "coding": [_coding(ROLE_CODE, code)] if code else [],
                "text": self.text(member.relationship),
            }
        ]
        if member.legal_guardian and code != GUARDIAN["code"]:
            relationship.append({"coding": [GUARDIAN]})
        body: Json = {
            "patient": self.patient,
            "relationship": relationship,
            "name": [{"text": self.text(member.name)}],
            "telecom": self.telecom(member.contact),
            "address": self.address(member.contact),
            "communication": self.language(member.language),
        }
        self.add(f"family/{member.id}", "RelatedPerson", body, ("family", _dump(member)))

    def is_agency(self, member: CareTeamMember) -> bool:
        return member.role in AGENCY_ROLES and not member.organisation

    def write_team_member(self, member: CareTeamMember) -> None:
        body: Json = {
            "telecom": self.telecom(member.contact),
            "address": self.address(member.contact),
        }
        if self.is_agency(member):
            rtype = "Organization"
            body = {"name": self.text(member.name), **body}
        else:
            rtype = "Practitioner"
            body = {"name": [{"text": self.text(member.name)}], **body}
        self.add(f"team/{member.id}", rtype, body, ("care_team", _dump(member)))

    def write_care_team(self) -> None:
        c = self.case
        participants: list[Json] = [
            {
                "role": [_concept(f"{CODES}/team-role", m.role)],
                "member": self.ref(f"team/{m.id}"),
                # Only a Practitioner may act on behalf of an organisation (ctm-1).
                "onBehalfOf": None if self.is_agency(m) else self.display(m.organisation),
            }
            for m in c.care_team
        ]
        if not any(m.role == "case-manager" for m in c.care_team):
            participants.insert(
                0,
                {
                    "role": [_concept(f"{CODES}/team-role", "case-manager")],
                    "member": self.display(c.case_manager),
                },
            )
        body: Json = {
            "status": CARE_TEAM_STATUS[c.status],
            "subject": self.patient,
            "participant": participants,
        }
        self.add("care-team", "CareTeam", body)

    def consent(self, consent: Any) -> Json:
        kind = consent.kind.lower()
        scope = (
            "patient-privacy"
            if kind.startswith("share")
            else "research"
            if "research" in kind
            else "treatment"
        )
        return {
            "status": "active",
            "scope": _concept(f"{TERMINOLOGY}/consentscope", scope),
            "category": [{"coding": [CONSENT_CATEGORY], "text": self.text(consent.kind)}],
            "patient": self.patient,
            "dateTime": consent.date.isoformat(),
            "performer": [self.person(consent.given_by)],
            "policyRule": {"coding": [OPT_IN]},
            "provision": {
                "type": "permit",
                "period": {"start": consent.date.isoformat(), "end": _day(consent.expires)},
            },
        }

    # --- screening, assessment, evaluation ---

    def impression(self, stage: str, display: str, day: dt.date, recorded_by: str) -> Json:
        return {
            "status": "completed",
            "code": _concept(f"{CODES}/stage", stage, display),
            "subject": self.patient,
            "effectiveDateTime": day.isoformat(),
            "date": day.isoformat(),
            "assessor": self.display(recorded_by),
        }

    def write_screening(self, i: int, s: Screening) -> None:
        found = self.write_instruments(f"screening/{i}", s.date, s.instruments)
        body = self.impression("screen", "Screening", s.date, s.recorded_by)
        body.update(
            {
                "description": self.text(s.referral_reason),
                "investigation": [{"code": {"text": "instruments"}, "item": found}],
                "summary": self.text(s.eligibility_reason),
                "finding": [
                    {
                        "itemCodeableConcept": _concept(
                            f"{CODES}/eligibility", "eligible" if s.eligible else "not-eligible"
                        )
                    }
                ],
                "note": [{"text": self.text(s.note)}],
            }
        )
        self.add(f"screening/{i}", "ClinicalImpression", body, ("screening", _dump(s)))

    def write_assessment(self, i: int, a: Assessment) -> None:
        key = f"assessment/{i}"
        problems = [self.problems[(i, _problem_key(d))] for d in a.diagnoses]
        problems += [self.problems[(i, f"need:{need}")] for need in a.social_needs]
        problems = list({p["reference"]: p for p in problems}.values())
        vitals = self.write_vitals(key, a.date, a.vitals) if a.vitals else []
        found = self.write_instruments(key, a.date, a.instruments)
        body = self.impression("assess", "Assessment", a.date, a.recorded_by)
        body.update(
            {
                "problem": problems,
                "investigation": [
                    {"code": {"text": "vital signs"}, "item": vitals},
                    {"code": {"text": "instruments"}, "item": found},
                ],
                "summary": self.text(a.health_status),
                "note": [{"text": self.text(a.note)}],
            }
        )
        self.add(key, "ClinicalImpression", body, ("assessments", _dump(a)))

    def write_evaluation(self, i: int, e: Evaluation) -> None:
        body = self.impression("evaluate", "Evaluation", e.date, e.recorded_by)
        body.update(
            {
                "summary": self.text(e.decision_reason),
                "finding": [{"itemCodeableConcept": _concept(f"{CODES}/decision", e.decision)}],
                "note": [{"text": self.text(e.note)}],
            }
        )
        self.add(f"evaluation/{i}", "ClinicalImpression", body, ("evaluations", _dump(e)))

    def write_problems(self) -> None:
        """One Condition per diagnosis and per social need, however many assessments list it.

        A diagnosis is the same one when its ICD-10-CM code or its description (ignoring case
        and spacing) matches. The Condition holds what the latest assessment listing it says,
        was recorded on the first such assessment's date, and is active while the latest
        assessment still lists it (inactive once a reassessment no longer does).
        """
        groups: list[list[tuple[int, Any]]] = []
        found: dict[str, int] = {}
        for i, a in enumerate(self.case.assessments):
            items: list[tuple[list[str], Any]] = [(_diagnosis_keys(d), d) for d in a.diagnoses] + [
                ([f"need:{need}"], need) for need in a.social_needs
            ]
            for keys, item in items:
                n = next((found[k] for k in keys if k in found), None)
                if n is None:
                    n = len(groups)
                    groups.append([])
                if not groups[n] or groups[n][-1][0] != i:
                    groups[n].append((i, item))
                for k in keys:
                    found.setdefault(k, n)
                self.problems[(i, keys[0])] = {"reference": self.url(f"problem/{n}")}
        last = len(self.case.assessments) - 1
        for n, group in enumerate(groups):
            first, latest = group[0], group[-1]
            item = latest[1]
            code: Json
            if isinstance(item, str):
                code = {"coding": [_coding(f"{CODES}/social-need", item)], "text": item}
            else:
                code = {
                    "coding": [_coding(ICD10CM, item.icd10)] if item.icd10 else [],
                    "text": self.text(item.description),
                }
            status = "active" if latest[0] == last else "inactive"
            body: Json = {
                "clinicalStatus": _concept(f"{TERMINOLOGY}/condition-clinical", status),
                "category": [_concept(f"{TERMINOLOGY}/condition-category", "problem-list-item")],
                "code": code,
                "subject": self.patient,
                "recordedDate": self.case.assessments[first[0]].date.isoformat(),
            }
            self.add(f"problem/{n}", "Condition", body)

    def observation(self, day: dt.date, category: str, code: Json) -> Json:
        return {
            "status": "final",
            "category": [_concept(f"{TERMINOLOGY}/observation-category", category)],
            "code": code,
            "subject": self.patient,
            "effectiveDateTime": day.isoformat(),
        }

    def write_vitals(self, key: str, day: dt.date, v: Vitals) -> list[Json]:
        refs = []

        def quantity(value: float, unit: str, ucum: str) -> Json:
            return {"value": value, "unit": unit, "system": UCUM, "code": ucum}

        for field, loinc, display, unit, ucum in VITALS:
            value = getattr(v, field)
            if value is not None:
                body = self.observation(
                    day,
                    "vital-signs",
                    {"coding": [_coding(LOINC, loinc, display)], "text": display},
                )
                body["valueQuantity"] = quantity(value, unit, ucum)
                refs.append(self.add(f"{key}/vital/{loinc}", "Observation", body))
        if v.systolic is not None and v.diastolic is not None:
            body = self.observation(
                day,
                "vital-signs",
                {"coding": [_coding(LOINC, *BP_PANEL)], "text": "Blood pressure"},
            )
            body["component"] = [
                {
                    "code": {"coding": [_coding(LOINC, *SYSTOLIC)]},
                    "valueQuantity": quantity(v.systolic, "mmHg", "mm[Hg]"),
                },
                {
                    "code": {"coding": [_coding(LOINC, *DIASTOLIC)]},
                    "valueQuantity": quantity(v.diastolic, "mmHg", "mm[Hg]"),
                },
            ]
            refs.append(self.add(f"{key}/vital/{BP_PANEL[0]}", "Observation", body))
        if v.spo2 is not None:
            body = self.observation(
                day,
                "vital-signs",
                {"coding": [_coding(LOINC, *c) for c in SPO2], "text": "Oxygen saturation"},
            )
            body["valueQuantity"] = quantity(v.spo2, "%", "%")
            refs.append(self.add(f"{key}/vital/{SPO2[0][0]}", "Observation", body))
        return refs

    def write_instruments(
        self, key: str, day: dt.date, instruments: Sequence[InstrumentRecord]
    ) -> list[Json]:
        refs: list[Json] = []
        for j, inst in enumerate(instruments):
            answers = None
            if inst.answers:
                items = [
                    {"linkId": str(n), "answer": [{"valueInteger": a}] if a is not None else []}
                    for n, a in enumerate(inst.answers, start=1)
                ]
                qr: Json = {
                    "status": "completed",
                    "questionnaire": f"{QUESTIONNAIRE}/{inst.instrument}",
                    "subject": self.patient,
                    "authored": day.isoformat(),
                    "item": items,
                }
                answers = self.add(f"{key}/instrument/{j}/answers", "QuestionnaireResponse", qr)
                refs.append(answers)
            codings = [_coding(f"{CODES}/instrument", inst.instrument)]
            if inst.instrument in INSTRUMENT_TOTAL:
                codings.insert(0, _coding(LOINC, *INSTRUMENT_TOTAL[inst.instrument]))
            band = _concept(f"{CODES}/instrument-band", inst.band)
            if inst.band in ("positive", "negative"):
                band["coding"].append(
                    _coding(
                        f"{TERMINOLOGY}/v3-ObservationInterpretation",
                        "POS" if inst.band == "positive" else "NEG",
                    )
                )
            body = self.observation(day, "survey", {"coding": codings, "text": inst.instrument})
            if inst.total is not None:
                body["valueInteger"] = inst.total
            else:
                body["valueCodeableConcept"] = _concept(f"{CODES}/instrument-band", inst.band)
            body["interpretation"] = [band] + [
                _concept(f"{CODES}/instrument-flag", flag) for flag in inst.flags
            ]
            body["derivedFrom"] = [answers] if answers else []
            refs.append(self.add(f"{key}/instrument/{j}/score", "Observation", body))
        return refs

    # --- risk ---

    def write_risk(self, i: int, r: RiskAssessment) -> None:
        basis = [
            self.ref(f"assessment/{k}")
            for k, a in enumerate(self.case.assessments)
            if a.date <= r.date
        ][-1:]
        parts = [f"score {r.score} ({r.rules_version})"]
        for f in r.factors:
            detail = self.text(f.detail)
            parts.append(f"{f.factor} {f.points:+d}" + (f": {detail}" if detail else ""))
        if r.override:
            reason = self.text(r.override.reason)
            parts.append(
                f"computed {r.level}, overridden to {r.override.level}"
                + (f": {reason}" if reason else "")
            )
        body: Json = {
            "status": "final",
            "subject": self.patient,
            "occurrenceDateTime": r.date.isoformat(),
            "performer": self.display(r.recorded_by),
            "method": {"coding": [_coding(f"{CODES}/risk-rules", r.rules_version)]},
            "basis": basis,
            "prediction": [
                {
                    "qualitativeRisk": _concept(
                        f"{TERMINOLOGY}/risk-probability", r.effective_level
                    ),
                    "rationale": "; ".join(parts),
                }
            ],
            "note": [{"text": self.text(r.note)}],
        }
        self.add(f"risk/{i}", "RiskAssessment", body, ("risk_assessments", _dump(r)))

    # --- plan and goals ---

    def goal_status(self, i: int, goal: Goal) -> GoalState:
        found = self.standing(i).goal(goal.id)
        return (
            found
            if found is not None
            else GoalState(goal, goal.status, self.case.care_plans[i].date)
        )

    def achievement(self, standing: GoalState) -> Json | None:
        status = standing.status
        if status in GOAL_OUTCOME:
            shown = status.replace("-", " ") if status == "partly-achieved" else None
            return {
                **_concept(f"{TERMINOLOGY}/goal-achievement", GOAL_OUTCOME[status]),
                "text": shown,
            }
        if status == "discontinued":
            return None
        latest = PROGRESS[standing.progress] if standing.progress else None
        if latest is None and status == "in-progress":
            latest = "in-progress"
        return _concept(f"{TERMINOLOGY}/goal-achievement", latest) if latest else None

    def write_goal(self, i: int, plan: CarePlan, goal: Goal) -> Json:
        domain = _concept(f"{CODES}/goal-domain", goal.domain)
        description = {"text": goal.description} if not self.r.deidentified else domain
        baseline = self.text(goal.baseline)
        standing = self.goal_status(i, goal)
        body: Json = {
            "lifecycleStatus": GOAL_LIFECYCLE[standing.status],
            "achievementStatus": self.achievement(standing),
            "category": [domain],
            "description": description,
            "subject": self.patient,
            "startDate": plan.date.isoformat(),
            "target": [
                {
                    "measure": {"text": self.text(goal.measure)},
                    "detailString": self.text(goal.target),
                    "dueDate": goal.target_date.isoformat(),
                }
            ],
            "note": [{"text": f"baseline: {baseline}" if baseline else None}],
        }
        return self.add(f"plan/{i}/goal/{goal.id}", "Goal", body)

    def appointment_activities(self, i: int) -> list[Json]:
        current = {
            a.appointment.id: a.status
            for a in self.standing(len(self.case.care_plans) - 1).appointments
        }
        activities = []
        for record in self.case.coordination:
            if self.plan_at(record.date) != i:
                continue
            for appt in record.appointments:
                status = current.get(appt.id, appt.status)
                activities.append(
                    {
                        "detail": {
                            "kind": "Appointment",
                            "status": APPOINTMENT_STATUS[status],
                            "statusReason": _concept(f"{CODES}/appointment-status", status),
                            "scheduledPeriod": {
                                "start": appt.date.isoformat(),
                                "end": appt.date.isoformat(),
                            },
                            "performer": [self.person(appt.with_)],
                            "description": self.text(appt.purpose),
                        }
                    }
                )
        return activities

    def write_plan(self, i: int, plan: CarePlan) -> None:
        goals = {g.id: self.write_goal(i, plan, g) for g in plan.goals}
        steps = {s.intervention.id: s.status for s in self.standing(i).interventions}
        activities = []
        for item in plan.interventions:
            frequency = self.text(item.frequency)
            activities.append(
                {
                    "detail": {
                        "status": INTERVENTION_STATUS[steps.get(item.id, item.status)],
                        "goal": [goals[item.goal]] if item.goal in goals else [],
                        "scheduledString": frequency,
                        "scheduledPeriod": {"end": _day(item.due)}
                        if item.due and not frequency
                        else None,
                        "performer": [self.person(item.owner)],
                        "description": self.text(item.description),
                    }
                }
            )
        activities += self.appointment_activities(i)
        last = i == len(self.case.care_plans) - 1
        body: Json = {
            "status": CURRENT_PLAN_STATUS[self.case.status] if last else "revoked",
            "intent": "plan",
            "replaces": [self.ref(f"plan/{i - 1}")] if i else [],
            "subject": self.patient,
            "period": {"start": plan.date.isoformat()},
            "created": plan.date.isoformat(),
            "author": self.display(plan.recorded_by),
            "careTeam": [self.ref("care-team")],
            "goal": list(goals.values()),
            "activity": activities,
            "note": [{"text": self.text(plan.family_input)}, {"text": self.text(plan.note)}],
        }
        self.add(f"plan/{i}", "CarePlan", body, ("care_plans", _dump(plan)))

    # --- implement: referrals and education ---

    def write_coordination(self, i: int, record: Coordination) -> None:
        outputs = [
            {"type": {"text": "referral"}, "valueReference": self.write_referral(record, ref.id)}
            for ref in record.referrals
        ]
        outputs += [
            {
                "type": {"text": "education"},
                "valueReference": self.write_education(
                    f"coordination/{i}/education/{j}", record, e
                ),
            }
            for j, e in enumerate(record.education)
        ]
        body: Json = {
            "basedOn": self.plan_ref(record.date),
            "status": "completed",
            "intent": "order",
            "code": _concept(f"{CODES}/stage", "implement", "Care coordination"),
            "for": self.patient,
            "executionPeriod": {"start": record.date.isoformat(), "end": record.date.isoformat()},
            "authoredOn": record.date.isoformat(),
            "owner": self.display(record.recorded_by),
            "note": [{"text": self.text(record.note)}],
            "output": outputs,
        }
        self.add(f"coordination/{i}", "Task", body, ("coordination", _dump(record)))

    def write_referral(self, made: Coordination, referral_id: str) -> Json:
        ref, status, _, changed, *_ = self.case.referral_history()[referral_id]
        receiver = self.person(ref.member) if ref.member else self.display(ref.to)
        request: Json = {
            "basedOn": self.plan_ref(made.date),
            "status": REFERRAL_REQUEST[status],
            "intent": "order",
            "priority": ref.urgency,
            "code": {"coding": [PATIENT_REFERRAL]},
            "subject": self.patient,
            "authoredOn": made.date.isoformat(),
            "requester": self.display(made.recorded_by),
            "performer": [receiver],
            "reasonCode": [{"text": self.text(ref.reason)}],
        }
        request_ref = self.add(f"referral/{ref.id}", "ServiceRequest", request)
        notes = [
            {"time": record.date.isoformat(), "text": self.text(update.note)}
            for record in self.case.coordination
            for update in record.referral_updates
            if update.referral == ref.id and update.note
        ]
        task: Json = {
            "status": REFERRAL_TASK[status],
            "businessStatus": _concept(f"{CODES}/referral-status", status),
            "intent": "order",
            "priority": ref.urgency,
            "focus": request_ref,
            "for": self.patient,
            "authoredOn": made.date.isoformat(),
            "lastModified": changed.isoformat(),
            "owner": receiver,
            "note": [n for n in notes if n["text"]],
        }
        self.add(f"referral/{ref.id}/task", "Task", task)
        return request_ref

    def write_education(self, key: str, record: Coordination, e: Any) -> Json:
        body: Json = {
            "status": "completed",
            "category": [_concept(f"{TERMINOLOGY}/communication-category", "instruction")],
            "subject": self.patient,
            "sent": record.date.isoformat(),
            "recipient": [self.person(e.given_to)],
            "sender": self.display(record.recorded_by),
            "payload": [{"contentString": self.text(e.topic)}],
            "note": [{"text": self.text(e.materials)}],
        }
        return self.add(key, "Communication", body)

    # --- follow-up ---

    def write_follow_up(self, i: int, f: FollowUp) -> None:
        notes = [self.text(b) for b in f.barriers] + [self.text(f.plan_change), self.text(f.note)]
        body: Json = {
            "status": "completed",
            "category": [_concept(f"{CODES}/stage", "follow-up", "Follow-up contact")],
            "medium": [
                {**_concept(f"{TERMINOLOGY}/v3-ParticipationMode", MEDIUM[f.mode]), "text": f.mode}
            ],
            "subject": self.patient,
            "sent": f.date.isoformat(),
            "recipient": [self.person(w) for w in f.with_],
            "sender": self.display(f.recorded_by),
            "payload": [{"contentString": self.text(f.summary)}],
            "note": [{"text": n} for n in notes if n],
        }
        self.add(f"follow-up/{i}", "Communication", body, ("follow_ups", _dump(f)))

    # --- de-identified only ---

    def write_age(self) -> None:
        # HIPAA Safe Harbor (45 CFR 164.514(b)(2)(i)(C)): ages over 89 are given as 90 or older.
        years = completed_years(self.case.client.dob, self.today)
        body = self.observation(
            self.today, "social-history", {"coding": [_coding(LOINC, *AGE)], "text": "Age"}
        )
        body["valueQuantity"] = {
            "value": min(years, AGE_CAP),
            "comparator": ">=" if years >= AGE_CAP else None,
            "unit": "years",
            "system": UCUM,
            "code": "a",
        }
        self.add("age", "Observation", body)


# --- validation ---


def validate_bundle(bundle: Mapping[str, Any]) -> None:
    """Every resource against fhir.resources' R4B model and its codes against their value sets.

    Raises FhirInvalid naming the first problem (and how many there are).
    """
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    problems: list[str] = []
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        raise FhirInvalid("the Bundle has no list of entries.")
    shell = {
        **bundle,
        "entry": [
            {k: v for k, v in e.items() if k != "resource"} for e in entries if isinstance(e, dict)
        ],
    }
    try:
        get_fhir_model_class("Bundle").model_validate(shell)
    except ValidationError as exc:
        problems.append(f"Bundle: {_first_error(exc)}")
    problems += [f"Bundle.{p}" for p in check_codes(bundle)]
    for n, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            problems.append(f"entry {n + 1} has no resource")
            continue
        rtype = resource.get("resourceType")
        name = f"{rtype} {resource.get('id', f'(entry {n + 1})')}"
        if rtype not in RESOURCE_TYPES:
            problems.append(f"entry {n + 1}: casectl neither writes nor reads {rtype!r} resources")
            continue
        try:
            get_fhir_model_class(str(rtype)).model_validate(resource)
        except ValidationError as exc:
            problems.append(f"{name}: {_first_error(exc)}")
        problems += [f"{name}: {p}" for p in check_codes(resource)]
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise FhirInvalid(f"FHIR {problems[0]}{more}.")


def _first_error(exc: Any) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(resource)"
    return f"{where}: {err['msg']}"


# --- import ---


def bundle_to_case(bundle: Mapping[str, Any], *, today: dt.date) -> Case:
    """The case a bundle from `case_to_bundle` holds; InvalidInput (one sentence) otherwise."""
    return read_bundle(bundle, today=today)[0]


def is_casectl_bundle(bundle: Mapping[str, Any]) -> bool:
    """Whether a Bundle says it was written by `casectl export --format fhir`."""
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "EpisodeOfCare":
            extensions = resource.get("extension") or []
            if any(isinstance(e, dict) and e.get("url") == RECORD_URL for e in extensions):
                return True
    return False


def read_bundle(bundle: Mapping[str, Any], *, today: dt.date) -> tuple[Case, list[UserKey]]:
    """The case a bundle from `case_to_bundle` holds and the case file's own `x-` keys it
    carries; InvalidInput (one sentence) otherwise."""
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
        raise InvalidInput("the file is not a FHIR Bundle (its resourceType must be Bundle).")
    if bundle.get("type") != "collection":
        raise InvalidInput(
            f"the Bundle is of type {bundle.get('type')!r}; casectl reads the collection bundles "
            "that `casectl export --format fhir` writes."
        )
    security = (bundle.get("meta") or {}).get("security") or []
    if any(isinstance(s, dict) and s.get("code") == PSEUDONYMISED["code"] for s in security):
        raise InvalidInput(
            "the Bundle is de-identified (no names, contacts or free text), so it cannot become "
            "a case; export the case without --deidentify to move it."
        )
    validate_bundle(bundle)
    records, user_keys = _records(bundle["entry"])
    data = _assemble(records)
    try:
        case = validate_case(data, today=today)
    except CaseInvalid as exc:
        loc, message = exc.problems[0]
        raise InvalidInput(
            f"the case in the Bundle is not valid: {format_loc(loc)}: {message}."
        ) from None
    identifier = bundle.get("identifier")
    system = identifier.get("system") if isinstance(identifier, dict) else None
    written = case_to_bundle(
        case,
        today=today,
        identifier_system=system if isinstance(system, str) else DEFAULT_IDENTIFIER_SYSTEM,
        user_keys=user_keys,
    )
    _same_as_written(bundle, written)
    return case, user_keys


def _records(entries: Sequence[Any]) -> tuple[dict[str, list[Any]], list[UserKey]]:
    """The casectl records the bundle's resources carry, by section, in bundle order, and the
    case file's own keys."""
    found: dict[str, list[Any]] = {}
    user_keys: list[UserKey] = []
    for entry in entries:
        resource = entry["resource"]
        for ext in resource.get("extension", []):
            if ext.get("url") != RECORD_URL:
                continue
            parts = {e.get("url"): e for e in ext.get("extension", [])}
            section = parts.get("section", {}).get("valueCode")
            text = parts.get("json", {}).get("valueString")
            where = f"{resource['resourceType']} {resource.get('id')}"
            if not section or text is None:
                raise InvalidInput(f"the casectl record on {where} lacks its section or its JSON.")
            if section == "case" and "x-keys" in parts:
                user_keys += _user_keys_from(str(parts["x-keys"].get("valueString")), where)
            try:
                found.setdefault(section, []).append(json.loads(text))
            except json.JSONDecodeError as exc:
                raise InvalidInput(
                    f"the casectl record on {where} is not valid JSON ({exc.msg})."
                ) from None
    return found, user_keys


def _assemble(records: dict[str, list[Any]]) -> dict[str, Any]:
    cases, clients = records.get("case", []), records.get("client", [])
    if len(cases) != 1 or len(clients) != 1 or not isinstance(cases[0], dict):
        raise InvalidInput(
            "the Bundle holds no single casectl case (an EpisodeOfCare and a Patient with the "
            f"{RECORD_URL} extension); casectl imports bundles written by "
            "`casectl export --format fhir`."
        )
    data = dict(cases[0])
    data["client"] = clients[0]
    for section in RECORD_SECTIONS:
        found = records.get(section, [])
        expected = data.get(section, 0)
        if len(found) != expected:
            raise InvalidInput(
                f"the Bundle carries {len(found)} {section.replace('_', ' ')} record(s) but its "
                f"case says {expected}; resources were added or removed after export."
            )
        if section in data:
            data[section] = found
    unknown = sorted(set(records) - {"case", "client", *RECORD_SECTIONS})
    if unknown:
        raise InvalidInput(
            f"the Bundle carries casectl records of an unknown kind: {unknown[0]!r}."
        )
    return data


def _same_as_written(given: Mapping[str, Any], written: Mapping[str, Any]) -> None:
    """The bundle must be what casectl would write for the case it holds (meta and text aside)."""

    def index(bundle: Mapping[str, Any]) -> dict[str, Json]:
        return {
            str(e.get("fullUrl")): {
                k: v for k, v in e["resource"].items() if k not in ("meta", "text")
            }
            for e in bundle["entry"]
        }

    have, want = index(given), index(written)
    for url, resource in have.items():
        if url not in want:
            raise InvalidInput(
                f"the Bundle has a {resource.get('resourceType')} ({url}) that is not part of the "
                "case it carries; casectl imports a bundle only as casectl exported it."
            )
    for url, resource in want.items():
        if url not in have:
            raise InvalidInput(
                f"the Bundle lacks the {resource['resourceType']} casectl writes for this case "
                f"({url}); export the case again."
            )
        if have[url] != resource:
            changed = next(
                (
                    k
                    for k in sorted(set(have[url]) | set(resource))
                    if have[url].get(k) != resource.get(k)
                ),
                "?",
            )
            raise InvalidInput(
                f"the Bundle's {resource['resourceType']} {resource['id']} differs from the casectl "
                f"record it carries (element {changed}); it was changed after export, and casectl "
                "imports a bundle only as casectl exported it."
            )
    if len(given["entry"]) != len(written["entry"]):
        raise InvalidInput("the Bundle repeats an entry; export the case again.")
