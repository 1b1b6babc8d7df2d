"""The client, the family around them, and the care team."""

from __future__ import annotations

import datetime as dt
import re

from pydantic import Field, field_validator

from casectl.errors import shown
from casectl.models.base import Record
from casectl.models.vocab import Sex, TeamRole

# A short handle used to refer to a person from elsewhere in the file (`owner: mother`).
HANDLE = r"^[a-z0-9][a-z0-9-]{0,39}$"
# BCP 47 primary language with optional subtags: en, es, es-MX, zh-Hant.
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _language(value: str | None) -> str | None:
    if value is not None and not LANGUAGE.match(value):
        raise ValueError(
            f"{shown(value)} is not a language code; use a BCP 47 code such as en, es or vi"
        )
    return value


class Contact(Record):
    phone: str | None = None
    email: str | None = None
    address: str | None = None


class Client(Record):
    name: str = Field(min_length=1)
    dob: dt.date
    sex: Sex
    preferred_language: str = "en"
    interpreter_needed: bool = False
    cultural_considerations: str | None = None
    contact: Contact | None = None
    # Weeks of gestation at birth (32.5 for 32+3/7), when known: under 37 is preterm, and growth
    # and development are then judged by the corrected age until 24 months.
    gestational_age_weeks: float | None = Field(default=None, ge=22, le=44)

    _check_language = field_validator("preferred_language")(
        classmethod(lambda cls, v: _language(v))
    )


class FamilyMember(Record):
    id: str = Field(pattern=HANDLE)
    name: str = Field(min_length=1)
    relationship: str = Field(min_length=1)
    legal_guardian: bool = False
    decision_maker: bool = False
    lives_with_client: bool = True
    language: str | None = None
    contact: Contact | None = None
    involvement: str | None = None

    @field_validator("language")
    @classmethod
    def _check_language(cls, value: str | None) -> str | None:
        return _language(value)


class CareTeamMember(Record):
    id: str = Field(pattern=HANDLE)
    name: str = Field(min_length=1)
    role: TeamRole
    organisation: str | None = None
    contact: Contact | None = None
    consent_to_share: bool = False
    # Holds legal decision-making authority for the client: a child-welfare caseworker for a
    # child in foster care, a court-appointed guardian. May give consent and agree to plans.
    decision_maker: bool = False


class Consent(Record):
    date: dt.date
    kind: str = Field(min_length=1)
    given_by: str = Field(min_length=1)
    scope: str | None = None
    expires: dt.date | None = None
