"""FHIR R4 from other systems into cases: what each resource means in a case file, or why not.

A file another system sends (a Bundle of type collection, transaction, batch, searchset or
document, or NDJSON as a bulk export writes it, one resource or one Bundle a line) is read in
three pure steps, each tested without the command line:

1. `read_sources` parses the file into sources: each Bundle, and the loose resources of NDJSON.
   A Bundle `casectl export --format fhir` wrote, unchanged, is read back exactly
   (`casectl.share.fhir.read_bundle`); one changed since is read like any other system's.
2. `extract` reads one patient's resources into a `Draft`: the client, family, care team,
   diagnoses, medications, allergies, readings, insurance, contacts, referrals and plan, and a
   `Line` for every resource saying where it went or why it was skipped.
3. `apply` adds a draft to a case (a new one, or an existing one it is merged into) as dated
   records, never changing one that is there; the result is validated like any write.

What maps (the README's "Moving in" section lists it for users):

| FHIR | case file |
|---|---|
| Patient | client (name, birth date, sex, preferred language, interpreter, contact); its `contact` people and `generalPractitioner` too |
| RelatedPerson | family member (v3 RoleCode GUARD, or "guardian" in the text: legal guardian and decision maker) |
| CareTeam | care-team members (Practitioner, PractitionerRole, Organization; role from the participant's role) |
| Condition | a diagnosis (ICD-10-CM kept; SNOMED CT as its description) or a social need (ICD-10-CM Z59) |
| Observation | vitals (blood pressure panel 85354-9 and its parts, height, weight, heart and breathing rate, temperature, SpO2), PHQ-9 (44261-6) and GAD-7 (70274-6) totals |
| MedicationStatement, MedicationRequest | medications (name, dose, frequency, purpose) |
| AllergyIntolerance | allergies |
| Coverage | insurance (a coverage that has ended is a gap) |
| Encounter | a follow-up contact (finished), an appointment (planned); emergency and inpatient stays count as ED visits and admissions in the last 12 months |
| ServiceRequest (+ Task) | a referral with its status |
| CarePlan, Goal | the care plan, its goals and interventions |
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from casectl.errors import InvalidInput, shown
from casectl.models.case import Case
from casectl.models.people import HANDLE, CareTeamMember, Client, Contact, FamilyMember
from casectl.models.records import (
    ICD10CM as ICD10CM_CODE,
)
from casectl.models.records import (
    Appointment,
    Assessment,
    CarePlan,
    Coordination,
    Diagnosis,
    FollowUp,
    Goal,
    InstrumentRecord,
    Insurance,
    Intervention,
    Medication,
    Referral,
    Utilisation,
    Vitals,
)
from casectl.models.validation import CaseInvalid, format_loc, validate_case
from casectl.models.vocab import (
    ContactMode,
    GoalDomain,
    GoalStatus,
    InterventionStatus,
    SocialNeed,
    TeamRole,
)
from casectl.share.fhir import (
    ICD10CM,
    LOINC,
    PSEUDONYMISED,
    RELATIONSHIP,
)
from casectl.share.valuesets import check_codes

Json = dict[str, Any]
M = TypeVar("M", bound=BaseModel)

# The Bundle types that carry a patient's record.
BUNDLE_TYPES = ("collection", "searchset", "document", "transaction", "batch")
ICD10CM_SYSTEMS = frozenset({ICD10CM, "urn:oid:2.16.840.1.113883.6.90"})
SNOMED_SYSTEMS = frozenset({"http://snomed.info/sct", "urn:oid:2.16.840.1.113883.6.96"})
INTERPRETER_URL = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
NOT_STATED = "not stated in the imported record"

# Where a resource names its patient.
SUBJECT_KEYS = ("subject", "patient", "beneficiary", "for")
# Resources read for what others refer to (names of the people and places), never on their own.
SUPPORT_TYPES = frozenset(
    {
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "Medication",
        "HealthcareService",
    }
)
MAPPED_TYPES = frozenset(
    {
        "Patient",
        "RelatedPerson",
        "CareTeam",
        "Condition",
        "Observation",
        "MedicationStatement",
        "MedicationRequest",
        "AllergyIntolerance",
        "Encounter",
        "ServiceRequest",
        "Task",
        "CarePlan",
        "Goal",
        "Coverage",
    }
)
SKIPPED_TYPES = {
    "Composition": "the document's table of contents; the resources it lists are read",
    "Immunization": "immunizations have no place in the case file",
    "Procedure": "procedures have no place in the case file",
    "DiagnosticReport": "reports have no place in the case file (their results are Observations)",
    "DocumentReference": "documents and attachments are not imported",
    "Binary": "documents and attachments are not imported",
    "Media": "documents and attachments are not imported",
    "Claim": "billing records are not imported",
    "ClaimResponse": "billing records are not imported",
    "ExplanationOfBenefit": "billing records are not imported",
    "Account": "billing records are not imported",
    "Invoice": "billing records are not imported",
    "Provenance": "another system's history of its records; casectl keeps its own",
    "AuditEvent": "another system's history of its records; casectl keeps its own",
    "OperationOutcome": "a server's message about the request, not part of the record",
    "QuestionnaireResponse": "form answers are imported only as PHQ-9 and GAD-7 totals "
    "(Observations)",
    "MedicationAdministration": "single doses given have no place in the case file; "
    "medications come from MedicationStatement and MedicationRequest",
    "Device": "devices have no place in the case file",
    "ImagingStudy": "imaging has no place in the case file",
    "FamilyMemberHistory": "family history has no place in the case file",
    "Appointment": "appointments are imported from planned Encounters only",
}

# --- vocabularies: FHIR codes onto casectl's words ---

# v3-RoleCode → the relationship as casectl writes it (the reverse of casectl's export).
RELATIONSHIP_WORD: dict[str, str] = {}
for _word, _code in RELATIONSHIP.items():
    RELATIONSHIP_WORD.setdefault(_code, _word)
RELATIONSHIP_WORD.update({"GUARD": "guardian", "NOK": "next of kin", "ECON": "emergency contact"})
# HL7 v2 table 0131 (Patient.contact.relationship): contact roles, not relationships.
CONTACT_ROLE = {
    "C": "emergency contact",
    "N": "next of kin",
    "E": "employer",
    "F": "federal agency",
    "I": "insurance company",
    "O": "other",
    "S": "state agency",
    "U": "unknown",
}
# HL7 v3 ActCode encounter classes → how the contact was made.
ENCOUNTER_MODE: dict[str, ContactMode] = {
    "AMB": "clinic",
    "EMER": "hospital-visit",
    "IMP": "hospital-visit",
    "ACUTE": "hospital-visit",
    "NONAC": "hospital-visit",
    "OBSENC": "hospital-visit",
    "PRENC": "hospital-visit",
    "SS": "hospital-visit",
    "HH": "home-visit",
    "FLD": "home-visit",
    "VR": "video",
}
INPATIENT = frozenset({"IMP", "ACUTE", "NONAC"})
# Words in a role's code display or text → the care-team role (first match wins).
ROLE_WORDS: tuple[tuple[str, TeamRole], ...] = (
    ("case manag", "case-manager"),
    ("care coordinat", "case-manager"),
    ("primary care", "primary-care"),
    ("general practi", "primary-care"),
    ("family medicine", "primary-care"),
    ("pediatrician", "primary-care"),
    ("paediatrician", "primary-care"),
    ("psych", "mental-health"),
    ("counsel", "mental-health"),
    ("behavio", "mental-health"),
    ("mental health", "mental-health"),
    ("social work", "social-services"),
    ("social service", "social-services"),
    ("child welfare", "social-services"),
    ("nurse", "nursing"),
    ("nursing", "nursing"),
    ("therap", "therapist"),
    ("pharm", "pharmacy"),
    ("school", "school"),
    ("early intervention", "early-intervention"),
    ("insur", "insurer"),
    ("payer", "insurer"),
    ("home health", "home-health"),
    ("hospital", "hospital"),
    ("lawyer", "legal"),
    ("attorney", "legal"),
    ("legal", "legal"),
    ("employer", "employer"),
    ("community", "community-organisation"),
    ("ologist", "specialist"),
    ("specialist", "specialist"),
    ("surgeon", "specialist"),
)
# SNOMED CT codes care teams commonly use for a participant's role.
ROLE_SNOMED: dict[str, TeamRole] = {
    "446050000": "primary-care",  # Primary care physician
    "453231000124104": "primary-care",  # Primary care provider
    "62247001": "primary-care",  # Family medicine specialist
    "82296001": "primary-care",  # Pediatrician
    "768730001": "case-manager",  # Case manager
    "224535009": "nursing",  # Registered nurse
    "106292003": "nursing",  # Professional nurse
    "106328005": "social-services",  # Social worker
    "59944000": "mental-health",  # Psychologist
    "80584001": "mental-health",  # Psychiatrist
    "36682004": "therapist",  # Physical therapist
    "80546007": "therapist",  # Occupational therapist
    "159026005": "therapist",  # Speech and language therapist
    "46255001": "pharmacy",  # Pharmacist
}
# organization-type (http://terminology.hl7.org/CodeSystem/organization-type).
ORGANIZATION_ROLE: dict[str, TeamRole] = {
    "prov": "hospital",
    "dept": "hospital",
    "ins": "insurer",
    "pay": "insurer",
    "edu": "school",
    "govt": "social-services",
    "cg": "community-organisation",
    "crs": "community-organisation",
    "bus": "employer",
}
# Short handles for care-team roles, as casectl's own examples use them.
ROLE_HANDLE = {"primary-care": "pcp", "case-manager": "case-mgr", "social-services": "social"}
# goal-category and the US Core SDOH categories → the goal's domain.
GOAL_DOMAIN: dict[str, GoalDomain] = {
    "dietary": "health",
    "safety": "health",
    "nursing": "health",
    "physiotherapy": "health",
    "behavioral": "mental-health",
    "food-insecurity": "social",
    "transportation-insecurity": "social",
    "social-connection": "social",
    "housing-instability": "housing",
    "homelessness": "housing",
    "inadequate-housing": "housing",
    "financial-insecurity": "financial",
    "material-hardship": "financial",
    "employment-status": "employment",
    "educational-attainment": "education",
}
# ICD-10-CM Z59 (problems related to housing and economic circumstances) → the social need.
SOCIAL_NEED_CODES: tuple[tuple[str, SocialNeed], ...] = (
    ("Z59.0", "housing"),  # homelessness
    ("Z59.12", "utilities"),  # inadequate housing utilities
    ("Z59.1", "housing"),  # inadequate housing
    ("Z59.4", "food"),  # lack of adequate food
    ("Z59.5", "finances"),  # extreme poverty
    ("Z59.6", "finances"),  # low income
    ("Z59.7", "finances"),  # insufficient social insurance and welfare support
    ("Z59.82", "transportation"),  # transportation insecurity
    ("Z59.86", "finances"),  # financial insecurity
    ("Z59.81", "housing"),  # housing instability, housed
)
# LOINC codes of the vital signs a case keeps (field, UCUM units casectl converts from).
VITAL_CODES: dict[str, str] = {
    "8302-2": "height_cm",
    "8306-3": "height_cm",  # body height lying (infants)
    "3137-7": "height_cm",  # body height measured
    "29463-7": "weight_kg",
    "3141-9": "weight_kg",  # body weight measured
    "8867-4": "heart_rate",
    "9279-1": "respiratory_rate",
    "8310-5": "temperature_c",
    "8331-1": "temperature_c",  # oral temperature
    "59408-5": "spo2",
    "2708-6": "spo2",
    "8480-6": "systolic",
    "8462-4": "diastolic",
}
BP_PANELS = frozenset({"85354-9", "55284-4", "35094-2"})
INSTRUMENT_CODES = {"44261-6": "phq-9", "70274-6": "gad-7"}
INSTRUMENT_MAX = {"phq-9": 27, "gad-7": 21}
OBSERVATION_SKIPPED = {
    "39156-5": "casectl works BMI out from height and weight; it is not stored",
    "59576-9": "casectl works BMI-for-age percentiles out itself (CDC 2000); not stored",
    "77606-2": "weight-for-length percentiles are not stored",
    "8289-1": "head circumference percentiles are not stored",
    "9843-4": "head circumference has no place in the case file",
    "72514-3": "pain scores have no place in the case file",
    "72166-2": "smoking status has no place in the case file",
    "55758-7": "casectl keeps PHQ-9 and GAD-7 totals; the PHQ-2 is not kept",
}
UNITS: dict[str, dict[str, Callable[[float], float]]] = {
    "height_cm": {
        "cm": lambda v: v,
        "m": lambda v: v * 100,
        "mm": lambda v: v / 10,
        "[in_i]": lambda v: v * 2.54,
        "in": lambda v: v * 2.54,
    },
    "weight_kg": {
        "kg": lambda v: v,
        "g": lambda v: v / 1000,
        "[lb_av]": lambda v: v * 0.45359237,
        "lb": lambda v: v * 0.45359237,
        "lbs": lambda v: v * 0.45359237,
    },
    "temperature_c": {
        "Cel": lambda v: v,
        "C": lambda v: v,
        "°C": lambda v: v,
        "[degF]": lambda v: (v - 32) * 5 / 9,
        "F": lambda v: (v - 32) * 5 / 9,
        "°F": lambda v: (v - 32) * 5 / 9,
    },
    "systolic": {"mm[Hg]": lambda v: v, "mmHg": lambda v: v},
    "diastolic": {"mm[Hg]": lambda v: v, "mmHg": lambda v: v},
    "heart_rate": {"/min": lambda v: v, "beats/min": lambda v: v, "{beats}/min": lambda v: v},
    "respiratory_rate": {
        "/min": lambda v: v,
        "breaths/min": lambda v: v,
        "{breaths}/min": lambda v: v,
    },
    "spo2": {"%": lambda v: v},
}
# Where a value is whole in the case file.
WHOLE = frozenset({"systolic", "diastolic", "heart_rate", "respiratory_rate", "spo2"})


# --- what comes out ---


@dataclass(frozen=True)
class Line:
    """One resource: where it went in the case (`to`) or why it was skipped (`reason`)."""

    resource: str
    to: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"resource": self.resource, "to": self.to, "reason": self.reason}


@dataclass
class Item:
    """A resource as the file holds it, with its entry's fullUrl and where it is."""

    resource: Json
    full_url: str | None
    where: str

    @property
    def rtype(self) -> str:
        return str(self.resource.get("resourceType", ""))

    @property
    def name(self) -> str:
        """How messages name it: `Condition/123`, else its type and place in the file."""
        rid = self.resource.get("id")
        if isinstance(rid, str) and rid:
            return f"{self.rtype}/{rid}"
        return f"{self.rtype or 'resource'} ({self.where})"


