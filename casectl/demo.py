"""A synthetic caseload for trying casectl out, for tests and for the benchmark.

`demo_case(n, seed=…, as_of=…)` builds the n-th case of a seeded caseload with the stage
functions, so every case validates the way a real one does. Each case has its own random
stream (seeded by the caseload seed and its number): case 7 is the same whether 10 or 10,000
cases are made, and the same seed and `as_of` always give byte-identical files.

The people are invented. Dates are spread around `as_of`, so a review on that day has overdue,
due and later items; nothing is dated after `as_of`.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from casectl.config import Config
from casectl.errors import InvalidInput
from casectl.models.case import Case
from casectl.models.people import CareTeamMember, Client, FamilyMember
from casectl.models.records import (
    Assessment,
    CarePlan,
    Coordination,
    Evaluation,
    FollowUp,
    InstrumentRecord,
    RiskOverride,
    Screening,
)
from casectl.store.paths import CASE_SUFFIX

T = TypeVar("T")


class People(NamedTuple):
    """Names common among speakers of a language, and its share of the demo caseload."""

    weight: int
    children: tuple[str, ...]
    adults: tuple[str, ...]
    surnames: tuple[str, ...]


PEOPLE: dict[str, People] = {
    "en": People(
        52,
        ("Olivia", "Liam", "Ava", "Noah", "Emma", "Elijah", "Harper", "Lucas", "Amelia", "Mason"),
        ("Jessica", "Michael", "Ashley", "David", "Sarah", "James", "Laura", "Robert"),
        ("Smith", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Taylor", "Clark", "Walker"),
    ),
    "es": People(
        20,
        ("Sofía", "Mateo", "Valentina", "Santiago", "Camila", "Diego", "Lucía", "Emiliano"),
        ("María", "José", "Guadalupe", "Luis", "Rosa", "Carlos", "Ana", "Jorge"),
        ("García", "Hernández", "López", "Martínez", "Rodríguez", "Santos", "Ramírez", "Flores"),
    ),
    "vi": People(
        7,
        ("An", "Bảo", "Linh", "Minh", "Thảo", "Huy", "Ngọc", "Khoa"),
        ("Hương", "Tuấn", "Lan", "Dũng", "Mai", "Phúc"),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ"),
    ),
    "zh": People(
        5,
        ("Mei", "Wei", "Xin", "Jun", "Ling", "Hao"),
        ("Li Na", "Jian", "Yan", "Qiang", "Hui", "Ming"),
        ("Chen", "Wang", "Li", "Zhang", "Liu", "Huang"),
    ),
    "ar": People(
        6,
        ("Layla", "Omar", "Yusuf", "Amira", "Zain", "Noor"),
        ("Fatima", "Ahmed", "Mariam", "Khaled", "Huda", "Samir"),
        ("Haddad", "Khalil", "Mansour", "Saleh", "Nasser"),
    ),
    "so": People(
        5,
        ("Hodan", "Abdi", "Ayaan", "Farhan", "Amina", "Liban"),
        ("Faadumo", "Mohamed", "Sahra", "Abdirahman", "Hawa"),
        ("Warsame", "Abdullahi", "Hassan", "Farah", "Jama"),
    ),
    "ht": People(
        5,
        ("Jean", "Nadège", "Widlore", "Esther", "Samuel", "Fabiola"),
        ("Marie", "Pierre", "Yolande", "Jacques", "Roseline"),
        ("Joseph", "Pierre", "Louis", "Charles", "Baptiste"),
    ),
}
MANAGERS = ("A. Okafor", "B. Lindqvist", "C. Reyes", "D. Nguyen", "E. Thompson", "F. Haddad")
REFERRAL_SOURCES = (
    "NICU social work",
    "Primary care",
    "School nurse",
    "Emergency department",
    "Health plan care management",
    "Parent self-referral",
    "Early intervention programme",
)


class Condition(NamedTuple):
    """A condition a demo client may have, with the care that usually goes with it."""

    description: str
    icd10: str
    body_system: str
    complex: bool
    ages: tuple[int, int]
    service: str
    handle: str
    medication: str
    goal: str
    intervention: str
    teaching: str


CONDITIONS: tuple[Condition, ...] = (
    Condition("Moderate persistent asthma", "J45.40", "respiratory", False, (2, 25), "Pulmonology", "pulm", "fluticasone", "No asthma ED visits", "Asthma action plan review", "Inhaler and spacer technique"),
    Condition("Type 1 diabetes mellitus", "E10.9", "endocrine", True, (3, 25), "Endocrinology", "endo", "insulin glargine", "HbA1c below 7.5%", "Glucose log review", "Insulin dosing and hypoglycaemia"),
    Condition("Autism spectrum disorder", "F84.0", "neurodevelopmental", True, (2, 20), "Developmental pediatrics", "devped", "melatonin", "Uses 20 new words or signs", "ABA therapy intake", "Visual schedules at home"),
    Condition("Attention-deficit hyperactivity disorder", "F90.9", "mental-health", False, (5, 20), "Child psychiatry", "psych", "methylphenidate", "Completes homework 4 days a week", "Medication follow-up", "Behaviour plan with school"),
    Condition("Epilepsy, unspecified", "G40.909", "neurological", True, (1, 25), "Neurology", "neuro", "levetiracetam", "Seizure-free for 3 months", "Seizure diary review", "Rescue medication use"),
    Condition("Sickle-cell disease with crisis", "D57.00", "haematological", True, (1, 25), "Haematology", "heme", "hydroxyurea", "No admissions for pain crises", "Hydroxyurea adherence check", "Fever and pain warning signs"),
    Condition("Cerebral palsy", "G80.9", "neurological", True, (1, 25), "Physical medicine and rehabilitation", "pmr", "baclofen", "Walks 50 m with walker", "Physiotherapy twice weekly", "Home stretching programme"),
    Condition("Obesity", "E66.9", "endocrine", False, (4, 20), "Weight management clinic", "wmc", "multivitamin", "BMI percentile falls below 95th", "Nutrition counselling", "Family meal planning"),
    Condition("Failure to thrive", "R62.51", "gastrointestinal", False, (0, 3), "Gastroenterology", "gi", "high-calorie formula", "Weight gain of 20 g a day", "Weekly weight checks", "High-calorie feeding"),
    Condition("Congenital ventricular septal defect", "Q21.0", "cardiovascular", True, (0, 12), "Cardiology", "cardio", "furosemide", "Attends all cardiology visits", "Echocardiogram follow-up", "Signs of heart failure"),
    Condition("Major depressive disorder, single episode", "F32.9", "mental-health", False, (11, 25), "Adolescent mental health", "mh", "sertraline", "PHQ-A score below 10", "Weekly therapy sessions", "Safety plan"),
    Condition("Generalised anxiety disorder", "F41.1", "mental-health", False, (8, 25), "Child psychology", "psychol", "fluoxetine", "Attends school 5 days a week", "CBT sessions", "Coping skills practice"),
    Condition("Cystic fibrosis", "E84.0", "respiratory", True, (0, 25), "Cystic fibrosis centre", "cf", "pancrelipase", "FEV1 stays above 80%", "Airway clearance review", "Enzyme dosing with meals"),
)  # fmt: skip
SCHOOLS = ("Lincoln Elementary", "Riverside Middle School", "Eastside High School", "Head Start")
PAYERS = (("Medicaid", 55), ("CHIP", 15), ("Blue Cross", 12), ("Aetna", 10), ("Uninsured", 8))
RESOURCES = (
    ("WIC", "food", "benefits office"),
    ("Food bank delivery", "food", "community line"),
    ("Transportation benefit", "transportation", "health plan"),
    ("Housing navigator", "housing", "county housing office"),
    ("Parent support group", "family support", "hospital family centre"),
)
# How far cases have got, and how long ago cases at that step were opened (days).
STAGES: tuple[tuple[str, int, int], ...] = (
    ("new", 3, 20),
    ("screen", 4, 40),
    ("assess", 4, 60),
    ("risk", 4, 75),
    ("plan", 9, 100),
    ("implement", 20, 150),
    ("follow-up", 42, 760),
    ("evaluate", 14, 760),
)


def _order(stage: str) -> int:
    return [s[0] for s in STAGES].index(stage)


def _pick(rng: random.Random, items: Sequence[T]) -> T:
    return items[rng.randrange(len(items))]


def _weighted(rng: random.Random, choices: Sequence[tuple[T, int]]) -> T:
    roll = rng.randrange(sum(weight for _, weight in choices))
    for value, weight in choices:
        if roll < weight:
            return value
        roll -= weight
    raise AssertionError("unreachable: the roll is below the total weight")


def _phone(rng: random.Random) -> str:
    return f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"


class _Clock:
    """Record dates that move forward from the opening day and never pass `as_of`."""

    def __init__(self, start: dt.date, end: dt.date) -> None:
        self.day = start
        self.end = end

    def step(self, rng: random.Random, low: int, high: int) -> dt.date:
        self.day = min(self.end, self.day + dt.timedelta(days=rng.randint(low, high)))
        return self.day


def _answers(rng: random.Random, name: str) -> list[int | None]:
    from casectl.clinical.instruments import get_instrument

    if name == "m-chat-r":  # the licensed form's total, 0-20
        return [_weighted(rng, ((rng.randint(0, 2), 8), (rng.randint(3, 7), 2)))]
    struggling = rng.random() < 0.12
    answers: list[int | None] = []
    for item in get_instrument(name).items:
        values = item.values
        if "suicid" in item.key or "self-harm" in item.key:
            # Same-day safety answers are rare, and force the tier to high when given.
            answers.append(values[1] if rng.random() < 0.03 else values[0])
        elif struggling:
            answers.append(_pick(rng, values))
        else:
            answers.append(values[0] if rng.random() < 0.8 else values[min(1, len(values) - 1)])
    return answers


def _instrument(rng: random.Random, name: str) -> InstrumentRecord:
    from casectl.stages.instruments import score_answers, to_record

    return to_record(score_answers(name, _answers(rng, name)))


def _fits(name: str, born: dt.date, day: dt.date) -> bool:
    """True when the instrument is validated for the client's age on `day`."""
    from casectl.clinical.instruments import InstrumentAgeError, check_instrument_age

    months = (day.year - born.year) * 12 + day.month - born.month - (day.day < born.day)
    try:
        check_instrument_age(name, months / 12)
    except InstrumentAgeError:
        return False
    return True


