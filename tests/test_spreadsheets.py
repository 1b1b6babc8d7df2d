"""Spreadsheets that open right: CSV cells a spreadsheet would run as formulas are neutralised
(and read back exactly by `import`), `--bom`, real xlsx workbooks, `-o` to regular files only;
and, when LibreOffice is installed, the files as a real spreadsheet program reads them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from casectl.cli import output
from casectl.errors import ExitStatus
from casectl.text import from_spreadsheet, spreadsheet_safe
from tests.conftest import Cli, open_case

FORMULA = '=HYPERLINK("http://example.org/x","click me")'
NAMES = [FORMULA, "+1-2", "-Ana", "@SUM(A1)", "'=already quoted", "Nguyễn Văn An", "Zoë O'Neil"]


@pytest.fixture
def named(cli: Cli) -> Cli:
    """Cases whose clients are named like formulas, and one with accents."""
    for n, name in enumerate(NAMES):
        open_case(cli, name=name, dob=f"201{n}-04-02")
    return cli


def test_csv_neutralises_formula_cells_and_leaves_numbers_and_dates(named: Cli) -> None:
    rows = list(csv.DictReader(io.StringIO(named("list", "--format", "csv").stdout)))
    shown = {row["client"] for row in rows}
    assert shown == {
        "'" + FORMULA,
        "'+1-2",
        "'-Ana",
        "'@SUM(A1)",
        "''=already quoted",
        "Nguyễn Văn An",
        "Zoë O'Neil",
    }
    assert {row["age"] for row in rows} <= {str(n) for n in range(20)}  # numbers stay numbers
    assert all(dt.date.fromisoformat(row["opened"]) for row in rows)  # dates stay dates
    # TSV and JSON are for scripts: exact.
    tsv = named("list", "--format", "tsv").stdout
    assert {row[1] for row in list(csv.reader(io.StringIO(tsv), delimiter="\t"))[1:]} == set(NAMES)
    data = json.loads(named("list", "--format", "json").stdout)
    assert {row["client"] for row in data} == set(NAMES)


def test_a_negative_number_is_written_as_a_number(cli: Cli) -> None:
    """days_overdue is -3 for an item due in three days: a number, never a quoted cell."""
    buffer = io.StringIO()
    output._write_delimited(
        buffer, [["C-1", -3, 2.5, "-3"]], ["a", "b", "c", "d"], ",", for_spreadsheet=True
    )
    assert buffer.getvalue().splitlines()[1] == "C-1,-3,2.5,'-3"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_neutralising_is_undone_exactly(text: str) -> None:
    assert from_spreadsheet(spreadsheet_safe(text)) == text
    assert spreadsheet_safe(text)[:1] not in ("=", "+", "-", "@", "\t", "\r")


def test_import_reads_a_neutralised_cell_as_what_it_stood_for(cli: Cli, tmp_path: Path) -> None:
    sheet = tmp_path / "intake.csv"
    cells = [spreadsheet_safe(v) for v in ("-Ana Paula", "2015-03-01", "F", "+1 555 0100")]
    sheet.write_text("name,dob,sex,phone\n" + ",".join(cells) + "\n", "utf-8")
    (case_id,) = cli("import", "--format", "csv", str(sheet)).stdout.split()
    data = json.loads(cli("show", case_id, "--format", "json").stdout)
    assert data["client"]["name"] == "-Ana Paula"
    assert data["client"]["contact"]["phone"] == "+1 555 0100"


def test_bom_only_when_asked_and_only_for_csv_and_tsv(named: Cli) -> None:
    plain = named.runner.invoke(
        output_app(), ["--data-dir", str(named.data_dir), "list", "--format", "csv"]
    )
    assert not plain.stdout_bytes.startswith(b"\xef\xbb\xbf")
    marked = named("list", "--format", "csv", "--bom").stdout_bytes
    assert marked.startswith(b"\xef\xbb\xbfcase_id,")
    assert named("review", "--format", "tsv", "--bom").stdout_bytes.startswith(b"\xef\xbb\xbf")
    refused = named("list", "--format", "json", "--bom", ok=False)
    assert refused.exit_code == ExitStatus.INVALID and "--bom" in refused.stderr


def output_app():  # type: ignore[no-untyped-def]
    from casectl.cli.app import app

    return app


def test_list_as_xlsx_is_a_real_workbook(named: Cli, tmp_path: Path) -> None:
    book_path = tmp_path / "cases.xlsx"
    named("list", "--format", "xlsx", "-o", str(book_path))
    assert stat.S_IMODE(book_path.stat().st_mode) == 0o600
    sheet = load_workbook(book_path).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["case_id", "client", "age"]
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:M{len(NAMES) + 1}"
    assert (
        sheet.column_dimensions["B"].width >= len(FORMULA)
        or sheet.column_dimensions["B"].width == 60
    )
    clients = {row[1].value: row[1].data_type for row in sheet.iter_rows(min_row=2)}
    assert set(clients) == set(NAMES)  # exact: no quote, nothing escaped
    assert set(clients.values()) == {"s"}  # text, never a formula
    opened = [row[header.index("opened")] for row in sheet.iter_rows(min_row=2)]
    assert all(isinstance(c.value, dt.datetime) and c.number_format == "yyyy-mm-dd" for c in opened)
    ages = [row[header.index("age")].value for row in sheet.iter_rows(min_row=2)]
    assert all(isinstance(a, int) for a in ages)


def test_review_and_report_as_xlsx(named: Cli, tmp_path: Path) -> None:
    review = named("review", "--all", "--format", "xlsx").stdout_bytes  # piped: allowed
    assert review.startswith(b"PK")
    book_path = tmp_path / "report.xlsx"
    named("report", "--format", "xlsx", "-o", str(book_path))
    book = load_workbook(book_path)
    assert book.sheetnames == [
        "report",
        "caseload",
        "overdue",
        "screening_to_plan",
        "referrals",
        "goal_attainment",
        "closures",
        "contacts",
        "cases",
    ]
    measures = {row[0].value: row[1].value for row in book["caseload"].iter_rows(min_row=2)}
    assert measures["total"] == len(NAMES) and measures["by_status: open"] == len(NAMES)
    assert book["cases"]["A1"].value == "case_id"


def test_report_csv_is_the_per_case_table(named: Cli) -> None:
    from casectl.review.report import CASE_FIELDS

    rows = list(csv.reader(io.StringIO(named("report", "--format", "csv").stdout)))
    assert rows[0] == CASE_FIELDS and len(rows) == len(NAMES) + 1


def test_a_workbook_is_never_written_to_a_terminal(
    named: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "is_tty", lambda: True)
    result = named("list", "--format", "xlsx", ok=False)
    assert result.exit_code == ExitStatus.USAGE
    assert "-o FILE.xlsx" in result.stderr and not result.stdout


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder", "device"])
def test_output_goes_only_to_regular_files(named: Cli, tmp_path: Path, kind: str) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched\n")
    target = tmp_path / "out.csv"
    if kind == "symlink":
        target.symlink_to(victim)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    else:
        target = Path("/dev/null")
    for args in (
        ["list", "--format", "csv", "-o", str(target)],
        ["review", "--format", "xlsx", "-o", str(target)],
        ["report", "--format", "json", "-o", str(target)],
        ["export", "C-2026-0001", "-o", str(target)],
    ):
        result = named(*args, ok=False)
        assert result.exit_code == ExitStatus.UNSAFE, (args, result.output)
        assert "not a regular file" in result.stderr
    assert victim.read_text() == "untouched\n"
    assert target.is_symlink() or not target.is_file()


def test_output_to_a_file_is_whole_and_private(named: Cli, tmp_path: Path) -> None:
    target = tmp_path / "list.csv"
    target.write_text("old\n")
    named("list", "--format", "csv", "-o", str(target))
    assert target.read_text("utf-8") == named("list", "--format", "csv").stdout
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    missing = named("list", "-o", str(tmp_path / "nope" / "x.csv"), "--format", "csv", ok=False)
    assert missing.exit_code == ExitStatus.NOT_FOUND


# --- through a real spreadsheet program ---

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# LibreOffice's CSV filter: comma, double quote, UTF-8 (76), start at line 1.
CSV_IN = "CSV:44,34,76,1"
CSV_OUT = "csv:Text - txt - csv (StarCalc):44,34,76,1"


def libreoffice(source: Path, to: str, home: Path, infilter: str | None = None) -> Path:
    """Convert `source` with LibreOffice, headless; the converted file."""
    outdir = home / "converted"
    args = [SOFFICE, "--headless", "--norestore"]
    if infilter:
        args.append(f"--infilter={infilter}")
    args += ["--convert-to", to, "--outdir", str(outdir), str(source)]
    # A profile of its own, so that a test run never touches (or waits on) the user's.
    env = {**os.environ, "HOME": str(home)}
    subprocess.run(args, env=env, capture_output=True, timeout=180, check=True)
    (made,) = outdir.glob(source.stem + ".*")
    return made


@pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice is not installed (apt-get install libreoffice-calc)"
)
def test_libreoffice_reads_casectls_csv_and_xlsx_as_they_are_meant(
    named: Cli, tmp_path: Path
) -> None:
    sheet = tmp_path / "cases.csv"
    named("list", "--format", "csv", "--bom", "-o", str(sheet))
    book = tmp_path / "cases.xlsx"
    named("list", "--format", "xlsx", "-o", str(book))

    # The CSV, opened as a spreadsheet and saved as xlsx: no cell became a formula; the
    # accents came through; dates are dates.
    from_csv = load_workbook(libreoffice(sheet, "xlsx", tmp_path / "lo1", CSV_IN)).active
    assert from_csv is not None
    header = [c.value for c in from_csv[1]]
    client = header.index("client")
    cells = [row[client] for row in from_csv.iter_rows(min_row=2)]
    assert {c.data_type for c in cells} == {"s"}, [c.value for c in cells if c.data_type != "s"]
    assert "Nguyễn Văn An" in {c.value for c in cells}
    assert "'" + FORMULA in {c.value for c in cells}  # shown as text, with its quote
    opened = [row[header.index("opened")].value for row in from_csv.iter_rows(min_row=2)]
    assert all(isinstance(v, dt.datetime) for v in opened)

    # The workbook, opened and saved as CSV: every name exactly, the formula as its text
    # (evaluated it would read "click me"), dates as dates.
    as_csv = libreoffice(book, CSV_OUT, tmp_path / "lo2")
    rows = list(csv.DictReader(io.StringIO(as_csv.read_text("utf-8"))))
    assert {row["client"] for row in rows} == set(NAMES)
    assert all(dt.date.fromisoformat(row["opened"]) for row in rows)
