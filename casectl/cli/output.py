"""One way to print rows for people and for scripts: `--format table|json|csv|tsv|ids`.

A table is drawn (with colour) only when stdout is a terminal; piped, `table` prints plain
tab-separated columns with a header. JSON and CSV field names are a documented contract.
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

from casectl.errors import InvalidInput


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    ids = "ids"


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
    out: Any, records: Sequence[Sequence[Any]], fields: Sequence[str], delimiter: str
) -> None:
    """CSV or TSV: a header, then each record with every value made plain text.

    Column by column (a review's `flags` holds tuples; most columns need nothing), in C loops.
    The csv module quotes a cell holding a line feed but not one holding a lone carriage return
    when lines end in "\n"; a record with one is written with every cell quoted, so that no
    reader takes it for the end of a line.
    """
    columns: list[Sequence[Any]] = list(zip(*records, strict=True))
    changed = False
    for n, column in enumerate(columns):
        if not _AS_IS.issuperset(map(type, column)):
            columns[n] = [v if v.__class__ in _AS_IS else _cell(v) for v in column]
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
    out.write(text)


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
) -> None:
    """Print `rows` (dicts holding at least `fields`) in the chosen format."""
    emit_records(
        [[row.get(f) for f in fields] for row in rows],
        fields,
        fmt,
        title=title,
        id_field=id_field,
    )


def emit_records(
    records: Sequence[Sequence[Any]],
    fields: Sequence[str],
    fmt: Format,
    *,
    title: str | None = None,
    id_field: str = "case_id",
) -> None:
    """Print `records` (sequences of values in the order of `fields`) in the chosen format."""
    out = sys.stdout
    if fmt is Format.json:
        write = out.write
        for piece in json_records(records, fields):
            write(piece)
    elif fmt is Format.ids:
        at = list(fields).index(id_field)
        seen = dict.fromkeys(str(record[at]) for record in records)  # once each, in order
        out.write("".join(ident + "\n" for ident in seen))
    elif fmt in (Format.csv, Format.tsv) or not is_tty():
        # Piped, `table` prints what `tsv` prints: plain, parseable, one row a line.
        _write_delimited(out, records, fields, "," if fmt is Format.csv else "\t")
    else:
        from rich.table import Table

        table = Table(title=title, header_style="bold")
        for f in fields:
            table.add_column(f.replace("_", " "))
        risk_at = list(fields).index("risk") if "risk" in fields else None
        for record in records:
            style = None if risk_at is None else RISK_STYLE.get(str(record[risk_at]))
            table.add_row(*(_cell(v) for v in record), style=style)
        console().print(table)


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
