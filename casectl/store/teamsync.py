"""`casectl sync`: share a caseload through a git remote, and `merge-file`, git's merge driver.

sync, in order: refuse if the repository is mid-way through something; make sure this clone
merges case files with casectl; commit the case files changed by hand, only if each is valid
(nothing half-written or conflicted is ever committed); fetch; merge what came in (case files
through the casectl driver, record by record); check every case file the merge touched; push.
Each failure says what happened and what to do: offline, a refused push, a true conflict.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from casectl.errors import (
    CasectlError,
    ExternalToolError,
    InvalidCaseFile,
    MergeConflict,
    Problem,
    RemoteError,
)
from casectl.store import gitlog, yamlio
from casectl.store.gitstate import git_dir, refuse_if_busy
from casectl.store.lock import locked
from casectl.store.merge import MergeResult, conflict_lines, merge_case
from casectl.store.paths import CASE_SUFFIX
from casectl.store.store import DIR_MODE, FILE_MODE, CaseStore, loose_permissions

_OFFLINE = re.compile(
    r"could not resolve|unable to access|could not read from remote|connection (refused|timed out)"
    r"|does not appear to be a git repository|network is unreachable|no route to host"
    r"|repository .* not found|permission denied",
    re.I,
)


@dataclass
class SyncReport:
    """What a sync did (or, with dry_run, would do)."""

    remote: str
    branch: str
    setup: list[str] = field(default_factory=list)
    committed: list[str] = field(default_factory=list)  # case files committed before merging
    received: int = 0  # commits that came in
    changed_cases: list[str] = field(default_factory=list)  # case files the merge changed
    both_sides: list[str] = field(default_factory=list)  # case files changed here and there
    sent: int = 0  # commits pushed
    notes: list[str] = field(default_factory=list)  # renamed ids, files left alone
    dry_run: bool = False
    seconds: dict[str, float] = field(default_factory=dict)


def _git(root: Path, *args: str) -> str:
    return gitlog.run_git(root, *args, hint="install it to work as a team")


def _try(root: Path, *args: str) -> tuple[int, str, str]:
    done = gitlog._run(root, args, hint="install it to work as a team")
    return done.returncode, done.stdout, done.stderr


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith(("fatal", "error", "!"))]
    return (errors or lines or ["no message"])[0]


def _upstream(root: Path) -> tuple[str, str]:
    """(remote, branch on it) this clone syncs with: the branch's upstream, else origin/<branch>."""
    code, out, _ = _try(root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}")
    if code == 0 and "/" in out.strip():
        remote, branch = out.strip().split("/", 1)
        return remote, branch
    remotes = _git(root, "remote").split()
    if not remotes:
        raise RemoteError(
            f"{root} has no git remote to share with; add the team's one: "
            f"git -C {root} remote add origin URL (see README, 'Working as a team')."
        )
    code, out, _ = _try(root, "symbolic-ref", "--short", "-q", "HEAD")
    branch = out.strip() if code == 0 and out.strip() else "main"
    return ("origin" if "origin" in remotes else remotes[0]), branch


def _changed_case_files(root: Path) -> tuple[list[str], list[str]]:
    """Case files with uncommitted changes (or new), and the other changed files."""
    out = _git(root, "status", "--porcelain", "-z", "--untracked-files=all")
    cases: list[str] = []
    others: list[str] = []
    entries = out.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        status, name = entry[:2], entry[3:]
        if status[0] in "RC":
            i += 1  # the old name of a rename follows
        if "/" not in name and name.endswith(CASE_SUFFIX) and not name.startswith("."):
            cases.append(name)
        elif name not in ("config.toml", gitlog.ATTRIBUTES_NAME, ".gitignore"):
            others.append(name)
        else:
            cases.append(name)  # casectl's own files travel with the cases
    return cases, others


def _validate_files(store: CaseStore, names: list[str]) -> list[Problem]:
    from casectl.store.checking import check_cases

    ids = [n.removesuffix(CASE_SUFFIX) for n in names if n.endswith(CASE_SUFFIX)]
    present = [i for i in ids if (store.root / f"{i}{CASE_SUFFIX}").exists()]
    if not present:
        return []
    problems, _ = check_cases(store, present)
    return problems


