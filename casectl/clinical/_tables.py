"""Read the published reference tables packaged in casectl/data (see the README beside each)."""

from __future__ import annotations

import csv
import io


def read_table(folder: str, filename: str) -> list[dict[str, str]]:
    """Return the rows of a packaged CSV as dicts, skipping repeated header lines.

    CDC's `bmiagerev.csv` repeats its header before the girls' rows; those lines are skipped.
    """
    # Imported here so that importing the clinical package stays cheap for `casectl --help`.
    from importlib.resources import files

    text = (files("casectl") / "data" / folder / filename).read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    return [dict(zip(header, row, strict=True)) for row in reader if row and row != header]
