"""`casectl report`: the caseload report as a table, JSON or Markdown, optionally de-identified."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Any

import typer

from casectl.cli.app import commands as app
from casectl.cli.common import store, when
from casectl.cli.output import Format, emit_json, emit_rows


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


def _cases(cases: Any) -> list[Any]:
    """Every valid case, whole (the summary index holds too little); invalid files are left out
    with a warning, as `list` leaves them out."""
    from casectl.errors import InvalidCaseFile

    found, invalid = [], 0
    for path in cases.case_files():
        try:
            found.append(cases.read(path).case)
        except InvalidCaseFile:
            invalid += 1
    if invalid:
        typer.echo(
            f"casectl: warning: {invalid} case file(s) are invalid and were left out; "
            "run `casectl check` to see why.",
            err=True,
        )
    return found


@app.command()
def report(
    ctx: typer.Context,
    as_of: str | None = typer.Option(
        None, "--as-of", help="Report on the caseload as it stood on this day (default today)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Count contacts from this day (default 90 days before --as-of)."
    ),
    fmt: ReportFormat = typer.Option(
        ReportFormat.table, "--format", "-f", help="table, json or markdown."
    ),
    deidentify: bool = typer.Option(
        False,
        "--deidentify",
        help="Pseudonyms for case ids; no names, contacts, dates of birth or free text.",
    ),
    manager: str | None = typer.Option(
        None, "--manager", help="Only this case manager's cases (any capitalisation)."
    ),
) -> None:
    """The caseload report: cases by status, risk and stage; overdue reviews; days from screening
    to plan; referrals; goal attainment (GAS); closures; contacts in the period.

    Example: casectl report --since 2026-09-01 --format markdown --deidentify > report.md
    """
    from casectl.dates import parse_date
    from casectl.errors import InvalidInput
    from casectl.review.report import (
        CASE_FIELDS,
        build_report,
        default_since,
        render_markdown,
        summary_rows,
    )

    cases = store(ctx)
    day = when(as_of, "--as-of")
    start = parse_date(since, what="--since", base=day) if since else default_since(day)
    if start > day:
        raise InvalidInput(f"--since {start} is after --as-of {day}; give an earlier --since.")
    pseudonyms = None
    if deidentify:
        from casectl.share.deidentify import pseudonym, pseudonym_key

        key = pseudonym_key(cases.root)
        pseudonyms = lambda case_id: pseudonym(case_id, key)  # noqa: E731
    found = _cases(cases)
    if manager:
        from casectl.review.caseload import warn_unknown_manager

        warn_unknown_manager(manager, [c.case_manager for c in found])
        found = [c for c in found if c.case_manager.lower() == manager.strip().lower()]
    data = build_report(
        found,
        cases.config,
        as_of=day,
        since=start,
        pseudonyms=pseudonyms,
    )
    if fmt is ReportFormat.json:
        emit_json(data)
    elif fmt is ReportFormat.markdown:
        sys.stdout.write(render_markdown(data))
    else:
        title = "Caseload report (de-identified)" if deidentify else "Caseload report"
        emit_rows(
            summary_rows(data),
            ["section", "measure", "value"],
            Format.table,
            title=f"{title} as of {day}",
        )
        sys.stdout.write("\n")
        emit_rows(data["cases"], CASE_FIELDS, Format.table, title="Cases")