@dataclass
class Source:
    """One Bundle of the file, or the loose resources of an NDJSON file."""

    label: str
    items: list[Item]
    bundle: Json | None = None
    notes: list[str] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)  # entries skipped before any mapping


# --- 1. reading the file ---


def read_sources(raw: bytes, source: str) -> list[Source]:
    """The Bundles and resources of a JSON or NDJSON file; InvalidInput naming the line."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{source}: is not UTF-8 text (byte {exc.start}).") from None
    if not text.strip():
        raise InvalidInput(f"{source}: is empty; it needs a FHIR Bundle or NDJSON resources.")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        if not exc.msg.startswith("Extra data"):
            raise InvalidInput(
                f"{source}:{exc.lineno}: is not JSON ({exc.msg}, column {exc.colno})."
            ) from None
        return _ndjson(text, source)
    if not isinstance(whole, dict) or "resourceType" not in whole:
        raise InvalidInput(f"{source}: is not FHIR JSON (no resourceType at the top).")
    if whole["resourceType"] == "Bundle":
        return [_bundle_source(whole, source)]
    return [Source(source, [Item(whole, None, "the file")])]


def _ndjson(text: str, source: str) -> list[Source]:
    sources: list[Source] = []
    loose = Source(f"{source} (NDJSON resources)", [])
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            resource = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"{source}:{n}: is not JSON ({exc.msg}); NDJSON needs one resource or Bundle a line."
            ) from None
        if not isinstance(resource, dict) or "resourceType" not in resource:
            raise InvalidInput(f"{source}:{n}: is not a FHIR resource (no resourceType).")
        if resource["resourceType"] == "Bundle":
            sources.append(_bundle_source(resource, f"{source}:{n}"))
        else:
            loose.items.append(Item(resource, None, f"line {n}"))
    return [*sources, loose] if loose.items else sources


def _bundle_source(bundle: Json, label: str) -> Source:
    kind = bundle.get("type")
    if kind not in BUNDLE_TYPES:
        raise InvalidInput(
            f"{label}: a Bundle of type {shown(kind)} holds no patient record to import; casectl "
            f"reads {', '.join(BUNDLE_TYPES)} Bundles and NDJSON."
        )
    security = (bundle.get("meta") or {}).get("security") or []
    if any(isinstance(s, dict) and s.get("code") == PSEUDONYMISED["code"] for s in security):
        raise InvalidInput(
            f"{label}: the Bundle is de-identified (no names or dates of birth), so it cannot "
            "become a case; export it again without --deidentify."
        )
    found = Source(label, [], bundle)
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next":
            found.notes.append(
                "the Bundle is one page of search results; later pages (its `next` link) were "
                "not read: fetch them too, or search with a larger _count"
            )
    _entries(bundle, found, "")
    return found


def _entries(bundle: Json, found: Source, prefix: str) -> None:
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise InvalidInput(f"{found.label}: the Bundle's entry is not a list.")
    for n, entry in enumerate(entries, start=1):
        where = f"{prefix}entry {n}"
        if not isinstance(entry, dict):
            found.lines.append(Line(where, reason="not a Bundle entry"))
            continue
        resource = entry.get("resource")
        request = _dict(entry.get("request"))
        method = str(request.get("method", "")).upper()
        if method == "DELETE" or not isinstance(resource, dict):
            found.lines.append(
                Line(
                    str(request.get("url") or where),
                    reason="a request to delete something elsewhere"
                    if method == "DELETE"
                    else "an entry with no resource",
                )
            )
            continue
        search = _dict(entry.get("search"))
        if search.get("mode") == "outcome":
            found.lines.append(
                Line(Item(resource, None, where).name, reason=SKIPPED_TYPES["OperationOutcome"])
            )
            continue
        if resource.get("resourceType") == "Bundle":
            _entries(resource, found, f"{where}, ")
            continue
        url = entry.get("fullUrl")
        found.items.append(Item(resource, url if isinstance(url, str) else None, where))


# --- references ---


class Resolver:
    """Finds what a reference points to: a fullUrl (urn:uuid:, absolute), `Type/id` (relative,
    absolute, with _history), `#id` (contained), `Type?identifier=system|value` (a transaction's
    conditional reference), or a logical reference by identifier."""

    def __init__(self, items: Sequence[Item]) -> None:
        self.by_url: dict[str, Json] = {}
        self.by_type_id: dict[str, Json] = {}
        self.by_identifier: dict[tuple[str, str, str], Json] = {}
        self.used: set[int] = set()
        for item in items:
            r = item.resource
            if item.full_url:
                self.by_url[item.full_url] = r
            rid = r.get("id")
            if isinstance(rid, str):
                self.by_type_id[f"{item.rtype}/{rid}"] = r
            for ident in _list(r.get("identifier")):
                if isinstance(ident, dict) and ident.get("value"):
                    key = (item.rtype, str(ident.get("system", "")), str(ident["value"]))
                    self.by_identifier.setdefault(key, r)

    def get(self, ref: Any, within: Json | None = None) -> Json | None:
        """The resource `ref` points to, or None when it is not in the file."""
        if not isinstance(ref, dict):
            return None
        found = self._find(ref, within)
        if found is not None:
            self.used.add(id(found))
        return found

    def _find(self, ref: Json, within: Json | None) -> Json | None:
        target = ref.get("reference")
        if isinstance(target, str) and target:
            if target.startswith("#"):
                for contained in _list(_dict(within).get("contained")):
                    if isinstance(contained, dict) and contained.get("id") == target[1:]:
                        return contained
                return None
            if target in self.by_url:
                return self.by_url[target]
            if "?" in target:
                rtype, _, query = target.partition("?")
                for part in query.split("&"):
                    name, _, value = part.partition("=")
                    if name == "identifier" and value:
                        system, _, code = value.rpartition("|")
                        return self.by_identifier.get((rtype.rsplit("/", 1)[-1], system, code))
                return None
            path = target.split("/_history/")[0].rstrip("/").split("/")
            if len(path) >= 2:
                return self.by_type_id.get(f"{path[-2]}/{path[-1]}")
            return None
        ident = ref.get("identifier")
        if isinstance(ident, dict) and isinstance(ref.get("type"), str):
            key = (ref["type"], str(ident.get("system", "")), str(ident.get("value", "")))
            return self.by_identifier.get(key)
        return None


# --- small readers of FHIR data types ---


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _codings(concept: Any) -> list[Json]:
    if not isinstance(concept, dict):
        return []
    return [c for c in _list(concept.get("coding")) if isinstance(c, dict)]


def _codes(concept: Any, system: str | None = None) -> list[str]:
    return [
        str(c["code"])
        for c in _codings(concept)
        if c.get("code") and (system is None or c.get("system") == system)
    ]


def _concept_text(concept: Any) -> str | None:
    """What a CodeableConcept says in words: its text, else the first coding's display."""
    if not isinstance(concept, dict):
        return None
    found = _text(concept.get("text"))
    if found:
        return found
    for coding in _codings(concept):
        display = _text(coding.get("display"))
        if display:
            return display
    return None


