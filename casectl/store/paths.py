"""Where case data lives, and the case ids that may name a file there."""

from __future__ import annotations

import os
from pathlib import Path

from casectl.errors import UnsafePath
from casectl.ids import CASE_ID

DATA_DIR_ENV = "CASECTL_DATA_DIR"
CASE_SUFFIX = ".yaml"
# Names Windows reserves for devices: a case folder may be shared with, or synced to, one.
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "config"}
    | {f"com{i}" for i in range(10)}
    | {f"lpt{i}" for i in range(10)}
)


def resolve_data_dir(option: Path | None) -> Path:
    """`--data-dir`, else `$CASECTL_DATA_DIR`, else the platform's user data folder."""
    if option is not None:
        return option.expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("casectl", appauthor=False) / "cases"


def check_case_id(case_id: str) -> str:
    """The id unchanged when it is safe as a file name, else UnsafePath saying why."""
    if "\x00" in case_id:
        raise UnsafePath("a case id cannot contain a NUL byte.")
    if "/" in case_id or "\\" in case_id or case_id.startswith((".", "~")):
        raise UnsafePath(
            f"{case_id!r} is not a case id: ids are names, not paths (letters, digits, . _ -)."
        )
    if not CASE_ID.match(case_id) or ".." in case_id:
        raise UnsafePath(
            f"{case_id!r} is not a valid case id: use letters, digits, dot, dash and underscore, "
            "starting with a letter or digit, at most 64 characters."
        )
    stem = case_id.split(".")[0].lower()
    if stem in _RESERVED:
        raise UnsafePath(f"{case_id!r} is a reserved name and cannot be a case id; choose another.")
    return case_id
