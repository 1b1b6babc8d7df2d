"""Editing a case file by hand (`casectl edit`): under the case's lock, from a private draft.

The case is read inside its lock and the lock is held while the editor runs, so a stage
command run meanwhile waits for the edit (up to CASECTL_LOCK_TIMEOUT) instead of being
overwritten by it. Before the edited text replaces the file, the file is read again: if it
changed anyway (a writer that takes no lock: another editor, `git checkout`), the edit is
refused and the draft kept, so nothing is lost either way.

Drafts live in `.casectl/drafts/` inside the data folder (0700; a `.gitignore` in `.casectl/`
keeps git away), created exclusively and without following links (O_CREAT | O_EXCL |
O_NOFOLLOW, 0600), named CASE.PID.yaml. A draft whose process is gone, or any draft older than
DRAFT_MAX_AGE, is removed by the next edit.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from casectl.errors import CasectlError, CaseNotFound, ExitStatus, InvalidCaseFile
from casectl.store.lock import locked

if TYPE_CHECKING:
    from casectl.store.store import CaseStore

PRIVATE_DIR = ".casectl"
DRAFT_DIR = f"{PRIVATE_DIR}/drafts"
DRAFT_MAX_AGE = 12 * 60 * 60  # seconds: no edit session is still open after that
# Where casectl 0.1 put the draft (in the data folder itself); removed once old enough.
LEGACY_DRAFT_GLOB = ".casectl-edit-*.yaml"


class Outcome(StrEnum):
    unchanged = "unchanged"
    saved = "saved"
    discarded = "discarded"


@dataclass
class EditResult:
    outcome: Outcome
    path: Path


class ChangedWhileEditing(CasectlError):
    """The case file changed on disk, outside casectl's lock, while it was being edited."""

    exit_status = ExitStatus.LOCKED


def draft_folder(root: Path) -> Path:
    """`.casectl/drafts` in the data folder, made private (0700) and ignored by git."""
    private = root / PRIVATE_DIR
    folder = root / DRAFT_DIR
    for path in (private, folder):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
        if path.is_symlink() or not path.is_dir():
            from casectl.errors import UnsafePath

            raise UnsafePath(
                f"{path} is not a folder casectl made (a link or a file); remove it and try again."
            )
        os.chmod(path, 0o700)
    ignore = private / ".gitignore"
    if not ignore.exists() and not ignore.is_symlink():
        with contextlib.suppress(FileExistsError):
            fd = os.open(ignore, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(
                    "# casectl's private files (edit drafts): never part of the record.\n*\n"
                )
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_drafts(root: Path, *, now: float | None = None) -> list[Path]:
    """Remove drafts left by killed edits: their process is gone, or they are older than
    DRAFT_MAX_AGE. Returns what was removed."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    candidates = list((root / DRAFT_DIR).glob("*.yaml")) + list(root.glob(LEGACY_DRAFT_GLOB))
    for draft in candidates:
        try:
            age = now - draft.lstat().st_mtime
            pid_text = draft.name.rsplit(".", 2)[-2] if draft.parent.name == "drafts" else ""
            gone = pid_text.isdigit() and not _alive(int(pid_text))
            if gone or age > DRAFT_MAX_AGE:
                draft.unlink()
                removed.append(draft)
        except (OSError, IndexError):
            pass  # gone already, or not ours: the next edit tries again
    return removed


def _create_draft(folder: Path, case_id: str, text: bytes) -> Path:
    """A new draft file holding `text`: exclusive, never through a link, 0600."""
    draft = folder / f"{case_id}.{os.getpid()}.yaml"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(draft, flags, 0o600)
    except FileExistsError:
        # This pid's earlier draft (the process died and its pid came round again): stale.
        draft.unlink()
        fd = os.open(draft, flags, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(text)
    return draft


def edit_case(
    store: CaseStore,
    case_id: str,
    run_editor: Callable[[Path], None],
    *,
    again: Callable[[InvalidCaseFile], bool],
    saved: Callable[[Path], None] | None = None,
) -> EditResult:
    """Let a person edit the case file; replace it only with a valid edit.

    Under the case's lock: read the file, write the draft, `run_editor(draft)`, read the draft
    back. Unchanged: nothing is written. Invalid: `again(error)` says whether to edit again,
    else the edit is discarded. Valid: the file is replaced atomically, unless it changed on
    disk meanwhile (ChangedWhileEditing, with the draft kept). `saved(path)` runs after the
    write, still under the lock (the git commit).
    """
    from casectl.store.store import write_atomic

    store.require()
    path = store.path_for(case_id)
    folder = draft_folder(store.root)
    remove_stale_drafts(store.root)
    with locked(store.root, case_id):
        from casectl.store.gitstate import refuse_if_busy

        refuse_if_busy(store.root)  # mid-rebase or mid-merge, the edit would be lost
        # Read inside the lock, so what a stage write saved is in it. The file need not be
        # valid: editing is how a person mends one that `check` refuses.
        if not path.exists():
            raise CaseNotFound(
                f"no case {case_id} in {store.root}; `casectl list` shows the cases there."
            )
        original = store.read_bytes(path)
        draft = _create_draft(folder, case_id, original)
        keep_draft = False
        try:
            while True:
                run_editor(draft)
                edited = store.read_bytes(draft)
                if edited == original:
                    return EditResult(Outcome.unchanged, path)
                try:
                    store.parse(path, edited)
                except InvalidCaseFile as exc:
                    if again(exc):
                        continue
                    return EditResult(Outcome.discarded, path)
                if store.read_bytes(path) != original:
                    keep_draft = True
                    raise ChangedWhileEditing(
                        f"{path.name} changed on disk while you were editing it (not through "
                        "casectl, which waits for the edit: another editor, or git?), so your "
                        f"edit was not saved over that change. Your text is in {draft} until "
                        "the next `casectl edit`; edit again and copy in what you need."
                    )
                write_atomic(path, edited)
                if saved is not None:
                    saved(path)
                return EditResult(Outcome.saved, path)
        finally:
            if not keep_draft:
                draft.unlink(missing_ok=True)
