"""Turning a stage's input (a draft: plain data from options, a --from file or prompts) into
its validated record.

A draft holds what the user gave; the stage function fills in what depends on the case (ids,
defaults, the next review) under the case's lock, then validates the record here. A draft that
lacks required fields raises `DraftInvalid` naming them, so the CLI can ask for them on a
terminal (with the lock released) or say which options to give.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from casectl.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)
Draft = dict[str, Any]


class DraftInvalid(InvalidInput):
    """A stage's input does not make a valid record.

    `missing` lists the top-level fields that were not given (empty when something else is
    wrong first); `errors` are Pydantic's, with their locations, for the CLI to name options.
    """

    def __init__(self, model: type[BaseModel], errors: list[Any], missing: list[str]) -> None:
        from casectl.models.validation import describe_error, format_loc

        self.model = model
        self.errors = errors
        self.missing = missing
        if missing:
            message = f"{', '.join(missing)} is required but missing"
        else:
            first = errors[0]
            message = f"{format_loc(first['loc'])}: {describe_error(first)}"
        super().__init__(message + ".")


def build(model: type[M], draft: Mapping[str, Any]) -> M:
    """The record `model` made from `draft`, or DraftInvalid."""
    try:
        return model.model_validate(dict(draft))
    except ValidationError as exc:
        errors = exc.errors()
    # A misspelt key explains the "missing" field it was meant to be: report it first.
    errors.sort(key=lambda e: e["type"] != "extra_forbidden")
    missing: list[str] = []
    if errors[0]["type"] != "extra_forbidden":
        missing = [
            str(e["loc"][0]) for e in errors if e["type"] == "missing" and len(e["loc"]) == 1
        ]
    raise DraftInvalid(model, errors, missing)


def missing(model: type[BaseModel], *fields: str) -> DraftInvalid:
    """A DraftInvalid for fields a stage requires beyond the model's own rules."""
    return DraftInvalid(
        model, [{"type": "missing", "loc": (f,), "msg": "missing"} for f in fields], list(fields)
    )


def stamped(draft: Mapping[str, Any], *, on: Any, by: str) -> Draft:
    """The draft with its date and recorder, defaulting to `on` and `by` when it has none."""
    out = dict(draft)
    if out.get("date") is None:
        out["date"] = on
    if not out.get("recorded_by"):
        out["recorded_by"] = by
    return out


def next_handle(prefix: str, taken: set[str]) -> str:
    """The first free handle such as g1, g2 … for a new goal, referral or appointment."""
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"
