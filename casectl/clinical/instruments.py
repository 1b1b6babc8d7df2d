"""Screening and assessment instruments: their items, scoring rules and same-day action flags.

Each instrument cites its source. Item text is shipped only where the instrument may be freely
reproduced (PHQ-9, GAD-7, PSC-17, Hunger Vital Sign, the CMS AHC screening tool); elsewhere an
item's `text` is None: the PHQ-A teen form says "use with permission" and its terms are not
confirmed, and the M-CHAT-R/F items may not be distributed in software without a licence from its
authors, so casectl records only a total obtained on the licensed form. The Asthma Control Test
and the Childhood Asthma Control Test are copyrighted forms (QualityMetric/GSK) whose wording is
not shipped either: their items are keyed by topic and scored from the numbers on the form.

Each instrument also carries the ages it was validated for (`ages`); `check_instrument_age`
refuses a form outside them and names the instrument that fits instead.

Answers are integers in the order of an instrument's `items`; None marks a blank where the
instrument allows one. `score(name, answers)` finds the instrument and scores the answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from casectl.clinical.errors import ClinicalInputError

Answer = int | None
Options = tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class Item:
    """One question: a stable key, its wording (None when it may not be shipped) and its options.

    `subscale` names the subscale (PSC-17) or domain (AHC-HRSN) the item counts towards;
    `optional` items may be blank or, at the end of the answers, omitted; unscored items are
    recorded but not summed.
    """

    key: str
    text: str | None
    options: Options
    subscale: str | None = None
    optional: bool = False
    scored: bool = True

    @property
    def values(self) -> tuple[int, ...]:
        """The values an answer to this item may take."""
        return tuple(value for value, _ in self.options)


@dataclass(frozen=True)
class InstrumentResult:
    """A scored form. `flags` name findings that need action the same day, whatever the band."""

    instrument: str
    total: int | None
    band: str
    flags: tuple[str, ...] = ()
    subscales: dict[str, int] = field(default_factory=dict)
    positive_domains: tuple[str, ...] = ()
    t_score: float | None = None
    valid: bool = True
    answers: tuple[Answer, ...] = ()

    @property
    def needs_same_day_action(self) -> bool:
        """True when any answer calls for assessment today."""
        return bool(self.flags)

    def to_dict(self) -> dict[str, object]:
        """Return the result as JSON-ready data (t_score rounded to one decimal)."""
        return {
            "instrument": self.instrument,
            "total": self.total,
            "band": self.band,
            "valid": self.valid,
            "flags": list(self.flags),
            "needs_same_day_action": self.needs_same_day_action,
            "subscales": dict(self.subscales),
            "positive_domains": list(self.positive_domains),
            "t_score": None if self.t_score is None else round(self.t_score, 1),
            "answers": list(self.answers),
        }


Scorer = Callable[["Instrument", tuple[Answer, ...], tuple[float, ...] | None], InstrumentResult]


@dataclass(frozen=True)
class AgeRange:
    """The ages an instrument was validated for, in completed months: `from_months` up to but not
    including `below_months` (None: no limit on that side). `source` cites the validation."""

    from_months: int | None
    below_months: int | None
    source: str

    def covers(self, months: float) -> bool:
        """True when an age in months (completed months, or a decimal) lies in the range."""
        if self.from_months is not None and months < self.from_months:
            return False
        return self.below_months is None or months < self.below_months

    @property
    def label(self) -> str:
        """The range as a case manager reads it: "11–17 years", "16–30 months", "12 years and over"."""
        low, high = self.from_months, self.below_months
        if high is not None and high <= 36:
            return f"{low or 0}–{high - 1} months"
        low_years = (low or 0) // 12
        if high is None:
            return f"{low_years} years and over"
        return f"{low_years}–{high // 12 - 1} years"


@dataclass(frozen=True)
class Instrument:
    """A screening or assessment instrument casectl can score."""

    name: str
    title: str
    source: str
    items: tuple[Item, ...]
    prompt: str | None
    scorer: Scorer = field(repr=False, compare=False)
    aliases: tuple[str, ...] = ()
    ages: AgeRange | None = None
    # Instruments for the same purpose to suggest when this one does not fit the client's age.
    instead: tuple[str, ...] = ()

    def score(
        self, answers: Sequence[Answer], weights: Sequence[float] | None = None
    ) -> InstrumentResult:
        """Score one completed form; raises ClinicalInputError naming the first unusable answer."""
        if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
            raise ClinicalInputError(
                f"Answers to {self.title} must be a list of numbers; got {answers!r}."
            )
        if weights is not None and self.name != "gas":
            raise ClinicalInputError(
                f"{self.title} does not take weights; only Goal Attainment Scaling does."
            )
        given_weights = None
        if weights is not None:
            if isinstance(weights, str | bytes) or not isinstance(weights, Sequence):
                raise ClinicalInputError(f"Weights must be a list of numbers; got {weights!r}.")
            given_weights = tuple(weights)
        return self.scorer(self, tuple(answers), given_weights)


# ---------------------------------------------------------------------------------------------
# Shared checks and bands


def _check_answers(instrument: Instrument, answers: tuple[Answer, ...]) -> tuple[Answer, ...]:
    """Check the count and each value against the items; return answers padded with None."""
    items = instrument.items
    # Optional questions at the end of a form may be left off; where every item may be blank
    # (PSC-17) each still needs its place, as None.
    least = len(items)
    if not all(item.optional for item in items):
        while items[least - 1].optional:
            least -= 1
    if not least <= len(answers) <= len(items):
        expected = (
            f"{least} answers"
            if least == len(items)
            else f"{least} answers, or up to {len(items)} with the optional questions after them"
        )
        raise ClinicalInputError(
            f"{instrument.title} takes {expected}, one per item in order; got {len(answers)}."
        )
    for number, (item, answer) in enumerate(zip(items, answers, strict=False), start=1):
        if answer is None:
            if not item.optional:
                raise ClinicalInputError(
                    f"Item {number} of {instrument.title} is blank; every item must be answered."
                )
            continue
        if isinstance(answer, bool) or not isinstance(answer, int) or answer not in item.values:
            raise ClinicalInputError(
                f"Item {number} of {instrument.title} must be {_allowed(item)}; got {answer!r}."
            )
    return answers + (None,) * (len(items) - len(answers))


def _allowed(item: Item) -> str:
    values = item.values
    if len(values) == 2:
        return " or ".join(f"{value} ({label.lower()})" for value, label in item.options)
    if values == tuple(range(values[0], values[-1] + 1)):
        return f"{values[0]}–{values[-1]}"
    return ", ".join(str(v) for v in values)


def _band(total: int, bands: tuple[tuple[int, str], ...]) -> str:
    """Return the band whose lower bound is the highest one at or below the total."""
    label = bands[0][1]
    for low, name in bands:
        if total >= low:
            label = name
    return label


def _scored_total(instrument: Instrument, answers: tuple[Answer, ...]) -> int:
    return sum(a for item, a in zip(instrument.items, answers, strict=True) if item.scored and a)


# ---------------------------------------------------------------------------------------------
# PHQ-9, PHQ-A and GAD-7

FREQUENCY: Options = (
    (0, "Not at all"),
    (1, "Several days"),
    (2, "More than half the days"),
    (3, "Nearly every day"),
)
DIFFICULTY: Options = (
    (0, "Not difficult at all"),
    (1, "Somewhat difficult"),
    (2, "Very difficult"),
    (3, "Extremely difficult"),
)
YES_NO: Options = ((0, "No"), (1, "Yes"))

# Kroenke, Spitzer & Williams 2001: 0–4 minimal, 5–9 mild, 10–14 moderate, 15–19 moderately
# severe, 20–27 severe. Each pair is (lowest total in the band, band).
PHQ9_BANDS: tuple[tuple[int, str], ...] = (
    (0, "minimal"),
    (5, "mild"),
    (10, "moderate"),
    (15, "moderately severe"),
    (20, "severe"),
)
# Spitzer et al. 2006: 0–4 minimal, 5–9 mild, 10–14 moderate, 15–21 severe.
GAD7_BANDS: tuple[tuple[int, str], ...] = (
    (0, "minimal"),
    (5, "mild"),
    (10, "moderate"),
    (15, "severe"),
)

PHQ9_ITEMS: tuple[Item, ...] = (
    Item("interest", "Little interest or pleasure in doing things", FREQUENCY),
    Item("mood", "Feeling down, depressed, or hopeless", FREQUENCY),
    Item("sleep", "Trouble falling or staying asleep, or sleeping too much", FREQUENCY),
    Item("energy", "Feeling tired or having little energy", FREQUENCY),
    Item("appetite", "Poor appetite or overeating", FREQUENCY),
    Item(
        "self-worth",
        "Feeling bad about yourself — or that you are a failure or have let yourself or your "
        "family down",
        FREQUENCY,
    ),
    Item(
        "concentration",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        FREQUENCY,
    ),
    Item(
        "psychomotor",
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
        "being so fidgety or restless that you have been moving around a lot more than usual",
        FREQUENCY,
    ),
    Item(
        "self-harm",
        "Thoughts that you would be better off dead or of hurting yourself in some way",
        FREQUENCY,
    ),
    Item(
        "difficulty",
        "If you checked off any problems, how difficult have these problems made it for you to "
        "do your work, take care of things at home, or get along with other people?",
        DIFFICULTY,
        optional=True,
        scored=False,
    ),
)


def _score_phq9(
    instrument: Instrument, answers: tuple[Answer, ...], _w: tuple[float, ...] | None
) -> InstrumentResult:
    full = _check_answers(instrument, answers)
    total = _scored_total(instrument, full)
    # Item 9 above 0 needs same-day follow-up whatever the total (Kroenke et al. 2001).
    flags = ("phq9-item9-self-harm",) if (full[8] or 0) > 0 else ()
    return InstrumentResult(
        instrument=instrument.name,
        total=total,
        band=_band(total, PHQ9_BANDS),
        flags=flags,
        answers=answers,
    )


# PHQ-A: the nine PHQ-9 symptoms as worded for teens (item 1 adds "irritable"), then four more
# questions. The teen form reads "use with permission", so no wording is shipped and the nine
# items are keyed by position; item 9 is the self-harm item, as on the PHQ-9.
PHQA_ITEMS: tuple[Item, ...] = (
    *(Item(f"item{n}", None, FREQUENCY) for n in range(1, 9)),
    Item("item9-self-harm", None, FREQUENCY),
    Item("depressed-past-year", None, YES_NO, optional=True, scored=False),
    Item("difficulty", None, DIFFICULTY, optional=True, scored=False),
    Item("suicidal-thoughts-past-month", None, YES_NO, optional=True, scored=False),
    Item("suicide-attempt-ever", None, YES_NO, optional=True, scored=False),
)


def _score_phqa(
    instrument: Instrument, answers: tuple[Answer, ...], _w: tuple[float, ...] | None
) -> InstrumentResult:
    full = _check_answers(instrument, answers)
    total = _scored_total(instrument, full)
    # Any "yes" to the suicide questions, or item 9 above 0, needs same-day assessment (GLAD-PC).
    flags = [
        flag
        for flag, positive in (
            ("phq-a-item9-self-harm", (full[8] or 0) > 0),
            ("phq-a-suicidal-ideation-past-month", full[11] == 1),
            ("phq-a-suicide-attempt-ever", full[12] == 1),
        )
        if positive
    ]
    return InstrumentResult(
        instrument=instrument.name,
        total=total,
        band=_band(total, PHQ9_BANDS),
        flags=tuple(flags),
        answers=answers,
    )


GAD7_ITEMS: tuple[Item, ...] = (
    Item("nervous", "Feeling nervous, anxious or on edge", FREQUENCY),
    Item("control-worrying", "Not being able to stop or control worrying", FREQUENCY),
    Item("worrying-too-much", "Worrying too much about different things", FREQUENCY),
    Item("relaxing", "Trouble relaxing", FREQUENCY),
    Item("restless", "Being so restless that it is hard to sit still", FREQUENCY),
    Item("irritable", "Becoming easily annoyed or irritable", FREQUENCY),
    Item("afraid", "Feeling afraid as if something awful might happen", FREQUENCY),
    Item(
        "difficulty",
        "If you checked any problems, how difficult have they made it for you to do your work, "
        "take care of things at home, or get along with other people?",
        DIFFICULTY,
        optional=True,
        scored=False,
    ),
)


def _score_gad7(
    instrument: Instrument, answers: tuple[Answer, ...], _w: tuple[float, ...] | None
) -> InstrumentResult:
    full = _check_answers(instrument, answers)
    total = _scored_total(instrument, full)
    return InstrumentResult(
        instrument=instrument.name, total=total, band=_band(total, GAD7_BANDS), answers=answers
    )


# ---------------------------------------------------------------------------------------------
# PSC-17

NEVER_SOMETIMES_OFTEN: Options = ((0, "Never"), (1, "Sometimes"), (2, "Often"))

# casectl's item order is that of the PSC-17 form as commonly printed (Fidgety … Distracted
# easily). Other printings order the items differently, which is why the subscales are keyed by
# item, never by position: enter the answers in this order whatever the form in hand.
PSC17_ITEMS: tuple[Item, ...] = tuple(
    Item(key, text, NEVER_SOMETIMES_OFTEN, subscale=subscale, optional=True)
    for key, text, subscale in (
        ("fidgety", "Fidgety, unable to sit still", "attention"),
        ("sad", "Feels sad, unhappy", "internalizing"),
        ("daydreams", "Daydreams too much", "attention"),
        ("refuses-to-share", "Refuses to share", "externalizing"),
        ("others-feelings", "Does not understand other people's feelings", "externalizing"),
        ("hopeless", "Feels hopeless", "internalizing"),
        ("concentrating", "Has trouble concentrating", "attention"),
        ("fights", "Fights with other children", "externalizing"),
        ("down-on-self", "Is down on him or herself", "internalizing"),
        ("blames-others", "Blames others for his or her troubles", "externalizing"),
        ("less-fun", "Seems to be having less fun", "internalizing"),
        ("rules", "Does not listen to rules", "externalizing"),
        ("driven-by-motor", "Acts as if driven by a motor", "attention"),
        ("teases", "Teases others", "externalizing"),
        ("worries", "Worries a lot", "internalizing"),
        ("takes-things", "Takes things that do not belong to him or her", "externalizing"),
        ("distracted", "Distracted easily", "attention"),
    )
)
# Gardner et al. 1999: a subscale at or above its cut-off, or a total of 15 or more, is positive.
PSC17_SUBSCALE_CUTOFFS: dict[str, int] = {"internalizing": 5, "attention": 7, "externalizing": 7}
PSC17_TOTAL_CUTOFF = 15
PSC17_MAX_BLANKS = 3


def _score_psc17(
    instrument: Instrument, answers: tuple[Answer, ...], _w: tuple[float, ...] | None
) -> InstrumentResult:
    if len(answers) != len(instrument.items):
        raise ClinicalInputError(
            f"{instrument.title} takes 17 answers, one per item in order (blank items as "
            f"None); got {len(answers)}."
        )
    _check_answers(instrument, answers)
    # A blank counts 0, but 4 or more blanks make the form invalid.
    if sum(a is None for a in answers) > PSC17_MAX_BLANKS:
        return InstrumentResult(
            instrument=instrument.name, total=None, band="invalid", valid=False, answers=answers
        )
    subscales = dict.fromkeys(PSC17_SUBSCALE_CUTOFFS, 0)
    for item, answer in zip(instrument.items, answers, strict=True):
        if item.subscale is not None:
            subscales[item.subscale] += answer or 0
    total = sum(subscales.values())
    positive = tuple(
        name for name, cutoff in PSC17_SUBSCALE_CUTOFFS.items() if subscales[name] >= cutoff
    )
    band = "positive" if positive or total >= PSC17_TOTAL_CUTOFF else "negative"
    return InstrumentResult(
        instrument=instrument.name,
        total=total,
        band=band,
        subscales=subscales,
        positive_domains=positive,
        answers=answers,
    )


# ---------------------------------------------------------------------------------------------
# Hunger Vital Sign and the CMS AHC health-related social needs screening tool

FOOD_OPTIONS: Options = ((0, "Never true"), (1, "Sometimes true"), (2, "Often true"))

HVS_ITEMS: tuple[Item, ...] = (
    Item(
        "worried-food-would-run-out",
        "Within the past 12 months we worried whether our food would run out before we got "
        "money to buy more.",
        FOOD_OPTIONS,
    ),
    Item(
        "food-didnt-last",
        "Within the past 12 months the food we bought just didn't last and we didn't have "
        "money to get more.",
        FOOD_OPTIONS,
    ),
)


def _score_hvs(
    instrument: Instrument, answers: tuple[Answer, ...], _w: tuple[float, ...] | None
) -> InstrumentResult:
    full = _check_answers(instrument, answers)
    # Positive if either statement is sometimes or often true (Hager et al. 2010).
    positive = any((a or 0) >= 1 for a in full)
    return InstrumentResult(
        instrument=instrument.name,
        total=None,
        band="positive" if positive else "negative",
        answers=answers,
    )


SAFETY_OPTIONS: Options = (
    (1, "Never"),
    (2, "Rarely"),
    (3, "Sometimes"),
    (4, "Fairly often"),
    (5, "Frequently"),
)

# The tool's ten core questions, with question 2 (a checklist of seven housing problems, or
# "None of the above") entered as seven yes/no items so the record keeps which problem it was:
# 16 answers in all. "None of the above" is all seven answered 0.
_HOUSING_PROBLEMS = (
    ("pests", "Pests such as bugs, ants, or mice"),
    ("mold", "Mold"),
    ("lead", "Lead paint or pipes"),
    ("heat", "Lack of heat"),
    ("oven", "Oven or stove not working"),
    ("smoke-detectors", "Smoke detectors missing or not working"),
    ("water-leaks", "Water leaks"),
)
AHC_ITEMS: tuple[Item, ...] = (
    Item(
        "living-situation",
        "What is your living situation today?",
        (
            (0, "I have a steady place to live"),
            (1, "I have a place to live today, but I am worried about losing it in the future"),
            (
                2,
                "I do not have a steady place to live (I am temporarily staying with others, in "
                "a hotel, in a shelter, living outside on the street, on a beach, in a car, "
                "abandoned building, bus or train station, or in a park)",
            ),
        ),
        subscale="housing-instability",
    ),
    *(
        Item(
            f"housing-{key}",
            f"Think about the place you live. Do you have problems with: {problem.lower()}?",
            YES_NO,
            subscale="housing-instability",
        )
        for key, problem in _HOUSING_PROBLEMS
    ),
    Item(
        "food-worried",
        "Within the past 12 months, you worried that your food would run out before you got "
        "money to buy more.",
        FOOD_OPTIONS,
        subscale="food-insecurity",
    ),
    Item(
        "food-didnt-last",
        "Within the past 12 months, the food you bought just didn't last and you didn't have "
        "money to get more.",
        FOOD_OPTIONS,
        subscale="food-insecurity",
    ),
    Item(
        "transportation",
        "In the past 12 months, has lack of reliable transportation kept you from medical "
        "appointments, meetings, work or from getting things needed for daily living?",
        YES_NO,
        subscale="transportation",
    ),
    Item(
        "utilities",
        "In the past 12 months has the electric, gas, oil, or water company threatened to shut "
        "off services in your home?",
        ((0, "No"), (1, "Yes"), (2, "Already shut off")),
        subscale="utilities",
    ),
    *(
        Item(
            f"safety-{key}",
            f"How often does anyone, including family and friends, {act}?",
            SAFETY_OPTIONS,
            subscale="interpersonal-safety",
        )
        for key, act in (
            ("hurt", "physically hurt you"),
            ("insult", "insult or talk down to you"),
            ("threaten", "threaten you with harm"),
            ("scream", "scream or curse at you"),
        )
    ),
)
AHC_DOMAINS = (
    "housing-instability",
    "food-insecurity",
    "transportation",
    "utilities",
    "interpersonal-safety",
)
# Interpersonal safety is positive when the four items (1–5 each) sum to more than 10.
# ---------------------------------------------------------------------------------------------
# ASQ: Ask Suicide-Screening Questions (NIMH)
#
# Horowitz LM, Bridge JA, Teach SJ, et al. Ask Suicide-Screening Questions (ASQ): a brief
# instrument for the pediatric emergency department. Arch Pediatr Adolesc Med
# 2012;166(12):1170–1176; NIMH ASQ Toolkit (validated for ages 10–24 in medical settings, later
# for adults). Scoring, as the toolkit's pathway gives it: "yes" to any of questions 1–4 is a
# positive screen; question 5 ("right now") is then asked: "yes" is an acute positive (imminent
# risk: a STAT safety evaluation, the patient not left alone), "no" a non-acute positive (a brief
# suicide safety assessment before the patient leaves). "No" to 1–4 is negative. Either positive
# needs action the same day. The wording is NIMH's toolkit; casectl keys the items by position.
ASQ_ITEMS: tuple[Item, ...] = (
    Item("wished-dead-past-weeks", None, YES_NO),
    Item("family-better-off-past-weeks", None, YES_NO),
    Item("thoughts-of-killing-self-past-week", None, YES_NO),
    Item("ever-tried", None, YES_NO),
    Item("thoughts-right-now", None, YES_NO, optional=True, scored=False),
)


def _score_asq(
    instrument: Instrument, answers: tuple[Answer, ...], _w: tuple[float, ...] | None
) -> InstrumentResult:
    full = _check_answers(instrument, answers)
    screen_yes = any(a == 1 for a in full[:4])
    acute = full[4] == 1  # "yes" right now is acute whatever the other answers
    flags: tuple[str, ...]
    if acute:
        band, flags = "acute positive", ("asq-acute-positive",)
    elif not screen_yes:
        band, flags = "negative", ()
    elif full[4] == 0:
        band, flags = "non-acute positive", ("asq-non-acute-positive",)
    else:  # positive, and question 5 was not asked: the pathway requires it
        band, flags = "positive, question 5 not asked", ("asq-positive",)
    return InstrumentResult(
        instrument=instrument.name,
        total=None,  # the ASQ has no total: any "yes" is positive
        band=band,
        flags=flags,
        answers=answers,
    )


AHC_SAFETY_CUTOFF = 10


def _score_ahc(
    instrument: Instrument, answers: tuple[Answer, ...], _w: tuple[float, ...] | None
) -> InstrumentResult:
    full = _check_answers(instrument, answers)
    by_domain: dict[str, list[int]] = {domain: [] for domain in AHC_DOMAINS}
    for item, answer in zip(instrument.items, full, strict=True):
        by_domain[str(item.subscale)].append(answer or 0)
    safety = sum(by_domain.pop("interpersonal-safety"))
    # Any answer but the first option is positive in the other four domains: housing anything
    # but a steady place, or any housing problem; food sometimes or often true; transportation
    # yes; utilities threatened or already shut off.
    positive = [domain for domain, values in by_domain.items() if any(values)]
    if safety > AHC_SAFETY_CUTOFF:
        positive.append("interpersonal-safety")
    flags = ("ahc-interpersonal-safety-positive",) if "interpersonal-safety" in positive else ()
    return InstrumentResult(
        instrument=instrument.name,
        total=None,
        band="positive" if positive else "negative",
        flags=flags,
        subscales={"interpersonal-safety": safety},
        positive_domains=tuple(positive),
        answers=answers,
    )


# ---------------------------------------------------------------------------------------------
# Goal Attainment Scaling

GAS_SCORES: Options = (
    (-2, "Much less than expected"),
    (-1, "Less than expected"),
    (0, "Expected level"),
    (1, "More than expected"),
    (2, "Much more than expected"),
)
# Kiresuk & Sherman 1968 assume an inter-goal correlation ρ of 0.3.
GAS_RHO = 0.3


def _score_gas(
    instrument: Instrument, answers: tuple[Answer, ...], weights: tuple[float, ...] | None
) -> InstrumentResult:
    """T = 50 + 10·Σwᵢxᵢ / √((1−ρ)·Σwᵢ² + ρ·(Σwᵢ)²), unweighted goals having wᵢ = 1."""
    if not answers:
        raise ClinicalInputError("Goal Attainment Scaling needs at least one goal score.")
    allowed = {value for value, _ in GAS_SCORES}
    for number, answer in enumerate(answers, start=1):
        if isinstance(answer, bool) or not isinstance(answer, int) or answer not in allowed:
            raise ClinicalInputError(f"Goal {number} must be scored −2 to +2; got {answer!r}.")
    scores = [int(a) for a in answers if a is not None]
    if weights is None:
        w = [1.0] * len(scores)
    else:
        if len(weights) != len(scores):
            raise ClinicalInputError(
                f"Give one weight per goal: {len(scores)} goals but {len(weights)} weights."
            )
        w = []
        for number, weight in enumerate(weights, start=1):
            if (
                isinstance(weight, bool)
                or not isinstance(weight, int | float)
                or not math.isfinite(weight)
                or weight <= 0
            ):
                raise ClinicalInputError(
                    f"The weight of goal {number} must be a number above 0; got {weight!r}."
                )
            w.append(float(weight))
    # T does not change when every weight is multiplied by the same number, so scale the largest
    # to 1: huge or tiny weights then cannot overflow or underflow the sums.
    largest = max(w)
    w = [wi / largest for wi in w]
    weighted = math.fsum(wi * xi for wi, xi in zip(w, scores, strict=True))
    spread = math.sqrt((1 - GAS_RHO) * math.fsum(wi * wi for wi in w) + GAS_RHO * math.fsum(w) ** 2)
    t_score = 50 + 10 * weighted / spread
    # The band follows T itself: exactly 50 (every goal at its expected level, or gains and
    # losses that cancel) is "as expected".
    if t_score > 50:
        band = "better than expected"
    elif t_score < 50:
        band = "less than expected"
    else:
        band = "as expected"
    return InstrumentResult(
        instrument=instrument.name, total=None, band=band, t_score=t_score, answers=answers
    )


# ---------------------------------------------------------------------------------------------
# M-CHAT-R/F

# Robins, Fein & Barton 2009: at-risk answers 0–2 low, 3–7 medium (give the Follow-Up
# interview), 8–20 high (refer).
MCHAT_BANDS: tuple[tuple[int, str], ...] = ((0, "low"), (3, "medium"), (8, "high"))


def _score_mchat(
    instrument: Instrument, answers: tuple[Answer, ...], _w: tuple[float, ...] | None
) -> InstrumentResult:
    # The items may not be shipped without the authors' licence; casectl records the total of
    # at-risk answers that a clinician obtained on the licensed form.
    if len(answers) != 1:
        raise ClinicalInputError(
            f"{instrument.title} takes one answer, the total of at-risk answers (0–20) from the "
            f"licensed form; got {len(answers)}."
        )
    total = answers[0]
    if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= 20:
        raise ClinicalInputError(
            f"The {instrument.title} total must be a whole number 0–20; got {total!r}."
        )
    return InstrumentResult(
        instrument=instrument.name, total=total, band=_band(total, MCHAT_BANDS), answers=answers
    )


# ---------------------------------------------------------------------------------------------
# Asthma Control Test (ACT, 12 years and over) and Childhood Asthma Control Test (C-ACT, 4–11)


def _scale(low: int, high: int, worst: str, best: str) -> Options:
    """Numbered options where the wording stays on the licensed form: the ends are named."""
    return tuple(
        (v, worst if v == low else best if v == high else str(v)) for v in range(low, high + 1)
    )


ACT_OPTIONS = _scale(1, 5, "1 (worst control)", "5 (best control)")
# Nathan et al. 2004: five items over the past 4 weeks, each scored 1–5; keyed here by topic.
ACT_ITEMS: tuple[Item, ...] = tuple(
    Item(key, None, ACT_OPTIONS)
    for key in (
        "activity-limitation",
        "shortness-of-breath",
        "night-or-early-waking",
        "rescue-medication",
        "self-rated-control",
    )
)
# Each pair is (lowest total in the band, band). Nathan et al. 2004: a total of 19 or less is
# asthma not well controlled; NAEPP EPR-3 2007 (Figure 4-5, ages 12 and over): 20–25 well
# controlled, 16–19 not well controlled, 15 or less very poorly controlled.
ACT_BANDS: tuple[tuple[int, str], ...] = (
    (5, "very poorly controlled"),
    (16, "not well controlled"),
    (20, "well controlled"),
)

# Liu et al. 2007: seven items over the past 4 weeks, four answered by the child (0–3) and three
# by the caregiver (0–5); total 0–27.
CHILD_OPTIONS = _scale(0, 3, "0 (worst)", "3 (best)")
CAREGIVER_OPTIONS = _scale(0, 5, "0 (every day)", "5 (not at all)")
CACT_ITEMS: tuple[Item, ...] = (
    Item("child-asthma-today", None, CHILD_OPTIONS, subscale="child"),
    Item("child-exercise", None, CHILD_OPTIONS, subscale="child"),
    Item("child-cough", None, CHILD_OPTIONS, subscale="child"),
    Item("child-night-waking", None, CHILD_OPTIONS, subscale="child"),
    Item("caregiver-daytime-symptoms", None, CAREGIVER_OPTIONS, subscale="caregiver"),
    Item("caregiver-daytime-wheeze", None, CAREGIVER_OPTIONS, subscale="caregiver"),
    Item("caregiver-night-waking", None, CAREGIVER_OPTIONS, subscale="caregiver"),
)
# Liu et al. 2007: 19 or less is inadequately controlled; Liu et al. 2010: 12 or less is very
# poorly controlled.
CACT_BANDS: tuple[tuple[int, str], ...] = (
    (0, "very poorly controlled"),
    (13, "not well controlled"),
    (20, "well controlled"),
)


def _score_asthma(
    instrument: Instrument, answers: tuple[Answer, ...], _w: tuple[float, ...] | None
) -> InstrumentResult:
    full = _check_answers(instrument, answers)
    total = _scored_total(instrument, full)
    bands = ACT_BANDS if instrument.name == "act" else CACT_BANDS
    subscales: dict[str, int] = {}
    for item, answer in zip(instrument.items, full, strict=True):
        if item.subscale is not None:
            subscales[item.subscale] = subscales.get(item.subscale, 0) + (answer or 0)
    return InstrumentResult(
        instrument=instrument.name,
        total=total,
        band=_band(total, bands),
        subscales=subscales,
        answers=answers,
    )


# ---------------------------------------------------------------------------------------------
# The registry

_ALL: tuple[Instrument, ...] = (
    Instrument(
        name="phq-9",
        title="PHQ-9",
        source=(
            "Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression "
            "severity measure. J Gen Intern Med 2001;16(9):606–613. Free to use (Pfizer)."
        ),
        items=PHQ9_ITEMS,
        prompt=(
            "Over the last 2 weeks, how often have you been bothered by any of the following "
            "problems?"
        ),
        scorer=_score_phq9,
        ages=AgeRange(
            12 * 12,
            None,
            "Validated in adults (Kroenke et al. 2001) and in adolescents 13–17 (Richardson LP "
            "et al. Pediatrics 2010;126(6):1117–1123); USPSTF (Siu AL, Pediatrics 2016;137(3):"
            "e20154467) and GLAD-PC (Zuckerbrot RA et al. Pediatrics 2018;141(3):e20174081) "
            "screen adolescents for depression from 12.",
        ),
        instead=("phq-a", "psc-17"),
    ),
    Instrument(
        name="phq-a",
        title="PHQ-A",
        source=(
            "Johnson JG, Harris ES, Spitzer RL, Williams JBW. The Patient Health Questionnaire "
            "for Adolescents. J Adolesc Health 2002;30(3):196–204; PHQ-9 modified for teens "
            "(GLAD-PC toolkit). Item wording not shipped: the form reads 'use with permission'."
        ),
        items=PHQA_ITEMS,
        prompt=None,
        scorer=_score_phqa,
        aliases=("phq-9-a", "phq-9-modified-for-teens"),
        ages=AgeRange(
            11 * 12,
            18 * 12,
            "Ages 11–17: American Psychiatric Association, Severity Measure for Depression—Child "
            "Age 11–17 (PHQ-9 modified for Adolescents), DSM-5 online measures 2013; Johnson et "
            "al. 2002.",
        ),
        instead=("phq-9", "psc-17"),
    ),
    Instrument(
        name="gad-7",
        title="GAD-7",
        source=(
            "Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing "
            "generalized anxiety disorder: the GAD-7. Arch Intern Med 2006;166(10):1092–1097. "
            "Free to use (Pfizer)."
        ),
        items=GAD7_ITEMS,
        prompt=(
            "Over the last 2 weeks, how often have you been bothered by the following problems?"
        ),
        scorer=_score_gad7,
        ages=AgeRange(
            12 * 12,
            None,
            "Validated in adults (Spitzer et al. 2006) and adolescents (Mossman SA et al. Ann Clin "
            "Psychiatry 2017;29(4):227–234A); casectl accepts it from 12, as for the PHQ-9.",
        ),
        instead=("psc-17",),
    ),
    Instrument(
        name="psc-17",
        title="PSC-17",
        source=(
            "Gardner W, Murphy M, Childs G, et al. The PSC-17: a brief Pediatric Symptom "
            "Checklist with psychosocial problem subscales. Ambulatory Child Health 1999;5. "
            "May be freely reproduced."
        ),
        items=PSC17_ITEMS,
        prompt="Please mark under the heading that best fits your child.",
        scorer=_score_psc17,
        ages=AgeRange(
            4 * 12,
            17 * 12,
            "Ages 4–16: parent-report form (Gardner et al. 1999; Jellinek MS, Murphy JM et al., "
            "Pediatric Symptom Checklist, Massachusetts General Hospital).",
        ),
        instead=("phq-a", "phq-9", "gad-7"),
    ),
    Instrument(
        name="hunger-vital-sign",
        title="Hunger Vital Sign",
        source=(
            "Hager ER, Quigg AM, Black MM, et al. Development and validity of a 2-item screen to "
            "identify families at risk for food insecurity. Pediatrics 2010;126(1):e26–e32."
        ),
        items=HVS_ITEMS,
        prompt="Is each statement often true, sometimes true or never true for your household?",
        scorer=_score_hvs,
        aliases=("hvs",),
    ),
    Instrument(
        name="ahc-hrsn",
        title="AHC-HRSN",
        source=(
            "Centers for Medicare & Medicaid Services. Accountable Health Communities "
            "Health-Related Social Needs Screening Tool, core questions (2017); Billioux A, "
            "Verlander K, Anthony S, Alley D. NAM Perspectives, 2017. US Government, free."
        ),
        items=AHC_ITEMS,
        prompt=None,
        scorer=_score_ahc,
        aliases=("ahc",),
    ),
    Instrument(
        name="asq",
        title="ASQ",
        source=(
            "Horowitz LM, Bridge JA, Teach SJ, et al. Ask Suicide-Screening Questions (ASQ): a "
            "brief instrument for the pediatric emergency department. Arch Pediatr Adolesc Med "
            "2012;166(12):1170–1176. NIMH ASQ Toolkit; read the questions from the toolkit."
        ),
        items=ASQ_ITEMS,
        prompt="Ask questions 1–4; if any answer is yes, ask question 5.",
        scorer=_score_asq,
        aliases=("ask-suicide-screening-questions",),
        ages=AgeRange(
            10 * 12,
            None,
            "Validated in youth 10–21 in the pediatric ED (Horowitz et al. 2012) and in adult "
            "medical inpatients (Horowitz LM et al. Gen Hosp Psychiatry 2020;63:113–119).",
        ),
    ),
    Instrument(
        name="gas",
        title="Goal Attainment Scaling",
        source=(
            "Kiresuk TJ, Sherman RE. Goal attainment scaling: a general method for evaluating "
            "comprehensive community mental health programs. Community Ment Health J "
            "1968;4(6):443–453."
        ),
        items=(),
        prompt="Score each goal: −2 much less than expected … +2 much more than expected.",
        scorer=_score_gas,
        aliases=("goal-attainment-scaling",),
    ),
    Instrument(
        name="m-chat-r",
        title="M-CHAT-R/F",
        source=(
            "Robins DL, Fein D, Barton M. Modified Checklist for Autism in Toddlers, Revised, "
            "with Follow-Up (M-CHAT-R/F), 2009. Items not shipped: software distribution needs "
            "the authors' licence; record the total from the licensed form."
        ),
        items=(),
        prompt=None,
        scorer=_score_mchat,
        aliases=("m-chat-r-f", "mchat"),
        ages=AgeRange(
            16,
            31,
            "Ages 16–30 months: Robins DL, Casagrande K, Barton M, et al. Validation of the "
            "M-CHAT-R/F. Pediatrics 2014;133(1):37–45.",
        ),
        instead=("psc-17",),
    ),
    Instrument(
        name="act",
        title="ACT",
        source=(
            "Nathan RA, Sorkness CA, Kosinski M, et al. Development of the Asthma Control Test. "
            "J Allergy Clin Immunol 2004;113(1):59–65; bands from NAEPP EPR-3 (2007). Item "
            "wording not shipped: the form is copyrighted (QualityMetric/GSK)."
        ),
        items=ACT_ITEMS,
        prompt=None,
        scorer=_score_asthma,
        aliases=("asthma-control-test",),
        ages=AgeRange(
            12 * 12,
            None,
            "Ages 12 and over: Nathan et al. 2004; Schatz M et al. J Allergy Clin Immunol "
            "2006;117(3):549–556.",
        ),
        instead=("c-act",),
    ),
    Instrument(
        name="c-act",
        title="C-ACT",
        source=(
            "Liu AH, Zeiger R, Sorkness C, et al. Development and cross-sectional validation of "
            "the Childhood Asthma Control Test. J Allergy Clin Immunol 2007;119(4):817–825; "
            "Liu AH et al. J Allergy Clin Immunol 2010;126(2):267–273 (the cut point of 12). "
            "Item wording not shipped: the form is copyrighted (QualityMetric/GSK)."
        ),
        items=CACT_ITEMS,
        prompt=None,
        scorer=_score_asthma,
        aliases=("childhood-asthma-control-test", "cact"),
        ages=AgeRange(4 * 12, 12 * 12, "Ages 4–11: Liu et al. 2007."),
        instead=("act",),
    ),
)

#: Every instrument casectl scores, by CLI name.
INSTRUMENTS: dict[str, Instrument] = {instrument.name: instrument for instrument in _ALL}


def _normalise(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


_LOOKUP: dict[str, Instrument] = {
    _normalise(alias): instrument
    for instrument in _ALL
    for alias in (instrument.name, instrument.title, *instrument.aliases)
}


def get_instrument(name: str) -> Instrument:
    """Find an instrument by name, ignoring case and punctuation ("PHQ9", "phq-9", "phq_9")."""
    instrument = _LOOKUP.get(_normalise(name)) if isinstance(name, str) else None
    if instrument is None:
        raise ClinicalInputError(
            f"Unknown instrument {name!r}; choose one of: {', '.join(INSTRUMENTS)}."
        )
    return instrument


# Instruments whose band follows from the total alone, for a total obtained elsewhere.
_TOTAL_BANDS: dict[str, tuple[tuple[int, str], ...]] = {"phq-9": PHQ9_BANDS, "gad-7": GAD7_BANDS}


def band_for_total(name: str, total: int) -> str:
    """The published band of a PHQ-9 or GAD-7 total (the same cut-offs as a scored form)."""
    bands = _TOTAL_BANDS.get(get_instrument(name).name)
    if bands is None:
        raise ClinicalInputError(f"The band of {name!r} does not follow from its total alone.")
    return _band(total, bands)


def score(
    name: str, answers: Sequence[Answer], weights: Sequence[float] | None = None
) -> InstrumentResult:
    """Score answers on the named instrument; `weights` are for Goal Attainment Scaling only."""
    return get_instrument(name).score(answers, weights)


class InstrumentAgeError(ClinicalInputError):
    """An instrument given to someone outside the ages it was validated for."""


def check_instrument_age(name: str, age_years: float) -> None:
    """Refuse an instrument outside its validated ages, naming the one that fits instead.

    `age_years` is the age on the day the form was completed (completed months / 12 keeps
    birthdays exact). Instruments without an age range (social-needs screens, GAS) always pass.
    """
    instrument = get_instrument(name)
    ages = instrument.ages
    if ages is None:
        return
    years = _checks_age(age_years)
    months = round(years * 12, 6)
    if ages.covers(months):
        return
    fits = [
        f"{other.title} ({other.ages.label})"
        for other in (INSTRUMENTS[key] for key in instrument.instead)
        if other.ages is not None and other.ages.covers(months)
    ]
    one, plain = _age_words(months)
    if fits:
        choices = fits[0] if len(fits) == 1 else f"{', '.join(fits[:-1])} or {fits[-1]}"
        advice = f"for {one} use {choices} instead"
    else:
        advice = f"casectl scores no instrument for this purpose at {plain}; ask the clinician"
    raise InstrumentAgeError(
        f"{instrument.title} is validated for {ages.label}, not for {one}; {advice}."
    )


def _checks_age(age_years: float) -> float:
    if isinstance(age_years, bool) or not isinstance(age_years, int | float):
        raise ClinicalInputError(f"Age must be a number of years; got {age_years!r}.")
    if not math.isfinite(age_years) or not 0 <= age_years <= 130:
        raise ClinicalInputError(f"Age must be between 0 and 130 years; got {age_years}.")
    return float(age_years)


def _age_words(months: float) -> tuple[str, str]:
    """("an 18-month-old", "18 months"): completed months under 3 years, completed years after."""
    whole = math.floor(months + 1e-9)
    number, unit = (whole, "month") if whole < 36 else (whole // 12, "year")
    article = "an" if str(number).startswith("8") or number in (11, 18) else "a"
    return f"{article} {number}-{unit}-old", f"{number} {unit}s"
