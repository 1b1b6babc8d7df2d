"""Instrument scoring checked against the published cut-offs (shared/reference/INSTRUMENTS.md).

Every band boundary is tested at, and on both sides of, the published value; flags and special
rules (PSC-17 blanks, AHC safety sum, GAS formula) against the published rules, with GAS values
worked by hand from Kiresuk & Sherman's formula.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casectl.clinical.errors import ClinicalInputError
from casectl.clinical.instruments import (
    INSTRUMENTS,
    InstrumentResult,
    get_instrument,
    score,
)


def spread(total: int, n_items: int, most: int) -> list[int]:
    """Answers for n items (0..most each) that add up to total, filled from the first item."""
    answers = []
    for _ in range(n_items):
        answers.append(min(most, total))
        total -= answers[-1]
    assert total == 0
    return answers


# ---------------------------------------------------------------------------------------------
# PHQ-9, PHQ-A, GAD-7

PHQ9_PUBLISHED = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "moderately severe"),
    (19, "moderately severe"),
    (20, "severe"),
    (27, "severe"),
]


@pytest.mark.parametrize(("total", "band"), PHQ9_PUBLISHED)
def test_phq9_bands(total: int, band: str) -> None:
    result = score("phq-9", spread(total, 9, 3))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(("total", "band"), PHQ9_PUBLISHED)
def test_phq_a_uses_the_phq9_bands(total: int, band: str) -> None:
    result = score("phq-a", spread(total, 9, 3))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_bands(total: int, band: str) -> None:
    result = score("gad-7", spread(total, 7, 3))
    assert (result.total, result.band) == (total, band)


def test_phq9_item_9_above_zero_flags_same_day_action_whatever_the_total() -> None:
    result = score("phq-9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert result.band == "minimal"
    assert result.flags == ("phq9-item9-self-harm",)
    assert result.needs_same_day_action
    quiet = score("phq-9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert quiet.flags == () and not quiet.needs_same_day_action


def test_phq9_difficulty_question_is_optional_and_unscored() -> None:
    nine = [1, 1, 1, 1, 1, 0, 0, 0, 0]
    assert score("phq-9", nine).total == 5
    assert score("phq-9", [*nine, 3]).total == 5
    assert score("phq-9", [*nine, None]).total == 5
    assert score("phq-9", [*nine, 3]).answers == (*nine, 3)


def test_phq_a_flags_each_suicide_question_and_item_9() -> None:
    nine = [1] * 8 + [0]
    assert score("phq-a", [*nine, 1, 2, 0, 0]).flags == ()
    assert score("phq-a", [*nine, 0, None, 1, None]).flags == (
        "phq-a-suicidal-ideation-past-month",
    )
    assert score("phq-a", [*nine, None, None, None, 1]).flags == ("phq-a-suicide-attempt-ever",)
    all_three = score("phq-a", [*([0] * 8), 2, 1, 3, 1, 1])
    assert all_three.flags == (
        "phq-a-item9-self-harm",
        "phq-a-suicidal-ideation-past-month",
        "phq-a-suicide-attempt-ever",
    )
    assert all_three.total == 2


def test_phq_a_ships_no_item_text() -> None:
    phqa = get_instrument("phq-a")
    assert len(phqa.items) == 13
    assert all(item.text is None for item in phqa.items)


@pytest.mark.parametrize(
    ("name", "answers", "message"),
    [
        ("phq-9", [0, 0, 5, 0, 0, 0, 0, 0, 0], "Item 3 of PHQ-9 must be 0–3; got 5."),
        ("phq-9", [0, 0, -1, 0, 0, 0, 0, 0, 0], "Item 3 of PHQ-9 must be 0–3; got -1."),
        ("phq-9", [0, 0, 1.5, 0, 0, 0, 0, 0, 0], "Item 3 of PHQ-9 must be 0–3; got 1.5."),
        ("phq-9", [0, None, 0, 0, 0, 0, 0, 0, 0], "Item 2 of PHQ-9 is blank"),
        ("phq-9", [0] * 8, "PHQ-9 takes 9 answers, or up to 10"),
        ("phq-9", [0] * 11, "PHQ-9 takes 9 answers, or up to 10"),
        ("phq-9", [0] * 9 + [4], "Item 10 of PHQ-9 must be 0–3; got 4."),
        ("phq-a", [0] * 9 + [2], "Item 10 of PHQ-A must be 0 (no) or 1 (yes); got 2."),
        ("phq-a", [0] * 14, "PHQ-A takes 9 answers, or up to 13"),
        ("gad-7", [0] * 6, "GAD-7 takes 7 answers, or up to 8"),
        ("gad-7", "0000000", "must be a list of numbers"),
    ],
)
def test_unusable_answers_name_the_item(name: str, answers: list[object], message: str) -> None:
    with pytest.raises(ClinicalInputError) as caught:
        score(name, answers)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_phq9_and_gad7_ship_the_published_wording() -> None:
    phq9 = get_instrument("phq-9")
    assert phq9.items[0].text == "Little interest or pleasure in doing things"
    assert phq9.items[8].text == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert [label for _, label in phq9.items[0].options] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    assert get_instrument("gad-7").items[0].text == "Feeling nervous, anxious or on edge"


# ---------------------------------------------------------------------------------------------
# PSC-17

PSC17_PUBLISHED_SUBSCALES = {
    "internalizing": {
        "Feels sad, unhappy",
        "Feels hopeless",
        "Is down on him or herself",
        "Seems to be having less fun",
        "Worries a lot",
    },
    "attention": {
        "Fidgety, unable to sit still",
        "Daydreams too much",
        "Has trouble concentrating",
        "Acts as if driven by a motor",
        "Distracted easily",
    },
    "externalizing": {
        "Refuses to share",
        "Does not understand other people's feelings",
        "Fights with other children",
        "Blames others for his or her troubles",
        "Does not listen to rules",
        "Teases others",
        "Takes things that do not belong to him or her",
    },
}


def test_psc17_subscales_are_keyed_by_item_content() -> None:
    items = get_instrument("psc-17").items
    assert len(items) == 17
    for subscale, texts in PSC17_PUBLISHED_SUBSCALES.items():
        assert {item.text for item in items if item.subscale == subscale} == texts


def psc17(internalizing: int = 0, attention: int = 0, externalizing: int = 0) -> list[int | None]:
    """PSC-17 answers with the given subscale points, each spread over that subscale's items."""
    items = get_instrument("psc-17").items
    wanted = {
        "internalizing": internalizing,
        "attention": attention,
        "externalizing": externalizing,
    }
    answers: list[int | None] = []
    for item in items:
        assert item.subscale is not None
        points = min(2, wanted[item.subscale])
        wanted[item.subscale] -= points
        answers.append(points)
    assert not any(wanted.values())
    return answers


