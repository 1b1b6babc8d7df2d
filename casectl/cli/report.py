"""`casectl report`: the caseload report as a table, JSON or Markdown, optionally de-identified."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Any

import typer

from casectl.cli.app import commands as app
from casectl.cli.common import store, when
from casectl.cli.output import Format, Sheet, bom_option, emit_rows, output_option


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    csv = "csv"
    xlsx = "xlsx"


def _cases(cases: Any) -> tuple[list[Any], int]:
    """Every valid case, whole (the summary index holds too little), and how many files were
    left out as invalid (named on standard error, as `list` names them)."""
    from casectl.errors import InvalidCaseFile
    from casectl.review.caseload import warn_invalid

    found, problems = [], []
    for path in cases.case_files():
        try:
            found.append(cases.read(path).case)
        except InvalidCaseFile as exc:
            problems.append((path.name, exc.message))
    warn_invalid(problems)
    return found, len(problems)


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
        ReportFormat.table,
        "--format",
        "-f",
        help="table, json, markdown, csv (the per-case table) or xlsx (a sheet per section).",
    ),
    output: str | None = output_option(),
    bom: bool = bom_option(),
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
    from casectl.cli.output import check_bom, write_file, write_workbook
    from casectl.dates import parse_date
    from casectl.errors import InvalidInput
    from casectl.review.report import (
        CASE_FIELDS,
        build_report,
        default_since,
        render_markdown,
        summary_rows,
    )

    check_bom(Format.csv if fmt is ReportFormat.csv else Format.table, bom)
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
    valid, invalid = _cases(cases)
    if manager:
        from casectl.review.caseload import warn_unknown_manager

        warn_unknown_manager(manager, [c.case_manager for c in valid])
        valid = [c for c in valid if c.case_manager.lower() == manager.strip().lower()]
    data = build_report(
        valid,
        cases.config,
        invalid_files=invalid,
        as_of=day,
        since=start,
        pseudonyms=pseudonyms,
    )
    to_file = output is not None and output != "-"
    if fmt is ReportFormat.csv:
        emit_rows(data["cases"], CASE_FIELDS, Format.csv, output=output, bom=bom)
    elif fmt is ReportFormat.xlsx:
        write_workbook(report_sheets(data), output)
    elif fmt is ReportFormat.json or fmt is ReportFormat.markdown:
        from casectl.cli.output import dumps_json, is_tty
        from casectl.text import printable

        text = dumps_json(data) + "\n" if fmt is ReportFormat.json else render_markdown(data)
        if to_file:
            assert output is not None
            write_file(output, text)
        else:
            # Markdown is read on a terminal too: control characters shown escaped there.
            sys.stdout.write(printable(text) if is_tty() else text)
    else:
        title = "Caseload report (de-identified)" if deidentify else "Caseload report"
        if to_file:
            from casectl.errors import InvalidInput

            raise InvalidInput(
                "-o writes --format json, markdown, csv or xlsx; the table is for a terminal."
            )
        emit_rows(
            summary_rows(data),
            ["section", "measure", "value"],
            Format.table,
            title=f"{title} as of {day}",
        )
        sys.stdout.write("\n")
        emit_rows(data["cases"], CASE_FIELDS, Format.table, title="Cases")


def report_sheets(data: dict[str, Any]) -> list[Sheet]:
    """The report as a workbook: what it covers, one sheet per section (each figure a row,
    a breakdown one row per part), and the per-case table."""
    from casectl.review.report import CASE_FIELDS, SECTIONS

    about = [
        ["as_of", data["as_of"]],
        ["since", data["since"]],
        ["deidentified", data["deidentified"]],
    ]
    sheets = [Sheet("report", ["measure", "value"], about)]
    for section in SECTIONS:
        rows: list[list[Any]] = []
        for measure, value in data[section].items():
            if isinstance(value, dict):
                rows += [[f"{measure}: {part}", count] for part, count in value.items()]
            else:
                rows.append([measure, value])
        sheets.append(Sheet(section, ["measure", "value"], rows))
    cases = [[row.get(f) for f in CASE_FIELDS] for row in data["cases"]]
    sheets.append(Sheet("cases", CASE_FIELDS, cases))
    return sheets
