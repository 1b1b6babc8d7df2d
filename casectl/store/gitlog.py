"""Git in the data directory: `init --git`, the audit trail of every write, and `history`.

casectl runs git only as `git -C DATA_DIR`, with GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE taken
out of its environment, and only after checking that the data directory is the top level of its
own repository (`git rev-parse --show-toplevel`). A data folder that sits inside some other
repository (a home directory kept in git, a project checkout) is refused: casectl never commits
to, or reads the log of, a repository it was not given.

A write commits that case's file and nothing else: `git add -- FILE`, then `git commit -- FILE`,
which commits only that path and leaves whatever else the user has staged staged. The message
is `STAGE CASE-ID: summary`, with `Case-Id:` and `Stage:` trailers that `history` reads back.
Commits are serialised by one data-folder lock (`.locks/git.lock`): git allows one writer of its
index at a time, and twenty writers at once would otherwise lose most of their commits to
git's `index.lock`.

A write is refused while the repository is in the middle of a rebase, merge, cherry-pick,
revert or bisect, or has a detached HEAD: the file would land on a commit that the end of the
operation throws away. `refuse_if_busy` says which command finishes it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from casectl.errors import CasectlError, ExternalToolError, InvalidInput
from casectl.models.case import STAGE_SECTIONS, Case
from casectl.store.gitstate import (
    _stale_lock_message,
    git_dir,
)
from casectl.store.lock import locked
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


# --- is the repository in a state a write may land in? (casectl.store.gitstate) ---

INDEX_WAIT_SECONDS = 5.0  # how long a commit waits for someone else's git command
GIT_LOCK = "git"  # the data-folder lock every commit takes, under .locks/


def _wait_for_index(data_dir: Path) -> None:
    """Wait a bounded time while someone else's git command holds the index."""
    repo = git_dir(data_dir)
    if repo is None:
        return
    deadline = time.monotonic() + INDEX_WAIT_SECONDS
    while (repo / "index.lock").exists():
        if time.monotonic() >= deadline:
            raise ExternalToolError(_stale_lock_message(data_dir, repo / "index.lock"))
        time.sleep(0.05)


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
                from casectl.models.timeline import timeline

                fresh = [e for e in timeline(after) if e.stage == stage]
                summary = fresh[-1].summary if fresh else stage
            return ChangeNote(stage, _one_line(summary), record.recorded_by)
    if after.case_manager != before.case_manager:
        change = after.status_history[-1] if after.status_history else None
        reason = f": {change.reason}" if change else ""
        return ChangeNote(
            "transfer",
            _one_line(f"to {after.case_manager}{reason}"),
            change.recorded_by if change else None,
        )
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
    message = (
        f"{note.stage} {case_id}: {note.summary}\n\n"
        f"{TRAILER_CASE}: {case_id}\n{TRAILER_STAGE}: {note.stage}\n"
    )
    with locked(data_dir, GIT_LOCK):
        return _commit_paths(data_dir, [path.name], message, fallback_author=fallback_author)


def _identity(data_dir: Path, fallback_author: str) -> list[str]:
    identity: list[str] = []
    if not _configured(data_dir, "user.name"):
        identity += ["-c", f"user.name={fallback_author}"]
    if not _configured(data_dir, "user.email"):
        identity += ["-c", f"user.email={FALLBACK_EMAIL}"]
    return identity


def _commit_paths(
    data_dir: Path, names: Sequence[str], message: str, *, fallback_author: str
) -> str | None:
    """Stage and commit just these paths (the caller holds GIT_LOCK); the commit or None."""
    _wait_for_index(data_dir)
    run_git(data_dir, "add", "--", *names)
    staged = _run(data_dir, ["diff", "--cached", "--quiet", "--", *names])
    if staged.returncode == 0:
        return None  # the files are as committed: nothing to record
    identity = _identity(data_dir, fallback_author)
    run_git(data_dir, *identity, "commit", "-q", "--no-edit", "-m", message, "--", *names)
    return run_git(data_dir, "rev-parse", "HEAD").strip()


