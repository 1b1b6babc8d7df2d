"""One way to print rows for people, scripts and spreadsheets: `--format table|json|csv|tsv|ids|xlsx`.

A table is drawn (with colour) only when stdout is a terminal; piped, `table` prints plain
tab-separated columns with a header. JSON and CSV field names are a documented contract.

What reaches a terminal has every control character escaped (casectl.text.printable): `table`
always, and CSV or TSV when standard output is a terminal. JSON, and TSV or CSV to a pipe or a
file, are exact. CSV is the spreadsheet format, so a text cell that a spreadsheet would take
for a formula gets a quote in front (casectl.text.spreadsheet_safe); `xlsx` is a real
workbook, every text cell stored as text. `-o FILE` writes any of them atomically, to a
regular file only (casectl.store.outfile).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from casectl.errors import CasectlError, ExitStatus, InvalidInput
from casectl.text import printable, spreadsheet_safe


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    ids = "ids"
    xlsx = "xlsx"


class BinaryToTerminal(CasectlError):
    exit_status = ExitStatus.USAGE


# Columns that hold dates (as ISO text or dates): real dates in a workbook.
DATE_FIELDS = frozenset(
    {"due", "opened", "last_contact", "next_review", "dob", "date", "as_of", "since"}
)
# The first characters after which spreadsheet_safe may have something to do.
_MAYBE_FORMULA = frozenset("=+-@\t\r'")


def output_option() -> Any:
    """`-o FILE`, shared by the read commands."""
    import typer

    return typer.Option(
        None,
        "--output",
        "-o",
        help="Write to this file (atomically, mode 0600; a regular file only) instead of standard output.",
        show_default=False,
    )


def bom_option() -> Any:
    """`--bom`, shared by the read commands that write CSV."""
    import typer

    return typer.Option(
        False,
        "--bom",
        help="Start CSV/TSV with a UTF-8 byte-order mark, so Excel reads accents right.",
    )


RISK_STYLE = {"high": "bold red", "moderate": "yellow", "low": "green"}


def is_tty() -> bool:
    return sys.stdout.isatty()


def console(stderr: bool = False) -> Any:
    """A rich console; plain text (no colour, no markup codes) when not a terminal."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=not is_tty())


def _cell(value: Any) -> str:
    if value.__class__ is str:  # the common case first: this runs for every cell of a big list
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    return str(value)


_AS_IS = frozenset({str, int, float, type(None)})  # what the csv module writes as we would


def _write_delimited(
    out: Any,
    records: Sequence[Sequence[Any]],
    fields: Sequence[str],
    delimiter: str,
    *,
    for_spreadsheet: bool = False,
    for_terminal: bool = False,
) -> None:
    """CSV or TSV: a header, then each record with every value made plain text.

    Column by column (a review's `flags` holds tuples; most columns need nothing), in C loops.
    The csv module quotes a cell holding a line feed but not one holding a lone carriage return
    when lines end in "\n"; a record with one is written with every cell quoted, so that no
    reader takes it for the end of a line. `for_spreadsheet`: text cells that could start a
    formula are neutralised (numbers are written as numbers: -3 is not a formula).
    `for_terminal`: control characters are escaped.
    """
    columns: list[Sequence[Any]] = list(zip(*records, strict=True))
    changed = False
    for n, column in enumerate(columns):
        if not _AS_IS.issuperset(map(type, column)):
            columns[n] = column = [v if v.__class__ in _AS_IS else _cell(v) for v in column]
            changed = True
        if for_spreadsheet and any(v.__class__ is str and v[:1] in _MAYBE_FORMULA for v in column):
            columns[n] = [spreadsheet_safe(v) if v.__class__ is str else v for v in column]
            changed = True
    rows: Sequence[Sequence[Any]] = list(zip(*columns, strict=True)) if changed else records
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(fields)
    writer.writerows(rows)
    text = buffer.getvalue()
    if "\r" in text:  # rare: find the rows that hold one and write them again, quoted
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
        quoted = csv.writer(buffer, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(fields)
        for row in rows:
            has_cr = any(isinstance(cell, str) and "\r" in cell for cell in row)
            (quoted if has_cr else writer).writerow(row)
        text = buffer.getvalue()
    out.write(printable(text) if for_terminal else text)


def json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=json_default)


