"""Failures named for what they are: a full or read-only disk, a refused permission, a file the
user made read-only, a file system without hard links, a date out of range and a stray Windows
line ending each get a plain sentence and their own exit code, never "internal error", and the
case file on disk is left exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import stat
from pathlib import Path
from typing import Any

import pytest

import casectl.store.store as store_module
from casectl.dates import EARLIEST, LATEST, add_months, parse_date, parse_duration_days
from casectl.errors import ExitStatus, InvalidInput
from casectl.store import CaseStore
from casectl.store.store import TEMP_GLOB, write_atomic
from tests.conftest import Cli

VALID = (Path(__file__).parent / "hostile" / "valid.yaml").read_text("utf-8")
CASE = "C-2026-0042"
FOLLOW_UP = ("follow-up", CASE, "--mode", "phone", "--with", "father", "--summary", "a call")


@pytest.fixture
def case_file(cli: Cli) -> Path:
    path = cli.path(CASE)
    path.write_text(VALID, "utf-8")
    path.chmod(0o600)
    return path


def one_sentence(stderr: str) -> str:
    assert stderr.startswith("casectl: ") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    return stderr


def refuse(*_: Any, code: int = errno.ENOSPC) -> None:
    raise OSError(code, os.strerror(code))


# --- a full disk, a read-only disk, a refused permission ---


WRITE_FAILURES = [
    (errno.ENOSPC, "fsync", "the disk is full; free some space"),
    (errno.ENOSPC, "replace", "the disk is full; free some space"),
    (errno.EROFS, "mkstemp", "the disk is read-only; mount it writable"),
    (errno.EACCES, "mkstemp", "permission denied; check who owns"),
    (errno.EPERM, "replace", "the operation is not permitted; check who owns"),
]


@pytest.mark.parametrize(("code", "step", "said"), WRITE_FAILURES)
def test_a_write_the_system_refuses_is_named_and_leaves_the_case_as_it_was(
    cli: Cli, case_file: Path, monkeypatch: pytest.MonkeyPatch, code: int, step: str, said: str
) -> None:
    before = case_file.read_bytes()
    target = store_module.tempfile if step == "mkstemp" else store_module.os
    monkeypatch.setattr(target, step, lambda *a, **k: refuse(code=code))
    result = cli(*FOLLOW_UP, ok=False)
    assert result.exit_code == ExitStatus.CANNOT_WRITE == 11, result.output
    message = one_sentence(result.stderr)
    assert message.startswith(f"casectl: cannot write {case_file}: {said}"), message
    assert message.rstrip().endswith("(the file was left as it was).")
    assert case_file.read_bytes() == before
    assert list(cli.data_dir.glob(TEMP_GLOB)) == [], "the temporary file is removed"


def test_a_full_disk_while_opening_a_case_writes_no_file(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module.os, "fsync", refuse)
    result = cli("new", "--name", "Ana Full", "--dob", "2015-01-01", "--sex", "female", ok=False)
    assert result.exit_code == ExitStatus.CANNOT_WRITE, result.output
    message = one_sentence(result.stderr)
    assert "the disk is full" in message and message.endswith("(nothing was written).\n")
    assert list(cli.data_dir.glob("*.yaml")) == [] and list(cli.data_dir.glob(TEMP_GLOB)) == []


def test_a_data_folder_on_a_read_only_disk_is_named_at_the_lock(
    cli: Cli, case_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first thing a write makes is its lock file: that is where a read-only disk shows.
    import filelock

    monkeypatch.setattr(filelock.FileLock, "acquire", lambda *a, **k: refuse(code=errno.EROFS))
    before = case_file.read_bytes()
    result = cli(*FOLLOW_UP, ok=False)
    assert result.exit_code == ExitStatus.CANNOT_WRITE, result.output
    message = one_sentence(result.stderr)
    assert message == (
        f"casectl: cannot write {cli.data_dir}: the disk is read-only; mount it writable, or use "
        "a data folder on another disk (nothing was changed).\n"
    )
    assert case_file.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in any folder")
def test_a_folder_without_write_permission(cli: Cli, case_file: Path) -> None:
    before = case_file.read_bytes()
    cli.data_dir.chmod(0o500)
    try:
        result = cli(*FOLLOW_UP, ok=False)
    finally:
        cli.data_dir.chmod(0o700)
    assert result.exit_code == ExitStatus.CANNOT_WRITE, result.output
    assert "permission denied" in one_sentence(result.stderr)
    assert case_file.read_bytes() == before


def test_an_export_to_a_folder_without_permission(
    cli: Cli, case_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "shared" / "plan.md"
    out.parent.mkdir()
    monkeypatch.setattr(store_module.tempfile, "mkstemp", lambda *a, **k: refuse(code=errno.EACCES))
    result = cli("export", CASE, "--format", "markdown", "-o", str(out), ok=False)
    assert result.exit_code == ExitStatus.CANNOT_WRITE, result.output
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"casectl: cannot write {out}: permission denied; check who owns")
    assert not out.exists()


def test_a_refused_write_outside_the_store_is_named_at_the_exit_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `init` makes its folder itself: the one exit point names what the system refused.
    def denied(self: Path, *args: Any, **kwargs: Any) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    folder = tmp_path / "elsewhere" / "cases"
    monkeypatch.setattr(Path, "mkdir", denied)
    result = Cli(folder)("init", ok=False)
    assert result.exit_code == ExitStatus.CANNOT_WRITE, result.output
    message = one_sentence(result.stderr)
    assert message.startswith(f"casectl: cannot write {folder}: permission denied"), message


# --- a case file the user made read-only ---


@pytest.mark.parametrize("mode", [0o400, 0o444])
def test_a_read_only_case_file_is_never_overwritten(cli: Cli, case_file: Path, mode: int) -> None:
    before = case_file.read_bytes()
    case_file.chmod(mode)
    result = cli(*FOLLOW_UP, ok=False)
    assert result.exit_code == ExitStatus.CANNOT_WRITE, result.output
    message = one_sentence(result.stderr)
    assert message == (
        f"casectl: {case_file} is read-only, so casectl leaves it as it is; to change it, "
        f"make it writable first: chmod 600 {case_file}\n"
    )
    assert case_file.read_bytes() == before
    assert stat.S_IMODE(case_file.stat().st_mode) == mode
    cli("show", CASE)  # reading it is fine
    case_file.chmod(0o600)
    cli(*FOLLOW_UP)
    assert "a call" in case_file.read_text()


def test_edit_refuses_a_read_only_case_file_before_opening_the_editor(
    cli: Cli, case_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    opened = tmp_path / "editor-was-opened"
    monkeypatch.setenv("EDITOR", f"touch {opened}")
    case_file.chmod(0o400)
    result = cli("edit", CASE, ok=False)
    assert result.exit_code == ExitStatus.CANNOT_WRITE, result.output
    assert not opened.exists()


# --- file systems without hard links (FAT, exFAT, SMB) ---


@pytest.mark.parametrize("code", [errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP])
def test_new_and_import_work_without_hard_links(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    monkeypatch.setattr(store_module.os, "link", lambda *a, **k: refuse(code=code))
    case_id = cli("new", "--name", "Ana Fat", "--dob", "2015-01-01", "--sex", "female")
    case_id = case_id.stdout.split()[-1]
    template = Path(__file__).parents[1] / "examples" / "import-template.csv"
    cli("import", "--format", "csv", str(template))
    store = CaseStore(cli.data_dir)
    assert len(store.case_ids()) == 3
    for path in store.case_files():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        store.read(path)
    assert store.load(case_id).case.client.name == "Ana Fat"
    assert list(cli.data_dir.glob(TEMP_GLOB)) == []


def test_without_hard_links_an_exclusive_write_still_never_replaces_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module.os, "link", lambda *a, **k: refuse(code=errno.EPERM))
    path = tmp_path / "taken.yaml"
    path.write_text("already here\n")
    with pytest.raises(FileExistsError):
        write_atomic(path, "new text\n", exclusive=True)
    assert path.read_text() == "already here\n"
    assert list(tmp_path.glob(TEMP_GLOB)) == []
    fresh = tmp_path / "fresh.yaml"
    write_atomic(fresh, "new text\n", exclusive=True)
    assert fresh.read_text() == "new text\n"


def test_a_file_system_without_modes_is_no_reason_to_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FAT refuses chmod (EPERM); mkstemp already made the file 0600 where modes exist.
    monkeypatch.setattr(store_module.os, "fchmod", lambda *a: refuse(code=errno.EPERM))
    path = tmp_path / "case.yaml"
    write_atomic(path, "text\n")
    assert path.read_text() == "text\n"


# --- dates out of range ---


@pytest.mark.parametrize(
    "args",
    [
        ("review", "--as-of", "9999-12-31"),
        ("review", "--as-of", "0001-01-01"),
        ("review", "--within", "9999y"),
        ("review", "--within", "99999999"),
        ("report", "--as-of", "9999-12-31"),
        ("report", "--since", "-9999y"),
        (*FOLLOW_UP, "--next-review", "+9999y"),
        (*FOLLOW_UP, "--next-review", "+900y"),
        (*FOLLOW_UP, "--date", "9999-12-31"),
        ("implement", CASE, "--appointment", "Clinic; date=+9999y"),
        ("plan", CASE, "--goal", "Walks; by=9999-12-31", "--review-every", "9999y"),
    ],
)
def test_a_date_or_span_out_of_range_is_invalid_input(
    cli: Cli, case_file: Path, args: tuple[str, ...]
) -> None:
    before = case_file.read_bytes()
    result = cli(*args, ok=False)
    assert result.exit_code == ExitStatus.INVALID, result.output
    message = one_sentence(result.stderr)
    assert "outside the dates casectl takes" in message or "longer than casectl takes" in message
    assert case_file.read_bytes() == before


def test_a_far_date_in_a_from_file_is_invalid_input(
    cli: Cli, case_file: Path, tmp_path: Path
) -> None:
    given = tmp_path / "contact.yaml"
    given.write_text("mode: phone\nwith: [father]\nsummary: a call\ndate: 9999-12-31\n")
    result = cli("follow-up", CASE, "--from", str(given), ok=False)
    assert result.exit_code == ExitStatus.INVALID, result.output
    assert "too far in the past or future" in one_sentence(result.stderr)


def test_a_far_today_is_invalid_input(
    cli: Cli, case_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASECTL_TODAY", "9999-12-31")
    result = cli("review", ok=False)
    assert result.exit_code == ExitStatus.INVALID, result.output
    assert "CASECTL_TODAY '9999-12-31' is outside" in one_sentence(result.stderr)


def test_date_arithmetic_stays_in_range() -> None:
    day = dt.date(2026, 11, 25)
    with pytest.raises(OverflowError):
        add_months(dt.date(9999, 12, 31), 1)
    with pytest.raises(OverflowError):
        add_months(dt.date(1, 1, 31), -1)
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    for text in ("+9999y", "-9999y", "+9999w", "9999-12-31", "1899-12-31", "2200-01-01"):
        with pytest.raises(InvalidInput):
            parse_date(text, base=day)
    with pytest.raises(InvalidInput):
        parse_date("tomorrow", base=LATEST)
    assert parse_date("2199-12-31", base=day) == LATEST
    assert parse_date("1900-01-01", base=day) == EARLIEST
    assert parse_date("+2w", base=day) == dt.date(2026, 12, 9)
    with pytest.raises(InvalidInput):
        parse_duration_days("101y")
    assert parse_duration_days("100y") == 36_500


# --- line endings ---


def _with_endings(text: str, windows_lines: set[int]) -> bytes:
    lines = text.split("\n")
    out = [line + ("\r\n" if i in windows_lines else "\n") for i, line in enumerate(lines[:-1])]
    return "".join(out).encode("utf-8")


def _removed_lines(before: bytes, after: bytes) -> list[bytes]:
    """The lines of `before` that `after` no longer has, line endings included."""
    import difflib

    old = before.decode().splitlines(keepends=True)
    new = after.decode().splitlines(keepends=True)
    return [line[2:].encode() for line in difflib.ndiff(old, new) if line.startswith("- ")]


def test_one_windows_line_does_not_turn_a_file_to_windows_endings(
    cli: Cli, case_file: Path
) -> None:
    raw = _with_endings(VALID, {5})
    case_file.write_bytes(raw)
    cli(*FOLLOW_UP)
    after = case_file.read_bytes()
    assert b"\r\n" not in after, "the file keeps its Unix line endings"
    # The stray line loses its CR; the one list the follow-up filled is the only other change.
    stray = raw.splitlines(keepends=True)[5]
    assert _removed_lines(raw, after) == [stray, b"follow_ups: []\n"]


def test_one_unix_line_does_not_turn_a_windows_file_to_unix_endings(
    cli: Cli, case_file: Path
) -> None:
    raw = _with_endings(VALID, set(range(VALID.count("\n"))) - {7})
    case_file.write_bytes(raw)
    cli(*FOLLOW_UP)
    after = case_file.read_bytes()
    assert after.count(b"\r\n") == after.count(b"\n"), "every line ends CRLF"
    stray = raw.splitlines(keepends=True)[7]
    assert _removed_lines(raw, after) == [stray, b"follow_ups: []\r\n"]
