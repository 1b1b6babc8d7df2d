"""The FHIR codes casectl writes and reads, checked against their value sets.

fhir.resources checks structure and types but not coded values (`Goal(lifecycleStatus="bogus")`
validates), so every resource casectl writes or imports goes through `check_codes` too.

The code lists are copied from the FHIR R4 specification (4.0.1, the release R4B shares for
these resources), one value set per constant, each with its canonical URL; the page is
https://hl7.org/fhir/R4/valueset-<name>.html. Lists that fhir.resources also carries are
compared with it by a test, so a transcription slip shows up there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Strength = Literal["required", "extensible", "preferred", "example"]
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"


@dataclass(frozen=True)
class ValueSet:
    """A FHIR value set: its canonical URL, its codes and, for codings, the code system."""

    name: str
    codes: frozenset[str]
    strength: Strength
    system: str | None = None  # None for `code` elements; the system for Coding/CodeableConcept

    @property
    def url(self) -> str:
        return f"http://hl7.org/fhir/ValueSet/{self.name}"


def _vs(
    name: str, codes: str, strength: Strength = "required", system: str | None = None
) -> ValueSet:
    return ValueSet(name, frozenset(codes.split()), strength, system)


ADMINISTRATIVE_GENDER = _vs("administrative-gender", "male female other unknown")
BUNDLE_TYPE = _vs(
    "bundle-type",
    "document message transaction transaction-response batch batch-response history "
    "searchset collection",
)
CONTACT_POINT_SYSTEM = _vs("contact-point-system", "phone fax email pager url sms other")
EPISODE_OF_CARE_STATUS = _vs(
    "episode-of-care-status", "planned waitlist active onhold finished cancelled entered-in-error"
)
CARE_TEAM_STATUS = _vs("care-team-status", "proposed active suspended inactive entered-in-error")
CONSENT_STATE = _vs(
    "consent-state-codes", "draft proposed active rejected inactive entered-in-error"
)
CONSENT_SCOPE = _vs(
    "consent-scope",
    "adr research patient-privacy treatment",
    "extensible",
    f"{TERMINOLOGY}/consentscope",
)
CONSENT_PROVISION_TYPE = _vs("consent-provision-type", "deny permit")
CLINICAL_IMPRESSION_STATUS = _vs(
    "clinicalimpression-status", "in-progress completed entered-in-error"
)
CONDITION_CLINICAL = _vs(
    "condition-clinical",
    "active recurrence relapse inactive remission resolved",
    "required",
    f"{TERMINOLOGY}/condition-clinical",
)
CONDITION_VER_STATUS = _vs(
    "condition-ver-status",
    "unconfirmed provisional differential confirmed refuted entered-in-error",
    "required",
    f"{TERMINOLOGY}/condition-ver-status",
)
CONDITION_CATEGORY = _vs(
    "condition-category",
    "problem-list-item encounter-diagnosis",
    "extensible",
    f"{TERMINOLOGY}/condition-category",
)
OBSERVATION_STATUS = _vs(
    "observation-status",
    "registered preliminary final amended corrected cancelled entered-in-error unknown",
)
OBSERVATION_CATEGORY = _vs(
    "observation-category",
    "social-history vital-signs imaging laboratory procedure survey exam therapy activity",
    "preferred",
    f"{TERMINOLOGY}/observation-category",
)
QUESTIONNAIRE_ANSWERS_STATUS = _vs(
    "questionnaire-answers-status", "in-progress completed amended entered-in-error stopped"
)
RISK_PROBABILITY = _vs(
    "risk-probability",
    "negligible low moderate high certain",
    "example",
    f"{TERMINOLOGY}/risk-probability",
)
REQUEST_STATUS = _vs(
    "request-status", "draft active on-hold revoked completed entered-in-error unknown"
)
REQUEST_INTENT = _vs(
    "request-intent",
    "proposal plan directive order original-order reflex-order filler-order instance-order option",
)
REQUEST_PRIORITY = _vs("request-priority", "routine urgent asap stat")
CARE_PLAN_INTENT = _vs("care-plan-intent", "proposal plan order option")
CARE_PLAN_ACTIVITY_STATUS = _vs(
    "care-plan-activity-status",
    "not-started scheduled in-progress on-hold completed cancelled stopped unknown "
    "entered-in-error",
)
CARE_PLAN_ACTIVITY_KIND = _vs(
    "care-plan-activity-kind",
    "Appointment CommunicationRequest DeviceRequest MedicationRequest NutritionOrder Task "
    "ServiceRequest VisionPrescription",
)
GOAL_STATUS = _vs(
    "goal-status",
    "proposed planned accepted active on-hold completed cancelled entered-in-error rejected",
)
GOAL_ACHIEVEMENT = _vs(
    "goal-achievement",
    "in-progress improving worsening no-change achieved sustaining not-achieved no-progress "
    "not-attainable",
    "preferred",
    f"{TERMINOLOGY}/goal-achievement",
)
TASK_STATUS = _vs(
    "task-status",
    "draft requested received accepted rejected ready cancelled in-progress on-hold failed "
    "completed entered-in-error",
)
TASK_INTENT = _vs(
    "task-intent",
    "unknown proposal plan order original-order reflex-order filler-order instance-order option",
)
EVENT_STATUS = _vs(
    "event-status",
    "preparation in-progress not-done on-hold stopped completed entered-in-error unknown",
)
COMMUNICATION_CATEGORY = _vs(
    "communication-category",
    "alert notification reminder instruction",
    "example",
    f"{TERMINOLOGY}/communication-category",
)
PARTICIPATION_MODE = _vs(
    "v3-ParticipationMode",
    "ELECTRONIC PHYSICAL REMOTE VERBAL DICTATE FACE PHONE VIDEOCONF WRITTEN FAXWRIT HANDWRIT "
    "MAILWRIT ONLINEWRIT EMAILWRIT TYPEWRIT",
    "example",
    f"{TERMINOLOGY}/v3-ParticipationMode",
)

_TELECOM = (("telecom.system", CONTACT_POINT_SYSTEM),)

#: Where each value set applies: resource type → (element path, value set). A path walks
#: objects and lists; it ends at a `code`, a Coding or a CodeableConcept.
BINDINGS: Mapping[str, tuple[tuple[str, ValueSet], ...]] = {
    "Bundle": (("type", BUNDLE_TYPE),),
    "Patient": (("gender", ADMINISTRATIVE_GENDER), *_TELECOM),
    "RelatedPerson": (("gender", ADMINISTRATIVE_GENDER), *_TELECOM),
    "Practitioner": (("gender", ADMINISTRATIVE_GENDER), *_TELECOM),
    "Organization": _TELECOM,
    "EpisodeOfCare": (
        ("status", EPISODE_OF_CARE_STATUS),
        ("statusHistory.status", EPISODE_OF_CARE_STATUS),
    ),
    "CareTeam": (("status", CARE_TEAM_STATUS),),
    "Consent": (
        ("status", CONSENT_STATE),
        ("scope", CONSENT_SCOPE),
        ("provision.type", CONSENT_PROVISION_TYPE),
    ),
    "ClinicalImpression": (("status", CLINICAL_IMPRESSION_STATUS),),
    "Condition": (
        ("clinicalStatus", CONDITION_CLINICAL),
        ("verificationStatus", CONDITION_VER_STATUS),
        ("category", CONDITION_CATEGORY),
    ),
    "Observation": (("status", OBSERVATION_STATUS), ("category", OBSERVATION_CATEGORY)),
    "QuestionnaireResponse": (("status", QUESTIONNAIRE_ANSWERS_STATUS),),
    "RiskAssessment": (
        ("status", OBSERVATION_STATUS),
        ("prediction.qualitativeRisk", RISK_PROBABILITY),
    ),
    "CarePlan": (
        ("status", REQUEST_STATUS),
        ("intent", CARE_PLAN_INTENT),
        ("activity.detail.status", CARE_PLAN_ACTIVITY_STATUS),
        ("activity.detail.kind", CARE_PLAN_ACTIVITY_KIND),
    ),
    "Goal": (("lifecycleStatus", GOAL_STATUS), ("achievementStatus", GOAL_ACHIEVEMENT)),
    "ServiceRequest": (
        ("status", REQUEST_STATUS),
        ("intent", REQUEST_INTENT),
        ("priority", REQUEST_PRIORITY),
    ),
    "Task": (("status", TASK_STATUS), ("intent", TASK_INTENT), ("priority", REQUEST_PRIORITY)),
    "Communication": (
        ("status", EVENT_STATUS),
        ("category", COMMUNICATION_CATEGORY),
        ("medium", PARTICIPATION_MODE),
        ("priority", REQUEST_PRIORITY),
    ),
}


def _walk(node: Any, parts: list[str]) -> Iterator[Any]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, parts)
        return
    if not parts:
        yield node
        return
    if isinstance(node, dict) and parts[0] in node:
        yield from _walk(node[parts[0]], parts[1:])


def _problems(value: Any, vs: ValueSet) -> Iterator[str]:
    if vs.system is None:
        if not isinstance(value, str) or value not in vs.codes:
            yield f"{value!r} is not in the value set {vs.name}"
        return
    codings = value.get("coding", []) if isinstance(value, dict) and "coding" in value else [value]
    ours = [c for c in codings if isinstance(c, dict) and c.get("system") == vs.system]
    for coding in ours:
        if coding.get("code") not in vs.codes:
            yield f"{coding.get('code')!r} is not in the value set {vs.name}"
    if vs.strength == "required" and not ours:
        yield f"needs a code from {vs.system} (value set {vs.name})"


def check_codes(resource: Mapping[str, Any]) -> list[str]:
    """Each coded element of `resource` whose code is not in its value set, as `path: problem`."""
    rtype = str(resource.get("resourceType", ""))
    found: list[str] = []
    for path, vs in BINDINGS.get(rtype, ()):
        for value in _walk(resource, path.split(".")):
            found.extend(f"{path}: {problem} ({vs.url})" for problem in _problems(value, vs))
    return found
