"""The base every case-file model shares: unknown keys are errors, `x-` keys are the user's own,
and no text field holds a character that could take over a terminal (casectl.text)."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from casectl.text import UNSAFE, UNSAFE_ONE_LINE, describe

USER_KEY_PREFIX = "x-"

# The free-text fields, by name in any record: tab and line feed are allowed in these (a pasted
# paragraph, an address on several lines) and in no other field. Names, ids, handles, codes,
# phone numbers and list items are one line. A field not named here is one-line, so a new
# field is strict until someone decides otherwise.
FREE_TEXT: frozenset[str] = frozenset(
    {
        # people
        "address",
        "cultural_considerations",
        "involvement",
        "scope",
        # every stage record, and updates
        "note",
        "notes",
        "summary",
        "reason",
        "closed_reason",
        "referral_reason",
        "eligibility_reason",
        "decision_reason",
        "plan_change",
        "family_input",
        "care_appropriate_note",
        "detail",
        # screening: the situation
        "medical",
        "financial",
        "living",
        "social_support",
        # assessment narratives
        "health_status",
        "support_system",
        "treatment_history",
        "family_dynamics",
        "language_culture",
        "emotional_social",
        "development_school",
        "independence",
        "finances",
        "safety",
        "family",
        "social",
        "school_or_work",
        "support",
        # evaluation
        "well_being",
        "health",
        "financial_standing",
    }
)

# How a field holds text: "str" (str or None), "list" (a list of str), "keys" (a mapping
# keyed by str).
_TEXT, _LIST, _KEYS = "str", "list", "keys"


def is_user_key(key: object) -> bool:
    """Keys starting with `x-` belong to the user: casectl keeps them and never reads them."""
    return isinstance(key, str) and key.startswith(USER_KEY_PREFIX)


def _text_kind(annotation: Any) -> str | None:
    """Whether a field's type holds text a person typed, and in what shape."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if annotation is str:
        return _TEXT
    if origin in (typing.Union, types.UnionType):
        kinds = {_text_kind(a) for a in args if a is not type(None)}
        kinds.discard(None)
        return kinds.pop() if len(kinds) == 1 else None
    if origin is list and args and args[0] is str:
        return _LIST
    if origin is dict and args and args[0] is str:
        return _KEYS
    return None


class Record(BaseModel):
    """A strict model: a misspelt key is an error, so a typo never vanishes silently."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        str_strip_whitespace=True,
        validate_assignment=False,
        frozen=False,
    )

    # (attribute, name in the file, shape, one line only) of each text field; set per class.
    _text_fields: ClassVar[tuple[tuple[str, str, str, bool], ...]] = ()
    # The same as (search, attribute, is a list or mapping) for the check on every record.
    _text_checks: ClassVar[tuple[tuple[Callable[[str], object], str, bool], ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        found = []
        for name, info in cls.model_fields.items():
            kind = _text_kind(info.annotation)
            if kind is not None:
                shown_as = info.alias or name
                found.append((name, shown_as, kind, shown_as not in FREE_TEXT))
        cls._text_fields = tuple(found)
        cls._text_checks = tuple(
            ((UNSAFE_ONE_LINE if one_line else UNSAFE).search, name, kind != _TEXT)
            for name, _, kind, one_line in found
        )

    @model_validator(mode="before")
    @classmethod
    def _drop_user_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(is_user_key(k) for k in data):
            return {k: v for k, v in data.items() if not is_user_key(k)}
        return data

    @model_validator(mode="after")
    def _refuse_control_characters(self) -> Self:
        # Nested records check their own fields, so this looks at this record's text only;
        # it runs for every record of every case read, so it is kept to the bare loop.
        values = self.__dict__
        for search, name, many in self._text_checks:
            value = values[name]
            if value and (any(map(search, value)) if many else search(value)):
                self._find_control_character()
        return self

    def _find_control_character(self) -> None:
        values = self.__dict__
        for name, shown_as, kind, one_line in self._text_fields:
            value = values[name]
            if value is None:
                continue
            pattern = UNSAFE_ONE_LINE if one_line else UNSAFE
            items = [(None, value)] if kind == _TEXT else enumerate(value)
            for index, item in items:
                if pattern.search(item):
                    _refuse(shown_as, None if kind == _KEYS else index, item, one_line)


def _refuse(field: str, index: int | None, value: str, one_line: bool) -> typing.NoReturn:
    """Raise the error that names the field (casectl.models.validation.error_loc adds it to
    the location) and the character, never the text around it."""
    found = (UNSAFE_ONE_LINE if one_line else UNSAFE).search(value)
    assert found is not None
    char = found.group()
    if char in "\t\n":
        message = (
            f"holds a {'tab' if char == chr(9) else 'line break'}; this field is one line "
            "(line breaks belong in notes and other free text)"
        )
    else:
        message = (
            f"holds the control character {describe(char)}, which could change what a "
            "terminal shows; remove it"
        )
    raise PydanticCustomError("control_character", message, {"field": field, "index": index})
