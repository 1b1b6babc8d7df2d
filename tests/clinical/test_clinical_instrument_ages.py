"""Instruments refused outside their validated ages, and the asthma control tests scored exactly.

Age ranges (each cited in casectl/clinical/instruments.py): PHQ-9 12 and over (adults; Richardson
2010 in adolescents; USPSTF 2016 and GLAD-PC 2018 from 12), PHQ-A 11–17 (APA DSM-5 measure for
ages 11–17), GAD-7 12 and over, PSC-17 4–16, M-CHAT-R/F 16–30 months (Robins 2014), ACT 12 and
over (Nathan 2004), C-ACT 4–11 (Liu 2007). Each boundary is tested on both sides.
"""

from __future__ import annotations

import pytest

from casectl.clinical.errors import ClinicalInputError
from casectl.clinical.instruments import (
    INSTRUMENTS,
    InstrumentAgeError,
    check_instrument_age,
    score,
)

MONTH = 1 / 12


@pytest.mark.parametrize("name", ["phq-9", "gad-7", "m-chat-r"])
def test_a_5_year_old_is_refused_the_phq9_gad7_and_mchat_and_pointed_to_the_psc17(
    name: str,
) -> None:
    with pytest.raises(InstrumentAgeError) as caught:
        check_instrument_age(name, 5)
    message = str(caught.value)
    assert "not for a 5-year-old" in message and "use PSC-17 (4–16 years) instead" in message
    assert message.count(".") == 1 and "\n" not in message


@pytest.mark.parametrize(
    ("name", "inside", "outside"),
    [
        ("phq-9", 12, 12 - MONTH),
        ("phq-a", 11, 11 - MONTH),
        ("phq-a", 18 - MONTH, 18),
        ("gad-7", 12, 12 - MONTH),
        ("psc-17", 4, 4 - MONTH),
        ("psc-17", 17 - MONTH, 17),
        ("m-chat-r", 16 * MONTH, 15 * MONTH),
        ("m-chat-r", 30 * MONTH, 31 * MONTH),
        ("act", 12, 12 - MONTH),
        ("c-act", 4, 4 - MONTH),
        ("c-act", 12 - MONTH, 12),
    ],
)
def test_each_age_boundary_on_both_sides(name: str, inside: float, outside: float) -> None:
    check_instrument_age(name, inside)
    with pytest.raises(InstrumentAgeError, match=f"{INSTRUMENTS[name].title} is validated for"):
        check_instrument_age(name, outside)


@pytest.mark.parametrize(
    ("name", "age", "suggested"),
    [
        ("phq-a", 18, "use PHQ-9 (12 years and over)"),
        ("phq-9", 11.5, "use PHQ-A (11–17 years) or PSC-17 (4–16 years)"),
        ("psc-17", 17, "use PHQ-A (11–17 years), PHQ-9 (12 years and over) or GAD-7"),
        ("act", 8, "for an 8-year-old use C-ACT (4–11 years)"),
        ("c-act", 12, "use ACT (12 years and over)"),
        ("m-chat-r", 3, "scores no instrument for this purpose at 3 years"),
    ],
)
def test_the_refusal_names_the_instrument_that_fits(name: str, age: float, suggested: str) -> None:
    with pytest.raises(InstrumentAgeError, match=suggested.replace("(", r"\(").replace(")", r"\)")):
        check_instrument_age(name, age)


@pytest.mark.parametrize("name", ["hunger-vital-sign", "ahc-hrsn", "gas"])
def test_household_and_goal_instruments_have_no_age_limit(name: str) -> None:
    for age in (0, 5, 40, 100):
        check_instrument_age(name, age)


def test_the_age_check_refuses_what_is_not_an_age() -> None:
    with pytest.raises(ClinicalInputError, match="Age must be between 0 and 130"):
        check_instrument_age("phq-9", -1)
    with pytest.raises(ClinicalInputError, match="Unknown instrument"):
        check_instrument_age("phq-8", 30)


# ---------------------------------------------------------------------------------------------
# ACT (Nathan et al. 2004; NAEPP EPR-3 2007): five items 1–5, total 5–25; 19 or less not well
# controlled, 15 or less very poorly controlled.


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([5, 5, 5, 5, 5], 25, "well controlled"),
        ([4, 4, 4, 4, 4], 20, "well controlled"),
        ([4, 4, 4, 4, 3], 19, "not well controlled"),
        ([4, 3, 3, 3, 3], 16, "not well controlled"),
        ([3, 3, 3, 3, 3], 15, "very poorly controlled"),
        ([1, 1, 1, 1, 1], 5, "very poorly controlled"),
    ],
)
def test_act_worked_examples_at_the_cut_offs(answers: list[int], total: int, band: str) -> None:
    result = score("act", answers)
    assert (result.total, result.band) == (total, band)


def test_act_answers_are_1_to_5_and_five_of_them() -> None:
    with pytest.raises(ClinicalInputError, match="must be 1–5"):
        score("act", [0, 5, 5, 5, 5])
    with pytest.raises(ClinicalInputError, match="takes 5 answers"):
        score("act", [5, 5, 5, 5])


# C-ACT (Liu et al. 2007, 2010): four child items 0–3 then three caregiver items 0–5, total
# 0–27; 19 or less not well controlled, 12 or less very poorly controlled.


@pytest.mark.parametrize(
    ("answers", "total", "band", "child", "caregiver"),
    [
        ([3, 3, 3, 3, 5, 5, 5], 27, "well controlled", 12, 15),
        ([3, 3, 2, 2, 4, 3, 3], 20, "well controlled", 10, 10),
        ([3, 3, 2, 2, 3, 3, 3], 19, "not well controlled", 10, 9),
        ([2, 2, 2, 1, 2, 2, 2], 13, "not well controlled", 7, 6),
        ([2, 2, 1, 1, 2, 2, 2], 12, "very poorly controlled", 6, 6),
        ([0, 0, 0, 0, 0, 0, 0], 0, "very poorly controlled", 0, 0),
    ],
)
def test_c_act_worked_examples_at_the_cut_offs(
    answers: list[int], total: int, band: str, child: int, caregiver: int
) -> None:
    result = score("c-act", answers)
    assert (result.total, result.band) == (total, band)
    assert result.subscales == {"child": child, "caregiver": caregiver}


def test_c_act_child_items_stop_at_3_and_caregiver_items_at_5() -> None:
    with pytest.raises(ClinicalInputError, match="Item 4 of C-ACT must be 0–3"):
        score("c-act", [3, 3, 3, 4, 5, 5, 5])
    with pytest.raises(ClinicalInputError, match="Item 7 of C-ACT must be 0–5"):
        score("c-act", [3, 3, 3, 3, 5, 5, 6])


@pytest.mark.parametrize("name", ["act", "c-act"])
def test_asthma_forms_ship_no_item_wording(name: str) -> None:
    # The ACT and C-ACT are copyrighted forms: keyed by topic, scored from the numbers on the form.
    assert all(item.text is None for item in INSTRUMENTS[name].items)
    assert "not shipped" in INSTRUMENTS[name].source