@pytest.mark.parametrize(
    ("points", "positive"),
    [
        ({"internalizing": 4}, ()),
        ({"internalizing": 5}, ("internalizing",)),
        ({"attention": 6}, ()),
        ({"attention": 7}, ("attention",)),
        ({"externalizing": 6}, ()),
        ({"externalizing": 7}, ("externalizing",)),
        (
            {"internalizing": 5, "attention": 7, "externalizing": 7},
            ("internalizing", "attention", "externalizing"),
        ),
    ],
)
def test_psc17_subscale_cut_offs(points: dict[str, int], positive: tuple[str, ...]) -> None:
    result = score("psc-17", psc17(**points))
    assert result.positive_domains == positive
    assert result.band == ("positive" if positive else "negative")
    for name, value in points.items():
        assert result.subscales[name] == value


def test_psc17_total_of_15_is_positive_on_its_own() -> None:
    # 4 + 5 + 5 = 14 and 4 + 5 + 6 = 15: no subscale at its cut-off in either.
    below = score("psc-17", psc17(internalizing=4, attention=5, externalizing=5))
    at = score("psc-17", psc17(internalizing=4, attention=5, externalizing=6))
    assert (below.total, below.band, below.positive_domains) == (14, "negative", ())
    assert (at.total, at.band, at.positive_domains) == (15, "positive", ())


def test_psc17_three_blanks_count_zero_four_make_the_form_invalid() -> None:
    answers = psc17(internalizing=5)
    three = [None, None, None, *answers[3:]]
    result = score("psc-17", three)
    assert result.valid and result.total == sum(a or 0 for a in three)
    four = [None, None, None, None, *answers[4:]]
    invalid = score("psc-17", four)
    assert (invalid.valid, invalid.band, invalid.total) == (False, "invalid", None)
    assert invalid.positive_domains == () and invalid.subscales == {}


def test_psc17_needs_all_17_places() -> None:
    with pytest.raises(ClinicalInputError, match="17 answers"):
        score("psc-17", [0] * 16)
    with pytest.raises(ClinicalInputError, match=re.escape("Item 5 of PSC-17 must be 0–2; got 3.")):
        score("psc-17", [0, 0, 0, 0, 3, *([0] * 12)])


