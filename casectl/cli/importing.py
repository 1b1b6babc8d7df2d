"""`casectl import`: new cases from a spreadsheet export (CSV) or a FHIR Bundle."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from casectl.cli.app import commands as app
from casectl.cli.common import MissingInput, echo_err, recorder, stdin_is_tty, store
from casectl.cli.output import Format, dumps_json, emit_rows
from casectl.errors import InvalidInput, UnsafePath


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
    file: str = typer.Argument(
        ..., metavar="FILE", help="The CSV export, or FHIR JSON (a Bundle or NDJSON)."
    ),
    fmt: ImportFormat = typer.Option(..., "--format", "-f", help="csv or fhir."),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Check everything and show what would be created (FHIR: the mapping and the case); "
        "write nothing.",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="FHIR: print the mapping and what was done as JSON, for scripts."
    ),
    into: str | None = typer.Option(
        None, "--into", metavar="CASE", help="FHIR: add the patient's records to this case."
    ),
    yes: bool = typer.Option(
        False,
        "--yes",
        "-y",
        help="FHIR: add to a case matched by name and date of birth without asking.",
    ),
    new: bool = typer.Option(
        False, "--new", help="FHIR: open a new case even when one seems to match."
    ),
) -> None:
    """Open cases from a spreadsheet export (CSV, columns in examples/import-template.csv) or
    FHIR R4 from another system (collection, transaction, searchset or document Bundles, or
    NDJSON). Everything is checked first; nothing is written unless all is good, and an existing
    case is never replaced: a patient already here (this folder's case-id identifier, or the
    same name and date of birth, which asks first) gets dated records added. Prints each case
    id, one per line.

    Example: casectl import --format fhir --dry-run summary.json
    """
    from casectl.share import importing

    cases = store(ctx)
    cases.require()
    raw = _read(file)
    if fmt is ImportFormat.fhir:
        _import_fhir(
            cases, raw, file, dry_run=dry_run, as_json=as_json, into=into, yes=yes, new=new
        )
        return
    if as_json or into or yes or new:
        raise InvalidInput("--json, --into, --yes and --new are for --format fhir.")
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
            echo_err(str(problem))
        raise
    _commit(cases, made, file)
    for case, _ in made:
        typer.echo(case.id)


def _import_fhir(
    cases: Any,
    raw: bytes,
    file: str,
    *,
    dry_run: bool,
    as_json: bool,
    into: str | None,
    yes: bool,
    new: bool,
) -> None:
    from casectl.share import importing

    if into is not None and new:
        raise InvalidInput("give --into CASE or --new, not both.")
    if into is not None:
        cases.peek(into)  # the case must exist (exit 4 otherwise)
    by = recorder(cases, None)
    plans = importing.plan_fhir(cases, raw, source=file, recorded_by=by, into=into, new=new)
    for plan in plans:
        if plan.action == "open" and (cases.path_for(plan.case.id).exists()):
            raise UnsafePath(
                f"{file}: a case {plan.case.id} already exists in {cases.root}; "
                "casectl never replaces a case."
            )
    if not dry_run:
        for plan in plans:
            if plan.confirm and not yes:
                _confirm(plan, file)
    if as_json:
        typer.echo(dumps_json(_report(plans, file, dry_run)))
    elif dry_run:
        _show(plans, file)
    if dry_run:
        return
    done = importing.write_fhir(cases, plans, source=file, recorded_by=by)
    _commit(cases, [(plan.case, path) for plan, path in done], file)
    for plan in plans:
        mapped = sum(1 for line in plan.lines if line.to is not None)
        skipped = len(plan.lines) - mapped
        what = "opened" if plan.action == "open" else f"added {plan.added} record(s) to"
        how = "" if plan.matched_by is None else f" (matched by {plan.matched_by})"
        typer.echo(
            f"casectl: {what} {plan.case.id}{how} from {Path(file).name}: {mapped} resource(s) "
            f"used, {skipped} skipped; `casectl import -f fhir --dry-run` shows which and why.",
            err=True,
        )
        if not as_json:
            typer.echo(plan.case.id)


def _confirm(plan: Any, file: str) -> None:
    client = plan.case.client
    question = (
        f"{Path(file).name}: {client.name} (born {client.dob}) matches case {plan.case.id} by "
        "name and date of birth"
    )
    if not stdin_is_tty():
        raise MissingInput(
            f"{question}; add --yes to add the records to it, --into {plan.case.id} to name it, "
            "or --new to open a new case (standard input is not a terminal, so casectl does not "
            "ask)."
        )
    if not typer.confirm(f"{question}. Add the records to {plan.case.id}?", default=False):
        raise InvalidInput(
            f"nothing was imported; run again with --new to open a new case for {client.name}."
        )


def _report(plans: list[Any], file: str, dry_run: bool) -> dict[str, Any]:
    """The import as JSON (a contract: fields are added, never renamed)."""
    from casectl.store import dump_case

    return {
        "source": file,
        "dry_run": dry_run,
        "cases": [
            {
                "case_id": plan.case.id,
                "action": plan.action,
                "exact": plan.exact,
                "matched_by": plan.matched_by,
                "client": plan.case.client.name,
                "dob": plan.case.client.dob,
                "mapped": [
                    {"resource": line.resource, "to": line.to}
                    for line in plan.lines
                    if line.to is not None
                ],
                "skipped": [
                    {"resource": line.resource, "reason": line.reason}
                    for line in plan.lines
                    if line.to is None
                ],
                "notes": plan.notes,
                "case": dump_case(plan.case),
            }
            for plan in plans
        ],
    }


def _show(plans: list[Any], file: str) -> None:
    """The dry run for a person: per patient, the mapping, the notes, then the case."""
    from casectl.store import dump_case, yamlio

    out: list[str] = []
    for plan in plans:
        client = plan.case.client
        if plan.action == "open":
            head = f"Would open {plan.case.id} for {client.name} (born {client.dob})"
            if plan.exact:
                head += ", exactly as casectl exported it"
        else:
            head = (
                f"Would add {plan.added} record(s) to {plan.case.id}, {client.name} (matched by "
                f"{plan.matched_by}" + (", which asks first" if plan.confirm else "") + ")"
            )
        out.append(f"{head}, from {file}")
        used = [line for line in plan.lines if line.to is not None]
        skipped = [line for line in plan.lines if line.to is None]
        if plan.exact:
            out.append(f"\nUsed: all {len(used)} resources, read back exactly.")
            used = []
        if used:
            out.append(f"\nUsed ({len(used)}):")
            out += [f"  {line.resource}\n      -> {line.to}" for line in used]
        if skipped:
            out.append(f"\nSkipped ({len(skipped)}):")
            out += [f"  {line.resource}\n      {line.reason}" for line in skipped]
        if plan.notes:
            out.append("\nNotes:")
            out += [f"  - {note}" for note in plan.notes]
        data = dump_case(plan.case)
        out.append("\nThe case as it would be written:\n")
        out.append(yamlio.Document(yamlio.to_yaml(data), 2, 2).dumps())
    sys.stdout.write("\n".join(out))
