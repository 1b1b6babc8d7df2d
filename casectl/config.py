"""The data directory's `config.toml`: risk points and thresholds, review intervals, git.

Every value has a documented default, so a data directory without a config file works; `init`
writes the defaults out with comments explaining each one.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from casectl.errors import ConfigError, shown

CONFIG_NAME = "config.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RiskPoints(_Section):
    """Points per risk factor. The README explains the reasoning behind each default."""

    chronic_condition: int = Field(1, ge=0, le=20)
    chronic_condition_max: int = Field(3, ge=0, le=20)
    multi_system: int = Field(2, ge=0, le=20)
    complex_or_progressive: int = Field(2, ge=0, le=20)
    bp_elevated: int = Field(1, ge=0, le=20)
    bp_stage1: int = Field(2, ge=0, le=20)
    bp_stage2: int = Field(3, ge=0, le=20)
    bp_urgency: int = Field(3, ge=0, le=20)
    growth_underweight: int = Field(2, ge=0, le=20)
    growth_obesity: int = Field(1, ge=0, le=20)
    growth_severe_obesity: int = Field(2, ge=0, le=20)
    mental_health_moderate: int = Field(2, ge=0, le=20)
    mental_health_severe: int = Field(3, ge=0, le=20)
    behaviour_screen_positive: int = Field(2, ge=0, le=20)
    developmental_screen_risk: int = Field(2, ge=0, le=20)
    social_need: int = Field(1, ge=0, le=20)
    social_need_max: int = Field(3, ge=0, le=20)
    insurance_gap: int = Field(1, ge=0, le=20)
    ed_visits_2plus: int = Field(2, ge=0, le=20)
    admissions: int = Field(2, ge=0, le=20)
    missed_appointments_2plus: int = Field(1, ge=0, le=20)
    caregiver_strain_moderate: int = Field(1, ge=0, le=20)
    caregiver_strain_severe: int = Field(2, ge=0, le=20)
    mental_health_diagnosis: int = Field(1, ge=0, le=20)
    serious_mental_illness: int = Field(3, ge=0, le=20)
    psychiatric_admission: int = Field(1, ge=0, le=20)
    psychiatric_discharge_30d: int = Field(2, ge=0, le=20)
    adherence_partial: int = Field(1, ge=0, le=20)
    adherence_poor: int = Field(2, ge=0, le=20)
    caregiver_depression: int = Field(2, ge=0, le=20)
    asthma_not_well_controlled: int = Field(1, ge=0, le=20)
    asthma_very_poorly_controlled: int = Field(2, ge=0, le=20)
    hba1c_above_9: int = Field(2, ge=0, le=20)


class RiskConfig(_Section):
    rules_version: str = "casectl-risk-2"
    moderate_at: int = Field(4, ge=1, le=100)
    high_at: int = Field(8, ge=1, le=100)
    points: RiskPoints = Field(default_factory=RiskPoints)


class ReviewConfig(_Section):
    window_days: int = Field(7, ge=0, le=365)
    referral_no_response_days: int = Field(14, ge=1, le=365)
    referral_followup_days: int = Field(30, ge=1, le=365)
    reassess_days: int = Field(365, ge=1, le=3650)
    interval_low_days: int = Field(90, ge=1, le=366)
    interval_moderate_days: int = Field(30, ge=1, le=366)
    interval_high_days: int = Field(14, ge=1, le=366)


class CaseDefaults(_Section):
    id_prefix: str = Field("C", pattern=r"^[A-Za-z][A-Za-z0-9]{0,9}$")
    case_manager: str = ""


class GitConfig(_Section):
    commit: bool = False


# Case ids are unique only within one data folder, so each folder may name its own system.
DEFAULT_IDENTIFIER_SYSTEM = "urn:casectl:case-id"


class FhirConfig(_Section):
    # An absolute URI (urn:…, https://…): the FHIR identifier system of this folder's case ids.
    identifier_system: str = Field(
        DEFAULT_IDENTIFIER_SYSTEM, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$", max_length=200
    )


class Config(_Section):
    schema_version: int = 1
    case: CaseDefaults = Field(default_factory=CaseDefaults)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    git: GitConfig = Field(default_factory=GitConfig)
    fhir: FhirConfig = Field(default_factory=FhirConfig)


def load_config(data_dir: Path) -> Config:
    """The config in `data_dir`, or the defaults when it has none."""
    path = data_dir / CONFIG_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}).") from None
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text; save it as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: is not valid TOML: {exc}; fix it or delete it to use the defaults."
        ) from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            message = "unknown setting (misspelt?)"
        elif err["type"] == "string_pattern_mismatch" and err["loc"][0] == "fhir":
            message = (
                "use an absolute URI such as urn:casectl:case-id or https://example.org/case-id"
            )
        elif err["type"] == "string_pattern_mismatch":
            message = "use 1 to 10 letters or digits, starting with a letter"
        else:  # lower-case only the first letter: the rest may be a value to keep as it is
            message = err["msg"][:1].lower() + err["msg"][1:]
        raise ConfigError(
            f"{path}: {field}: {message} (got {shown(err.get('input'))}); fix it or remove the line to use the default."
        ) from None
    if config.risk.high_at <= config.risk.moderate_at:
        raise ConfigError(
            f"{path}: risk.high_at ({config.risk.high_at}) must be above risk.moderate_at "
            f"({config.risk.moderate_at})."
        )
    return config


_GIT_SECTION = re.compile(r"^\[git\][ \t]*(?:#.*)?$", re.M)
_COMMIT_LINE = re.compile(r"^([ \t]*commit[ \t]*=[ \t]*)(true|false)\b", re.M)


def with_git_commits(text: str) -> str:
    """The config text with `commit = true` under `[git]`, every other line and comment kept."""
    section = _GIT_SECTION.search(text)
    if section is None:
        return text + ("" if text.endswith("\n") else "\n") + "\n[git]\ncommit = true\n"
    start = section.end()
    following = re.search(r"^\[", text[start:], re.M)
    end = start + following.start() if following else len(text)
    body = text[start:end]
    line = _COMMIT_LINE.search(body)
    if line is None:
        body = "\ncommit = true" + body
    else:
        body = body[: line.start(2)] + "true" + body[line.end(2) :]
    return text[:start] + body + text[end:]


def default_config_text() -> str:
    """The commented config file `init` writes: every setting at its default."""
    d = Config()
    p = d.risk.points
    r = d.review
    return f"""\