# ---------------------------------------------------------------------------------------------
# Hunger Vital Sign and AHC-HRSN


@pytest.mark.parametrize(
    ("answers", "band"),
    [
        ([0, 0], "negative"),
        ([1, 0], "positive"),
        ([0, 1], "positive"),
        ([2, 0], "positive"),
        ([0, 2], "positive"),
        ([2, 2], "positive"),
    ],
)
def test_hunger_vital_sign_is_positive_if_either_is_sometimes_or_often_true(
    answers: list[int], band: str
) -> None:
    result = score("hvs", answers)
    assert result.band == band
    assert result.total is None


AHC_CLEAR = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]


def ahc(**changes: int) -> list[int | None]:
    keys = [item.key for item in get_instrument("ahc-hrsn").items]
    answers: list[int | None] = list(AHC_CLEAR)
    for key, value in changes.items():
        answers[keys.index(key.replace("_", "-"))] = value
    return answers


def test_ahc_layout_is_the_ten_questions_with_the_housing_checklist_as_seven_items() -> None:
    keys = [item.key for item in get_instrument("ahc-hrsn").items]
    assert len(keys) == 16
    assert keys[0] == "living-situation"
    assert all(key.startswith("housing-") for key in keys[1:8])
    assert keys[8:12] == ["food-worried", "food-didnt-last", "transportation", "utilities"]
    assert all(key.startswith("safety-") for key in keys[12:])


def test_ahc_with_no_needs_is_negative() -> None:
    result = score("ahc-hrsn", AHC_CLEAR)
    assert (result.band, result.positive_domains, result.flags) == ("negative", (), ())
    assert result.subscales == {"interpersonal-safety": 4}


@pytest.mark.parametrize(
    ("changes", "domain"),
    [
        ({"living_situation": 1}, "housing-instability"),
        ({"living_situation": 2}, "housing-instability"),
        ({"housing_pests": 1}, "housing-instability"),
        ({"housing_lead": 1}, "housing-instability"),
        ({"housing_water_leaks": 1}, "housing-instability"),
        ({"food_worried": 1}, "food-insecurity"),
        ({"food_didnt_last": 2}, "food-insecurity"),
        ({"transportation": 1}, "transportation"),
        ({"utilities": 1}, "utilities"),
        ({"utilities": 2}, "utilities"),
    ],
)
def test_ahc_domain_rules(changes: dict[str, int], domain: str) -> None:
    result = score("ahc-hrsn", ahc(**changes))
    assert result.positive_domains == (domain,)
    assert result.band == "positive"
    assert result.flags == ()


def test_ahc_safety_is_positive_above_10_and_flags_same_day_action() -> None:
    ten = score("ahc-hrsn", ahc(safety_hurt=3, safety_insult=3, safety_threaten=2, safety_scream=2))
    eleven = score("ahc", ahc(safety_hurt=3, safety_insult=3, safety_threaten=3, safety_scream=2))
    assert ten.subscales["interpersonal-safety"] == 10
    assert (ten.band, ten.positive_domains, ten.flags) == ("negative", (), ())
    assert eleven.subscales["interpersonal-safety"] == 11
    assert eleven.positive_domains == ("interpersonal-safety",)
    assert eleven.flags == ("ahc-interpersonal-safety-positive",)
    assert eleven.needs_same_day_action


def test_ahc_safety_items_are_scored_1_to_5() -> None:
    with pytest.raises(
        ClinicalInputError, match=re.escape("Item 13 of AHC-HRSN must be 1–5; got 0.")
    ):
        score("ahc-hrsn", ahc(safety_hurt=0))


# ---------------------------------------------------------------------------------------------
# Goal Attainment Scaling: T = 50 + 10·Σwᵢxᵢ / √((1−ρ)·Σwᵢ² + ρ·(Σwᵢ)²), ρ = 0.3


def test_gas_all_goals_at_the_expected_level_is_50() -> None:
    result = score("gas", [0, 0, 0])
    assert result.t_score == 50
    assert result.band == "as expected"


