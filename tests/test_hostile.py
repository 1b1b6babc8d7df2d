"""Hostile and broken input: every bad file, id and config gets a documented exit code and one
sentence naming the file and line (or the field), no traceback, and not one byte changed.

The corpus is tests/hostile/: broken case files, each made from valid.yaml by one change, and
cases.yaml, the index of what each must produce. Inputs too big or too odd to keep in git (a
50 MB file, links, a named pipe) are made here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from casectl.errors import ExitStatus
from casectl.store import CaseStore
from tests.conftest import Cli

CORPUS = Path(__file__).parent / "hostile"
INDEX: dict[str, Any] = YAML(typ="safe").load((CORPUS / "cases.yaml").read_text("utf-8"))
CASE = "C-2026-0042"
FOLLOW_UP = ("follow-up", CASE, "--mode", "phone", "--with", "father", "--summary", "not saved")
MAX_MESSAGE = 400  # one sentence: the 300-character message, the path and the prefix


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file, folder and link under `folder`: its mode and its bytes (or link target).

    Lock files are left out: a writer creates its (empty) lock file before it reads the case.
    """
    found: dict[str, tuple[int, bytes]] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if name == ".locks":
            continue
        if path.parent.name == ".locks":
            assert path.stat().st_size == 0, f"{name}: a lock file holds nothing"
            continue
        info = path.lstat()
        if path.is_symlink():
            found[name] = (info.st_mode, os.readlink(path).encode())
        elif path.is_file():
            found[name] = (info.st_mode, path.read_bytes())
        elif path.is_dir():
            found[name] = (info.st_mode, b"")
        else:
            found[name] = (info.st_mode, b"(special)")
    return found


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging when something reads without end."""

    def expire(*_: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def one_sentence(stderr: str, expected: str) -> None:
    assert stderr.startswith(f"casectl: {expected}"), stderr
    assert stderr.count("\n") == 1 and stderr.endswith("\n"), f"one line only: {stderr!r}"
    assert len(stderr) < MAX_MESSAGE, f"{len(stderr)} characters: {stderr[:200]}…"
    assert "Traceback" not in stderr


def assert_refused(
    cli: Cli,
    case_id: str,
    where: str,
    message: str,
    *,
    exit_code: int = ExitStatus.INVALID,
    listing: bool = True,
    checked: bool = True,
    names_itself: bool = False,
) -> None:
    """check, show, follow-up and list on a bad case: each refuses as documented, nothing changes.

    `checked=False`: not a file `check` looks at (a pipe, a folder). `names_itself`: the message
    starts with the file's path, so show and follow-up print it without `where` in front.
    """
    before = snapshot(cli.data_dir)
    with deadline(20):
        result = cli("check", ok=False)
        if checked:
            assert result.exit_code == ExitStatus.PROBLEMS_FOUND, result.output
            assert result.stdout.startswith(f"{where}: {message}"), result.stdout
        else:
            assert (result.exit_code, result.stdout) == (0, ""), result.output
        assert "Traceback" not in result.output
        for args in (("show", case_id), (*FOLLOW_UP[:1], case_id, *FOLLOW_UP[2:])):
            result = cli(*args, ok=False)
            assert result.exit_code == exit_code, (args, result.output)
            assert result.stdout == ""
            one_sentence(result.stderr, message if names_itself else f"{where}: {message}")
        if listing:
            assert_left_out_of_the_list(cli)
    assert snapshot(cli.data_dir) == before


def assert_left_out_of_the_list(cli: Cli) -> None:
    for args in (("list", "--format", "json"), ("list", "--no-cache", "--format", "json")):
        listed = cli(*args, ok=False)
        assert listed.exit_code == 0, listed.output
        assert json.loads(listed.stdout) == []
        assert "1 case file(s) are invalid" in listed.stderr and "Traceback" not in listed.stderr


def place(cli: Cli, data: bytes, case_id: str = CASE) -> Path:
    path = cli.path(case_id)
    path.write_bytes(data)
    path.chmod(0o600)
    return path


# --- the corpus ---


def test_the_corpus_and_its_index_agree() -> None:
    on_disk = {p.name for p in CORPUS.glob("*.yaml")} - {"cases.yaml", "valid.yaml", "crlf.yaml"}
    assert on_disk == set(INDEX["case_files"])
    valid = (CORPUS / "valid.yaml").read_bytes()
    for name in on_disk:
        assert (CORPUS / name).read_bytes() != valid, name


def test_the_file_the_corpus_is_made_from_is_valid(cli: Cli) -> None:
    place(cli, (CORPUS / "valid.yaml").read_bytes())
    cli("check")
    cli(*FOLLOW_UP)


@pytest.mark.parametrize("name", sorted(INDEX["case_files"]))
def test_a_broken_case_file_is_refused_and_left_alone(cli: Cli, name: str) -> None:
    entry = INDEX["case_files"][name]
    path = place(cli, (CORPUS / name).read_bytes())
    where = f"{path}:{entry['line']}" if entry["line"] else str(path)
    assert_refused(cli, CASE, where, entry["message"])


def test_yaml_tags_are_never_constructed(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    called: list[object] = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a) or 0)
    for name in ("python-tag.yaml", "python-name-tag.yaml"):
        place(cli, (CORPUS / name).read_bytes())
        cli("check", ok=False)
        cli("show", CASE, ok=False)
    assert called == []
    assert not (tmp_path / "casectl-hostile-pwned").exists()


def test_billion_laughs_is_refused_fast_in_bounded_memory(tmp_path: Path) -> None:
    store = CaseStore(tmp_path)
    raw = (CORPUS / "billion-laughs.yaml").read_bytes()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(Exception) as caught:
            store.parse(tmp_path / f"{CASE}.yaml", raw)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "anchors and aliases" in str(caught.value)
    assert elapsed < 1.0 and peak < 5 * 1024 * 1024, (elapsed, peak)


def test_a_50_mb_file_is_refused_without_being_read(cli: Cli) -> None:
    line = b"x-filler: 0123456789012345678901234567890123456789012345678901234567890\n"
    path = cli.path(CASE)
    with path.open("wb") as out:
        for _ in range(50):
            out.write(line * (1024 * 1024 // len(line) + 1))
    path.chmod(0o600)
    size_kb = path.stat().st_size // 1024
    message = f"the file is {size_kb} kB, larger than any case file (2048 kB at most); is it the right file?"
    assert_refused(cli, CASE, str(path), message)
    for args in (("check",), ("show", CASE), FOLLOW_UP):
        tracemalloc.start()
        started = time.perf_counter()
        try:
            cli(*args, ok=False)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert time.perf_counter() - started < 1, args
        assert peak < 10 * 1024 * 1024, f"{args}: {peak // 1024} kB held: the file was read"


def test_a_file_whose_id_does_not_match_its_name(cli: Cli) -> None:
    path = place(cli, (CORPUS / "valid.yaml").read_bytes(), "C-2026-0043")
    message = "id: the id 'C-2026-0042' does not match the file name C-2026-0043.yaml; rename the file or correct the id"
    assert_refused(cli, "C-2026-0043", f"{path}:3", message)


def test_a_case_file_linked_from_outside_the_data_folder(cli: Cli, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_bytes((CORPUS / "valid.yaml").read_bytes())
    before = outside.read_bytes()
    path = cli.path(CASE)
    path.symlink_to(outside)
    message = f"{path} is a link to {outside}, outside the data directory; casectl only reads case files that live in it."
    assert_refused(cli, CASE, str(path), message, exit_code=ExitStatus.UNSAFE, names_itself=True)
    assert outside.read_bytes() == before


def test_a_link_to_dev_zero_is_not_read(cli: Cli) -> None:
    path = cli.path(CASE)
    path.symlink_to("/dev/zero")
    message = f"{path} is a link to /dev/zero, outside the data directory"
    assert_refused(cli, CASE, str(path), message, exit_code=ExitStatus.UNSAFE, names_itself=True)


@pytest.mark.parametrize("kind", ["50 MB", "link out"])
def test_list_leaves_out_what_the_store_refuses(cli: Cli, tmp_path: Path, kind: str) -> None:
    path = cli.path(CASE)
    if kind == "50 MB":
        path.write_bytes(b"x-filler: " + b"0" * (50 * 1024 * 1024) + b"\n")
    else:
        outside = tmp_path / "elsewhere.yaml"
        shutil.copy(CORPUS / "valid.yaml", outside)
        path.symlink_to(outside)
    tracemalloc.start()
    try:
        assert_left_out_of_the_list(cli)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024 * 1024, f"{peak // 1024} kB held: the file was read"


def test_a_named_pipe_is_not_waited_on(cli: Cli) -> None:
    os.mkfifo(cli.path(CASE), 0o600)
    # `check` and `list` look at regular files and links only; a pipe is not a case file.
    message = "is not a regular file (a device, pipe or socket)"
    assert_refused(cli, CASE, str(cli.path(CASE)), message, checked=False, listing=False)


def test_a_folder_named_like_a_case_file(cli: Cli) -> None:
    cli.path(CASE).mkdir(mode=0o700)
    message = "is a folder, not a case file"
    assert_refused(cli, CASE, str(cli.path(CASE)), message, checked=False, listing=False)


@pytest.mark.parametrize("entry", INDEX["arguments"], ids=lambda e: repr(e["id"])[:30])
def test_an_unsafe_case_id_is_refused(cli: Cli, entry: dict[str, str]) -> None:
    place(cli, (CORPUS / "valid.yaml").read_bytes())
    before = snapshot(cli.data_dir)
    for args in (
        ("check", entry["id"]),
        ("show", entry["id"]),
        (FOLLOW_UP[0], entry["id"], *FOLLOW_UP[2:]),
    ):
        result = cli(*args, ok=False)
        assert result.exit_code == ExitStatus.UNSAFE, (args, result.output)
        assert result.stdout == ""
        assert entry["message"] in result.stderr
        one_sentence(result.stderr, "")
    assert snapshot(cli.data_dir) == before


@pytest.mark.parametrize("entry", INDEX["configs"], ids=lambda e: e["why"])
def test_a_bad_config_is_refused_by_every_command_that_reads_it(
    cli: Cli, entry: dict[str, Any]
) -> None:
    place(cli, (CORPUS / "valid.yaml").read_bytes())
    config = cli.data_dir / "config.toml"
    config.write_bytes(entry["text"].encode("latin-1" if entry.get("latin1") else "utf-8"))
    before = snapshot(cli.data_dir)
    commands = (
        ("show", CASE),
        FOLLOW_UP,
        ("risk", CASE),
        ("list",),
        ("new", "--name", "Ana Lima", "--dob", "2014-03-03", "--sex", "female"),
    )
    for args in commands:
        result = cli(*args, ok=False)
        assert result.exit_code == ExitStatus.CONFIG, (args, result.output)
        assert entry["message"] in result.stderr
        one_sentence(result.stderr, f"{config}:")
    assert snapshot(cli.data_dir) == before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("billion-laughs.yaml", ":1: anchors and aliases (&name, *name) are not allowed"),
        (
            "python-tag.yaml",
            ":13: the tag tag:yaml.org,2002:python/object/apply:os.system is not allowed",
        ),
        ("latin-1.yaml", ":8: the file is not UTF-8 text"),
    ],
)
def test_stage_input_from_a_hostile_file_is_refused(cli: Cli, name: str, message: str) -> None:
    place(cli, (CORPUS / "valid.yaml").read_bytes())
    before = snapshot(cli.data_dir)
    given = CORPUS / name
    result = cli("follow-up", CASE, "--from", str(given), ok=False)
    assert result.exit_code == ExitStatus.INVALID
    one_sentence(result.stderr, f"{given}{message}")
    assert snapshot(cli.data_dir) == before


def test_windows_line_endings_are_read_and_written_valid(cli: Cli) -> None:
    place(cli, (CORPUS / "crlf.yaml").read_bytes())
    cli("check")
    cli(*FOLLOW_UP)
    cli("check")
    text = cli.path(CASE).read_text()
    assert "# still open" in text and "summary: not saved" in text


def test_the_corpus_runs_in_the_shipped_cli_without_a_traceback(tmp_path: Path) -> None:
    """One real process per kind of failure: no traceback reaches a person's terminal."""
    import subprocess
    import sys

    data = tmp_path / "cases"
    data.mkdir(mode=0o700)
    shutil.copy(CORPUS / "deep-nesting.yaml", data / f"{CASE}.yaml")
    (data / f"{CASE}.yaml").chmod(0o600)
    env = {**os.environ, "CASECTL_TODAY": "2026-11-25"}
    done = subprocess.run(
        [sys.executable, "-m", "casectl", "--data-dir", str(data), "show", CASE],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == ExitStatus.INVALID
    assert done.stdout == "" and "Traceback" not in done.stderr
    one_sentence(done.stderr, f"{data / CASE}.yaml:13: lists and mappings nest more than 50 levels")
