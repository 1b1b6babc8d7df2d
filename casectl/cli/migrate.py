"""`casectl migrate`: bring every case file up to this casectl's schema, saying what changed."""

from __future__ import annotations

import typer

from casectl.cli.app import commands as app
from casectl.cli.common import store
from casectl.errors import ExitStatus


@app.command()
def migrate(
    ctx: typer.Context,
    case_ids: list[str] | None = typer.Argument(
        None, metavar="[CASE]...", help="Cases to migrate (default: all)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Report what would change; write nothing."
    ),
) -> None:
    """Bring case files written for an older schema up to this casectl's; one line per file changed.

    Each file is migrated under its lock and written atomically, comments kept. Files already
    current are left alone; invalid files, and files written by a newer casectl, are reported
    and left as they were (exit 5). Reading an old file never needs this: every command reads
    it migrated, and its next write saves the migration.

    Example: casectl migrate --dry-run
    """
    from casectl.store.migration import migrate_cases

    cases = store(ctx)
    migrated, problems = migrate_cases(cases, case_ids or None, dry_run=dry_run)
    from casectl.cli.common import echo_err, echo_ok

    for item in migrated:
        echo_ok(str(item))
    for problem in problems:
        echo_err(f"casectl: {problem}")
    verb = "would migrate" if dry_run else "migrated"
    total = len(case_ids) if case_ids else len(cases.case_files())
    typer.echo(
        f"casectl: {verb} {len(migrated)} of {total} case file(s) to schema {cases.schema.version}"
        + ("; dry run, nothing was written." if dry_run else "."),
        err=True,
    )
    if problems:
        raise typer.Exit(int(ExitStatus.INVALID))