def json_records(records: Iterable[Sequence[Any]], fields: Sequence[str]) -> Iterator[str]:
    """The text of `json.dumps([dict(zip(fields, r)) for r in records], indent=2,
    ensure_ascii=False)` and a newline, in pieces of a thousand records.

    json.dumps takes its pure-Python path whenever it indents (~10 µs a record); here each
    value goes through the C encoder and the layout is written out, several times faster on a
    large review. Non-empty containers take json.dumps itself, indented to their place.
    """
    encode = json.JSONEncoder(ensure_ascii=False, default=json_default).encode
    keys = [encode_basestring(f) + ": " for f in fields]
    pieces: list[str] = []
    for record in records:
        cells = []
        for key, value in zip(keys, record, strict=True):
            kind = value.__class__
            if kind is str:
                text = encode_basestring(value)
            elif value is None:
                text = "null"
            elif kind is int:
                text = int.__repr__(value)
            elif kind is list or kind is tuple or kind is dict:
                if value:
                    text = json.dumps(value, indent=2, ensure_ascii=False, default=json_default)
                    text = text.replace("\n", "\n    ")
                else:
                    text = "{}" if kind is dict else "[]"
            else:
                text = encode(value)  # bool, float, a date
            cells.append(key + text)
        body = "{\n    " + ",\n    ".join(cells) + "\n  }" if cells else "{}"
        pieces.append(",\n  " + body if pieces else "[\n  " + body)
        if len(pieces) == 1000:
            yield "".join(pieces)
            pieces = [""]  # later records still need their comma
    yield "".join(pieces) + "\n]\n" if pieces else "[]\n"


def emit_rows(
    rows: Sequence[Mapping[str, Any]],
    fields: Sequence[str],
    fmt: Format,
    *,
    title: str | None = None,
    id_field: str = "case_id",
    output: str | None = None,
    bom: bool = False,
) -> None:
    """Print `rows` (dicts holding at least `fields`) in the chosen format, or write them to
    the file `output`."""
    emit_records(
        [[row.get(f) for f in fields] for row in rows],
        fields,
        fmt,
        title=title,
        id_field=id_field,
        output=output,
        bom=bom,
    )


def emit_records(
    records: Sequence[Sequence[Any]],
    fields: Sequence[str],
    fmt: Format,
    *,
    title: str | None = None,
    id_field: str = "case_id",
    output: str | None = None,
    bom: bool = False,
) -> None:
    """Print `records` (sequences of values in the order of `fields`) in the chosen format,
    or write them to the file `output` (`-` or None: standard output)."""
    check_bom(fmt, bom)
    if fmt is Format.xlsx:
        write_workbook([Sheet(title or "casectl", fields, records)], output)
        return
    to_file = output is not None and output != "-"
    out: Any = io.StringIO() if to_file else sys.stdout
    if bom:
        out.write(BOM)
    if fmt is Format.json:
        write = out.write
        for piece in json_records(records, fields):
            write(piece)
    elif fmt is Format.ids:
        at = list(fields).index(id_field)
        seen = dict.fromkeys(str(record[at]) for record in records)  # once each, in order
        out.write("".join(ident + "\n" for ident in seen))
    elif fmt in (Format.csv, Format.tsv) or to_file or not is_tty():
        # Piped, `table` prints what `tsv` prints: plain, parseable, one row a line; but it is
        # the format for people, so it is escaped like a table.
        _write_delimited(
            out,
            records,
            fields,
            "," if fmt is Format.csv else "\t",
            for_spreadsheet=fmt is Format.csv,
            for_terminal=fmt is Format.table or (not to_file and is_tty()),
        )
    else:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, header_style="bold")
        for f in fields:
            table.add_column(f.replace("_", " "))
        risk_at = list(fields).index("risk") if "risk" in fields else None
        for record in records:
            style = None if risk_at is None else RISK_STYLE.get(str(record[risk_at]))
            # Text, not str: a cell is shown as it is, never read as rich markup.
            table.add_row(*(Text(printable(_cell(v))) for v in record), style=style)
        console().print(table)
    if to_file:
        assert output is not None
        write_file(output, out.getvalue())