def commit_or_warn(
    data_dir: Path, path: Path, case_id: str, note: ChangeNote, *, fallback_author: str
) -> str | None:
    """Commit a write that has already happened; None, or the warning to show if git failed.

    The write stands either way: the case file is the record, the commit its audit trail.
    """
    try:
        commit_case_file(data_dir, path, case_id, note, fallback_author=fallback_author)
    except CasectlError as exc:  # git failed, or the commit lock was not free in time
        return (
            f"casectl: warning: {case_id} was saved but has no commit of its own: "
            f"{exc.message.rstrip('.')}. Commit it yourself: git -C {shlex.quote(str(data_dir))} commit -m "
            f"{shlex.quote(f'{note.stage} {case_id}')} -- {shlex.quote(path.name)}"
        )
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


# --- a team folder: setting up a clone ---

ATTRIBUTES_NAME = ".gitattributes"
MERGE_DRIVER = "casectl"
MERGE_LINE = f"/*{CASE_SUFFIX} merge={MERGE_DRIVER}"
GITATTRIBUTES = f"""\
# casectl: case files merge record by record (`casectl merge-file`), not line by line.
# The command git runs is set per clone, in .git/config: `casectl git setup` sets it.
{MERGE_LINE}
"""
ID_TAG_KEY = "casectl.idtag"
ID_TAG = re.compile(r"^[A-Z][A-Z0-9]{0,5}$")


def driver_command() -> str:
    """The merge-driver command line for this clone: this casectl, by its interpreter's path,
    so that git finds it whether or not a virtual environment is active."""
    return f"{shlex.quote(sys.executable)} -m casectl merge-file %O %A %B %P"


def git_config(data_dir: Path, key: str) -> str | None:
    """A value from the repository's git config (any level), or None."""
    done = _run(data_dir, ["config", "--get", key])
    value = done.stdout.strip()
    return value if done.returncode == 0 and value else None


def id_tag(data_dir: Path) -> str | None:
    """This clone's case-id tag (`git config casectl.idtag`), when the folder is a repository."""
    if git_dir(data_dir) is None or shutil.which("git") is None:
        return None
    value = git_config(data_dir, ID_TAG_KEY)
    return value.upper() if value and ID_TAG.match(value.upper()) else None


def check_id_tag(tag: str) -> str:
    """A case-id tag as given, upper-cased; InvalidInput when it cannot be part of an id."""
    upper = tag.strip().upper()
    if not ID_TAG.match(upper):
        raise InvalidInput(
            f"the id tag {tag!r} must be 1 to 6 letters or digits, starting with a letter "
            "(your initials, for example)"
        )
    return upper


def suggested_id_tag(data_dir: Path, fallback: str) -> str:
    """Initials of git's user.name (else of `fallback`): what a colleague would recognise."""
    name = git_config(data_dir, "user.name") or fallback
    initials = "".join(w[0] for w in re.findall(r"[A-Za-z][A-Za-z]*", name)).upper()[:3]
    return initials if initials and ID_TAG.match(initials) else "X"


def attributes_ok(data_dir: Path) -> bool:
    """True when .gitattributes routes case files to casectl's merge driver."""
    try:
        lines = (data_dir / ATTRIBUTES_NAME).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    return MERGE_LINE in (line.strip() for line in lines)


def setup_problems(data_dir: Path) -> list[str]:
    """What this clone lacks for merging case files: an empty list when it is ready."""
    missing: list[str] = []
    if not attributes_ok(data_dir):
        missing.append(f"{ATTRIBUTES_NAME} does not send case files to the casectl merge driver")
    configured = git_config(data_dir, f"merge.{MERGE_DRIVER}.driver")
    if configured is None:
        missing.append(f"git config merge.{MERGE_DRIVER}.driver is not set in this clone")
    else:
        program = shlex.split(configured)[0] if configured.strip() else ""
        if not program or (shutil.which(program) is None and not Path(program).exists()):
            missing.append(
                f"git config merge.{MERGE_DRIVER}.driver names {program or 'nothing'}, "
                "which is not there"
            )
    if id_tag(data_dir) is None:
        missing.append(f"this clone has no case-id tag (git config {ID_TAG_KEY})")
    return missing


