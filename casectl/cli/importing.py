"""`casectl import`: new cases from a spreadsheet export (CSV) or a FHIR Bundle."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from casectl.cli.app import commands as app
from casectl.cli.common import recorder, store
from casectl.cli.output import Format, emit_rows
from casectl.errors import InvalidInput


class ImportFormat(StrEnum):
    csv = "csv"
    fhir = "fhir"


def _read(file: str) -> bytes:
    try:
        return Path(file).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{file}: cannot be read ({exc.strerror}).") from None


def _commit(cases: Any, made: list[tuple[Any, Path]], source: str) -> None:
    """With `[git] commit = true`: one commit per new case; a git failure is only a warning."""
    from casectl.cli.common import commit_write
    from casectl.store.gitlog import ChangeNote

    for case, path in made:
        commit_write(cases, path, case.id, ChangeNote("import", f"opened from {Path(source).name}"))


@app.command("import")
def import_cases(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE", help="The CSV export or FHIR Bundle (JSON)."),
    fmt: ImportFormat = typer.Option(..., "--format", "-f", help="csv or fhir."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check every row and show what would be created; write nothing."
    ),
) -> None:
    """Open cases from a spreadsheet export (CSV, columns in examples/import-template.csv) or a
    FHIR Bundle. Every row is checked first; nothing is written unless all are good, and an
    existing case is never replaced. Prints each new case id, one per line.

    Example: casectl import --format csv --dry-run intake.csv
    """
    from casectl.share import importing

    cases = store(ctx)
    cases.require()
    raw = _read(file)
    if fmt is ImportFormat.fhir:
        case = importing.read_fhir(raw, source=file, today=cases.today)
        if dry_run:
            typer.echo(f"would open {case.id} ({case.client.name})")
            return
        path = importing.create_one(cases, case, file)
        _commit(cases, [(case, path)], file)
        typer.echo(case.id)
        return
    try:
        rows = importing.check_csv(
            raw, source=file, today=cases.today, case_manager=recorder(cases, None)
        )
        if dry_run:
            clash = importing.collisions(cases, rows, file)
            if clash:
                raise importing.ImportCollision(file, clash)
            planned = importing.allocate_ids(cases, rows)
            emit_rows(
                [
                    {
                        "line": row.line,
                        "case_id": case.id,
                        "client": case.client.name,
                        "dob": case.client.dob,
                        "guardian": case.family[0].name if case.family else None,
                    }
                    for row, case in zip(rows, planned, strict=True)
                ],
                ["line", "case_id", "client", "dob", "guardian"],
                Format.table,
                title=f"Would open {len(planned)} case(s) from {file}",
            )
            return
        made = importing.create_all(cases, rows, file)
    except (importing.ImportRejected, importing.ImportCollision) as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise
    _commit(cases, made, file)
    for case, _ in made:
        typer.echo(case.id)