def test_gas_worked_examples() -> None:
    # Two goals at +1, unweighted: 50 + 10·2/√(0.7·2 + 0.3·4) = 50 + 20/√2.6 ≈ 62.40.
    two = score("gas", [1, 1])
    assert two.t_score == pytest.approx(50 + 20 / math.sqrt(2.6))
    assert two.to_dict()["t_score"] == 62.4
    assert two.band == "better than expected"
    # One goal at +2: 50 + 10·2/√(0.7 + 0.3) = 70.
    assert score("gas", [2]).t_score == pytest.approx(70)
    # One goal at −1: 50 − 10/√1 = 40.
    less = score("gas", [-1])
    assert less.t_score == pytest.approx(40)
    assert less.band == "less than expected"
    # Goals +2 and −1 with weights 2 and 1: Σwx = 3, Σw² = 5, (Σw)² = 9,
    # T = 50 + 30/√(3.5 + 2.7) = 50 + 30/√6.2 ≈ 62.05.
    weighted = score("gas", [2, -1], weights=[2, 1])
    assert weighted.t_score == pytest.approx(50 + 30 / math.sqrt(6.2))
    assert weighted.to_dict()["t_score"] == 62.0
    # Scaling every weight by the same factor changes nothing.
    assert score("gas", [2, -1], weights=[20, 10]).t_score == pytest.approx(weighted.t_score)


def test_gas_gains_and_losses_that_cancel_are_as_expected() -> None:
    assert score("gas", [1, -1]).band == "as expected"
    assert score("gas", [2, -1, -1]).t_score == 50


@pytest.mark.parametrize(
    ("answers", "weights", "message"),
    [
        ([], None, "at least one goal"),
        ([3], None, "Goal 1 must be scored −2 to +2; got 3."),
        ([0, None], None, "Goal 2 must be scored"),
        ([1, 1], [1], "one weight per goal"),
        ([1, 1], [1, 0], "weight of goal 2 must be a number above 0"),
        ([1, 1], [1, float("nan")], "weight of goal 2"),
    ],
)
def test_gas_refuses_unusable_scores_and_weights(
    answers: list[int | None], weights: list[float] | None, message: str
) -> None:
    with pytest.raises(ClinicalInputError, match=re.escape(message)):
        score("gas", answers, weights=weights)


def test_only_gas_takes_weights() -> None:
    with pytest.raises(ClinicalInputError, match="does not take weights"):
        score("phq-9", [0] * 9, weights=[1] * 9)


# ---------------------------------------------------------------------------------------------
# M-CHAT-R/F: a total recorded elsewhere, never the items


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "low"), (2, "low"), (3, "medium"), (7, "medium"), (8, "high"), (20, "high")],
)
def test_mchat_bands(total: int, band: str) -> None:
    result = score("m-chat-r", [total])
    assert (result.total, result.band) == (total, band)


def test_mchat_ships_no_items_and_takes_one_total() -> None:
    assert get_instrument("M-CHAT-R/F").items == ()
    for bad in ([21], [-1], [0, 1], [], [None]):
        with pytest.raises(ClinicalInputError):
            score("mchat", bad)


# ---------------------------------------------------------------------------------------------
# Registry, results


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("phq9", "phq-9"),
        ("PHQ-9", "phq-9"),
        ("phq_9", "phq-9"),
        ("PHQ-A", "phq-a"),
        ("gad7", "gad-7"),
        ("PSC17", "psc-17"),
        ("hvs", "hunger-vital-sign"),
        ("Hunger Vital Sign", "hunger-vital-sign"),
        ("AHC", "ahc-hrsn"),
        ("GAS", "gas"),
        ("mchat-r", "m-chat-r"),
    ],
)
def test_instruments_are_found_whatever_the_spelling(spelling: str, name: str) -> None:
    assert get_instrument(spelling) is INSTRUMENTS[name]


def test_an_unknown_instrument_lists_the_known_ones() -> None:
    with pytest.raises(
        ClinicalInputError, match="Unknown instrument 'phq-8'; choose one of: phq-9"
    ):
        get_instrument("phq-8")


def test_every_instrument_cites_its_source_and_has_answerable_items() -> None:
    assert set(INSTRUMENTS) == {
        "phq-9",
        "phq-a",
        "gad-7",
        "psc-17",
        "hunger-vital-sign",
        "ahc-hrsn",
        "gas",
        "m-chat-r",
        "asq",
        "act",
        "c-act",
    }
    for instrument in INSTRUMENTS.values():
        assert instrument.source and instrument.title
        for item in instrument.items:
            assert item.options and len(set(item.values)) == len(item.values)


def test_result_json_field_names_are_a_contract() -> None:
    data = score("phq-9", [0] * 8 + [1]).to_dict()
    assert data == {
        "instrument": "phq-9",
        "total": 1,
        "band": "minimal",
        "valid": True,
        "flags": ["phq9-item9-self-harm"],
        "needs_same_day_action": True,
        "subscales": {},
        "positive_domains": [],
        "t_score": None,
        "answers": [0, 0, 0, 0, 0, 0, 0, 0, 1],
    }