def setup_clone(data_dir: Path, *, tag: str | None, fallback_author: str) -> list[str]:
    """Make this clone merge case files with casectl and give it a case-id tag; what was done.

    Idempotent: run in every clone (the driver and the tag live in .git/config, which git
    never shares), and again whenever the casectl installation moves.
    """
    own_repository(data_dir, hint="install it to work as a team")
    done: list[str] = []
    os.chmod(data_dir, 0o700)  # a fresh `git clone` follows the umask
    for path in data_dir.glob(f"*{CASE_SUFFIX}"):
        if path.is_file() and not path.is_symlink():
            os.chmod(path, 0o600)
    if not attributes_ok(data_dir):
        path = data_dir / ATTRIBUTES_NAME
        try:
            old = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            old = ""
        except (OSError, UnicodeDecodeError) as exc:
            raise ExternalToolError(f"{path} cannot be read ({exc}); fix or remove it.") from None
        text = (old if not old or old.endswith("\n") else old + "\n") + GITATTRIBUTES
        from casectl.store.store import write_atomic

        write_atomic(path, text)
        done.append(f"wrote {path}: case files merge with casectl")
    command = driver_command()
    if git_config(data_dir, f"merge.{MERGE_DRIVER}.driver") != command:
        run_git(data_dir, "config", f"merge.{MERGE_DRIVER}.name", "casectl case files")
        run_git(data_dir, "config", f"merge.{MERGE_DRIVER}.driver", command)
        done.append(
            f"set git config merge.{MERGE_DRIVER}.driver (for this clone only) to: {command}"
        )
    current = id_tag(data_dir)
    wanted = check_id_tag(tag) if tag else None
    if (wanted is not None and wanted != current) or current is None:
        chosen = wanted or suggested_id_tag(data_dir, fallback_author)
        run_git(data_dir, "config", ID_TAG_KEY, chosen)
        done.append(f"new case ids from this clone look like C-YEAR-{chosen}-0001 ({ID_TAG_KEY})")
    return done


def commit_files(
    data_dir: Path, names: Sequence[str], message: str, *, fallback_author: str
) -> str | None:
    """Commit these files of the data folder (under the commit lock); the commit or None."""
    with locked(data_dir, GIT_LOCK):
        return _commit_paths(data_dir, list(names), message, fallback_author=fallback_author)


def tracked(data_dir: Path, names: Sequence[str]) -> set[str]:
    """Which of these names git tracks in the data folder."""
    out = run_git(data_dir, "ls-files", "-z", "--", *names)
    return {n for n in out.split("\0") if n}


INIT_FILES = (".gitignore", ATTRIBUTES_NAME)


def init_repository(data_dir: Path, *, tag: str | None, fallback_author: str) -> list[str]:
    """`init --git`: a repository of the data folder's own, its config, .gitignore and
    .gitattributes committed, commits turned on, this clone set up; what was done.

    Verified before it returns: a half-made repository raises ExternalToolError, so `init`
    never reports ready when it is not.
    """
    from casectl.config import CONFIG_NAME, load_config, with_git_commits
    from casectl.store.store import write_atomic

    done: list[str] = []
    if git_dir(data_dir) is None:
        run_git(data_dir, "init", "-q")
        done.append(f"made {data_dir} a git repository")
    own_repository(data_dir)
    config = data_dir / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    if with_git_commits(text) != text:
        write_atomic(config, with_git_commits(text))
        done.append(f"turned on [git] commit in {config}: every write is one commit")
    done += setup_clone(data_dir, tag=tag, fallback_author=fallback_author)
    names = [CONFIG_NAME, *INIT_FILES]
    commit_files(
        data_dir,
        names,
        "init: casectl data folder\n\nStage: init\n",
        fallback_author=fallback_author,
    )
    # Verify what `init` is about to report.
    untracked = set(names) - tracked(data_dir, names)
    if untracked:
        raise ExternalToolError(
            f"git did not take {', '.join(sorted(untracked))} in {data_dir}; "
            f"see `git -C {shlex.quote(str(data_dir))} status`."
        )
    if not load_config(data_dir).git.commit:
        raise ExternalToolError(f"{config} still has commits off; set `commit = true` under [git].")
    missing = setup_problems(data_dir)
    if missing:
        raise ExternalToolError(f"the git setup of {data_dir} is incomplete: {missing[0]}.")
    return done