# casectl configuration for this data directory.
# Every setting below is shown at its default; delete a line to go back to the default.
# The README ("Risk tier") explains why each default is what it is.
schema_version = 1

[case]
# Case ids are PREFIX-YEAR-NNNN, for example C-2026-0001.
id_prefix = "{d.case.id_prefix}"
# Recorded as the case manager of new cases and as `recorded_by` when --by is not given.
case_manager = ""

[risk]
# Changing a point value or a threshold? Change rules_version too, so each risk record says
# which rules produced it.
rules_version = "{d.risk.rules_version}"
moderate_at = {d.risk.moderate_at}   # score at or above which the tier is moderate
high_at = {d.risk.high_at}       # score at or above which the tier is high

[risk.points]
chronic_condition = {p.chronic_condition}            # each chronic condition ...
chronic_condition_max = {p.chronic_condition_max}        # ... up to this many points
multi_system = {p.multi_system}                 # conditions in three or more body systems
complex_or_progressive = {p.complex_or_progressive}       # any condition marked complex or progressive
bp_elevated = {p.bp_elevated}                  # blood pressure category (AAP 2017 / ACC-AHA 2017)
bp_stage1 = {p.bp_stage1}
bp_stage2 = {p.bp_stage2}
bp_urgency = {p.bp_urgency}                   # above the same-day threshold (AAP 2017 Table 11); also forces high
growth_underweight = {p.growth_underweight}           # CDC 2000 BMI-for-age; under 2, WHO weight-for-length low/high
growth_obesity = {p.growth_obesity}
growth_severe_obesity = {p.growth_severe_obesity}
mental_health_moderate = {p.mental_health_moderate}       # PHQ-9/PHQ-A/GAD-7 moderate or moderately severe
mental_health_severe = {p.mental_health_severe}         # PHQ-9/PHQ-A/GAD-7 severe
behaviour_screen_positive = {p.behaviour_screen_positive}    # PSC-17 positive
developmental_screen_risk = {p.developmental_screen_risk}    # M-CHAT-R/F medium or high
social_need = {p.social_need}                  # each social need (housing, food, utilities, ...) ...
social_need_max = {p.social_need_max}              # ... up to this many points
insurance_gap = {p.insurance_gap}
ed_visits_2plus = {p.ed_visits_2plus}              # two or more ED visits in 12 months
admissions = {p.admissions}                   # any hospital admission in 12 months
missed_appointments_2plus = {p.missed_appointments_2plus}    # two or more missed appointments
caregiver_strain_moderate = {p.caregiver_strain_moderate}
caregiver_strain_severe = {p.caregiver_strain_severe}
mental_health_diagnosis = {p.mental_health_diagnosis}      # an ICD-10-CM F01-F99 diagnosis but F70-F89 (counted once) ...
serious_mental_illness = {p.serious_mental_illness}       # ... or, instead, F20-F29, F30-F31, F32-F33 (psychosis, bipolar, major depression)
psychiatric_admission = {p.psychiatric_admission}        # a psychiatric admission in 12 months (on top of `admissions`)
psychiatric_discharge_30d = {p.psychiatric_discharge_30d}    # discharged from one in the last 30 days
adherence_partial = {p.adherence_partial}            # latest medication adherence: partial ...
adherence_poor = {p.adherence_poor}               # ... or poor (off medication)
caregiver_depression = {p.caregiver_depression}         # a family member's depression, or their PHQ-9 of 10 or more
asthma_not_well_controlled = {p.asthma_not_well_controlled}   # ACT or C-ACT 19 or less ...
asthma_very_poorly_controlled = {p.asthma_very_poorly_controlled}  # ... ACT 15 or less, C-ACT 12 or less
hba1c_above_9 = {p.hba1c_above_9}                # HbA1c above 9.0 % (HEDIS poor control)

[review]
window_days = {r.window_days}                  # `review` lists what is due within this many days
referral_no_response_days = {r.referral_no_response_days}   # chase a referral with no answer after this
referral_followup_days = {r.referral_followup_days}      # chase one accepted or scheduled but not completed after this
reassess_days = {r.reassess_days}              # a new assessment is due this long after the last
interval_low_days = {r.interval_low_days}             # review interval when the plan sets none, by risk
interval_moderate_days = {r.interval_moderate_days}
interval_high_days = {r.interval_high_days}

[git]
# When the data directory is a git repository: commit each write as its own commit.
commit = {str(d.git.commit).lower()}

[fhir]
# The identifier system of case ids in FHIR exports (Patient.identifier), and the one an import
# matches to find an existing case. Case ids are unique only within this folder: an agency that
# shares bundles should use a URI of its own, e.g. "https://example.org/fhir/case-id".
identifier_system = "{d.fhir.identifier_system}"
"""
