"""Is the data folder's git repository in a state a write may land in? File checks only.

Every write asks this first (`refuse_if_busy`), so it starts no process and imports nothing
heavy: a few `stat` calls in a folder that is a repository, one in a folder that is not.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

from casectl.errors import GitBusy

# An index.lock older than this was left by a git command that stopped (killed, crashed, a
# machine that lost power): git itself never removes it. A younger one is a git command at work.
STALE_INDEX_LOCK_SECONDS = 60.0


def git_dir(data_dir: Path) -> Path | None:
    """The repository folder of a data folder that is a repository of its own, else None.

    Read from the file system, without running git: every write asks this first.
    """
    dot_git = data_dir / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():  # a linked worktree or submodule: "gitdir: PATH"
        try:
            first = dot_git.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, UnicodeDecodeError, IndexError):
            return None
        if first.startswith("gitdir:"):
            target = Path(first.removeprefix("gitdir:").strip())
            return target if target.is_absolute() else (data_dir / target).resolve()
    return None


def _finish(verb: str) -> str:
    return f"`git {verb} --continue` once it is done, or undo it with `git {verb} --abort`"


def operation_in_progress(repo: Path) -> tuple[str, str] | None:
    """(what is under way, how to finish it) when a write now would be lost or misplaced."""
    if (repo / "rebase-merge").is_dir() or (repo / "rebase-apply" / "rebasing").exists():
        return "a git rebase", _finish("rebase")
    if (repo / "rebase-apply").is_dir():
        return "a `git am`", _finish("am")
    if (repo / "MERGE_HEAD").exists():
        return (
            "a git merge",
            "resolve it (`casectl check` names each conflict), then `git add` the files and "
            "`git commit`; or undo it with `git merge --abort`",
        )
    if (repo / "CHERRY_PICK_HEAD").exists():
        return "a git cherry-pick", _finish("cherry-pick")
    if (repo / "REVERT_HEAD").exists():
        return "a git revert", _finish("revert")
    if (repo / "BISECT_LOG").exists():
        return "a git bisect", "end it with `git bisect reset`"
    try:
        head = (repo / "HEAD").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if head and not head.startswith("ref:"):
        return (
            "a detached HEAD (an old version is checked out)",
            "go back to your branch with `git switch -` (or `git switch main`)",
        )
    return None


def stale_index_lock(repo: Path, *, older_than: float = STALE_INDEX_LOCK_SECONDS) -> Path | None:
    """git's index.lock when it has been there longer than any live git command keeps it."""
    lock = repo / "index.lock"
    try:
        age = time.time() - lock.stat().st_mtime
    except OSError:
        return None
    return lock if age >= older_than else None


def _stale_lock_message(data_dir: Path, lock: Path) -> str:
    return (
        f"git's lock file {lock} was left by a git command that stopped; if no git command is "
        f"running in {data_dir}, remove it (rm {shlex.quote(str(lock))}) and try again."
    )


def refuse_if_busy(data_dir: Path) -> None:
    """Refuse a write (GitBusy) while the data folder's repository is mid-operation.

    Only file-system checks: no git process is started, so a write in a folder without git,
    or in one that is not mid-way through anything, pays a few stat calls.
    """
    repo = git_dir(data_dir)
    if repo is None:
        return
    busy = operation_in_progress(repo)
    if busy is not None:
        what, finish = busy
        raise GitBusy(
            f"{what} is in progress in {data_dir}; nothing was written, since a change made now "
            f"would be lost when it ends. Finish it first: {finish}."
        )
    lock = stale_index_lock(repo)
    if lock is not None:
        raise GitBusy(_stale_lock_message(data_dir, lock) + " Nothing was written.")


__all__ = ["git_dir", "operation_in_progress", "refuse_if_busy", "stale_index_lock"]
