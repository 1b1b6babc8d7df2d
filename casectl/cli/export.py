"""`casectl export`: the family's care plan (Markdown, HTML) or FHIR R4 Bundles of cases."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from casectl.cli.app import commands as app
from casectl.cli.common import MissingInput, store, when
from casectl.errors import CaseNotFound, InvalidCaseFile, InvalidInput

if TYPE_CHECKING:
    from casectl.config import Config
    from casectl.models.case import Case
    from casectl.share.redaction import Redaction
    from casectl.store import CaseStore

IDENTIFYING = "this export identifies the client; share it only as your consent rules allow."


class ExportFormat(StrEnum):
    markdown = "markdown"
    html = "html"
    fhir = "fhir"


@app.command("export")
def export(
    ctx: typer.Context,
    case_id: str | None = typer.Argument(
        None, metavar="[CASE]", help="The case id, e.g. C-2026-0001 (leave out with --all)."
    ),
    fmt: ExportFormat = typer.Option(
        ExportFormat.markdown,
        "--format",
        "-f",
        help="markdown or html: the family's care plan; fhir: a FHIR R4 Bundle (JSON).",
    ),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Write to this file (mode 0600) instead of standard output."
    ),
    lang: str | None = typer.Option(
        None,
        "--lang",
        help="Language of the care plan, e.g. en or es (default: the family's, see above).",
    ),
    all_cases: bool = typer.Option(
        False, "--all", help="Every case in the folder: one FHIR Bundle per line (NDJSON)."
    ),
    deidentify: bool = typer.Option(
        False,
        "--deidentify",
        help="No names, contacts, addresses, birth dates or free text; case ids as pseudonyms.",
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Judge dates (upcoming, next review, age) as of this day."
    ),
) -> None:
    """Export a case: the family's care plan in their language, or FHIR R4 for another system.

    The care plan is written in the language of whoever decides: a legal guardian who takes
    part in decisions, else (for a child) any family member who does, else the client's
    preferred language; --lang overrides. A language with no translation falls back to English
    with a note. FHIR: a collection Bundle per case; --all writes every case as NDJSON.

    Example: casectl export C-2026-0001 --format html -o care-plan.html
    """
    from casectl.share.deidentify import pseudonym_key

    cases = store(ctx)
    today = when(as_of, "--as-of")
    if lang is not None and fmt is ExportFormat.fhir:
        raise InvalidInput(
            "--lang sets the language of the care plan; use it with --format markdown or html."
        )
    key = pseudonym_key(cases.root) if deidentify else None
    if all_cases:
        if case_id is not None:
            raise InvalidInput("give a CASE or --all, not both.")
        if fmt is not ExportFormat.fhir:
            raise InvalidInput("--all writes one FHIR Bundle per line; use it with --format fhir.")
        tally: Counter[str] = Counter()
        _write(_all_bundles(cases, today, key, tally), output)
        if tally["invalid"]:
            _note(
                f"warning: {tally['invalid']} case file(s) are invalid and were left out; "
                "run `casectl check` to see why."
            )
        if not deidentify and tally["written"]:
            _note(
                f"this export identifies {tally['written']} client(s); "
                "share it only as your consent rules allow."
            )
        return
    if case_id is None:
        raise MissingInput("`export` needs a CASE, or --all with --format fhir.")
    if fmt is ExportFormat.fhir:
        from casectl.share.fhir import case_to_bundle, user_keys_of
        from casectl.store.fast import read_case_and_data

        case, data = read_case_and_data(cases, _existing(cases, case_id))
        bundle = case_to_bundle(
            case,
            today=today,
            redaction=_redaction(case.id, key),
            identifier_system=cases.config.fhir.identifier_system,
            user_keys=user_keys_of(data),
        )
        text = json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"
    else:
        case = cases.peek(case_id)
        text = _care_plan(case, cases.config, today, fmt, lang, _redaction(case.id, key))
    if not deidentify:
        _note(IDENTIFYING)
    _write(text, output)


def _existing(cases: CaseStore, case_id: str) -> Path:
    cases.require()
    path = cases.path_for(case_id)
    if not path.exists():
        raise CaseNotFound(
            f"no case {case_id} in {cases.root}; `casectl list` shows the cases there."
        )
    return path


def _redaction(case_id: str, key: bytes | None) -> Redaction:
    """What an export of this case leaves out: nothing, or (with a pseudonym key) what
    --deidentify promises."""
    from casectl.share.deidentify import pseudonym
    from casectl.share.redaction import IDENTIFIED, Redaction

    return IDENTIFIED if key is None else Redaction(pseudonym(case_id, key))


def _note(message: str) -> None:
    from casectl.cli.common import echo_err

    echo_err(f"casectl: {message}")


def _care_plan(
    case: Case,
    config: Config,
    today: dt.date,
    fmt: ExportFormat,
    lang: str | None,
    redaction: Redaction,
) -> str:
    from casectl.share.document import to_html, to_markdown
    from casectl.share.familyplan import family_plan
    from casectl.share.i18n import family_language, load_language

    language, note = load_language(lang or family_language(case, today))
    if note:
        _note(f"note: {note}")
    elif lang is not None:
        _note(f"note: --lang {lang}: the care plan is in {language.describe()}.")
    doc = family_plan(case, config, today=today, lang=language, redaction=redaction)
    return to_html(doc) if fmt is ExportFormat.html else to_markdown(doc)


def _all_bundles(
    cases: CaseStore, today: dt.date, key: bytes | None, tally: Counter[str]
) -> Iterator[str]:
    """One FHIR Bundle a line for every valid case, in file order, produced as they are
    written (a 10,000-case export is 200 MB of JSON) and built in worker processes when there
    are many (validating each Bundle is most of the time); `tally` counts the cases written
    and the files left out."""
    # Import what the workers use before they fork, so each does not import it again.
    from casectl.batch import in_chunks
    from casectl.share import fhir  # noqa: F401

    names = [path.name for path in cases.case_files()]
    args = (str(cases.root), cases.today, today, key, cases.config.fhir.identifier_system)
    for lines, invalid in in_chunks(_bundle_lines, args, names, "Exporting"):
        tally["invalid"] += invalid
        tally["written"] += len(lines)
        yield from lines


def _bundle_lines(
    root: str,
    store_today: dt.date,
    today: dt.date,
    key: bytes | None,
    identifier_system: str,
    names: Sequence[str],
) -> tuple[list[str], int]:
    """The Bundle lines of some case files, and how many of them were invalid."""
    from casectl.share.fhir import case_to_bundle, user_keys_of
    from casectl.store import CaseStore
    from casectl.store.fast import read_case_and_data

    cases = CaseStore(Path(root), today=store_today)
    lines: list[str] = []
    invalid = 0
    for name in names:
        try:
            case, data = read_case_and_data(cases, cases.root / name)
        except InvalidCaseFile:
            invalid += 1
            continue
        bundle = case_to_bundle(
            case,
            today=today,
            redaction=_redaction(case.id, key),
            identifier_system=identifier_system,
            user_keys=user_keys_of(data),
        )
        lines.append(json.dumps(bundle, ensure_ascii=False, separators=(",", ":")) + "\n")
    return lines, invalid


def _write(text: str | Iterable[str], output: str | None) -> None:
    """Print `text` (or its pieces, as they come), or write it atomically to the file `output`."""
    if output is None or output == "-":
        for piece in [text] if isinstance(text, str) else text:
            sys.stdout.write(piece)
        return
    from casectl.store.outfile import write_output_file

    # A regular file or nothing: never through a link, never over a device or a folder.
    write_output_file(Path(output), text)
