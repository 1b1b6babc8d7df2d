"""Git in the data directory: `init --git`, the audit trail of every write, and `history`.

casectl runs git only as `git -C DATA_DIR`, with GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE taken
out of its environment, and only after checking that the data directory is the top level of its
own repository (`git rev-parse --show-toplevel`). A data folder that sits inside some other
repository (a home directory kept in git, a project checkout) is refused: casectl never commits
to, or reads the log of, a repository it was not given.

A write commits that case's file and nothing else: `git add -- FILE`, then `git commit -- FILE`,
which commits only that path and leaves whatever else the user has staged staged. The message
is `STAGE CASE-ID: summary`, with `Case-Id:` and `Stage:` trailers that `history` reads back.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from casectl.errors import ExternalToolError
from casectl.models.case import STAGE_SECTIONS, Case
from casectl.state import timeline
from casectl.store.paths import CASE_SUFFIX

TRAILER_CASE = "Case-Id"
TRAILER_STAGE = "Stage"
# The stage `history` shows for a commit without a Stage trailer: a hand edit, a merge.
HAND_EDIT = "edit"
# Used only when git has no user.email of its own; the name is then who recorded the change.
FALLBACK_EMAIL = "casectl@localhost"
# Variables that would point git at another repository or index than the data folder's.
_REDIRECTS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_NAMESPACE",
)
_SUMMARY_WIDTH = 72


def _git(hint: str = "install it or leave out --git") -> str:
    found = shutil.which("git")
    if found is None:
        raise ExternalToolError(f"git is not installed; {hint}.")
    return found


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTS}
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def _run(
    data_dir: Path, args: Sequence[str], *, hint: str = "install it or leave out --git"
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [_git(hint), "-C", str(data_dir), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=_env(),
            check=False,
        )
    except OSError as exc:
        raise ExternalToolError(f"git could not be run in {data_dir}: {exc.strerror}.") from None


def run_git(data_dir: Path, *args: str, hint: str = "install it or leave out --git") -> str:
    """Run git with the data directory as its work tree and repository; its output."""
    done = _run(data_dir, args, hint=hint)
    if done.returncode != 0:
        first = done.stderr.strip().splitlines()
        command = next((a for a in args if not a.startswith("-") and "=" not in a), "")
        raise ExternalToolError(
            f"git {command} failed in {data_dir}: {first[0] if first else done.returncode}"
        )
    return done.stdout


def git_init(data_dir: Path) -> None:
    """Make the data directory a git repository of its own."""
    run_git(data_dir, "init", "-q")


def own_repository(data_dir: Path, *, hint: str = "install it or set commit = false") -> Path:
    """The data directory when it is the top of its own git repository; ExternalToolError if not."""
    done = _run(data_dir, ["rev-parse", "--show-toplevel"], hint=hint)
    if done.returncode != 0:
        raise ExternalToolError(
            f"{data_dir} is not a git repository; run `git init` in it "
            "(or `casectl init --git`) to keep its history."
        )
    top = Path(done.stdout.strip())
    if top.resolve() != data_dir.resolve():
        raise ExternalToolError(
            f"{data_dir} is inside the git repository at {top} but is not its top level; "
            "casectl only uses a repository of the data folder's own (run `git init` in it)."
        )
    return data_dir


# --- the audit trail ---


@dataclass(frozen=True)
class ChangeNote:
    """What one write did, for its commit: the stage or command, one line, and who recorded it."""

    stage: str
    summary: str
    recorded_by: str | None = None


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _SUMMARY_WIDTH else line[: _SUMMARY_WIDTH - 1].rstrip() + "…"


_STATUS_COMMAND = {
    "closed": "close",
    "open": "reopen",
    "on-hold": "hold",
    "transferred": "transfer",
}


def describe_change(before: Case, after: Case) -> ChangeNote:
    """Name the step a write took (the newest section that grew, else the status change, else the
    people added) and summarise it in one line, in the words `show`'s timeline uses."""
    for stage, section in reversed(STAGE_SECTIONS.items()):
        old, new = getattr(before, section), getattr(after, section)
        if len(new) > len(old):
            record = new[-1]
            if stage == "follow-up":
                summary = f"{record.mode} contact with {', '.join(record.with_)}"
            else:
                fresh = [e for e in timeline(after) if e.stage == stage]
                summary = fresh[-1].summary if fresh else stage
            return ChangeNote(stage, _one_line(summary), record.recorded_by)
    if after.status != before.status or len(after.status_history) > len(before.status_history):
        change = after.status_history[-1] if after.status_history else None
        reason = f": {change.reason}" if change else ""
        return ChangeNote(
            _STATUS_COMMAND.get(after.status, "status"),
            _one_line(f"now {after.status}{reason}"),
            change.recorded_by if change else None,
        )
    if len(after.family) > len(before.family):
        member = after.family[-1]
        who = (
            member.id if member.id == member.relationship else f"{member.relationship} {member.id}"
        )
        return ChangeNote("family", _one_line(f"added {who}"))
    if len(after.care_team) > len(before.care_team):
        team = after.care_team[-1]
        who = team.id if team.id == team.role else f"{team.role} {team.id}"
        return ChangeNote("team", _one_line(f"added {who}"))
    if len(after.consents) > len(before.consents):
        consent = after.consents[-1]
        return ChangeNote("consent", _one_line(f"{consent.kind} given by {consent.given_by}"))
    return ChangeNote(HAND_EDIT, "case file changed")