BOM = "\ufeff"


def check_bom(fmt: Format, bom: bool) -> None:
    """`--bom` is for the delimited formats a spreadsheet opens."""
    if bom and fmt not in (Format.csv, Format.tsv):
        raise InvalidInput("--bom is for --format csv or tsv (a byte-order mark for spreadsheets).")


def write_file(output: str, data: str | bytes) -> None:
    """Write a command's output to the file the user named: atomically, regular files only."""
    from casectl.store.outfile import write_output_file

    write_output_file(Path(output), data)


# --- workbooks ---


class Sheet:
    """One worksheet: a name, the column names, and rows of values in that order."""

    __slots__ = ("fields", "name", "records")

    def __init__(self, name: str, fields: Sequence[str], records: Sequence[Sequence[Any]]) -> None:
        self.name = name
        self.fields = fields
        self.records = records


def write_workbook(sheets: Sequence[Sheet], output: str | None) -> None:
    """An .xlsx workbook of `sheets`, to the file `output` or to standard output when that is
    not a terminal (a workbook is binary: it is refused on a terminal)."""
    to_file = output is not None and output != "-"
    if not to_file and is_tty():
        raise BinaryToTerminal(
            "an xlsx workbook is a binary file and standard output is a terminal; "
            "give -o FILE.xlsx or redirect: > FILE.xlsx"
        )
    from casectl.cli.workbook import workbook_bytes

    data = workbook_bytes(sheets, DATE_FIELDS)
    if to_file:
        assert output is not None
        write_file(output, data)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def emit_json(data: Any) -> None:
    sys.stdout.write(dumps_json(data) + "\n")


def parse_spec(text: str, *, first: str, option: str, flags: Sequence[str] = ()) -> dict[str, Any]:
    """Parse an item option such as `Asthma; icd10=J45.40; complex`.

    The first part is the item's main field (`first`); the rest are `key=value` pairs or bare
    flags (listed in `flags`) that mean true. Dashes in keys become underscores.
    """
    parts = [p.strip() for p in text.split(";")]
    if not parts or not parts[0]:
        raise InvalidInput(
            f'{option} {text!r} is empty; give the text first, e.g. {option} "...; key=value".'
        )
    item: dict[str, Any] = {}
    head = parts[0]
    if "=" in head.split(" ")[0]:
        parts.insert(0, "")
    else:
        item[first] = head
    for part in parts[1:]:
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            if key not in flags:
                known = ", ".join(flags) or "none"
                raise InvalidInput(
                    f"{option}: {part!r} is neither key=value nor a known flag (flags: {known})."
                )
            item[key] = True
        else:
            item[key] = value.strip()
    return item


def read_input_file(name: str) -> dict[str, Any]:
    """A stage's input from a YAML or JSON file (JSON is YAML), or `-` for standard input."""
    from casectl.store.yamlio import YamlProblem, decode, load, to_plain

    where = "standard input" if name == "-" else name
    from casectl.store.yamlio import MAX_CASE_BYTES

    limit = MAX_CASE_BYTES + 1  # enough to tell "too big" without reading /dev/zero for ever
    try:
        if name == "-":
            raw = sys.stdin.buffer.read(limit)
        else:
            with Path(name).open("rb") as handle:
                raw = handle.read(limit)
    except OSError as exc:
        raise InvalidInput(f"--from {where}: cannot be read ({exc.strerror}).") from None
    try:
        data = to_plain(load(decode(raw)).tree)
    except YamlProblem as exc:
        line = f":{exc.line}" if exc.line else ""
        raise InvalidInput(f"{where}{line}: {exc.message}.") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: must hold a mapping of field names to values.")
    return data