def _vitals(rng: random.Random, age: int) -> dict[str, Any]:
    if age == 0:
        height = 62.0
    elif age < 2:
        height = 76.0
    else:
        height = min(170.0, 87 + 6.5 * (age - 2))
    height = round(height + rng.uniform(-5, 5), 1)
    bmi = rng.uniform(14.5, 19) if age < 10 else rng.uniform(17, 29)
    vitals: dict[str, Any] = {
        "height_cm": height,
        "weight_kg": round(bmi * (height / 100) ** 2, 1),
    }
    if age >= 1:
        systolic = 88 + min(age, 17) * 1.5 + rng.randint(-8, 10)
        vitals["systolic"] = int(systolic)
        vitals["diastolic"] = int(min(systolic - 25, 50 + min(age, 17) + rng.randint(-6, 8)))
        vitals["heart_rate"] = rng.randint(70, 125) - min(age, 17)
    return vitals


def demo_case(number: int, *, seed: int, as_of: dt.date, config: Config) -> Case:
    """The `number`-th case (from 1) of the caseload made from `seed`, dated up to `as_of`."""
    return _CaseMaker(number, seed, as_of, config).make()


class _CaseMaker:
    """Takes one invented client through the steps, as far as the dice say."""

    def __init__(self, number: int, seed: int, as_of: dt.date, config: Config) -> None:
        self.rng = random.Random(f"casectl-demo:{seed}:{number}")
        self.number = number
        self.as_of = as_of
        self.config = config
        self.reassessed = False  # a long-running case is assessed again a year on

    def make(self) -> Case:
        rng = self.rng
        stage, _, opened_within = _weighted(rng, [(s, s[1]) for s in STAGES])
        self.stage = stage
        self.opened = self.as_of - dt.timedelta(days=rng.randint(1, opened_within))
        self.clock = _Clock(self.opened, self.as_of)
        self.manager = _pick(rng, MANAGERS)
        case = self._open()
        steps: dict[str, Callable[[Case], Case]] = {
            "screen": self._screen,
            "assess": self._assess,
            "risk": self._risk,
            "plan": self._plan,
            "implement": self._implement,
            "follow-up": self._follow_up,
            "evaluate": self._evaluate,
        }
        for name, step in steps.items():
            if _order(name) > _order(stage):
                break
            case = step(case)
            if case.is_closed:  # not eligible at screening, or closed at evaluation
                return case
        return self._maybe_change_status(case)

    # --- the steps ---

    def _open(self) -> Case:
        from casectl.stages import lifecycle

        rng = self.rng
        language = _weighted(rng, [(lang, people.weight) for lang, people in PEOPLE.items()])
        people = PEOPLE[language]
        surname = _pick(rng, people.surnames)
        age = _weighted(
            rng,
            (
                (0, 9),
                (rng.randint(1, 4), 22),
                (rng.randint(5, 12), 30),
                (rng.randint(13, 17), 27),
                (rng.randint(18, 24), 12),
            ),
        )
        self.age = age
        born = self.opened - dt.timedelta(days=age * 365 + rng.randint(20, 340))
        self.born = born
        client = Client.model_validate(
            {
                "name": f"{_pick(rng, people.children)} {surname}",
                "dob": born,
                "sex": _weighted(rng, (("female", 49), ("male", 49), ("unknown", 2))),
                "preferred_language": language,
                "interpreter_needed": language != "en" and rng.random() < 0.8,
                "contact": {"phone": _phone(rng)},
            }
        )
        family: list[FamilyMember] = []
        if age < 18 or rng.random() < 0.5:
            relation = _weighted(
                rng,
                (
                    ("mother", 60),
                    ("father", 20),
                    ("grandmother", 10),
                    ("foster mother", 6),
                    ("aunt", 4),
                ),
            )
            family.append(
                FamilyMember.model_validate(
                    {
                        "id": relation.replace(" ", "-"),
                        "name": f"{_pick(rng, people.adults)} {surname}",
                        "relationship": relation,
                        "legal_guardian": age < 18,
                        "decision_maker": True,
                        "language": language,
                        "contact": {"phone": _phone(rng)},
                    }
                )
            )
        self.decider = family[0].id if family else "client"
        fitting = [c for c in CONDITIONS if c.ages[0] <= age <= c.ages[1]]
        count = min(len(fitting), _weighted(rng, ((1, 60), (2, 32), (3, 8))))
        self.conditions = rng.sample(fitting, k=count)
        team = [
            CareTeamMember(
                id="pcp",
                name=f"Dr. {_pick(rng, people.surnames)}",
                role="primary-care",
                organisation="Eastside Pediatrics",
                consent_to_share=True,
            )
        ]
        for c in self.conditions:
            team.append(
                CareTeamMember(
                    id=c.handle,
                    name=f"Dr. {_pick(rng, PEOPLE['en'].surnames)}",
                    role="specialist",
                    organisation=f"Children's Hospital {c.service}",
                    consent_to_share=rng.random() < 0.8,
                )
            )
        if 4 <= age <= 18:
            team.append(
                CareTeamMember(
                    id="school",
                    name=f"{_pick(rng, SCHOOLS)} nurse",
                    role="school",
                    consent_to_share=rng.random() < 0.7,
                )
            )
        return lifecycle.open_case(
            f"{self.config.case.id_prefix}-{self.opened.year}-{self.number:04d}",
            client,
            opened=self.opened,
            case_manager=self.manager,
            family=family,
            care_team=team,
        )

    def _screen(self, case: Case) -> Case:
        from casectl.stages import lifecycle, records

        rng, age = self.rng, self.age
        tools = [
            name
            for name, wanted in (
                ("m-chat-r", 1 <= age <= 2),
                ("psc-17", 4 <= age <= 16),
                ("hunger-vital-sign", rng.random() < 0.4),
            )
            if wanted
        ]
        eligible = rng.random() < 0.95
        day = self.clock.step(rng, 0, 6)
        screening = Screening.model_validate(
            _set(
                date=day,
                recorded_by=self.manager,
                referral_source=_pick(rng, REFERRAL_SOURCES),
                referral_reason=f"{self.conditions[0].description}: coordination of care",
                records_reviewed=["hospital discharge summary", "primary care notes"][
                    : rng.randint(1, 2)
                ],
                situation={
                    "medical": f"{len(self.conditions)} chronic condition(s)",
                    "living": _pick(rng, ("stable housing", "shared housing", "temporary housing")),
                },
                instruments=[
                    _instrument(rng, name) for name in tools if _fits(name, case.client.dob, day)
                ],
                eligible=eligible,
                eligibility_reason=(
                    "complex needs across services" if eligible else "needs met by primary care"
                ),
            )
        )
        case = records.screen(case, screening)
        if not eligible:
            return lifecycle.close(
                case, on=day, by=self.manager, reason="not eligible at screening"
            )
        return case

    def _assess(self, case: Case) -> Case:
        from casectl.stages import records

        case = records.assess(case, self._assessment(self.clock.step(self.rng, 2, 14)))
        # Long-running cases were assessed again about a year later.
        if (self.as_of - self.opened).days > 420 and self.rng.random() < 0.6:
            self.reassessed = True
        return case

    def _assessment(self, day: dt.date) -> Assessment:
        rng, age = self.rng, self.age
        tools = [
            name
            for name, wanted in (
                ("phq-a", 11 <= age <= 17),
                ("gad-7", age >= 18),
                ("psc-17", 4 <= age <= 16 and rng.random() < 0.3),
            )
            if wanted
        ]
        payer = _weighted(rng, PAYERS)
        needs = rng.sample(
            ["housing", "food", "transportation", "utilities", "childcare"],
            k=_weighted(rng, ((0, 60), (1, 25), (2, 12), (3, 3))),
        )
        return Assessment.model_validate(
            _set(
                date=day,
                recorded_by=self.manager,
                health_status=_pick(
                    rng, ("stable", "stable with flare-ups", "improving", "poorly controlled")
                ),
                diagnoses=[
                    {
                        "description": c.description,
                        "icd10": c.icd10,
                        "body_system": c.body_system,
                        "complex": c.complex,
                    }
                    for c in self.conditions
                ],
                medications=[{"name": c.medication, "frequency": "daily"} for c in self.conditions],
                allergies=["penicillin"] if rng.random() < 0.1 else [],
                vitals=_vitals(rng, age),
                insurance={"payer": payer, "coverage_gap": payer == "Uninsured"},
                utilisation={
                    "ed_visits_12m": _weighted(rng, ((0, 60), (1, 25), (2, 10), (4, 5))),
                    "admissions_12m": _weighted(rng, ((0, 80), (1, 17), (3, 3))),
                    "missed_appointments_12m": _weighted(rng, ((0, 70), (1, 20), (3, 10))),
                },
                social_needs=needs,
                caregiving={
                    "strain": _weighted(
                        rng, (("none", 45), ("mild", 35), ("moderate", 15), ("severe", 5))
                    )
                },
                instruments=[
                    _instrument(rng, name) for name in tools if _fits(name, self.born, day)
                ],
            )
        )

    def _risk(self, case: Case) -> Case:
        from casectl.stages import records

        case = self._risk_record(case)
        if self.reassessed:
            case = records.assess(case, self._assessment(self.clock.step(self.rng, 330, 380)))
            if self.rng.random() < 0.7:  # else the risk record predates the new assessment
                case = self._risk_record(case)
        return case

    def _risk_record(self, case: Case) -> Case:
        from casectl.stages.risk import risk

        day = self.clock.step(self.rng, 0, 3)
        step = risk(case, self.config, on=day, by=self.manager)
        if step.record.level != "high" and self.rng.random() < 0.06:
            concern = RiskOverride(level="high", reason="clinician concern after a home visit")
            step = risk(case, self.config, on=day, by=self.manager, override=concern)
        return step.case

    def _plan(self, case: Case) -> Case:
        from casectl.stages import records

        rng = self.rng
        risk = case.current_risk
        level = risk.effective_level if risk else "moderate"
        self.interval = {"high": 14, "moderate": 30, "low": _pick(rng, (60, 90))}[level]
        return records.plan(case, self._care_plan(case, self.clock.step(rng, 1, 10)))

    def _care_plan(self, case: Case, day: dt.date) -> CarePlan:
        rng = self.rng
        goals = []
        interventions = []
        for n, c in enumerate(self.conditions, start=1):
            target = day + dt.timedelta(days=rng.randint(60, 360))
            status = _weighted(
                rng,
                (("not-started", 30), ("in-progress", 55), ("achieved", 10), ("discontinued", 5)),
            )
            if target < self.as_of and rng.random() < 0.65:
                # Most goals whose date has passed were judged by then.
                status = _weighted(rng, (("achieved", 5), ("discontinued", 1)))
            goals.append(
                {
                    "id": f"g{n}",
                    "domain": "mental-health" if c.body_system == "mental-health" else "health",
                    "description": c.goal,
                    "measure": "as recorded at clinic visits",
                    "target": "met",
                    "target_date": target,
                    "status": status,
                }
            )
            step: dict[str, Any] = {
                "id": f"i{n}",
                "description": c.intervention,
                "owner": c.handle,
                "goal": f"g{n}",
            }
            if rng.random() < 0.7:
                step["due"] = day + dt.timedelta(days=rng.randint(7, 150))
            else:
                step["frequency"] = "monthly"
            step["status"] = _weighted(
                rng, (("planned", 45), ("in-progress", 35), ("done", 15), ("cancelled", 5))
            )
            interventions.append(step)
        if any(m.role == "school" for m in case.care_team):
            interventions.append(
                {
                    "id": f"i{len(interventions) + 1}",
                    "description": "School health plan meeting",
                    "owner": "school",
                    "due": day + dt.timedelta(days=rng.randint(14, 120)),
                    "status": "planned",
                }
            )
        for step in interventions:
            # Most steps due a while ago have been done and marked so.
            overdue = "due" in step and step["due"] < self.as_of - dt.timedelta(days=7)
            if overdue and rng.random() < 0.85:
                step["status"] = "done"
        return CarePlan.model_validate(
            _set(
                date=day,
                recorded_by=self.manager,
                goals=goals,
                interventions=interventions,
                review_interval_days=self.interval,
                agreed_by=[self.decider],
                family_input=(
                    "family chose to start with the most urgent goal"
                    if rng.random() < 0.3
                    else None
                ),
            )
        )

    def _implement(self, case: Case) -> Case:
        from casectl.stages import records

        rng = self.rng
        case = records.implement(case, self._coordination(case, self.clock.step(rng, 1, 7)))
        # Cases that went on to follow-up heard back on everything from this first round;
        # newer ones are still waiting for some answers.
        settle = self.stage in ("follow-up", "evaluate")
        if settle or rng.random() < 0.75:
            day = self.clock.step(rng, 62, 90) if settle else self.clock.step(rng, 5, 30)
            update = self._answers_and_outcomes(case, day, settle=settle)
            if update is not None:
                case = records.implement(case, update)
        return case

    def _coordination(self, case: Case, day: dt.date) -> Coordination:
        """Referrals to the services the conditions need, appointments booked, teaching."""
        rng = self.rng
        referred = self.conditions[: rng.randint(1, len(self.conditions))]
        booked = self.conditions[: rng.randint(1, len(self.conditions))]
        refs, appts = len(case.referral_ids()), len(case.appointment_ids())
        resource = _pick(rng, RESOURCES)
        return Coordination.model_validate(
            _set(
                date=day,
                recorded_by=self.manager,
                referrals=[
                    {
                        "id": f"r{refs + n}",
                        "to": c.service,
                        "reason": c.description,
                        "member": c.handle,
                        "urgency": "urgent" if rng.random() < 0.15 else "routine",
                        "status": "sent",
                    }
                    for n, c in enumerate(referred, start=1)
                ],
                appointments=[
                    {
                        "id": f"a{appts + n}",
                        "date": day + dt.timedelta(days=rng.randint(3, 60)),
                        "with": c.handle,
                        "purpose": f"{c.service} visit",
                        "status": "scheduled",
                    }
                    for n, c in enumerate(booked, start=1)
                ],
                education=[{"topic": self.conditions[0].teaching, "given_to": self.decider}],
                resources_connected=(
                    [{"name": resource[0], "kind": resource[1], "contact": resource[2]}]
                    if rng.random() < 0.4
                    else []
                ),
            )
        )

    def _answers_and_outcomes(
        self, case: Case, day: dt.date, *, settle: bool
    ) -> Coordination | None:
        """A later coordination step: answers to referrals, what happened at appointments.

        `settle` answers every referral still waiting and every past appointment.
        """
        rng = self.rng
        answers: tuple[tuple[str, int], ...] = (
            ("accepted", 35),
            ("scheduled", 30),
            ("completed", 15),
            ("no-response", 2 if settle else 8),
            ("declined", 5),
        )
        referral_updates = [
            {"referral": ref.id, "status": _weighted(rng, answers)}
            for ref, status, *_ in case.referral_history().values()
            if status == "sent" and (settle or rng.random() < 0.85)
        ]
        appointment_updates = [
            {
                "appointment": appt.id,
                "status": _weighted(rng, (("attended", 75), ("missed", 20), ("cancelled", 5))),
            }
            for appt, status, *_ in case.appointment_history().values()
            if status == "scheduled" and appt.date <= day and (settle or rng.random() < 0.92)
        ]
        if not referral_updates and not appointment_updates:
            return None
        return Coordination.model_validate(
            _set(
                date=day,
                recorded_by=self.manager,
                referral_updates=referral_updates,
                appointment_updates=appointment_updates,
            )
        )

    def _follow_up(self, case: Case) -> Case:
        from casectl.stages import records

        rng, interval = self.rng, self.interval
        # Contacts about one interval apart, the last one near `as_of`, so that the next
        # reviews fall on both sides of it.
        last = self.as_of - dt.timedelta(days=rng.randint(0, int(interval * 1.15)))
        last = max(last, self.clock.day)
        contacts = max(1, min(6, (last - self.clock.day).days // interval + 1))
        # A plan older than half a year was revised, with a new round of coordination.
        plan = case.current_plan
        revise: dt.date | None = None
        if plan is not None and (last - plan.date).days > 180:
            revise = last - dt.timedelta(days=rng.randint(20, 120))
        for n in range(contacts):
            day = max(self.clock.day, last - dt.timedelta(days=interval * (contacts - 1 - n)))
            if revise is not None and day >= revise:
                case = self._revise(case, max(self.clock.day, revise))
                day = max(day, self.clock.day)
                revise = None
            self.clock.day = day
            if n == contacts - 1 and rng.random() < 0.8:
                # Before the last contact, the answers and outcomes that came in are recorded.
                update = self._answers_and_outcomes(case, day, settle=False)
                if update is not None:
                    case = records.implement(case, update)
            case = records.follow_up(case, self._contact(case, day))
        return case

    def _contact(self, case: Case, day: dt.date) -> FollowUp:
        rng = self.rng
        goals = case.current_plan.goals if case.current_plan else []
        return FollowUp.model_validate(
            _set(
                date=day,
                recorded_by=self.manager,
                mode=_weighted(
                    rng,
                    (
                        ("phone", 50),
                        ("home-visit", 15),
                        ("clinic", 15),
                        ("video", 10),
                        ("text", 10),
                    ),
                ),
                summary=_pick(
                    rng,
                    (
                        "reviewed the plan; no new concerns",
                        "symptoms better since the last contact",
                        "missed a visit; rebooked",
                        "family asked for help with transport",
                    ),
                ),
                progress=[
                    {
                        "goal": g.id,
                        "progress": _weighted(
                            rng,
                            (
                                ("improving", 45),
                                ("no-change", 35),
                                ("worsening", 12),
                                ("achieved", 8),
                            ),
                        ),
                    }
                    for g in goals
                ],
                adherence=_weighted(
                    rng, (("good", 50), ("partial", 30), ("poor", 10), ("unknown", 10))
                ),
                next_review=day + dt.timedelta(days=max(1, self.interval + rng.randint(-5, 5))),
                **{"with": [self.decider]},
            )
        )

    def _revise(self, case: Case, day: dt.date) -> Case:
        """A revised plan (same goals, new dates) and a new round of referrals and bookings."""
        from casectl.stages import records

        rng = self.rng
        self.clock.day = day
        case = records.plan(case, self._care_plan(case, day))
        case = records.implement(case, self._coordination(case, self.clock.step(rng, 1, 7)))
        return case

    def _evaluate(self, case: Case) -> Case:
        from casectl.stages import records

        rng = self.rng
        decision = _weighted(rng, (("continue", 55), ("close", 30), ("transition", 15)))
        goals = case.current_plan.goals if case.current_plan else []
        evaluation = Evaluation.model_validate(
            _set(
                date=self.clock.step(rng, 0, 10),
                recorded_by=self.manager,
                goal_outcomes=[
                    {
                        "goal": g.id,
                        "outcome": _pick(rng, ("achieved", "partly-achieved", "not-achieved")),
                        "gas": rng.randint(-1, 2),
                    }
                    for g in goals
                ],
                care_appropriate=rng.random() < 0.9,
                satisfaction=rng.randint(3, 5),
                decision=decision,
                decision_reason={
                    "continue": "goals in progress",
                    "close": "goals met; family managing well",
                    "transition": "turned 18; adult services take over",
                }[decision],
                transition_to=(
                    "Adult complex care, County Health" if decision == "transition" else None
                ),
            )
        )
        return records.evaluate(case, evaluation)

    def _maybe_change_status(self, case: Case) -> Case:
        """A few open cases end on hold, closed or transferred by a status change."""
        from casectl.stages import lifecycle

        if case.status != "open":
            return case
        rng, by = self.rng, self.manager
        roll = rng.random()
        if roll < 0.05:
            day = self.clock.step(rng, 0, 20)
            return lifecycle.hold(case, on=day, by=by, reason="family travelling abroad")
        if roll < 0.08:
            day = self.clock.step(rng, 0, 20)
            return lifecycle.close(case, on=day, by=by, reason="family moved out of the area")
        if roll < 0.10:
            day = self.clock.step(rng, 0, 20)
            return lifecycle.transfer(
                case,
                on=day,
                by=by,
                reason="moved nearer the north clinic",
                to="North clinic case management",
            )
        return case


def _set(**fields: Any) -> dict[str, Any]:
    """The given fields without the empty ones, as the CLI leaves out options not given."""
    return {k: v for k, v in fields.items() if v is not None and v != [] and v != {}}


def demo_cases(count: int, *, seed: int, as_of: dt.date, config: Config) -> Iterator[Case]:
    """The first `count` cases of the caseload made from `seed`."""
    for number in range(1, count + 1):
        yield demo_case(number, seed=seed, as_of=as_of, config=config)


def write_demo(root: Path, count: int, *, seed: int, as_of: dt.date) -> list[Path]:
    """Write `count` demo cases into `root` (created when missing; it must hold no cases)."""
    from casectl.models.validation import validate_case
    from casectl.store.store import CaseStore, dump_case

    if count < 1:
        raise InvalidInput("--cases must be at least 1.")
    store = CaseStore(root, today=as_of)
    store.init()
    if store.case_files():
        raise InvalidInput(
            f"{root} already holds case files; generate the demo into a new or empty folder."
        )
    written = []
    for case in demo_cases(count, seed=seed, as_of=as_of, config=store.config):
        data = dump_case(case)
        # A demo case that does not validate is a bug here, not the user's: fail loudly.
        validate_case(data, today=as_of)
        path = root / f"{case.id}{CASE_SUFFIX}"
        _write_new(path, case_yaml(data))
        written.append(path)
    return written


def _write_new(path: Path, text: str) -> None:
    # Demo files are made in bulk and are nobody's record: no fsync per file, but each is
    # still created 0600 and never over an existing file.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


# --- YAML as the store writes it, fast ---
#
# The store dumps a new case with ruamel.yaml (`yamlio.to_yaml` + `Document.dumps`), which
# takes about 10 ms a case: 10,000 cases would take minutes. `case_yaml` writes the same bytes
# for the plain data a case dumps to, deciding quoting with ruamel's own resolver and scalar
# analysis; anything it does not handle goes to ruamel itself. tests/test_demo.py checks the
# two agree byte for byte.


class _Unhandled(Exception):
    """The data holds something `case_yaml` leaves to ruamel."""


_STR_TAG = "tag:yaml.org,2002:str"
_styles: dict[str, str] = {}
_analysis: dict[str, Any] = {}


def _scalar_style(value: str) -> str:
    """`plain` or `single` as ruamel would emit `value` in block context; else _Unhandled."""
    style = _styles.get(value)
    if style is not None:
        return style
    if not _analysis:
        import io

        from ruamel.yaml import YAML
        from ruamel.yaml.emitter import Emitter

        _analysis["resolver"] = YAML(typ="rt").resolver
        _analysis["emitter"] = Emitter(io.StringIO(), allow_unicode=True)
    from ruamel.yaml.nodes import ScalarNode

    tag = _analysis["resolver"].resolve(ScalarNode, value, (True, False))
    found = _analysis["emitter"].analyze_scalar(value)
    if str(tag) == _STR_TAG and found.allow_block_plain and not found.empty:
        style = "plain"
    elif "'" in value or "\n" in value or not found.allow_single_quoted:
        raise _Unhandled(value)
    else:
        style = "single"
    _styles[value] = style
    return style


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _Unhandled(value)
        return repr(value).lower()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        if _scalar_style(value) == "plain":
            return value
        return f"'{value}'"
    raise _Unhandled(value)


def _flow(items: list[Any]) -> str | None:
    """`[1, null, 2]` for a list of whole numbers (instrument answers), as `to_yaml` does."""
    if items and all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in items):
        return "[" + ", ".join(_scalar(v) for v in items) + "]"
    return None


def _inline(value: Any) -> str | None:
    """The value on the key's own line, or None when it is a block below it."""
    if isinstance(value, Mapping):
        return "{}" if not value else None
    if isinstance(value, list):
        return "[]" if not value else _flow(value)
    return _scalar(value)


def _mapping(data: Mapping[str, Any], indent: int, out: list[str], first: str | None) -> None:
    for n, (key, value) in enumerate(data.items()):
        if not isinstance(key, str) or _scalar_style(key) != "plain":
            raise _Unhandled(key)
        head = (first if n == 0 and first is not None else " " * indent) + key + ":"
        inline = _inline(value)
        if inline is not None:
            out.append(f"{head} {inline}\n")
        elif isinstance(value, Mapping):
            out.append(head + "\n")
            _mapping(value, indent + 2, out, None)
        else:
            out.append(head + "\n")
            _sequence(value, indent + 2, out)


def _sequence(items: list[Any], indent: int, out: list[str]) -> None:
    dash = " " * indent + "- "
    for item in items:
        if isinstance(item, Mapping) and item:
            _mapping(item, indent + 2, out, dash)
        elif isinstance(item, list) and item and _flow(item) is None:
            raise _Unhandled(item)
        else:
            inline = _inline(item)
            out.append(f"{dash}{inline}\n")


def case_yaml(data: Mapping[str, Any]) -> str:
    """The YAML text the store writes for a new case with this plain data (`dump_case`)."""
    out: list[str] = []
    try:
        _mapping(data, 0, out, None)
    except _Unhandled:
        from casectl.store import yamlio

        return yamlio.Document(yamlio.to_yaml(dict(data)), 2, 2).dumps()
    return "".join(out)
