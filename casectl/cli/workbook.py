"""`--format xlsx`: a workbook a spreadsheet program opens as it should (openpyxl).

Each sheet has a bold header row, frozen, with an auto-filter over the table; column widths
fit the values (within limits); dates are real dates; numbers are numbers; and every text cell
is stored as text, so a client named `=HYPERLINK(...)` is a name, never a formula.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from casectl.text import printable

if TYPE_CHECKING:
    from casectl.cli.output import Sheet

MIN_WIDTH, MAX_WIDTH = 6, 60
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Excel's sheet names: at most 31 characters, none of []:*?/\ (and casectl's names are plain).
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def _value(value: Any, is_date_column: bool) -> Any:
    """What a cell holds: a date, a number, a bool, or text (lists joined as in CSV)."""
    if value is None or isinstance(value, bool | int | float | dt.date):
        return value
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    text = str(value)
    if is_date_column and _ISO_DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return text
    return text


def _width(value: Any) -> int:
    if isinstance(value, dt.date):
        return 10
    return max((len(line) for line in str(value).split("\n")), default=0)


def workbook_bytes(sheets: Sequence[Sheet], date_fields: Collection[str]) -> bytes:
    """The bytes of an .xlsx workbook holding `sheets`."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    taken: set[str] = set()
    for sheet in sheets:
        name = _SHEET_NAME_BAD.sub("-", sheet.name)[:31] or "Sheet"
        while name.lower() in taken:  # names are unique regardless of case
            name = name[:28] + f"-{len(taken)}"
        taken.add(name.lower())
        ws = book.create_sheet(name)
        dates = [f in date_fields for f in sheet.fields]
        rows = [
            [_value(v, is_date) for v, is_date in zip(record, dates, strict=True)]
            for record in sheet.records
        ]
        # Widths and panes must be set before the first row of a write-only sheet.
        for n, field in enumerate(sheet.fields):
            widest = max([len(field), *(_width(row[n]) for row in rows if row[n] is not None)])
            ws.column_dimensions[get_column_letter(n + 1)].width = min(
                MAX_WIDTH, max(MIN_WIDTH, widest + 2)
            )
        ws.freeze_panes = "A2"
        if sheet.fields:
            last = get_column_letter(len(sheet.fields))
            ws.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
        header = []
        for field in sheet.fields:
            cell = WriteOnlyCell(ws, value=field)
            cell.font = bold
            cell.data_type = "s"
            header.append(cell)
        ws.append(header)
        for row in rows:
            cells = []
            for value in row:
                cell = WriteOnlyCell(ws)
                if isinstance(value, str):
                    # Text stays text: set after the value, which would make "=…" a formula.
                    # XML cannot hold most control characters: they are shown escaped.
                    cell.value = printable(value) if _XML_BAD.search(value) else value
                    cell.data_type = "s"
                else:
                    cell.value = value
                    if isinstance(value, dt.date):
                        cell.number_format = "yyyy-mm-dd"
                cells.append(cell)
            ws.append(cells)
    if not sheets:
        book.create_sheet("casectl")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# What XML 1.0 cannot hold (openpyxl refuses it): C0 controls other than tab, LF and CR.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