def _all_concepts(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if isinstance(value, dict) else []


def _day(value: Any) -> dt.date | None:
    """The date of a FHIR date or dateTime as written (its local day); None when partial."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _when(resource: Json, *keys: str) -> dt.date | None:
    for key in keys:
        value = resource.get(key)
        if isinstance(value, dict):
            value = value.get("start") or value.get("end")
        day = _day(value)
        if day:
            return day
    return None


def _human_name(names: Any) -> str | None:
    usable = [n for n in _all_concepts(names) if isinstance(n, dict) and n.get("use") != "old"]
    ranked = sorted(usable, key=lambda n: {"official": 0, "usual": 1}.get(str(n.get("use")), 2))
    for name in ranked:
        text = _text(name.get("text"))
        if text:
            return text
        parts = [g for g in _list(name.get("given")) if isinstance(g, str)]
        if isinstance(name.get("family"), str):
            parts.append(name["family"])
        joined = _text(" ".join(parts))
        if joined:
            return joined
    return None


def _name_of(resource: Json | None) -> str | None:
    """A person's or an organisation's name, whatever the resource."""
    if resource is None:
        return None
    if isinstance(resource.get("name"), str):
        return _text(resource["name"])
    return _human_name(resource.get("name"))


def _telecom(resource: Json) -> Contact | None:
    phone = email = None
    for point in _list(resource.get("telecom")):
        if not isinstance(point, dict) or not _text(point.get("value")):
            continue
        if point.get("system") in ("phone", "sms") and phone is None:
            phone = _text(point["value"])
        elif point.get("system") == "email" and email is None:
            email = _text(point["value"])
    address = None
    addresses = resource.get("address")
    for addr in _all_concepts(addresses):
        if not isinstance(addr, dict) or addr.get("use") == "old":
            continue
        address = _text(addr.get("text")) or _text(
            ", ".join(
                p
                for p in [
                    *[line for line in _list(addr.get("line")) if isinstance(line, str)],
                    addr.get("city"),
                    " ".join(str(x) for x in (addr.get("state"), addr.get("postalCode")) if x),
                ]
                if isinstance(p, str) and p.strip()
            )
        )
        if address:
            break
    if not (phone or email or address):
        return None
    return _make(Contact, phone=phone, email=email, address=address)


def _language(resource: Json) -> str | None:
    from casectl.share.i18n import normalise_tag

    ranked = sorted(
        (c for c in _list(resource.get("communication")) if isinstance(c, dict)),
        key=lambda c: c.get("preferred") is not True,
    )
    for entry in ranked:
        for code in _codes(entry.get("language")):
            tag = normalise_tag(code)
            if tag:
                return tag
    return None


def _handle(words: str, taken: set[str], fallback: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")[:30] or fallback
    if not re.match(HANDLE, base):
        base = fallback
    handle, n = base, 2
    while handle in taken:
        handle, n = f"{base}-{n}", n + 1
    taken.add(handle)
    return handle


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


# --- 2. one patient's resources into a draft ---


@dataclass
class Person:
    """A family member or care-team member as the file describes them, before a handle."""

    name: str
    fields: Json
    sources: list[str]
    refs: list[int] = field(default_factory=list)  # id() of the resources that are this person


@dataclass
class Reading:
    """Vitals and instrument totals taken on one day."""

    vitals: dict[str, tuple[str, float]] = field(default_factory=dict)  # field → (time, value)
    instruments: dict[str, tuple[str, InstrumentRecord]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


@dataclass
class Draft:
    """What one patient's resources say, in casectl's terms, with a line for each resource."""

    patient: str
    client: Client
    identifiers: list[tuple[str, str]]
    family: list[Person] = field(default_factory=list)
    team: list[Person] = field(default_factory=list)
    diagnoses: list[tuple[Diagnosis, str]] = field(default_factory=list)
    social_needs: list[tuple[SocialNeed, str]] = field(default_factory=list)
    medications: list[tuple[Medication, str]] = field(default_factory=list)
    allergies: list[tuple[str, str]] = field(default_factory=list)
    insurance: tuple[Insurance, str] | None = None
    readings: dict[dt.date, Reading] = field(default_factory=dict)
    ed_visits: list[dt.date] = field(default_factory=list)
    admissions: list[dt.date] = field(default_factory=list)
    contacts: list[tuple[dt.date, ContactMode, str, list[int], str]] = field(default_factory=list)
    appointments: list[tuple[dt.date, str, str, str]] = field(default_factory=list)
    # (date, the Referral's fields, id() of the care-team member it went to, name, id() of it)
    referrals: list[tuple[dt.date, Json, int | None, str, int]] = field(default_factory=list)
    plan: tuple[dt.date, list[tuple[Json, str]], list[tuple[Json, str]], list[str]] | None = None
    plan_agreed_by: int | None = None  # id() of the person who agreed, when the file says
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def mapped(self, item: Item | str, to: str) -> None:
        self.lines.append(Line(item if isinstance(item, str) else item.name, to=to))

    def skipped(self, item: Item | str, reason: str) -> None:
        self.lines.append(Line(item if isinstance(item, str) else item.name, reason=reason))


def _subject(resource: Json, resolver: Resolver, patients: Mapping[int, Item]) -> int | None:
    for key in SUBJECT_KEYS:
        target = resolver.get(resource.get(key), resource)
        if target is not None and id(target) in patients:
            return id(target)
    return None


def _invalid(item: Item) -> str | None:
    """Why fhir.resources or the value sets refuse a resource; None when it is valid."""
    from fhir.resources.R4B import get_fhir_model_class

    try:
        model = get_fhir_model_class(item.rtype)
    except KeyError:
        return f"{shown(item.rtype)} is not a FHIR R4 resource type"
    try:
        model.model_validate(item.resource)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(resource)"
        return f"not valid FHIR R4 (fhir.resources: {where}: {err['msg']})"
    except (TypeError, ValueError) as exc:
        return f"not valid FHIR R4 (fhir.resources: {exc})"
    problems = check_codes(item.resource)
    if problems:
        return f"a code outside its value set ({problems[0]})"
    return None


def extract(source: Source, *, today: dt.date) -> list[Draft]:
    """One draft per Patient in the source, every other resource placed or skipped with why.

    Raises InvalidInput when the source holds no Patient, or a Patient casectl cannot open a
    case for (no name or no full date of birth).
    """
    items = source.items
    resolver = Resolver(items)
    invalid: dict[int, str] = {}
    for item in items:
        if item.rtype in MAPPED_TYPES or item.rtype in SUPPORT_TYPES:
            reason = _invalid(item)
            if reason:
                invalid[id(item.resource)] = reason
    patients = {id(i.resource): i for i in items if i.rtype == "Patient"}
    if not patients:
        raise InvalidInput(
            f"{source.label}: holds no Patient, so there is no one to open a case for."
        )
    drafts: dict[int, Draft] = {}
    for key, item in patients.items():
        if key in invalid:
            raise InvalidInput(f"{source.label}: {item.name} is {invalid[key]}.")
        drafts[key] = _patient(item, today, source.label)
    shared: list[Line] = list(source.lines)
    by_patient: dict[int, list[Item]] = {k: [] for k in drafts}
    for item in items:
        if item.rtype == "Patient":
            continue
        if item.rtype in SUPPORT_TYPES:
            continue  # judged at the end, by whether anything referred to it
        if item.rtype not in MAPPED_TYPES:
            reason = SKIPPED_TYPES.get(
                item.rtype, f"casectl does not import {item.rtype or 'untyped'} resources"
            )
            owner = _subject(item.resource, resolver, patients)
            target = drafts[owner].lines if owner in drafts else shared
            target.append(Line(item.name, reason=reason))
            continue
        owner = _subject(item.resource, resolver, patients)
        if owner is None:
            if len(drafts) == 1 and not any(item.resource.get(k) for k in SUBJECT_KEYS):
                owner = next(iter(drafts))
            else:
                shared.append(Line(item.name, reason="its patient is not in the file"))
                continue
        if id(item.resource) in invalid:
            drafts[owner].skipped(item, invalid[id(item.resource)])
            continue
        by_patient[owner].append(item)
    for key, draft in drafts.items():
        _Reader(draft, by_patient[key], resolver, patients[key], today).read()
    support = [i for i in items if i.rtype in SUPPORT_TYPES]
    for item in support:
        if id(item.resource) in resolver.used:
            line = Line(item.name, to="read for the names and details of what refers to it")
        else:
            line = Line(item.name, reason="nothing casectl keeps refers to it")
        shared.append(line)
    result = list(drafts.values())
    for draft in result:
        draft.notes += source.notes
    result[0].lines += shared
    return result


def _patient(item: Item, today: dt.date, label: str) -> Draft:
    r = item.resource
    name = _human_name(r.get("name"))
    if not name:
        raise InvalidInput(
            f"{label}: {item.name} has no name; casectl needs a name to open a case."
        )
    dob = _day(r.get("birthDate"))
    if dob is None:
        given = r.get("birthDate")
        raise InvalidInput(
            f"{label}: {item.name} has "
            + (f"only a partial birth date ({given})" if given else "no birth date")
            + "; casectl needs the full date of birth to open a case."
        )
    notes: list[str] = []
    sex = r.get("gender") if r.get("gender") in ("female", "male", "other", "unknown") else None
    if sex is None:
        notes.append(f"{item.name} gives no sex (gender); recorded as unknown")
    fields: Json = {"name": name, "dob": dob, "sex": sex or "unknown"}
    language = _language(r)
    if language:
        fields["preferred_language"] = language
    else:
        notes.append(f"{item.name} gives no language; recorded as en, the default")
    for ext in _list(r.get("extension")):
        is_interpreter = isinstance(ext, dict) and ext.get("url") == INTERPRETER_URL
        if is_interpreter and isinstance(ext.get("valueBoolean"), bool):
            fields["interpreter_needed"] = ext["valueBoolean"]
    contact = _telecom(r)
    if contact:
        fields["contact"] = contact
    try:
        client = Client.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidInput(f"{label}: {item.name}: {err['msg']}.") from None
    identifiers = [
        (str(i.get("system", "")), str(i["value"]))
        for i in _list(r.get("identifier"))
        if isinstance(i, dict) and isinstance(i.get("value"), str)
    ]
    draft = Draft(item.name, client, identifiers, notes=notes)
    draft.mapped(item, f"client: {name}, born {dob.isoformat()}")
    return draft


class _Reader:
    """Reads one patient's resources into their draft."""

    def __init__(
        self, draft: Draft, items: list[Item], resolver: Resolver, patient: Item, today: dt.date
    ) -> None:
        self.d = draft
        self.items = items
        self.resolver = resolver
        self.patient = patient
        self.today = today
        self.people: dict[int, Person] = {}  # id() of a resource → the person it is
        self.plan_goals: set[int] = set()

    def read(self) -> None:
        order = (
            "RelatedPerson",
            "CareTeam",
            "Condition",
            "MedicationStatement",
            "MedicationRequest",
            "AllergyIntolerance",
            "Observation",
            "Coverage",
            "Encounter",
            "ServiceRequest",
            "Task",
            "CarePlan",
            "Goal",
        )
        self.patient_people()
        for rtype in order:
            for item in self.items:
                if item.rtype == rtype:
                    getattr(self, rtype.lower())(item)

    # --- people ---

    def person(
        self,
        group: list[Person],
        name: str,
        fields: Json,
        source: str,
        ref: Json | None,
    ) -> Person:
        for known in group:
            if _same_name(known.name, name):
                for key, value in fields.items():
                    if key in ("legal_guardian", "decision_maker"):
                        known.fields[key] = known.fields.get(key, False) or value
                    elif key == "contact" and isinstance(known.fields.get(key), Contact):
                        had = known.fields[key].model_dump(exclude_none=True)
                        known.fields[key] = _make(Contact, **{**value.model_dump(), **had})
                    else:
                        known.fields.setdefault(key, value)
                known.sources.append(source)
                break
        else:
            known = Person(name, dict(fields), [source])
            group.append(known)
        if ref is not None:
            known.refs.append(id(ref))
            self.people[id(ref)] = known
        return known

    def relationship(self, concepts: Any) -> tuple[str | None, bool]:
        """The relationship in words and whether it makes the person a legal guardian."""
        words: str | None = None
        guardian = False
        for concept in _all_concepts(concepts):
            codes = _codes(concept)
            text = _text(concept.get("text")) if isinstance(concept, dict) else None
            if "GUARD" in codes or (text and "guardian" in text.lower()):
                guardian = True
            for code in codes:
                if code in RELATIONSHIP_WORD and code != "GUARD" and words is None:
                    words = RELATIONSHIP_WORD[code]
                elif code in CONTACT_ROLE and words is None:
                    words = CONTACT_ROLE[code]
            if text and (words is None or words in CONTACT_ROLE.values()):
                words = text
        if words is None and guardian:
            words = "guardian"
        return words, guardian

    def family_fields(self, resource: Json, relationship: Any) -> tuple[str, Json] | None:
        name = _human_name(resource.get("name"))
        if not name:
            return None
        words, guardian = self.relationship(relationship)
        fields: Json = {"relationship": words or "not stated"}
        if words in (*CONTACT_ROLE.values(), "friend", "neighbor", "neighbour"):
            fields["lives_with_client"] = False  # a contact, not a household member
        if guardian:
            fields.update(legal_guardian=True, decision_maker=True)
        language = _language(resource)
        if language:
            fields["language"] = language
        contact = _telecom(resource)
        if contact:
            fields["contact"] = contact
        return name, fields

    def patient_people(self) -> None:
        r = self.patient.resource
        for n, contact in enumerate(_list(r.get("contact")), start=1):
            if not isinstance(contact, dict):
                continue
            found = self.family_fields(contact, contact.get("relationship"))
            where = f"{self.patient.name} contact {n}"
            if found is None:
                self.d.skipped(where, "a contact with no name")
                continue
            name, fields = found
            self.person(self.d.family, name, fields, where, None)
            self.d.mapped(where, f"family: {name} ({fields['relationship']})")
        for ref in _list(r.get("generalPractitioner")):
            target = self.resolver.get(ref, r)
            found_name = _name_of(target) or _text(_dict(ref).get("display"))
            if not found_name:
                continue
            name = found_name
            role: TeamRole = "primary-care"
            fields = {"role": role}
            if target is not None and target.get("resourceType") == "PractitionerRole":
                name, fields = self.practitioner_role(target, role)
            self.person(
                self.d.team, name, fields, f"{self.patient.name} generalPractitioner", target
            )
            self.d.mapped(
                f"{self.patient.name} generalPractitioner", f"care team: {name} (primary care)"
            )

    def relatedperson(self, item: Item) -> None:
        r = item.resource
        if r.get("active") is False:
            self.d.skipped(item, "marked inactive")
            return
        found = self.family_fields(r, r.get("relationship"))
        if found is None:
            self.d.skipped(item, "has no name")
            return
        name, fields = found
        self.person(self.d.family, name, fields, item.name, r)
        guardian = ", legal guardian" if fields.get("legal_guardian") else ""
        self.d.mapped(item, f"family: {name} ({fields['relationship']}{guardian})")

    def role_of(self, concepts: Any, default: TeamRole = "other") -> TeamRole:
        for concept in _all_concepts(concepts):
            for coding in _codings(concept):
                if (
                    coding.get("system") in SNOMED_SYSTEMS
                    and str(coding.get("code")) in ROLE_SNOMED
                ):
                    return ROLE_SNOMED[str(coding["code"])]
            words = " ".join(
                filter(
                    None,
                    [_text(concept.get("text")) if isinstance(concept, dict) else None]
                    + [_text(c.get("display")) for c in _codings(concept)],
                )
            ).lower()
            for word, role in ROLE_WORDS:
                if word in words:
                    return role
        return default

    def practitioner_role(self, role: Json, default: TeamRole) -> tuple[str, Json]:
        practitioner = self.resolver.get(role.get("practitioner"), role)
        organisation = self.resolver.get(role.get("organization"), role)
        name = _name_of(practitioner) or _text((role.get("practitioner") or {}).get("display"))
        org = _name_of(organisation) or _text((role.get("organization") or {}).get("display"))
        fields: Json = {"role": self.role_of(role.get("code"), default)}
        if org:
            fields["organisation"] = org
        contact = _telecom(role) or (_telecom(practitioner) if practitioner else None)
        if contact:
            fields["contact"] = contact
        return name or org or "not stated", fields

    def careteam(self, item: Item) -> None:
        r = item.resource
        if r.get("status") in ("inactive", "entered-in-error"):
            self.d.skipped(item, f"the care team is {r['status']}")
            return
        added = []
        for n, part in enumerate(_list(r.get("participant")), start=1):
            if not isinstance(part, dict):
                continue
            member = self.resolver.get(part.get("member"), r)
            kind = _dict(member).get("resourceType") or (part.get("member") or {}).get("type")
            where = f"{item.name} participant {n}"
            if kind in ("Patient", "RelatedPerson"):
                continue  # the client, or family already read from the RelatedPerson
            role = self.role_of(part.get("role"))
            if member is not None and kind == "PractitionerRole":
                name, fields = self.practitioner_role(member, role)
            elif member is not None and kind == "Organization":
                types = [c for concept in _list(member.get("type")) for c in _codes(concept)]
                org_role = next(
                    (ORGANIZATION_ROLE[c] for c in types if c in ORGANIZATION_ROLE), None
                )
                name = _name_of(member) or "not stated"
                fields = {"role": role if role != "other" else org_role or "other"}
            else:
                name = _name_of(member) or _text((part.get("member") or {}).get("display")) or ""
                fields = {"role": role}
                org = self.resolver.get(part.get("onBehalfOf"), r)
                org_name = _name_of(org) or _text((part.get("onBehalfOf") or {}).get("display"))
                if org_name:
                    fields["organisation"] = org_name
                contact = _telecom(member) if member else None
                if contact:
                    fields["contact"] = contact
            if not name:
                self.d.skipped(where, "a participant with no name")
                continue
            self.person(self.d.team, name, fields, where, member)
            added.append(f"{name} ({fields['role']})")
        if added:
            self.d.mapped(item, "care team: " + "; ".join(added))
        else:
            self.d.skipped(item, "no participant other than the client and family")

    # --- assessment: conditions, medications, allergies, readings, coverage ---

    def condition(self, item: Item) -> None:
        r = item.resource
        verification = _codes(r.get("verificationStatus"))
        if set(verification) & {"refuted", "entered-in-error"}:
            self.d.skipped(item, f"its verification status is {verification[0]}")
            return
        clinical = _codes(r.get("clinicalStatus"))
        if set(clinical) & {"inactive", "resolved", "remission"} or r.get("abatementDateTime"):
            self.d.skipped(item, "resolved or inactive; the case file lists current diagnoses")
            return
        codings = _codings(r.get("code"))
        icd = next(
            (
                str(c["code"]).strip().upper()
                for c in codings
                if c.get("system") in ICD10CM_SYSTEMS and c.get("code")
            ),
            None,
        )
        for prefix, need in SOCIAL_NEED_CODES:
            if icd and icd.startswith(prefix):
                if need not in [n for n, _ in self.d.social_needs]:
                    self.d.social_needs.append((need, item.name))
                self.d.mapped(item, f"assessment: social need {need} ({icd})")
                return
        description = _concept_text(r.get("code"))
        if not description:
            self.d.skipped(item, "has no code or text saying what the condition is")
            return
        if icd and not ICD10CM_CODE.match(icd):
            self.d.notes.append(
                f"{item.name}: {icd!r} is not an ICD-10-CM code; kept its description only"
            )
            icd = None
        categories = [c for concept in _list(r.get("category")) for c in _codes(concept)]
        diagnosis = _make(
            Diagnosis,
            description=description,
            icd10=icd,
            # An encounter diagnosis is what a visit was for; a problem-list entry is chronic.
            chronic="encounter-diagnosis" not in categories,
        )
        for known, _ in self.d.diagnoses:
            if (icd and known.icd10 == icd) or _same_name(known.description, description):
                self.d.skipped(
                    item, f"the same diagnosis as another in the file ({known.description})"
                )
                return
        self.d.diagnoses.append((diagnosis, item.name))
        coded = f" ({icd})" if icd else ""
        self.d.mapped(item, f"assessment: diagnosis {description}{coded}")

    def medication(self, item: Item, statuses: set[str], concept_key: str) -> None:
        r = item.resource
        status = str(r.get("status", ""))
        if status not in statuses:
            self.d.skipped(
                item, f"its status is {status or 'not given'}; only current medications are kept"
            )
            return
        name = _concept_text(r.get(f"{concept_key}CodeableConcept"))
        if name is None:
            target = self.resolver.get(r.get(f"{concept_key}Reference"), r)
            name = _concept_text(_dict(target).get("code")) or _text(
                (r.get(f"{concept_key}Reference") or {}).get("display")
            )
        if not name:
            self.d.skipped(item, "does not say which medication")
            return
        dosages = _list(r.get("dosage")) or _list(r.get("dosageInstruction"))
        dose = frequency = None
        if dosages and isinstance(dosages[0], dict):
            first = dosages[0]
            for rate in _list(first.get("doseAndRate")):
                q = _dict(rate).get("doseQuantity") if isinstance(rate, dict) else None
                if isinstance(q, dict) and q.get("value") is not None:
                    dose = f"{_number(q['value'])} {q.get('unit') or q.get('code') or ''}".strip()
                    break
            frequency = _timing(first.get("timing")) or _text(first.get("text"))
            if first.get("asNeededBoolean") is True:
                frequency = f"{frequency}, as needed" if frequency else "as needed"
        purpose = None
        for concept in _list(r.get("reasonCode")):
            purpose = purpose or _concept_text(concept)
        for ref in _list(r.get("reasonReference")):
            purpose = purpose or _concept_text((self.resolver.get(ref, r) or {}).get("code"))
        if any(_same_name(m.name, name) for m, _ in self.d.medications):
            self.d.skipped(item, f"the same medication as another in the file ({name})")
            return
        self.d.medications.append(
            (
                _make(Medication, name=name, dose=dose, frequency=frequency, purpose=purpose),
                item.name,
            )
        )
        self.d.mapped(item, f"assessment: medication {name}")

    def medicationstatement(self, item: Item) -> None:
        self.medication(item, {"active", "intended", "on-hold", "unknown"}, "medication")

    def medicationrequest(self, item: Item) -> None:
        self.medication(item, {"active", "on-hold"}, "medication")

    def allergyintolerance(self, item: Item) -> None:
        r = item.resource
        if set(_codes(r.get("verificationStatus"))) & {"refuted", "entered-in-error"}:
            self.d.skipped(item, "refuted or entered in error")
            return
        if set(_codes(r.get("clinicalStatus"))) & {"inactive", "resolved"}:
            self.d.skipped(item, "no longer active")
            return
        what = _concept_text(r.get("code"))
        if not what:
            self.d.skipped(item, "does not say what the allergy is to")
            return
        if "716186003" in _codes(r.get("code")) or what.lower().startswith("no known"):
            self.d.skipped(item, "says there is no known allergy; the list stays empty")
            return
        reactions = [
            text
            for reaction in _list(r.get("reaction"))
            if isinstance(reaction, dict)
            for concept in _list(reaction.get("manifestation"))
            if (text := _concept_text(concept))
        ]
        shown_as = f"{what} ({', '.join(dict.fromkeys(reactions))})" if reactions else what
        if any(a.split(" (")[0].casefold() == what.casefold() for a, _ in self.d.allergies):
            self.d.skipped(item, f"the same allergy as another in the file ({what})")
            return
        self.d.allergies.append((shown_as, item.name))
        self.d.mapped(item, f"assessment: allergy {shown_as}")

    def observation(self, item: Item) -> None:
        r = item.resource
        status = str(r.get("status", ""))
        if status not in ("final", "amended", "corrected"):
            self.d.skipped(
                item, f"its status is {status or 'not given'}; only final results are kept"
            )
            return
        codes = _codes(r.get("code"), LOINC)
        day = _when(r, "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")
        known = [c for c in codes if c in VITAL_CODES or c in BP_PANELS or c in INSTRUMENT_CODES]
        if not known:
            reason = next((OBSERVATION_SKIPPED[c] for c in codes if c in OBSERVATION_SKIPPED), None)
            if reason is None:
                categories = [c for concept in _list(r.get("category")) for c in _codes(concept)]
                kind = categories[0] if categories else "this kind of"
                reason = (
                    f"{kind} observations have no place in the case file; casectl keeps vital "
                    "signs and PHQ-9/GAD-7 totals"
                )
            self.d.skipped(item, reason)
            return
        if day is None:
            self.d.skipped(item, "has no full date")
            return
        if day > self.today:
            self.d.skipped(item, f"is dated {day}, in the future")
            return
        time = str(r.get("effectiveDateTime") or r.get("effectiveInstant") or "")
        code = known[0]
        reading = self.d.readings.setdefault(day, Reading())
        if code in INSTRUMENT_CODES:
            self.instrument(item, INSTRUMENT_CODES[code], day, time, reading)
            return
        values: dict[str, float] = {}
        problems: list[str] = []
        if code in BP_PANELS:
            for part in _list(r.get("component")):
                part_codes = _codes(_dict(part).get("code"), LOINC)
                name = next((VITAL_CODES[c] for c in part_codes if c in VITAL_CODES), None)
                if name in ("systolic", "diastolic"):
                    self.quantity(name, part.get("valueQuantity"), values, problems)
            if len(values) != 2 and not problems:
                problems.append("a blood pressure needs both systolic and diastolic")
        else:
            self.quantity(VITAL_CODES[code], r.get("valueQuantity"), values, problems)
        if problems:
            self.d.skipped(item, problems[0])
            return
        check = {k: v for k, v in values.items()}
        try:
            Vitals.model_validate(
                check
                if ("systolic" in check) == ("diastolic" in check)
                else {**check, **({"diastolic": 20} if "systolic" in check else {"systolic": 300})}
            )
        except ValidationError as exc:
            err = exc.errors()[0]
            name = str(err["loc"][0]) if err["loc"] else "the reading"
            value = values.get(name)
            shown_value = f" {_number(value)}" if value is not None else ""
            self.d.skipped(
                item,
                f"{name.replace('_', ' ')}{shown_value} is not plausible ({err['msg'].lower()})",
            )
            return
        for name, value in values.items():
            earlier = reading.vitals.get(name)
            if earlier is None or earlier[0] <= time:
                reading.vitals[name] = (time, value)
        reading.sources.append(item.name)
        shown_values = ", ".join(f"{k} {_number(v)}" for k, v in values.items())
        self.d.mapped(item, f"assessment of {day}: vitals {shown_values}")

    def quantity(self, name: str, q: Any, values: dict[str, float], problems: list[str]) -> None:
        if not isinstance(q, dict) or not isinstance(q.get("value"), int | float):
            problems.append(f"{name.replace('_', ' ')} has no numeric value")
            return
        unit = str(q.get("code") or q.get("unit") or "")
        convert = UNITS[name].get(unit)
        if convert is None:
            problems.append(
                f"{name.replace('_', ' ')} is in {unit or 'no unit'}, which casectl does not convert"
            )
            return
        value = convert(float(q["value"]))
        values[name] = round(value) if name in WHOLE else round(value, 1)

    def instrument(self, item: Item, name: str, day: dt.date, time: str, reading: Reading) -> None:
        from casectl.clinical.instruments import band_for_total

        r = item.resource
        total = r.get("valueInteger")
        if total is None and isinstance(r.get("valueQuantity"), dict):
            total = r["valueQuantity"].get("value")
        if isinstance(total, float) and total.is_integer():
            total = int(total)
        if (
            not isinstance(total, int)
            or isinstance(total, bool)
            or not 0 <= total <= INSTRUMENT_MAX[name]
        ):
            self.d.skipped(
                item, f"a {name.upper()} total must be a whole number 0–{INSTRUMENT_MAX[name]}"
            )
            return
        record = _make(
            InstrumentRecord,
            instrument=name,
            total=total,
            band=band_for_total(name, total),
            source=f"total from another system ({item.name}); the answers were not sent, so "
            "the item checks (PHQ-9 item 9) could not be made",
        )
        earlier = reading.instruments.get(name)
        if earlier is None or earlier[0] <= time:
            reading.instruments[name] = (time, record)
        reading.sources.append(item.name)
        self.d.mapped(item, f"assessment of {day}: {name} total {total} ({record.band})")

    def coverage(self, item: Item) -> None:
        r = item.resource
        status = r.get("status")
        if status in ("draft", "entered-in-error"):
            self.d.skipped(item, f"its status is {status}")
            return
        payer = None
        for ref in _list(r.get("payor")):
            payer = payer or _name_of(self.resolver.get(ref, r)) or _text(_dict(ref).get("display"))
        plan = None
        for cls in _list(r.get("class")):
            if isinstance(cls, dict) and "plan" in _codes(cls.get("type")):
                plan = _text(cls.get("name")) or _text(cls.get("value"))
        plan = plan or _concept_text(r.get("type"))
        ended = (
            _day((r.get("period") or {}).get("end")) if isinstance(r.get("period"), dict) else None
        )
        gap = status == "cancelled" or (ended is not None and ended < self.today)
        insurance = _make(
            Insurance,
            payer=payer,
            plan=plan,
            coverage_gap=gap,
            notes=(f"coverage ended {ended.isoformat()}" if ended and gap else None)
            or ("coverage cancelled" if status == "cancelled" else None),
        )
        current = self.d.insurance
        if current is not None and (not current[0].coverage_gap or gap):
            self.d.skipped(
                item, f"only one insurance is kept: {current[1]} is already the current one"
            )
            return
        if current is not None:
            self.d.lines = [
                line
                if line.resource != current[1]
                else Line(line.resource, reason=f"superseded by the current coverage {item.name}")
                for line in self.d.lines
            ]
        self.d.insurance = (insurance, item.name)
        what = "a gap in coverage" if gap else "insurance"
        self.d.mapped(item, f"assessment: {what} ({payer or plan or 'payer not named'})")

    # --- contacts, referrals ---

    def encounter(self, item: Item) -> None:
        r = item.resource
        status = r.get("status")
        day = _when(r, "period")
        if status in ("cancelled", "entered-in-error", "unknown") or status is None:
            self.d.skipped(item, f"its status is {status or 'not given'}")
            return
        if day is None:
            self.d.skipped(item, "has no date")
            return
        cls = _dict(r.get("class"))
        code = str(cls.get("code", ""))
        types = " ".join(filter(None, (_concept_text(t) for t in _list(r.get("type")))))
        mode: ContactMode = ENCOUNTER_MODE.get(code, "office")
        lowered = types.lower()
        if "telephone" in lowered or "phone" in lowered:
            mode = "phone"
        elif "video" in lowered or "telehealth" in lowered or "virtual" in lowered:
            mode = "video"
        reasons = [t for c in _list(r.get("reasonCode")) if (t := _concept_text(c))]
        for ref in _list(r.get("reasonReference")):
            text = _concept_text((self.resolver.get(ref, r) or {}).get("code"))
            if text:
                reasons.append(text)
        who: list[int] = []
        names: list[str] = []
        for part in _list(r.get("participant")):
            target = self.resolver.get(_dict(part).get("individual"), r)
            if target is None:
                continue
            if target.get("resourceType") == "PractitionerRole":
                target = self.resolver.get(target.get("practitioner"), target) or target
            if id(target) in self.people:
                who.append(id(target))
            name = _name_of(target)
            if name:
                names.append(name)
        provider = _name_of(self.resolver.get(r.get("serviceProvider"), r))
        summary = types or _text(cls.get("display")) or "Visit"
        if reasons:
            summary += ": " + "; ".join(dict.fromkeys(reasons))
        if names or provider:
            summary += (
                " (" + ", ".join([*dict.fromkeys(names), *([provider] if provider else [])]) + ")"
            )
        if status == "planned" or day > self.today:
            if status != "planned":
                self.d.skipped(item, f"is dated {day}, in the future, but is {status}")
                return
            self.d.appointments.append(
                (day, names[0] if names else provider or "not stated", summary, item.name)
            )
            self.d.mapped(item, f"appointment on {day}: {summary}")
            return
        if code == "EMER":
            self.d.ed_visits.append(day)
        elif code in INPATIENT:
            self.d.admissions.append(day)
        self.d.contacts.append((day, mode, summary, who, item.name))
        self.d.mapped(item, f"follow-up contact on {day} ({mode}): {summary}")

    def servicerequest(self, item: Item) -> None:
        r = item.resource
        status = r.get("status")
        if status in ("draft", "entered-in-error", "unknown"):
            self.d.skipped(
                item, f"its status is {status}; only requests that were made are referrals"
            )
            return
        categories = [c for concept in _list(r.get("category")) for c in _codes(concept)]
        if set(categories) & {"108252007", "363679005"} or _codes(r.get("code"), LOINC):
            self.d.skipped(item, "a laboratory or imaging order, not a referral")
            return
        performer = None
        member: int | None = None
        for ref in _list(r.get("performer")):
            target = self.resolver.get(ref, r)
            name: str | None
            if target is not None and target.get("resourceType") == "PractitionerRole":
                name, _ = self.practitioner_role(target, "other")
            else:
                name = _name_of(target) or _text(_dict(ref).get("display"))
            if target is not None and id(target) in self.people:
                member = id(target)
            performer = performer or name
        what = _concept_text(r.get("code"))
        reasons = [t for c in _list(r.get("reasonCode")) if (t := _concept_text(c))]
        for ref in _list(r.get("reasonReference")):
            text = _concept_text((self.resolver.get(ref, r) or {}).get("code"))
            if text:
                reasons.append(text)
        to = performer or what
        if not to:
            self.d.skipped(item, "says neither to whom nor for what")
            return
        reason = "; ".join(dict.fromkeys(reasons)) or what or NOT_STATED
        urgency = "urgent" if r.get("priority") in ("urgent", "asap", "stat") else "routine"
        day = _when(r, "authoredOn", "occurrenceDateTime", "occurrencePeriod") or self.today
        day = min(day, self.today)
        fields = {
            "to": to,
            "reason": reason,
            "urgency": urgency,
            "status": {"completed": "completed", "revoked": "declined"}.get(str(status), "sent"),
        }
        self.d.referrals.append((day, fields, member, item.name, id(r)))
        self.d.mapped(item, f"referral on {day} to {to}: {reason} ({fields['status']})")

    def task(self, item: Item) -> None:
        r = item.resource
        target = self.resolver.get(r.get("focus"), r)
        for _day, fields, _member, _name, key in self.d.referrals:
            if target is not None and key == id(target):
                status = {
                    "accepted": "accepted",
                    "in-progress": "scheduled",
                    "completed": "completed",
                    "rejected": "declined",
                    "cancelled": "declined",
                    "failed": "declined",
                }.get(str(r.get("status")), "sent")
                fields["status"] = status
                self.d.mapped(item, f"the status of the referral to {fields['to']}: {status}")
                return
        self.d.skipped(item, "tasks are read only as the status of a referral (Task.focus)")

    # --- the plan ---

    def careplan(self, item: Item) -> None:
        r = item.resource
        status = r.get("status")
        goals = [self.resolver.get(g, r) for g in _list(r.get("goal"))]
        if status in ("draft",):
            self.d.skipped(item, "a draft, not yet agreed")
            self.plan_goals |= {id(g) for g in goals if g is not None}
            return
        if status in ("revoked", "completed", "entered-in-error"):
            self.d.skipped(item, f"{status}: no longer in force")
            self.plan_goals |= {id(g) for g in goals if g is not None}
            return
        day = min(_when(r, "created", "period") or self.today, self.today)
        end = (
            _day((r.get("period") or {}).get("end")) if isinstance(r.get("period"), dict) else None
        )
        plan = self.d.plan or (day, [], [], [])
        if day > plan[0]:
            plan = (day, plan[1], plan[2], plan[3])
        for goal in goals:
            if goal is None:
                continue
            self.plan_goals.add(id(goal))
            goal_item = Item(goal, None, "")
            plan[1].append(({"resource": goal, "end": end}, goal_item.name))
        for n, activity in enumerate(_list(r.get("activity")), start=1):
            if not isinstance(activity, dict):
                continue
            where = f"{item.name} activity {n}"
            if isinstance(activity.get("reference"), dict):
                target = self.resolver.get(activity["reference"], r)
                kind = _dict(target).get("resourceType")
                self.d.skipped(
                    where,
                    f"refers to a {kind or 'resource'}, read on its own"
                    if target
                    else "refers to something not in the file",
                )
                continue
            detail = _dict(activity.get("detail"))
            performers: list[int | str] = []
            for ref in _list(detail.get("performer")):
                target = self.resolver.get(ref, r)
                if target is not None and target.get("resourceType") == "Patient":
                    performers.append("client")
                elif target is not None:
                    performers.append(id(target))
            goal_keys = [
                id(g) for ref in _list(detail.get("goal")) if (g := self.resolver.get(ref, r))
            ]
            plan[2].append(
                ({"detail": detail, "performers": performers, "goals": goal_keys}, where)
            )
        author = self.resolver.get(r.get("author"), r)
        if author is not None and id(author) in self.people:
            self.d.plan_agreed_by = id(author)
        plan[3].append(item.name)
        self.d.plan = plan
        self.d.mapped(item, f"care plan of {plan[0]}")

    def goal(self, item: Item) -> None:
        r = item.resource
        if id(r) in self.plan_goals:
            if self.d.plan is not None and any(g["resource"] is r for g, _ in self.d.plan[1]):
                return  # placed with its plan
            self.d.skipped(item, "belongs to a care plan that is not in force")
            return
        if r.get("lifecycleStatus") in ("entered-in-error",):
            self.d.skipped(item, "entered in error")
            return
        plan = self.d.plan or (
            min(_when(r, "startDate", "statusDate") or self.today, self.today),
            [],
            [],
            [],
        )
        plan[1].append(({"resource": r, "end": None}, item.name))
        self.d.plan = plan


def _make(model: type[M], **fields: Any) -> M:
    """A record with only the fields that have a value, so the file shows no empty keys."""
    return model.model_validate({k: v for k, v in fields.items() if v is not None})


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _timing(timing: Any) -> str | None:
    if not isinstance(timing, dict):
        return None
    text = _concept_text(timing.get("code"))
    repeat = _dict(timing.get("repeat"))
    frequency, period, unit = (
        repeat.get("frequency"),
        repeat.get("period"),
        repeat.get("periodUnit"),
    )
    units = {"h": "hour", "d": "day", "wk": "week", "mo": "month", "a": "year", "min": "minute"}
    if isinstance(frequency, int) and isinstance(period, int | float) and unit in units:
        times = "once" if frequency == 1 else "twice" if frequency == 2 else f"{frequency} times"
        every = f"a {units[unit]}" if period == 1 else f"every {_number(period)} {units[unit]}s"
        return f"{times} {every}"
    return text


# --- 3. a draft into a case ---


@dataclass
class Applied:
    """A draft added to a case: the new case, and every resource's line."""

    case: Case
    lines: list[Line]
    notes: list[str]
    added: int  # records added to the case


GOAL_STATUS: dict[str, GoalStatus] = {
    "proposed": "not-started",
    "planned": "not-started",
    "accepted": "not-started",
    "active": "in-progress",
    "on-hold": "in-progress",
    "cancelled": "discontinued",
    "rejected": "discontinued",
}
ACTIVITY_STATUS: dict[str, InterventionStatus] = {
    "not-started": "planned",
    "scheduled": "planned",
    "in-progress": "in-progress",
    "on-hold": "planned",
    "completed": "done",
    "cancelled": "cancelled",
    "stopped": "cancelled",
    "unknown": "planned",
}


def apply(
    draft: Draft,
    case: Case,
    *,
    today: dt.date,
    recorded_by: str,
    review_interval_days: int,
    source: str,
) -> Applied:
    """The case with the draft's records added; nothing already in the case is changed.

    People already in the case (same name) are not added again; records that the case already
    holds (the same contact, referral, diagnosis …) are not repeated, so importing the same file
    twice adds nothing the second time. InvalidInput if the result is not a valid case.
    """
    return _Applier(draft, case, today, recorded_by, review_interval_days, source).run()


class _Applier:
    def __init__(
        self,
        draft: Draft,
        case: Case,
        today: dt.date,
        recorded_by: str,
        interval: int,
        source: str,
    ) -> None:
        self.d = draft
        self.case = case
        self.today = today
        self.by = recorded_by
        self.interval = interval
        self.source = source
        self.lines = list(draft.lines)
        self.notes = list(draft.notes)
        self.handles: dict[int, str] = {}  # id() of a person's resource → their handle
        self.data = case.model_dump(mode="python", by_alias=True, exclude_unset=True)
        self.added = 0

    def note(self, kind: str) -> str:
        return f"Imported from {self.source} ({kind}) on {self.today.isoformat()}."

    def run(self) -> Applied:
        self.people()
        self.assessments()
        self.plan()
        self.coordination()
        self.follow_ups()
        try:
            case = validate_case(self.data, today=self.today)
        except CaseInvalid as exc:
            loc, message = exc.problems[0]
            raise InvalidInput(
                f"{self.d.patient}: the case it makes is not valid: {format_loc(loc)}: {message}."
            ) from None
        return Applied(case, self.lines, self.notes, self.added)

    def retarget(self, sources: Iterable[str], to: str | None, reason: str | None = None) -> None:
        """Say where these resources went (or why not), in place of what the draft said."""
        wanted = list(dict.fromkeys(sources))
        present = {line.resource for line in self.lines}
        self.lines = [
            Line(line.resource, to=to, reason=reason) if line.resource in wanted else line
            for line in self.lines
        ]
        self.lines += [Line(name, to=to, reason=reason) for name in wanted if name not in present]

    # --- people ---

    def people(self) -> None:
        taken = (
            {"client", "case-manager"}
            | {m.id for m in self.case.family}
            | {m.id for m in self.case.care_team}
        )
        for group, section, existing in (
            (self.d.family, "family", self.case.family),
            (self.d.team, "care_team", self.case.care_team),
        ):
            for person in group:
                known = next((m for m in existing if _same_name(m.name, person.name)), None)
                if known is None and section == "care_team":
                    known = next(
                        (m for m in self.case.family if _same_name(m.name, person.name)), None
                    )
                if known is not None:
                    handle = known.id
                    self.retarget(person.sources, None, f"already in the case as {handle}")
                else:
                    fields = dict(person.fields)
                    words = str(fields.get("relationship") or fields.get("role"))
                    base = ROLE_HANDLE.get(words, words) if section == "care_team" else words
                    handle = _handle(base, taken, "relative" if section == "family" else "member")
                    model = FamilyMember if section == "family" else CareTeamMember
                    member = model.model_validate({"id": handle, "name": person.name, **fields})
                    self.data.setdefault(section, []).append(
                        member.model_dump(mode="python", by_alias=True, exclude_unset=True)
                    )
                    self.added += 1
                for ref in person.refs:
                    self.handles[ref] = handle
        guardians = [m for m in self.data.get("family", []) if m.get("legal_guardian")]
        self.guardian = str(guardians[0]["id"]) if guardians else None

    # --- assessments ---

    def assessments(self) -> None:
        readings = sorted(self.d.readings.items())
        current = self.case.last_assessment
        for day, reading in readings:
            if day == self.today:
                continue
            record = self.reading_record(day, reading)
            if record is not None:
                self.append("assessments", record)
        summary = self.summary(current, self.d.readings.get(self.today))
        if summary is not None:
            self.append("assessments", summary)

    def reading_fields(self, reading: Reading | None) -> Json:
        if reading is None:
            return {}
        fields: Json = {}
        vitals = {k: v for k, (_, v) in reading.vitals.items()}
        if ("systolic" in vitals) != ("diastolic" in vitals):
            lone = "systolic" if "systolic" in vitals else "diastolic"
            vitals.pop(lone)
            self.notes.append(f"a {lone} pressure without its pair was left out")
        if vitals:
            fields["vitals"] = Vitals.model_validate(vitals)
        if reading.instruments:
            fields["instruments"] = [record for _, record in reading.instruments.values()]
        return fields

    def reading_record(self, day: dt.date, reading: Reading) -> Assessment | None:
        fields = self.reading_fields(reading)
        if not fields:
            return None
        record = _make(
            Assessment,
            date=day,
            recorded_by=self.by,
            health_status="vital signs and scores recorded by another system",
            note=self.note("readings of that day"),
            **fields,
        )
        if any(
            a.date == day and a.vitals == record.vitals and a.instruments == record.instruments
            for a in self.case.assessments
        ):
            self.retarget(reading.sources, None, "already in the case")
            return None
        return record

    def summary(
        self, current: Assessment | None, today_reading: Reading | None
    ) -> Assessment | None:
        """Today's assessment: what the other system holds, added to the case's latest one."""
        year_ago = self.today - dt.timedelta(days=365)
        d = self.d
        base_diagnoses = list(current.diagnoses) if current else []
        new_diagnoses = []
        for diagnosis, name in d.diagnoses:
            same = next(
                (
                    b
                    for b in base_diagnoses
                    if (diagnosis.icd10 and b.icd10 == diagnosis.icd10)
                    or _same_name(b.description, diagnosis.description)
                ),
                None,
            )
            if same is None:
                new_diagnoses.append(diagnosis)
            else:
                self.retarget([name], None, f"already in the case ({same.description})")
        base_meds = list(current.medications) if current else []
        new_meds = []
        for med, name in d.medications:
            if any(_same_name(b.name, med.name) for b in base_meds):
                self.retarget([name], None, "already in the case")
            else:
                new_meds.append(med)
        base_allergies = list(current.allergies) if current else []
        new_allergies = []
        for allergy, name in d.allergies:
            if any(_same_name(b.split(" (")[0], allergy.split(" (")[0]) for b in base_allergies):
                self.retarget([name], None, "already in the case")
            else:
                new_allergies.append(allergy)
        base_needs = list(current.social_needs) if current else []
        new_needs = []
        for need, name in d.social_needs:
            if need in base_needs or need in new_needs:
                self.retarget([name], None, "already in the case")
            else:
                new_needs.append(need)
        insurance = current.insurance if current else None
        if d.insurance is not None:
            if insurance is not None and insurance.model_dump() == d.insurance[0].model_dump():
                self.retarget([d.insurance[1]], None, "already in the case")
            elif (
                insurance is not None
                and insurance.payer
                and not insurance.coverage_gap
                and d.insurance[0].coverage_gap
            ):
                self.retarget(
                    [d.insurance[1]],
                    None,
                    "the case records current insurance; an ended coverage does not replace it",
                )
            else:
                insurance = d.insurance[0]
        ed = sum(1 for day in d.ed_visits if day > year_ago)
        admissions = sum(1 for day in d.admissions if day > year_ago)
        base_use = current.utilisation if current else Utilisation()
        use = Utilisation(
            ed_visits_12m=max(base_use.ed_visits_12m, min(ed, 365)),
            admissions_12m=max(base_use.admissions_12m, min(admissions, 365)),
            missed_appointments_12m=base_use.missed_appointments_12m,
        )
        readings = self.reading_fields(today_reading)
        changed = (
            new_diagnoses
            or new_meds
            or new_allergies
            or new_needs
            or readings
            or (insurance is not None and (current is None or insurance != current.insurance))
            or use != base_use
        )
        if not changed:
            return None
        names = [dg.description for dg in [*base_diagnoses, *new_diagnoses]]
        if current is not None:
            carried = current.model_dump(mode="python", by_alias=True, exclude_unset=True)
            for key in ("vitals", "instruments", "note", "date", "recorded_by"):
                carried.pop(key, None)
            health = current.health_status
            kind = f"added to the assessment of {current.date.isoformat()}"
        else:
            carried = {}
            health = (
                "as recorded by another system: " + "; ".join(names)
                if names
                else "as recorded by another system (no current conditions listed)"
            )
            kind = "what the other system holds"
        carried.update(
            date=self.today,
            recorded_by=self.by,
            health_status=health,
            diagnoses=[*base_diagnoses, *new_diagnoses],
            medications=[*base_meds, *new_meds],
            allergies=[*base_allergies, *new_allergies],
            social_needs=[*base_needs, *new_needs],
            utilisation=use,
            note=self.note(kind),
            **readings,
        )
        if insurance is not None:
            carried["insurance"] = insurance
        if use == Utilisation() and current is None:
            carried.pop("utilisation")
        if ed or admissions:
            self.notes.append(
                f"utilisation in the 12 months to {self.today}: {ed} emergency visit(s) and "
                f"{admissions} admission(s) counted from the Encounters"
            )
        return Assessment.model_validate(carried)

    def append(self, section: str, record: Any) -> None:
        self.data.setdefault(section, []).append(
            record.model_dump(mode="python", by_alias=True, exclude_unset=True)
        )
        self.added += 1

    # --- the plan ---

    def plan(self) -> None:
        if self.d.plan is None:
            return
        day, goals, activities, plans = self.d.plan
        if self.case.care_plans:
            made = self.case.care_plans[-1].date
            reason = (
                f"the case has its own care plan (of {made}); casectl does not replace it with "
                "another system's: add what is needed with `casectl plan`"
            )
            self.retarget(
                [*plans, *(n for _, n in goals), *(n for _, n in activities)], None, reason
            )
            return
        goal_ids: dict[int, str] = {}
        goal_records: list[Goal] = []
        for g, name in goals:
            goal = self.goal(g["resource"], g["end"], day, name, len(goal_records) + 1)
            if goal is not None:
                goal_ids[id(g["resource"])] = goal.id
                goal_records.append(goal)
        if not goal_records:
            self.retarget(
                [*plans, *(n for _, n in activities)],
                None,
                "a care plan needs at least one goal, and this one has none",
            )
            return
        interventions: list[Intervention] = []
        for activity, where in activities:
            record = self.intervention(activity, where, goal_ids, len(interventions) + 1)
            if record is not None:
                interventions.append(record)
        agreed = self.handles.get(self.d.plan_agreed_by or 0) or self.guardian or "client"
        self.notes.append(
            f"FHIR does not record who agreed to a care plan; recorded as agreed by {agreed}: "
            "correct it with `casectl edit` if that is not so"
        )
        plan_record = _make(
            CarePlan,
            date=day,
            recorded_by=self.by,
            goals=goal_records,
            interventions=interventions,
            review_interval_days=self.interval,
            agreed_by=[agreed],
            note=self.note(", ".join(plans) if plans else "Goals without a CarePlan")
            + " Who agreed to it is not recorded there.",
        )
        self.append("care_plans", plan_record)

    def goal(
        self, r: Json, plan_end: dt.date | None, day: dt.date, name: str, n: int
    ) -> Goal | None:
        description = _concept_text(r.get("description"))
        if not description:
            self.retarget([name], None, "has no description")
            return None
        lifecycle = str(r.get("lifecycleStatus", ""))
        achievement = _codes(r.get("achievementStatus"))
        if lifecycle == "completed":
            if set(achievement) & {"not-achieved", "not-attainable", "no-progress", "worsening"}:
                status: GoalStatus = "not-achieved"
            elif "improving" in achievement:
                status = "partly-achieved"
            else:
                status = "achieved"
        elif lifecycle == "entered-in-error":
            self.retarget([name], None, "entered in error")
            return None
        else:
            status = GOAL_STATUS.get(lifecycle, "in-progress")
            if "achieved" in achievement:
                status = "achieved"
        domain: GoalDomain = "health"
        for concept in _list(r.get("category")):
            for code in _codes(concept):
                if code in GOAL_DOMAIN:
                    domain = GOAL_DOMAIN[code]
                    break
        target = next((t for t in _list(r.get("target")) if isinstance(t, dict)), {})
        measure = _concept_text(target.get("measure"))
        wanted = _target(target)
        due = _day(target.get("dueDate"))
        assumed = []
        if measure is None:
            measure = NOT_STATED
            assumed.append("measure")
        if wanted is None:
            wanted = NOT_STATED
            assumed.append("target")
        if due is None:
            due = plan_end or day + dt.timedelta(days=365)
            assumed.append(
                f"target date ({due}, the plan's end)"
                if plan_end
                else f"target date ({due}, a year after the plan)"
            )
        if assumed:
            self.notes.append(
                f"{name} gives no {', no '.join(assumed)}; recorded so, check it with the family"
            )
        goal = _make(
            Goal,
            id=f"g{n}",
            domain=domain,
            description=description,
            measure=measure,
            target=wanted,
            target_date=due,
            status=status,
        )
        self.retarget([name], f"care plan goal g{n}: {description} ({status})")
        return goal

    def intervention(
        self, activity: Json, where: str, goal_ids: dict[int, str], n: int
    ) -> Intervention | None:
        detail = activity["detail"]
        description = _text(detail.get("description")) or _concept_text(detail.get("code"))
        if not description:
            self.retarget([where], None, "says nothing about what is to be done")
            return None
        owner = "case-manager"
        for performer in activity["performers"]:
            if performer == "client":
                owner = "client"
            elif performer in self.handles:
                owner = self.handles[performer]
            break
        goal = next((goal_ids[k] for k in activity["goals"] if k in goal_ids), None)
        period = (
            detail.get("scheduledPeriod") if isinstance(detail.get("scheduledPeriod"), dict) else {}
        )
        due = _day(period.get("end"))
        frequency = _timing(detail.get("scheduledTiming")) or _text(detail.get("scheduledString"))
        if due is None and frequency is None:
            frequency = NOT_STATED
        status = ACTIVITY_STATUS.get(str(detail.get("status")), "planned")
        record = _make(
            Intervention,
            id=f"i{n}",
            description=description,
            owner=owner,
            goal=goal,
            due=due,
            frequency=frequency,
            status=status,
        )
        self.retarget([where], f"care plan intervention i{n}: {description} (owner {owner})")
        return record

    # --- coordination and contacts ---

    def coordination(self) -> None:
        known = self.case.referral_history()
        taken = set(known)
        existing = {(r.to.casefold(), r.reason.casefold()) for r, *_ in known.values()}
        by_day: dict[dt.date, list[Referral]] = {}
        for day, fields, member, name, _key in sorted(self.d.referrals, key=lambda r: r[0]):
            key = (fields["to"].casefold(), fields["reason"].casefold())
            if key in existing:
                self.retarget([name], None, "already in the case")
                continue
            existing.add(key)
            n = 1
            while f"r{n}" in taken:
                n += 1
            taken.add(f"r{n}")
            handle = self.handles.get(member or 0)
            on_team = handle in {m.get("id") for m in self.data.get("care_team", [])}
            referral = _make(Referral, id=f"r{n}", member=handle if on_team else None, **fields)
            by_day.setdefault(day, []).append(referral)
            self.retarget([name], f"referral r{n} on {day} to {fields['to']} ({fields['status']})")
        appointments = self.case.appointment_history()
        taken_appts = set(appointments)
        seen_appts = {(a.date, a.purpose.casefold()) for a, *_ in appointments.values()}
        booked: list[Appointment] = []
        for day, with_, purpose, name in sorted(self.d.appointments):
            if (day, purpose.casefold()) in seen_appts:
                self.retarget([name], None, "already in the case")
                continue
            n = 1
            while f"a{n}" in taken_appts:
                n += 1
            taken_appts.add(f"a{n}")
            booked.append(
                Appointment.model_validate(
                    {"id": f"a{n}", "date": day, "with": with_, "purpose": purpose}
                )
            )
            self.retarget([name], f"appointment a{n} on {day}: {purpose}")
        for day in sorted(by_day):
            self.append(
                "coordination",
                _make(
                    Coordination,
                    date=day,
                    recorded_by=self.by,
                    referrals=by_day[day],
                    note=self.note("referrals"),
                ),
            )
        if booked:
            self.append(
                "coordination",
                _make(
                    Coordination,
                    date=self.today,
                    recorded_by=self.by,
                    appointments=booked,
                    note=self.note("planned Encounters"),
                ),
            )

    def follow_ups(self) -> None:
        existing = {(f.date, f.mode, (f.summary or "").casefold()) for f in self.case.follow_ups}
        for day, mode, summary, who, name in sorted(self.d.contacts, key=lambda c: c[0]):
            if (day, mode, summary.casefold()) in existing:
                self.retarget([name], None, "already in the case")
                continue
            existing.add((day, mode, summary.casefold()))
            with_ = [self.handles[w] for w in who if w in self.handles] or ["client"]
            record = FollowUp.model_validate(
                {
                    "date": day,
                    "recorded_by": self.by,
                    "mode": mode,
                    "with": list(dict.fromkeys(with_)),
                    "summary": summary,
                    "next_review": day + dt.timedelta(days=self.interval),
                    "note": self.note(name),
                }
            )
            self.append("follow_ups", record)


def _target(target: Json) -> str | None:
    if _text(target.get("detailString")):
        return _text(target["detailString"])
    q = target.get("detailQuantity")
    if isinstance(q, dict) and q.get("value") is not None:
        return f"{q.get('comparator', '')}{_number(q['value'])} {q.get('unit') or q.get('code') or ''}".strip()
    r = target.get("detailRange")
    if isinstance(r, dict):
        low = (r.get("low") or {}).get("value")
        high = (r.get("high") or {}).get("value")
        unit = (r.get("high") or r.get("low") or {}).get("unit") or ""
        if low is not None or high is not None:
            return f"{_number(low) if low is not None else ''}–{_number(high) if high is not None else ''} {unit}".strip()
    if isinstance(target.get("detailBoolean"), bool):
        return "yes" if target["detailBoolean"] else "no"
    return _concept_text(target.get("detailCodeableConcept"))


# --- matching a patient to a case already in the folder ---


@dataclass(frozen=True)
class Match:
    case_id: str
    by: str  # "identifier" or "name and date of birth"


def find_match(
    draft: Draft,
    *,
    identifier_system: str,
    case_ids: Iterable[str],
    clients: Iterable[tuple[str, str, dt.date]],
) -> Match | None:
    """The case a patient already has here: by the case-id identifier of this folder's system,
    else by the same name and date of birth (which needs the user's confirmation)."""
    ids = set(case_ids)
    for system, value in draft.identifiers:
        if system == identifier_system and value in ids:
            return Match(value, "identifier")
    for case_id, name, dob in clients:
        if dob == draft.client.dob and _same_name(name, draft.client.name):
            return Match(case_id, "name and date of birth")
    return None


def lines_by_resource(lines: Iterable[Line]) -> Iterator[Line]:
    """The lines, mapped first and then skipped, each group in file order."""
    lines = list(lines)
    yield from (line for line in lines if line.to is not None)
    yield from (line for line in lines if line.to is None)
