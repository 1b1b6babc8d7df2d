"""Corrected age for infants born preterm: the age growth and development are judged by.

Sources:
- Engle WA; American Academy of Pediatrics Committee on Fetus and Newborn. Age terminology
  during the perinatal period. Pediatrics 2004;114(5):1362–1364: corrected age is the
  chronological age reduced by the number of weeks born before 40 weeks of gestation, the term
  to use for children up to 3 years of age who were born preterm.
- Preterm is birth before 37 completed weeks (World Health Organization; Engle 2004).
- CDC/HRSA Maternal and Child Health Bureau, growth chart training ("Using corrected age to plot
  measures for low birthweight and premature infants"): for most premature infants the corrected
  age is used until 2 years when plotting length, weight and head circumference.

casectl corrects the age of a child born before 37 weeks until 24 months of chronological age;
after that, and for children born at 37 weeks or later, the chronological age is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from casectl.clinical import _checks
from casectl.clinical.errors import ClinicalInputError

TERM_WEEKS = 40
PRETERM_BEFORE_WEEKS = 37
#: WHO's average month, used by the WHO growth standards to turn months into days.
DAYS_PER_MONTH = 30.4375
#: Correct until this chronological age (months).
CORRECT_UNTIL_MONTHS = 24


@dataclass(frozen=True)
class AgeForGrowth:
    """The age to judge growth and development by, and how it was reached."""

    chronological_days: float
    days: float
    corrected: bool
    weeks_early: float

    @property
    def months(self) -> float:
        """The age used, in months of 30.4375 days."""
        return self.days / DAYS_PER_MONTH

    @property
    def chronological_months(self) -> float:
        """The chronological age in months of 30.4375 days."""
        return self.chronological_days / DAYS_PER_MONTH


def age_for_growth(chronological_days: float, gestational_age_weeks: float | None) -> AgeForGrowth:
    """Corrected age for a child born before 37 weeks, until 24 months chronological; else as is.

    Raises ClinicalInputError before the term-equivalent age, where the WHO standards (which start
    at a term birth) do not apply yet.
    """
    days = _checks.number(chronological_days, "age", 0, 130 * 366, "days")
    if gestational_age_weeks is None:
        return AgeForGrowth(days, days, False, 0.0)
    weeks = _checks.number(gestational_age_weeks, "gestational age at birth", 22, 44, "weeks")
    if weeks >= PRETERM_BEFORE_WEEKS or days >= CORRECT_UNTIL_MONTHS * DAYS_PER_MONTH:
        return AgeForGrowth(days, days, False, 0.0)
    early = TERM_WEEKS - weeks
    corrected = days - early * 7
    if corrected < 0:
        raise ClinicalInputError(
            f"Born at {weeks:g} weeks, this infant has not reached term-equivalent age "
            f"(corrected age {corrected / 7:.1f} weeks); the WHO growth standards start at a term "
            "birth, so use a preterm growth chart (Fenton or INTERGROWTH-21st) until then."
        )
    return AgeForGrowth(days, corrected, True, early)