# ---------------------------------------------------------------------------------------------
# Properties

BANDS = {
    "phq-9": ["minimal", "mild", "moderate", "moderately severe", "severe"],
    "phq-a": ["minimal", "mild", "moderate", "moderately severe", "severe"],
    "gad-7": ["minimal", "mild", "moderate", "severe"],
    "psc-17": ["negative", "positive"],
    "hunger-vital-sign": ["negative", "positive"],
    "ahc-hrsn": ["negative", "positive"],
}


@st.composite
def answer_pairs(draw: st.DrawFn, name: str) -> tuple[list[int], list[int]]:
    """Two complete forms, the second never lower than the first on any item."""
    items = [item for item in INSTRUMENTS[name].items if not item.optional or name == "psc-17"]
    low = [draw(st.sampled_from(item.values)) for item in items]
    high = [
        draw(st.sampled_from([v for v in item.values if v >= a]))
        for item, a in zip(items, low, strict=True)
    ]
    return low, high


@pytest.mark.parametrize("name", list(BANDS))
@given(data=st.data())
def test_higher_answers_never_give_a_lower_band(name: str, data: st.DataObject) -> None:
    low, high = data.draw(answer_pairs(name))
    before, after = score(name, low), score(name, high)
    assert BANDS[name].index(after.band) >= BANDS[name].index(before.band)
    if before.total is not None and after.total is not None:
        assert after.total >= before.total


@given(low=st.integers(0, 20), extra=st.integers(0, 20))
def test_a_higher_mchat_total_never_gives_a_lower_band(low: int, extra: int) -> None:
    order = ["low", "medium", "high"]
    high = min(low + extra, 20)
    assert order.index(score("m-chat-r", [high]).band) >= order.index(score("m-chat-r", [low]).band)


@given(scores=st.lists(st.integers(-2, 1), min_size=1, max_size=8), data=st.data())
def test_raising_a_goal_never_lowers_gas_t(scores: list[int], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(scores) - 1))
    raised = list(scores)
    raised[i] += 1
    assert score("gas", raised).t_score >= score("gas", scores).t_score  # type: ignore[operator]


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
)


@given(
    name=st.sampled_from([*INSTRUMENTS, "phq9", "nope", ""]),
    answers=st.one_of(st.lists(anything, max_size=20), anything),
    weights=st.one_of(st.none(), st.lists(anything, max_size=5)),
)
def test_any_input_gives_a_result_or_a_clinical_input_error(
    name: str, answers: object, weights: object
) -> None:
    try:
        result = score(name, answers, weights)  # type: ignore[arg-type]
    except ClinicalInputError as error:
        assert str(error).endswith(".")
        return
    assert isinstance(result, InstrumentResult)
    if result.t_score is not None:
        assert math.isfinite(result.t_score)


# --- ASQ (Horowitz et al. 2012; the NIMH ASQ Toolkit's screening pathway) ---


@pytest.mark.parametrize(
    ("answers", "band", "flags"),
    [
        # "No" to questions 1-4: negative; question 5 need not be asked.
        ([0, 0, 0, 0], "negative", ()),
        ([0, 0, 0, 0, 0], "negative", ()),
        # "Yes" to any of 1-4, "no" to 5: non-acute positive (brief safety assessment).
        ([1, 0, 0, 0, 0], "non-acute positive", ("asq-non-acute-positive",)),
        ([0, 1, 0, 0, 0], "non-acute positive", ("asq-non-acute-positive",)),
        ([0, 0, 1, 0, 0], "non-acute positive", ("asq-non-acute-positive",)),
        ([0, 0, 0, 1, 0], "non-acute positive", ("asq-non-acute-positive",)),
        # "Yes" to 5: acute positive (imminent risk), whatever else was answered.
        ([1, 1, 1, 1, 1], "acute positive", ("asq-acute-positive",)),
        ([0, 0, 0, 0, 1], "acute positive", ("asq-acute-positive",)),
        # Positive but question 5 not asked: still needs action today.
        ([0, 0, 0, 1], "positive, question 5 not asked", ("asq-positive",)),
    ],
)
def test_asq_follows_the_toolkit_pathway(
    answers: list[int], band: str, flags: tuple[str, ...]
) -> None:
    result = score("asq", answers)
    assert (result.band, result.flags) == (band, flags)
    assert result.total is None  # the ASQ has no total score
    assert result.needs_same_day_action == bool(flags)


def test_asq_answers_are_yes_or_no() -> None:
    with pytest.raises(ClinicalInputError):
        score("asq", [2, 0, 0, 0])
