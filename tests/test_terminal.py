"""Nothing gets to the terminal through the data: names and notes with escape sequences,
OSC 52 clipboard writes, C1 controls or bidi overrides are refused at input, in every field,
with the field named; and whatever still reaches a terminal (a file name, a path, an old
index, git) is shown escaped. Scripts' formats stay exact.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casectl.cli import output
from casectl.errors import ExitStatus
from casectl.models.validation import CaseInvalid, validate_case
from casectl.store import yamlio
from casectl.text import UNSAFE, printable
from tests.conftest import TODAY, Cli, open_case

CORPUS = Path(__file__).parent / "hostile"
VALID = yamlio.to_plain(yamlio.load((CORPUS / "valid.yaml").read_text("utf-8")).tree)
OSC52 = "\x1b]52;c;aGk=\x07"  # "write 'hi' to the clipboard"
HOSTILE = [OSC52, "\x1b[2J", "\x9b31m", "\x9d0;title\x9c", "\u202e", "\u2066", "\x00", "\x7f", "\r"]


def leaves(data: Any, loc: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The location of every text value in plain case data."""
    if isinstance(data, dict):
        return [
            p for k, v in data.items() if not str(k).startswith("x-") for p in leaves(v, (*loc, k))
        ]
    if isinstance(data, list):
        return [p for n, v in enumerate(data) for p in leaves(v, (*loc, n))]
    return [loc] if isinstance(data, str) else []


def with_value(data: Any, loc: tuple[str | int, ...], value: str) -> Any:
    if not loc:
        return value
    head, rest = loc[0], loc[1:]
    if isinstance(data, dict):
        return {**data, head: with_value(data[head], rest, value)}
    copy = list(data)
    copy[head] = with_value(copy[head], rest, value)  # type: ignore[index]
    return copy


TEXT_LEAVES = leaves(VALID)


def test_the_corpus_case_has_text_in_every_kind_of_record() -> None:
    assert len(TEXT_LEAVES) > 30


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(TEXT_LEAVES), st.sampled_from(HOSTILE), st.sampled_from(["", "a ", " b"]))
def test_a_control_character_in_any_field_is_refused_naming_that_field(
    loc: tuple[str | int, ...], char: str, around: str
) -> None:
    import datetime as dt

    data = with_value(VALID, loc, f"x{around}{char}{around}y")
    with pytest.raises(CaseInvalid) as caught:
        validate_case(data, today=dt.date.fromisoformat(TODAY))
    assert [where for where, _ in caught.value.problems] == [loc]


def test_line_breaks_and_tabs_only_in_free_text(cli: Cli) -> None:
    case = open_case(cli)
    cli("family", case, "--id", "mother", "--name", "Rosa", "--relationship", "mother",
        "--involvement", "calls in the evening\n\tnot before 5 pm")  # fmt: skip
    refused = cli("family", case, "--id", "aunt", "--name", "Ana\nRuiz", "--relationship", "aunt", ok=False)  # fmt: skip
    assert refused.exit_code == ExitStatus.INVALID
    assert refused.stderr == (
        "casectl: --name: holds a line break; this field is one line "
        "(line breaks belong in notes and other free text).\n"
    )


@pytest.mark.parametrize("char", HOSTILE)
def test_command_line_input_is_refused_and_nothing_is_written(cli: Cli, char: str) -> None:
    case = open_case(cli)
    before = cli.path(case).read_bytes()
    result = cli(
        "team", case, "--id", "pcp", "--name", f"Dr {char} Ruiz", "--role", "primary-care", ok=False
    )
    assert result.exit_code == ExitStatus.INVALID
    assert result.stderr.startswith("casectl: --name: holds the control character U+")
    assert "which could change what a terminal shows; remove it" in result.stderr
    assert not UNSAFE.search(result.stderr.replace("\n", ""))
    assert cli.path(case).read_bytes() == before
    new = cli("new", "--name", f"A{char}B", "--dob", "2016-01-01", "--sex", "male", ok=False)
    assert new.exit_code == ExitStatus.INVALID and "--name: holds" in new.stderr


# --- what reaches a terminal is escaped ---


def test_a_table_shows_control_characters_escaped_and_never_reads_markup(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(output, "is_tty", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")
    record = ["C-1", f"Ana{OSC52}\u202eRuiz", "[link=http://example.org]click[/link]"]
    output.emit_records([record], ["case_id", "client", "what"], output.Format.table)
    shown = capsys.readouterr().out
    assert not UNSAFE.search(shown.replace("\n", "")), repr(shown)
    assert "\\x1b]52;c;aGk=\\x07" in shown and "\\u202e" in shown
    assert "[link=http://example.org]click[/link]" in shown


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv"])
def test_piped_table_is_escaped_but_csv_and_tsv_are_exact(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    value = f"Ana{OSC52}"
    output.emit_records([["C-1", value]], ["case_id", "client"], output.Format(fmt))
    shown = capsys.readouterr().out
    assert (value in shown) == (fmt != "table")
    assert ("\\x1b" in shown) == (fmt == "table")


def test_csv_and_tsv_on_a_terminal_are_escaped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(output, "is_tty", lambda: True)
    for fmt in (output.Format.csv, output.Format.tsv):
        output.emit_records([["C-1", f"Ana{OSC52}"]], ["case_id", "client"], fmt)
        assert "\x1b" not in capsys.readouterr().out


def test_json_stays_exact() -> None:
    value = f"Ana{OSC52}\u202e"
    text = "".join(output.json_records([["C-1", value]], ["case_id", "client"]))
    assert json.loads(text)[0]["client"] == value
    assert "\x1b" not in text  # JSON writes it as \u001b


def test_a_hostile_file_name_is_escaped_in_checks_report(cli: Cli) -> None:
    name = cli.data_dir / f"C-2026-0001{OSC52}.yaml"
    name.write_text("schema_version: 1\n")
    result = cli("check", ok=False)
    assert result.exit_code == ExitStatus.PROBLEMS_FOUND
    assert "\x1b" not in result.output and "\\x1b]52;c;aGk=\\x07" in result.output


def test_errors_and_confirmations_escape_paths(tmp_path: Path, cli: Cli) -> None:
    folder = tmp_path / f"cases{OSC52}"
    made = Cli(folder)("init")
    assert "\x1b" not in made.stdout and "\\x1b]52" in made.stdout
    missing = Cli(tmp_path / "gone\u202e")("list", ok=False)
    assert missing.exit_code == ExitStatus.NOT_FOUND
    assert "\u202e" not in missing.stderr and "\\u202e" in missing.stderr


def test_printable_keeps_line_breaks_and_tabs_and_escapes_the_rest() -> None:
    assert printable("a\nb\tc") == "a\nb\tc"
    assert printable("\x1b[31m\r\x9b\u2069") == "\\x1b[31m\\x0d\\x9b\\u2069"
    buffer = io.StringIO()
    buffer.write(printable("Nguyễn Văn An, Zoë, 中文, مرحبا"))
    assert buffer.getvalue() == "Nguyễn Văn An, Zoë, 中文, مرحبا"
