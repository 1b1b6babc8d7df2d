"""The errors casectl reports to a person, and the exit code each one ends the program with.

Every failure a user can cause is a `CasectlError`; the CLI catches them in one place, prints
the message (one sentence: what is wrong, where, what to do) and exits with the error's code.
"""

from __future__ import annotations

import errno
import os
from enum import IntEnum
from pathlib import Path
from typing import Any

# A message names a problem; it never copies the case. Values quoted in one are cut to this.
MAX_SHOWN = 40
MAX_MESSAGE = 300


class ExitStatus(IntEnum):
    """Exit codes; the README's table is written from this list."""

    OK = 0
    PROBLEMS_FOUND = 1  # `check` found invalid case files
    USAGE = 2  # bad command-line usage (unknown option, missing argument)
    OVERDUE = 3  # `review --exit-code`: something is overdue
    NOT_FOUND = 4  # no such case, file or data directory
    INVALID = 5  # the input or a case file failed validation
    STAGE_ORDER = 6  # a stage needs an earlier stage first, or the case is closed
    LOCKED = 7  # another casectl process is writing the case
    CONFIG = 8  # the config file is invalid
    UNSAFE = 9  # a case id or path that could leave the data directory
    EXTERNAL = 10  # git or $EDITOR is missing or failed
    CANNOT_WRITE = 11  # disk full, read-only disk or file, permission denied: nothing was written
    GIT_BUSY = 12  # a git rebase, merge or cherry-pick is under way, or git left a stale lock
    CONFLICT = 13  # `sync` or `merge-file`: two people changed the same field
    REMOTE = 14  # `sync`: the shared remote cannot be reached or refused the push
    INTERRUPTED = 130  # Ctrl-C


class CasectlError(Exception):
    """Base of every error shown to the user as one sentence."""

    exit_status: ExitStatus = ExitStatus.INVALID

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CaseNotFound(CasectlError):
    exit_status = ExitStatus.NOT_FOUND


class InvalidInput(CasectlError):
    """Input given on the command line or in a `--from` file is not valid."""

    exit_status = ExitStatus.INVALID


def shown(value: Any) -> str:
    """A value to quote in a message, cut short: a list or mapping is named, never printed."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 2] + "…" + text[-1]


def _bounded(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


class Problem:
    """One validation problem, located as precisely as the source allows."""

    __slots__ = ("field", "line", "message", "path")

    def __init__(self, path: str, line: int | None, field: str | None, message: str) -> None:
        self.path = path
        self.line = line
        self.field = field if field is None or len(field) <= MAX_SHOWN * 3 else field[:119] + "…"
        self.message = _bounded(message)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {what}"

    def to_dict(self) -> dict[str, object]:
        return {"file": self.path, "line": self.line, "field": self.field, "message": self.message}


class InvalidCaseFile(CasectlError):
    """A case file (or the case a command would write) does not validate."""

    exit_status = ExitStatus.INVALID

    def __init__(self, problems: list[Problem], hint: str = "") -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "invalid case file"
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}{hint}")


class StageOrderError(CasectlError):
    exit_status = ExitStatus.STAGE_ORDER


class CaseLocked(CasectlError):
    exit_status = ExitStatus.LOCKED


class ConfigError(CasectlError):
    exit_status = ExitStatus.CONFIG


class UnsafePath(CasectlError):
    exit_status = ExitStatus.UNSAFE


class ExternalToolError(CasectlError):
    exit_status = ExitStatus.EXTERNAL


class GitBusy(CasectlError):
    """The data folder's repository is in the middle of something a write must not land in."""

    exit_status = ExitStatus.GIT_BUSY


class MergeConflict(CasectlError):
    exit_status = ExitStatus.CONFLICT


class RemoteError(CasectlError):
    exit_status = ExitStatus.REMOTE


class Interrupted(CasectlError):
    """Ctrl-C, or the end of input, at a question: the command stops before writing anything."""

    exit_status = ExitStatus.INTERRUPTED

    def __init__(self) -> None:
        super().__init__("interrupted; nothing was written.")


class CannotWrite(CasectlError):
    """The system refused a write (disk full, read-only, no permission); the file is as it was."""

    exit_status = ExitStatus.CANNOT_WRITE


# What the system said, in words, and what the person can do about it.
_WRITE_FAILURES = {
    errno.ENOSPC: ("the disk is full", "free some space and run the command again"),
    errno.EDQUOT: ("your disk quota is used up", "free some space and run the command again"),
    errno.EROFS: (
        "the disk is read-only",
        "mount it writable, or use a data folder on another disk",
    ),
    errno.EACCES: ("permission denied", "check who owns {folder} and that you may write in it"),
    errno.EPERM: ("the operation is not permitted", "check who owns {folder} and its permissions"),
    errno.EIO: ("the disk reported an input/output error", "check the disk before going on"),
}
WRITE_ERRNOS = frozenset(_WRITE_FAILURES)


def cannot_write(
    exc: OSError,
    path: Path | str | None = None,
    *,
    folder: Path | None = None,
    left: str = "the file was left as it was",
) -> CannotWrite | None:
    """The one-sentence error for a refused write of `path`, or None when `exc` is another kind.

    `folder` is where permissions are to be checked (the path's folder unless given); `left`
    says what became of what was there.
    """
    if exc.errno not in _WRITE_FAILURES:
        return None
    named = path if path is not None else exc.filename
    what, todo = _WRITE_FAILURES[exc.errno]
    if named is None:
        return CannotWrite(f"cannot write: {what}; {todo.format(folder='the folder')} ({left}).")
    where = Path(os.fsdecode(named))
    todo = todo.format(folder=folder or where.parent)
    return CannotWrite(f"cannot write {where}: {what}; {todo} ({left}).")


def read_only_file(path: Path) -> CannotWrite:
    """A file the user made read-only is theirs to unlock, never casectl's to replace."""
    return CannotWrite(
        f"{path} is read-only, so casectl leaves it as it is; "
        f"to change it, make it writable first: chmod 600 {path}"
    )
