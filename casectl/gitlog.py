"""Git in the data directory: `init --git`, and never a git command outside it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from casectl.errors import ExternalToolError


def _git() -> str:
    found = shutil.which("git")
    if found is None:
        raise ExternalToolError("git is not installed; install it or leave out --git.")
    return found


def run_git(data_dir: Path, *args: str) -> str:
    """Run git with the data directory as its work tree and repository."""
    try:
        done = subprocess.run(
            [_git(), "-C", str(data_dir), *args],
            capture_output=True,
            text=True,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        first = (exc.stderr or "").strip().splitlines()
        raise ExternalToolError(
            f"git {args[0]} failed in {data_dir}: {first[0] if first else exc.returncode}"
        ) from None
    return done.stdout


def git_init(data_dir: Path) -> None:
    """Make the data directory a git repository of its own."""
    run_git(data_dir, "init", "-q")