def sync(
    store: CaseStore,
    *,
    dry_run: bool = False,
    who: str,
    tag: str | None = None,
) -> SyncReport:
    """Commit, pull (merging case files record by record), check and push; what happened."""
    root = store.root
    store.require()
    gitlog.own_repository(root, hint="install it to work as a team")
    refuse_if_busy(root)
    remote, branch = _upstream(root)
    report = SyncReport(remote=remote, branch=branch, dry_run=dry_run)
    clock = time.perf_counter()

    missing = gitlog.setup_problems(root)
    if missing and not dry_run:
        report.setup = gitlog.setup_clone(root, tag=tag, fallback_author=who)
    elif missing:
        report.setup = [f"would fix: {m}" for m in missing]

    # 1. Commit what was changed by hand, when it is whole and valid.
    changed, others = _changed_case_files(root)
    if others:
        report.notes.append(f"left uncommitted (not case files): {', '.join(sorted(others)[:5])}")
    problems = _validate_files(store, changed)
    if problems:
        raise InvalidCaseFile(
            problems,
            hint=" — fix it first (nothing was committed, pulled or pushed); "
            "`casectl check` lists every problem",
        )
    if changed and not dry_run:
        gitlog.commit_files(
            root,
            changed,
            f"edit: {len(changed)} file(s) changed by hand, committed by sync\n\nStage: edit\n",
            fallback_author=who,
        )
    report.committed = changed
    report.seconds["commit"] = time.perf_counter() - clock

    # 2. Fetch.
    clock = time.perf_counter()
    code, _, err = _try(root, "fetch", "--quiet", remote)
    if code != 0:
        url = _try(root, "remote", "get-url", remote)[1].strip()
        raise RemoteError(
            f"cannot reach the shared remote {remote} ({url or 'no URL'}): {_first_line(err)}. "
            "Your work is saved and committed here; run `casectl sync` again when the "
            "remote can be reached."
        )
    report.seconds["fetch"] = time.perf_counter() - clock
    upstream = f"{remote}/{branch}"
    has_upstream = _try(root, "rev-parse", "-q", "--verify", f"refs/remotes/{upstream}")[0] == 0
    has_head = _try(root, "rev-parse", "-q", "--verify", "HEAD")[0] == 0

    # 3. Merge.
    clock = time.perf_counter()
    if has_upstream and has_head:
        report.received = int(_git(root, "rev-list", "--count", f"HEAD..{upstream}").strip())
        if report.received:
            base = _git(root, "merge-base", "HEAD", upstream).strip()
            theirs = set(_git(root, "diff", "--name-only", base, upstream).split())
            ours = set(_git(root, "diff", "--name-only", base, "HEAD").split())
            report.both_sides = sorted(n for n in theirs & ours if n.endswith(CASE_SUFFIX))
            report.changed_cases = sorted(n for n in theirs if n.endswith(CASE_SUFFIX))
            if not dry_run:
                _merge(root, upstream, report, who)
    elif has_upstream and not dry_run:
        _git(root, "merge", "--quiet", "--ff-only", upstream)
        _private(root)
        report.received = int(_git(root, "rev-list", "--count", "HEAD").strip())
    report.seconds["merge"] = time.perf_counter() - clock

    # 4. Check what the merge touched.
    clock = time.perf_counter()
    if report.changed_cases and not dry_run:
        problems = _validate_files(store, report.changed_cases)
        if problems:
            raise InvalidCaseFile(
                problems,
                hint=" — after the merge; nothing was pushed. Fix it, commit, and sync again",
            )
    report.seconds["check"] = time.perf_counter() - clock

    # 5. Push.
    clock = time.perf_counter()
    if has_head or report.received:
        ahead_of = f"{upstream}..HEAD" if has_upstream else "HEAD"
        report.sent = int(_git(root, "rev-list", "--count", ahead_of).strip())
        if report.sent and not dry_run:
            args = ["push", "--quiet", "--porcelain", remote, f"HEAD:refs/heads/{branch}"]
            if not has_upstream:
                args.insert(1, "--set-upstream")
            code, out, err = _try(root, *args)
            if code != 0:
                said = out + err
                if "non-fast-forward" in said or "fetch first" in said:
                    raise RemoteError(
                        f"{remote} refused the push because someone pushed while this sync ran. "
                        "Your work is committed here; run `casectl sync` again to merge theirs "
                        "and send yours."
                    )
                reason = re.search(r"\[remote rejected\][^(]*\((.*)\)", said)
                raise RemoteError(
                    f"{remote} refused the push"
                    + (f" ({reason.group(1)})" if reason else f": {_first_line(said)}")
                    + ". Your work is committed here; ask whoever keeps the shared repository "
                    "(a protected branch, your access), then run `casectl sync` again."
                )
    report.seconds["push"] = time.perf_counter() - clock
    return report


