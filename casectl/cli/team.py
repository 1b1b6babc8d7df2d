"""Working as a team through a git remote: `sync`, `git setup`, and `merge-file` (git's driver)."""

from __future__ import annotations

from pathlib import Path

import typer

from casectl.cli.app import commands as app
from casectl.cli.common import echo_ok, recorder, store
from casectl.errors import ExitStatus

git_commands = typer.Typer(
    name="git",
    help="Set up git for a team folder.\n\nExample: casectl git setup --id-tag MR",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(git_commands, name="git")


@git_commands.command("setup")
def git_setup(
    ctx: typer.Context,
    id_tag: str | None = typer.Option(
        None,
        "--id-tag",
        help="This clone's tag in new case ids, C-YEAR-TAG-NNNN (default: your initials).",
    ),
) -> None:
    """Make this clone merge case files with casectl, and give its new case ids a tag.

    Run once in every clone of a shared data folder (git keeps the merge driver setting in
    each clone's .git/config, never in the repository), and again if casectl is reinstalled
    elsewhere. `sync` checks it every time.

    Example: git clone SERVER:caseload.git cases && casectl --data-dir cases git setup --id-tag MR
    """
    from casectl.store.gitlog import setup_clone, setup_problems

    cases = store(ctx)
    cases.require()
    done = setup_clone(cases.root, tag=id_tag, fallback_author=recorder(cases, None))
    for line in done or ["already set up: nothing to change"]:
        echo_ok(line)
    left = setup_problems(cases.root)
    if left:
        from casectl.errors import ExternalToolError

        raise ExternalToolError(f"the setup of {cases.root} is incomplete: {left[0]}.")
    if done and any(line.startswith("wrote") for line in done):
        echo_ok("commit .gitattributes so the whole team merges alike: casectl sync does it")


@app.command()
def sync(
    ctx: typer.Context,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Fetch and say what would be committed, merged and sent."
    ),
    id_tag: str | None = typer.Option(
        None, "--id-tag", help="If this clone is not set up yet: its case-id tag."
    ),
    timing: bool = typer.Option(False, "--timing", help="Print how long each step took."),
) -> None:
    """Share the caseload: commit hand edits that are valid, pull (merging case files record by
    record), check, push.

    Example: casectl sync
    """
    from casectl.store.teamsync import sync as run_sync

    cases = store(ctx)
    report = run_sync(cases, dry_run=dry_run, who=recorder(cases, None), tag=id_tag)
    would = "would " if dry_run else ""
    for line in report.setup:
        echo_ok(line)
    if report.committed:
        echo_ok(
            f"{would}commit {len(report.committed)} changed file(s): {_names(report.committed)}"
        )
    upstream = f"{report.remote}/{report.branch}"
    if report.received:
        merged = f"; {len(report.both_sides)} changed on both sides, merged record by record"
        echo_ok(
            f"{would}receive {report.received} commit(s) from {upstream}: "
            f"{len(report.changed_cases)} case file(s)" + (merged if report.both_sides else "")
        )
    for note in report.notes:
        echo_ok(note)
    if report.sent:
        echo_ok(f"{would}send {report.sent} commit(s) to {upstream}")
    if not (report.committed or report.received or report.sent):
        echo_ok(f"up to date with {upstream}")
    if timing:
        for step, seconds in report.seconds.items():
            typer.echo(f"{step}: {seconds:.2f} s", err=True)


def _names(names: list[str], most: int = 5) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


@app.command("merge-file", hidden=False)
def merge_file(
    base: Path = typer.Argument(..., help="git's %O: the common ancestor."),
    ours: Path = typer.Argument(..., help="git's %A: this side; the result is written here."),
    theirs: Path = typer.Argument(..., help="git's %B: the other side."),
    name: str = typer.Argument("case file", help="git's %P: the file's path, for messages."),
) -> None:
    """git's merge driver for case files: merge record by record into OURS; exit 13 on a true
    conflict, marked around that field only.

    Set up by `init --git` and `git setup`; git runs it, you do not need to.

    Example: casectl merge-file base.yaml ours.yaml theirs.yaml C-2026-0042.yaml
    """
    from casectl.dates import today
    from casectl.store.teamsync import line_merge, merge_files

    repo = Path.cwd()
    result, shown = merge_files(base, ours, theirs, name, today=today(), repo=repo)
    if result is None:
        # Not a case file casectl can read (a side already has conflict markers, say): git's
        # own line merge, so nothing is lost either way.
        code = line_merge(base, ours, theirs, repo)
        if code:
            typer.echo(f"casectl: {shown}: merged line by line, with conflicts", err=True)
            raise typer.Exit(int(ExitStatus.CONFLICT))
        return
    for renamed in result.renamed:
        whose = "this clone's" if renamed.side == "ours" else "the replayed commit's"
        typer.echo(
            f"casectl: {shown}: renamed {whose} new {renamed.kind} {renamed.old} to "
            f"{renamed.new} (the other side added its own {renamed.old})",
            err=True,
        )
    for conflict in result.conflicts:
        typer.echo(
            f"casectl: {shown}:{conflict.line}: {conflict.where} {conflict.reason}: "
            "keep one side, delete the markers, then `git add` and commit",
            err=True,
        )
    if result.conflicts:
        raise typer.Exit(int(ExitStatus.CONFLICT))