def _configured(data_dir: Path, key: str) -> bool:
    done = _run(data_dir, ["config", "--get", key])
    return done.returncode == 0 and bool(done.stdout.strip())


def commit_case_file(
    data_dir: Path, path: Path, case_id: str, note: ChangeNote, *, fallback_author: str
) -> str | None:
    """Commit this one case file with the note as message; the new commit, or None if unchanged.

    Author and committer are git's configured user; when git has none, `fallback_author` with
    casectl@localhost. Other staged changes are neither committed nor unstaged.
    """
    own_repository(data_dir)
    name = path.name
    run_git(data_dir, "add", "--", name)
    staged = _run(data_dir, ["diff", "--cached", "--quiet", "--", name])
    if staged.returncode == 0:
        return None  # the file is as committed: nothing to record
    identity: list[str] = []
    if not _configured(data_dir, "user.name"):
        identity += ["-c", f"user.name={fallback_author}"]
    if not _configured(data_dir, "user.email"):
        identity += ["-c", f"user.email={FALLBACK_EMAIL}"]
    message = (
        f"{note.stage} {case_id}: {note.summary}\n\n"
        f"{TRAILER_CASE}: {case_id}\n{TRAILER_STAGE}: {note.stage}\n"
    )
    run_git(data_dir, *identity, "commit", "-q", "--no-edit", "-m", message, "--", name)
    return run_git(data_dir, "rev-parse", "HEAD").strip()


def commit_or_warn(
    data_dir: Path, path: Path, case_id: str, note: ChangeNote, *, fallback_author: str
) -> str | None:
    """Commit a write that has already happened; None, or the warning to show if git failed.

    The write stands either way: the case file is the record, the commit its audit trail.
    """
    try:
        commit_case_file(data_dir, path, case_id, note, fallback_author=fallback_author)
    except ExternalToolError as exc:
        return f"casectl: warning: {case_id} was saved but not committed to git: {exc.message}"
    return None


# --- history ---


@dataclass(frozen=True)
class Change:
    """One commit that touched a case file, as `history` shows it."""

    commit: str
    date: str
    author: str
    stage: str
    summary: str
    diff: str | None = None


# The JSON fields of `casectl history --format json`: a contract, add to the end only.
HISTORY_FIELDS = ["commit", "date", "author", "stage", "summary", "diff"]

_RS, _US = "\x1e", "\x1f"
_LOG_FORMAT = (
    f"{_RS}%H{_US}%aI{_US}%an{_US}%(trailers:key={TRAILER_STAGE},valueonly,separator=%x2C){_US}%s"
)
_HISTORY_HINT = "install git to see a case's history"


def file_history(data_dir: Path, path: Path, *, with_diff: bool = False) -> list[Change]:
    """Every commit that changed this file in the data folder's own repository, newest first."""
    own_repository(data_dir, hint=_HISTORY_HINT)
    if _run(data_dir, ["rev-parse", "--verify", "-q", "HEAD"], hint=_HISTORY_HINT).returncode:
        return []  # a repository with no commits yet
    args = [
        "-c",
        "core.quotepath=off",
        "log",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--no-show-signature",
        f"--format={_LOG_FORMAT}",
    ]
    if with_diff:
        args.append("-p")
    out = run_git(data_dir, *args, "--", path.name, hint=_HISTORY_HINT)
    case_id = path.name.removesuffix(CASE_SUFFIX)
    changes: list[Change] = []
    for chunk in out.split(_RS)[1:]:
        head, _, patch = chunk.partition("\n")
        commit, date, author, stage, subject = head.split(_US, 4)
        stage = stage.strip() or HAND_EDIT
        # casectl's subjects repeat the stage and case id that the other columns show.
        summary = re.sub(rf"^{re.escape(stage)} {re.escape(case_id)}: ", "", subject)
        changes.append(
            Change(
                commit=commit,
                date=date,
                author=author,
                stage=stage,
                summary=summary,
                diff=patch.strip("\n") + "\n" if with_diff else None,
            )
        )
    return changes
