"""Dates as a case manager types them, and the one clock casectl reads.

`today()` is the single seam for "now": tests and `--as-of` set `CASECTL_TODAY` instead of
mocking the system clock.
"""

from __future__ import annotations

import datetime as dt
import os
import re

from casectl.errors import InvalidInput

_RELATIVE = re.compile(r"^([+-]?)(\d{1,4})([dwmy])$")
_DAYS = {"d": 1, "w": 7}


def today() -> dt.date:
    """Today's date, or the date in `CASECTL_TODAY` when set (ISO 8601)."""
    fixed = os.environ.get("CASECTL_TODAY")
    if fixed:
        try:
            return dt.date.fromisoformat(fixed)
        except ValueError:
            raise InvalidInput(
                f"CASECTL_TODAY={fixed!r} is not a date; use the form 2026-11-25."
            ) from None
    return dt.date.today()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 m = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def parse_date(text: str, *, what: str = "date", base: dt.date | None = None) -> dt.date:
    """Parse an ISO date, `today`, `tomorrow`, `yesterday`, or an offset such as `+7d`, `2w`, `-1m`."""
    value = text.strip().lower()
    origin = base or today()
    if value == "today":
        return origin
    if value == "tomorrow":
        return origin + dt.timedelta(days=1)
    if value == "yesterday":
        return origin - dt.timedelta(days=1)
    match = _RELATIVE.match(value)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        count = sign * int(match.group(2))
        unit = match.group(3)
        if unit in _DAYS:
            return origin + dt.timedelta(days=count * _DAYS[unit])
        return add_months(origin, count * (12 if unit == "y" else 1))
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{what} {text!r} is not a date; use YYYY-MM-DD, today, tomorrow or an offset like +7d or 2w."
        ) from None


def parse_duration_days(text: str, *, what: str = "duration") -> int:
    """Parse a span such as `7d`, `2w`, `3m` (30 days a month) or a bare number of days."""
    value = text.strip().lower()
    if value.isdigit():
        return int(value)
    match = _RELATIVE.match(value)
    if match and match.group(1) != "-":
        count = int(match.group(2))
        return count * {"d": 1, "w": 7, "m": 30, "y": 365}[match.group(3)]
    raise InvalidInput(f"{what} {text!r} is not a span of time; use a form like 7d, 2w or 3m.")


def age_in_years(born: dt.date, on: dt.date) -> float:
    """Age in decimal years (days / 365.25), as the clinical tables take it."""
    return (on - born).days / 365.25


def completed_years(born: dt.date, on: dt.date) -> int:
    """Age in completed years, as a birthday counts it."""
    years = on.year - born.year
    if (on.month, on.day) < (born.month, born.day):
        years -= 1
    return years


# How often an intervention recurs, in the words a plan uses. Only periods of a week or more are
# tracked as dated worklist items: a daily or twice-weekly routine is the family's or a
# provider's to keep, and listing it every day would bury what needs the case manager.
_EVERY = re.compile(r"^(?:every|each)\s+(\d{1,3}|other)\s+(day|week|month|year)s?$")
_WORD_PERIODS: dict[str, tuple[int, int]] = {  # (months, days)
    "weekly": (0, 7),
    "once a week": (0, 7),
    "once weekly": (0, 7),
    "every week": (0, 7),
    "fortnightly": (0, 14),
    "biweekly": (0, 14),
    "twice monthly": (0, 15),
    "twice a month": (0, 15),
    "semimonthly": (0, 15),
    "monthly": (1, 0),
    "once a month": (1, 0),
    "every month": (1, 0),
    "quarterly": (3, 0),
    "twice yearly": (6, 0),
    "twice a year": (6, 0),
    "yearly": (12, 0),
    "annually": (12, 0),
    "annual": (12, 0),
    "every year": (12, 0),
}
MIN_TRACKED_DAYS = 7


def recurrence(frequency: str | None) -> tuple[int, int] | None:
    """The period of a frequency such as `weekly`, `every 2 weeks`, `monthly`, `3m`, as
    (months, days); None for a routine more often than weekly or words casectl cannot read."""
    if not frequency:
        return None
    text = " ".join(frequency.strip().lower().split())
    period = _WORD_PERIODS.get(text)
    if period is None:
        match = _EVERY.match(text) or _RELATIVE.match(text)
        if match is None or match.group(1) in ("-", "+"):
            return None
        if match.re is _EVERY:
            count = 2 if match.group(1) == "other" else int(match.group(1))
            unit = match.group(2)[0]
        else:
            count, unit = int(match.group(2)), match.group(3)
        if count < 1:
            return None
        period = {
            "d": (0, count),
            "w": (0, 7 * count),
            "m": (count, 0),
            "y": (12 * count, 0),
        }[unit]
    months, days = period
    return period if months or days >= MIN_TRACKED_DAYS else None


def after(day: dt.date, period: tuple[int, int]) -> dt.date:
    """`day` plus a (months, days) period."""
    months, days = period
    return (
        add_months(day, months) + dt.timedelta(days=days)
        if months
        else day + dt.timedelta(days=days)
    )