def _private(root: Path) -> None:
    """Files git wrote keep casectl's modes: case files 0600, the folder 0700 (git follows the
    umask, which is usually 022)."""
    os.chmod(root, DIR_MODE)
    for path in root.glob(f"*{CASE_SUFFIX}"):
        if path.is_file() and not path.is_symlink() and loose_permissions(path):
            os.chmod(path, FILE_MODE)
    for name in ("config.toml", gitlog.ATTRIBUTES_NAME, ".gitignore"):
        if (root / name).is_file() and loose_permissions(root / name):
            os.chmod(root / name, FILE_MODE)


def _merge(root: Path, upstream: str, report: SyncReport, who: str) -> None:
    identity = gitlog._identity(root, who)
    with locked(root, gitlog.GIT_LOCK):
        code, out, err = _try(
            root,
            *identity,
            "merge",
            "--no-edit",
            "-m",
            f"sync: merge {upstream}\n\nStage: sync\n",
            upstream,
        )
    _private(root)
    report.notes += [
        line.removeprefix("casectl: ")
        for line in (out + err).splitlines()
        if line.startswith("casectl: ") and "renamed" in line
    ]
    if code == 0:
        return
    conflicted = _git(root, "diff", "--name-only", "--diff-filter=U").split()
    if not conflicted:
        _try(root, "merge", "--abort")
        raise ExternalToolError(
            f"git could not merge {upstream}: {_first_line(err or out)}. Nothing was changed; "
            "commit or put aside the files it names, then run `casectl sync` again."
        )
    where: list[str] = []
    store = CaseStore(root)
    for name in conflicted:
        try:
            text = store.read_bytes(root / name).decode("utf-8", errors="replace")
        except (CasectlError, OSError):
            text = ""
        lines = conflict_lines(text)
        where.append(f"{root / name}:{lines[0]}" if lines else str(root / name))
    raise MergeConflict(
        f"two people changed the same field: {len(conflicted)} file(s) have a conflict "
        f"({', '.join(where[:3])}{' …' if len(where) > 3 else ''}). In each, keep one side, "
        "delete the <<<<<<< ======= >>>>>>> lines, `git add` the file, then `git commit` "
        "and `casectl sync` again (`casectl check` lists every conflict; "
        "`git merge --abort` undoes the merge)."
    )


# --- the merge driver ---


def merge_files(
    base: Path, ours: Path, theirs: Path, name: str, *, today: dt.date, repo: Path
) -> tuple[MergeResult | None, str]:
    """What `casectl merge-file %O %A %B %P` does: merge into `ours` (git's %A) in place.

    Returns the merge (None when a side is not a case file casectl can read, and git's own
    line merge was used instead) and the name shown in messages.
    """
    texts = []
    for path in (base, ours, theirs):
        raw = path.read_bytes()
        texts.append(raw.decode("utf-8") if raw.strip() else None)
    base_text, ours_text, theirs_text = texts
    git_folder = git_dir(repo)
    # In a rebase the sides swap: "ours" is the shared branch, "theirs" the commit replayed.
    rebasing = git_folder is not None and (
        (git_folder / "rebase-merge").is_dir() or (git_folder / "rebase-apply").is_dir()
    )
    try:
        if ours_text is None or theirs_text is None:
            raise yamlio.YamlProblem("a side is empty")
        result = merge_case(
            base_text, ours_text, theirs_text, today=today, rename="theirs" if rebasing else "ours"
        )
    except Exception:  # whatever went wrong, git's line merge loses nothing
        return None, name
    from casectl.store.store import write_atomic

    write_atomic(ours, result.text)
    return result, name


def line_merge(base: Path, ours: Path, theirs: Path, root: Path) -> int:
    """git's own line merge of the three files, into `ours`; its exit status."""
    done = gitlog._run(
        root,
        [
            "merge-file",
            "-L",
            "ours",
            "-L",
            "base",
            "-L",
            "theirs",
            str(ours),
            str(base),
            str(theirs),
        ],
    )
    return done.returncode


__all__ = ["SyncReport", "line_merge", "merge_files", "sync"]
