"""The row printer behind every `--format`: its JSON is json.dumps's, its CSV the csv module's."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casectl.cli import output
from casectl.cli.output import Format, emit_records, json_default, json_records
from casectl.text import from_spreadsheet

FIELDS = ["case_id", "client", "flags", "days", "note"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text()
    | st.dates()
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
records = st.lists(st.lists(values, min_size=len(FIELDS), max_size=len(FIELDS)), max_size=6)


def expected_json(rows: list[list[Any]], fields: list[str]) -> str:
    data = [dict(zip(fields, row, strict=True)) for row in rows]
    return json.dumps(data, indent=2, ensure_ascii=False, default=json_default) + "\n"


@settings(max_examples=300, deadline=None)
@given(records)
def test_json_is_exactly_what_json_dumps_writes(rows: list[list[Any]]) -> None:
    assert "".join(json_records(rows, FIELDS)) == expected_json(rows, FIELDS)


def test_json_of_many_records_comes_in_pieces_that_join_to_one_array() -> None:
    rows = [[f"C-{n}", 'Ana "Li" Ñ\n', [] if n % 3 else ["same-day"], n, None] for n in range(2500)]
    pieces = list(json_records(rows, FIELDS))
    assert len(pieces) == 3
    assert "".join(pieces) == expected_json(rows, FIELDS)
    assert "".join(json_records([], FIELDS)) == "[]\n"
    assert "".join(json_records([[]], [])) == "[\n  {}\n]\n"


def test_nan_and_infinity_are_written_as_json_dumps_writes_them() -> None:
    rows = [["a", "b", [float("nan")], float("inf"), -float("inf")]]
    assert "".join(json_records(rows, FIELDS)) == expected_json(rows, FIELDS)


plain_rows = st.lists(
    st.lists(st.none() | st.integers() | st.text(), min_size=len(FIELDS), max_size=len(FIELDS)),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(plain_rows)
def test_csv_and_tsv_read_back_as_written(rows: list[list[Any]]) -> None:
    """TSV exactly; CSV, the spreadsheet format, once the quote that neutralises a
    formula-looking text cell is taken off (as `import` does); numbers are never quoted."""
    for fmt, delimiter in ((Format.csv, ","), (Format.tsv, "\t")):
        written = _capture(rows, fmt)
        parsed = list(csv.reader(io.StringIO(written, newline=""), delimiter=delimiter))
        assert parsed[0] == FIELDS
        if fmt is Format.csv:
            parsed[1:] = [
                [
                    from_spreadsheet(cell) if isinstance(v, str) else cell
                    for cell, v in zip(got, row, strict=True)
                ]
                for got, row in zip(parsed[1:], rows, strict=True)
            ]
        assert parsed[1:] == [["" if v is None else str(v) for v in row] for row in rows]


def test_lists_and_booleans_become_plain_cells() -> None:
    rows = [["C-1", True, ("same-day", "phq9-item9"), [], False]]
    written = _capture(rows, Format.csv)
    assert written.splitlines()[1] == "C-1,true,same-day; phq9-item9,,false"


def test_a_carriage_return_in_a_cell_does_not_end_the_row() -> None:
    rows = [["C-1", "line one\rline two", [], 1, None], ["C-2", "plain", ["x"], 2, None]]
    for fmt, delimiter in ((Format.csv, ","), (Format.tsv, "\t")):
        written = _capture(rows, fmt)
        assert written.count("\n") == 3
        parsed = list(csv.reader(io.StringIO(written, newline=""), delimiter=delimiter))
        assert parsed[1:] == [
            ["C-1", "line one\rline two", "", "1", ""],
            ["C-2", "plain", "x", "2", ""],
        ]


def _capture(rows: list[list[Any]], fmt: Format) -> str:
    buffer = io.StringIO()
    real = output.sys.stdout
    output.sys.stdout = buffer
    try:
        emit_records(rows, FIELDS, fmt)
    finally:
        output.sys.stdout = real
    return buffer.getvalue()


def test_ids_are_written_once_each_in_order() -> None:
    rows = [["C-2", "x", [], 1, None], ["C-1", "y", [], 2, None], ["C-2", "z", [], 3, None]]
    assert _capture(rows, Format.ids) == "C-2\nC-1\n"


def test_a_value_json_cannot_write_is_refused() -> None:
    with pytest.raises(TypeError):
        "".join(json_records([["a", "b", [], {1, 2}, None]], FIELDS))
    assert json_default(dt.date(2026, 11, 25)) == "2026-11-25"
