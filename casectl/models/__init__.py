"""The case file as Pydantic models: what a case holds and what makes it valid. No I/O here."""

from casectl.ids import CASE_ID
from casectl.models.case import SCHEMA_VERSION, STAGE_SECTIONS, Case
from casectl.models.validation import CaseInvalid, format_loc, validate_case

__all__ = [
    "CASE_ID",
    "SCHEMA_VERSION",
    "STAGE_SECTIONS",
    "Case",
    "CaseInvalid",
    "format_loc",
    "validate_case",
]
