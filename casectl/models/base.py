"""The base every case-file model shares: unknown keys are errors, `x-` keys are the user's own."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

USER_KEY_PREFIX = "x-"


def is_user_key(key: object) -> bool:
    """Keys starting with `x-` belong to the user: casectl keeps them and never reads them."""
    return isinstance(key, str) and key.startswith(USER_KEY_PREFIX)


class Record(BaseModel):
    """A strict model: a misspelt key is an error, so a typo never vanishes silently."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        str_strip_whitespace=True,
        validate_assignment=False,
        frozen=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_user_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(is_user_key(k) for k in data):
            return {k: v for k, v in data.items() if not is_user_key(k)}
        return data
