"""Writing what a command produces to a file the user named (`-o FILE`): regular files only.

`write_atomic` renames a finished temporary file over the name, so a reader never sees half a
file; but a rename replaces whatever has the name. A link, a device, a named pipe or a folder
at that name is refused with a sentence saying what it is: casectl never follows a link there
and never turns /dev/something into a care plan. (The rename itself does not follow a link
either, so a link put there after the check is replaced, not written through.)
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from casectl.errors import CaseNotFound, InvalidInput, UnsafePath
from casectl.store.store import write_atomic

_KINDS = (
    (stat.S_ISLNK, "a symbolic link (casectl does not write through links)"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_output_path(path: Path, option: str = "-o") -> None:
    """Refuse a name that is there and is not a regular file (UnsafePath, exit 9)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InvalidInput(f"{option} {path}: cannot be written ({exc.strerror}).") from None
    for test, kind in _KINDS:
        if test(mode):
            raise UnsafePath(
                f"{option} {path} is {kind}, not a regular file; casectl writes only regular "
                "files: give another name."
            )


def write_output_file(path: Path, data: str | bytes | Iterable[str], option: str = "-o") -> None:
    """Write `data` to `path` atomically (mode 0600), as a regular file and nothing else."""
    check_output_path(path, option)
    try:
        write_atomic(path, data)
    except FileNotFoundError:
        raise CaseNotFound(
            f"{option} {path}: there is no folder {path.parent}; create it first."
        ) from None
    except OSError as exc:
        raise InvalidInput(f"{option} {path}: cannot be written ({exc.strerror}).") from None
