"""`casectl history`: a case's changes as git recorded them, hand edits included."""

from __future__ import annotations

import sys

import typer

from casectl.cli.app import commands as app
from casectl.cli.common import store
from casectl.cli.output import Format, emit_json, emit_rows


@app.command()
def history(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., metavar="CASE", help="The case id, e.g. C-2026-0001."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table or json."),
    diff: bool = typer.Option(False, "--diff", help="Show what each change did to the file."),
) -> None:
    """The case's changes from git: date, author, stage and a one-line summary, newest first.

    Needs the data folder to be a git repository of its own (`casectl init --git`, and
    `commit = true` under [git] in config.toml for casectl to commit each write).

    Example: casectl history C-2026-0001 --diff
    """
    from casectl.errors import CaseNotFound, InvalidInput
    from casectl.store.gitlog import HISTORY_FIELDS, file_history

    if fmt not in (Format.table, Format.json):
        raise InvalidInput("history prints --format table or json.")
    cases = store(ctx)
    cases.require()
    path = cases.path_for(case_id)
    changes = file_history(cases.root, path, with_diff=diff)
    if not changes and not path.exists():
        raise CaseNotFound(
            f"no case {case_id} in {cases.root}, and git has no history of one; "
            "`casectl list` shows the cases there."
        )
    rows = [{f: getattr(change, f) for f in HISTORY_FIELDS} for change in changes]
    if fmt is Format.json:
        emit_json(rows)
    elif diff:
        from casectl.text import printable

        # Commit messages, authors and diffs are whatever git holds: escaped for the terminal.
        for row in rows:
            sys.stdout.write(
                printable(
                    f"{row['date']}  {row['author']}  [{row['stage']}]  {row['summary']}\n"
                    f"commit {row['commit']}\n\n{row['diff']}\n"
                )
            )
    else:
        for row in rows:
            row["commit"] = row["commit"][:10]
        emit_rows(
            rows,
            ["date", "author", "stage", "summary", "commit"],
            Format.table,
            title=f"History of {case_id}",
        )
        if not rows:
            typer.echo(f"casectl: {case_id} has no commits yet.", err=True)
