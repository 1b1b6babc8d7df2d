"""The summary index: right after every kind of change to the folder, private, rebuilt when
broken, and the fast reader gives exactly what the store's reader gives.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import marshal
import os
import shutil
import signal
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casectl import batch
from casectl.demo import write_demo
from casectl.errors import InvalidCaseFile
from casectl.models.case import STAGE_SECTIONS
from casectl.models.vocab import CASE_STATUSES, RISK_LEVELS
from casectl.review import caseload, index
from casectl.review.caseload import LIST_FIELDS
from casectl.review.index import index_path, load_summaries, summarise
from casectl.store import CaseStore, fast, yamlio
from casectl.store.fast import _NotFast, fast_plain, read_case
from tests.conftest import TODAY, Cli

AS_OF = dt.date.fromisoformat(TODAY)


@pytest.fixture
def trust_fresh_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written a moment ago are normally read again; these tests check the reuse."""
    monkeypatch.setattr(index, "RACY_NS", 0)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    write_demo(root, 40, seed=11, as_of=AS_OF)
    return root


def load(root: Path, **kw: object) -> index.Caseload:
    return load_summaries(root, today=AS_OF, **kw)  # type: ignore[arg-type]


def ids(loaded: index.Caseload) -> list[str]:
    return [c.case_id for c in loaded.cases]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


# --- the index follows the folder ---


def test_second_run_reads_nothing_and_agrees_with_no_cache(
    demo: Path, trust_fresh_files: None
) -> None:
    first = load(demo)
    assert first.read == 40 and first.invalid == 0
    second = load(demo)
    assert second.read == 0
    assert second.cases == first.cases == load(demo, use_index=False).cases


def test_an_edit_is_seen(demo: Path, trust_fresh_files: None) -> None:
    load(demo)
    path = sorted(demo.glob("*.yaml"))[3]
    _edit(path, "case_manager: ", "case_manager: Z. New ")
    after = load(demo)
    assert after.read == 1
    changed = next(c for c in after.cases if c.case_id == path.stem)
    assert changed.manager.startswith("Z. New ")


def test_same_size_new_content_is_seen_even_with_the_old_mtime(
    demo: Path, trust_fresh_files: None
) -> None:
    load(demo)
    path = sorted(demo.glob("*.yaml"))[5]
    before = path.stat()
    text = path.read_text()
    old = "status: open" if "status: open" in text else "status: closed"
    swapped = text.replace(old, "status: oxen", 1)  # same length, different bytes
    path.write_text(swapped)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `touch -r` or a sync would
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    after = load(demo)
    assert after.read == 1 and after.invalid == 1  # `oxen` is no status: seen, not trusted
    path.write_text(text)
    assert load(demo).invalid == 0


def test_delete_and_rename(demo: Path, trust_fresh_files: None) -> None:
    load(demo)
    files = sorted(demo.glob("*.yaml"))
    files[0].unlink()
    after = load(demo)
    assert after.read == 0 and files[0].stem not in ids(after) and len(after.cases) == 39
    files[1].rename(demo / "RENAMED.yaml")  # the id inside no longer matches the name
    renamed = load(demo)
    assert renamed.read == 1 and renamed.invalid == 1 and files[1].stem not in ids(renamed)
    (demo / "RENAMED.yaml").rename(files[1])
    back = load(demo)
    assert back.invalid == 0 and files[1].stem in ids(back)


def test_a_checkout_that_puts_old_files_back(
    demo: Path, tmp_path: Path, trust_fresh_files: None
) -> None:
    saved = tmp_path / "saved"
    shutil.copytree(demo, saved)  # what `git checkout` or `git pull` would write back
    first = load(demo)
    for path in sorted(demo.glob("*.yaml"))[:5]:
        _edit(path, "case_manager: ", "case_manager: Q. ")
    assert load(demo).read == 5
    for path in sorted(saved.glob("*.yaml")):
        shutil.copy2(path, demo / path.name)  # old content, old mtime, new inode
    assert load(demo).cases == first.cases


def _referral_dues(loaded: index.Caseload) -> list[dt.date]:
    return [
        dt.date.fromisoformat(fact[1])
        for case in loaded.cases
        for fact in case.facts
        if fact[0] == "referral" and fact[3].endswith("no answer yet")
    ]


def test_the_config_is_part_of_the_index(demo: Path, trust_fresh_files: None) -> None:
    before = _referral_dues(load(demo))
    assert before
    config = demo / "config.toml"
    _edit(config, "referral_no_response_days = 14", "referral_no_response_days = 40")
    after = load(demo)
    assert after.read == 40  # every entry depends on the config
    assert _referral_dues(after) == [day + dt.timedelta(days=26) for day in before]
    assert after.cases == load(demo, use_index=False).cases
    _edit(config, "window_days = 7", "window_days = 9")
    assert load(demo).window_days == 9


def _sealed(payload: object) -> bytes:
    """An index file around any marshal-able payload, with the right line and digest."""
    body = marshal.dumps(payload)
    return index.MAGIC.encode() + index._digest(body) + body


def test_a_corrupt_or_old_index_is_rebuilt_silently(demo: Path, trust_fresh_files: None) -> None:
    good = load(demo).cases
    path = index_path(demo)
    raw = path.read_bytes()
    header, files = index.decode_index(raw)
    first = sorted(files)[0]
    flipped = bytearray(raw)
    flipped[-10] ^= 0x01
    older = json.dumps({"version": 2, "files": {}}).encode()  # the JSON index of casectl 0.1
    for broken in (
        b"",
        b"\x00\xff garbage",
        older,
        raw[:-1],  # truncated
        raw[: len(index.MAGIC) + 3],
        bytes(flipped),  # one bit changed
        raw.replace(b"python 3.", b"python 2.", 1),  # written by another Python
        raw.replace(f"index {index.INDEX_VERSION} ".encode(), b"index 1 ", 1),
        _sealed([1, 2, 3]),
        _sealed((header, [])),
        _sealed((header[:2], files)),
        _sealed(((header[0], "/elsewhere", *header[2:]), files)),
        _sealed((("0.0.1", *header[1:]), files)),
        _sealed(((*header[:3], "7"), files)),
        _sealed((header, {**files, first: (files[first][0], files[first][1], ("a", "b", "c"))})),
        _sealed((header, {**files, first: (files[first][0],)})),
        _sealed((header, {**files, first: 7})),
    ):
        path.write_bytes(broken)
        again = load(demo)
        assert again.cases == good and again.read == 40, broken[:60]
        assert load(demo).read == 0  # and written back whole
        assert index.decode_index(path.read_bytes()) == (header, files)


@pytest.mark.parametrize("kind", ["fifo", "link-to-dev-zero", "folder", "full-folder", "huge"])
def test_whatever_sits_at_the_index_name_is_replaced_by_an_index(
    demo: Path, trust_fresh_files: None, kind: str, tmp_path: Path
) -> None:
    """A named pipe (review hung for ever), a link to /dev/zero (MemoryError), a folder (never
    rebuilt: every run cold) or a file too big to be an index: the first run reads the case
    files and writes a real index there; the next run reads nothing."""
    good = load(demo, use_index=False).cases
    path = index_path(demo)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link-to-dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    elif kind == "full-folder":
        path.mkdir()
        (path / "something").write_text("kept, moved aside")
    else:
        with path.open("wb") as handle:
            handle.truncate(index.MAX_INDEX_BYTES + 1)  # sparse: costs no disk
    with _deadline(30):
        first = load(demo)
    assert first.cases == good and first.read == 40
    assert path.is_file() and not path.is_symlink()
    assert load(demo).read == 0
    if kind == "full-folder":
        (aside,) = path.parent.glob(f"{path.name}.not-an-index-*")
        assert (aside / "something").read_text() == "kept, moved aside"


def test_a_link_at_the_index_name_is_never_followed(demo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.bin"
    elsewhere.write_bytes(b"not casectl's")
    path = index_path(demo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(elsewhere)
    load(demo)
    assert elsewhere.read_bytes() == b"not casectl's"
    assert not path.is_symlink()


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging when something waits without end (a pipe with no writer)."""

    def expire(*_: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_an_unreadable_cache_folder_only_costs_speed(
    demo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CASECTL_CACHE_DIR", str(blocker / "cache"))
    assert load(demo).cases == load(demo, use_index=False).cases


def test_an_interrupted_write_leaves_the_old_index(
    demo: Path, monkeypatch: pytest.MonkeyPatch, trust_fresh_files: None
) -> None:
    load(demo)
    before = index_path(demo).read_bytes()
    path = sorted(demo.glob("*.yaml"))[2]
    _edit(path, "case_manager: ", "case_manager: K. ")

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    replace = os.replace
    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load(demo)
    monkeypatch.setattr(os, "replace", replace)
    assert index_path(demo).read_bytes() == before
    assert not list(index_path(demo).parent.glob(".casectl-*.tmp"))
    after = load(demo)
    assert after.read == 1
    assert next(c for c in after.cases if c.case_id == path.stem).manager.startswith("K. ")


def test_leftovers_of_a_killed_rebuild_are_removed(demo: Path) -> None:
    load(demo)
    folder = index_path(demo).parent
    leftover = folder / ".casectl-dead.tmp"
    leftover.write_text("case data")
    os.utime(leftover, (0, 0))
    _edit(sorted(demo.glob("*.yaml"))[0], "case_manager: ", "case_manager: L. ")
    load(demo)
    assert not leftover.exists()


def test_the_index_is_private_and_outside_the_case_folder(demo: Path, tmp_path: Path) -> None:
    load(demo)
    path = index_path(demo)
    assert path.parent == tmp_path / "cache"  # CASECTL_CACHE_DIR, set by conftest
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not [p for p in demo.iterdir() if p.suffix == ".json"]
    # One index per data directory, named by its resolved path.
    assert index_path(demo) == index_path(demo / ".." / demo.name)
    assert index_path(demo) != index_path(tmp_path)


def test_the_index_keeps_no_more_than_list_and_review_need(demo: Path) -> None:
    load(demo)
    text = index_path(demo).read_bytes().decode("utf-8", "replace")
    for free_text in (
        "phone",
        "555-",
        "health_status",
        "summary",
        "Dr. ",
        "diagnos",
        "eligibility",
    ):
        assert free_text not in text


def test_invalid_files_are_remembered_as_invalid(demo: Path, trust_fresh_files: None) -> None:
    (demo / "BAD.yaml").write_text("id: BAD\n")
    first = load(demo)
    assert first.invalid == 1 and first.read == 41
    assert load(demo).read == 0 and load(demo).invalid == 1


def test_validity_follows_the_day(demo: Path, trust_fresh_files: None) -> None:
    path = sorted(demo.glob("*.yaml"))[0]
    # Two days ahead: in the future even for a colleague a time zone ahead (one day is allowed).
    ahead = (AS_OF + dt.timedelta(days=2)).isoformat()
    _edit(path, "opened: ", f"opened: {ahead}\nx-was: ")  # opened in the future: invalid today
    assert load(demo).invalid == 1
    assert load(demo).read == 0
    later = load_summaries(demo, today=AS_OF + dt.timedelta(days=1))
    assert later.invalid == 0 and later.read == 1  # the invalid entry is judged again
    assert load(demo).invalid == 1  # and a valid entry is not trusted on an earlier day


def test_fresh_files_are_read_again(demo: Path) -> None:
    # Two writes within one timestamp tick look alike; a file this fresh is not trusted.
    load(demo)
    assert load(demo).read == 40


def test_many_files_are_read_by_worker_processes(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "PARALLEL_FROM", 10)
    monkeypatch.setattr(batch, "workers", lambda: 2)
    parallel = load(demo, use_index=False)
    monkeypatch.setattr(batch, "PARALLEL_FROM", 10_000)
    assert parallel.cases == load(demo, use_index=False).cases


def test_list_rows_from_the_index_are_the_list_rows(demo: Path) -> None:
    store = CaseStore(demo)
    by_id = {c.case_id: c for c in load(demo).cases}
    for path in store.case_files():
        case = store.read(path).case
        for day in (AS_OF, dt.date(2031, 1, 1)):
            assert by_id[case.id].list_row(day) == summarise(
                case, store.config, store.today
            ).list_row(day)
    assert list(by_id[case.id].list_row(AS_OF)) == LIST_FIELDS


def test_list_and_review_agree_with_no_cache(tmp_path: Path, demo: Path) -> None:
    cli = Cli(demo)
    for command in (("list", "--format", "json"), ("review", "--all", "--format", "json")):
        cached = cli(*command).stdout
        assert cached == cli(*command).stdout == cli(*command, "--no-cache").stdout


def test_filter_vocabularies_match_the_models() -> None:
    assert ("new", *STAGE_SECTIONS) == caseload.STAGES
    assert caseload.CASE_STATUSES == CASE_STATUSES
    assert caseload.RISK_LEVELS == RISK_LEVELS
    assert fast.MAX_CASE_BYTES == yamlio.MAX_CASE_BYTES


def test_progress_is_silent_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with batch.progress(10_000, "Working") as advance:
        advance(5_000)
        advance(5_000)
    assert capsys.readouterr() == ("", "")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_a_bar_on_a_terminal_and_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screen = _Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    with batch.progress(10_000, "Working") as advance:
        advance(5_000)
        advance(5_000)
    drawn = screen.getvalue()
    assert "Working" in drawn and "10000/10000" in drawn
    with batch.progress(10, "Short") as advance:  # under the minimum: no bar at all
        advance(10)
    assert "Short" not in screen.getvalue()


def test_long_batch_commands_report_progress_per_file(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, str, int]] = []
    real = batch.progress

    @contextlib.contextmanager
    def recording(total: int, label: str, **kw: int) -> Iterator[Callable[[int], None]]:
        done = [0]
        with real(total, label, **kw) as advance:

            def step(n: int = 1) -> None:
                done[0] += n
                advance(n)

            yield step
        seen.append((total, label, done[0]))

    monkeypatch.setattr(batch, "progress", recording)
    monkeypatch.setattr(batch, "PARALLEL_FROM", 10_000)  # in-process, so the recorder sees it
    cli = Cli(demo)
    cli("check")
    cli("export", "--all", "--format", "fhir", "--deidentify")
    cli("list")
    assert seen == [(40, "Checking", 40), (40, "Exporting", 40), (40, "Indexing cases", 40)]


# --- the fast reader gives what the store's reader gives ---


def store_plain(raw: bytes) -> object:
    return yamlio.to_plain(yamlio.load(yamlio.decode(raw)).tree)


def agrees(raw: bytes) -> None:
    """Either the fast reader steps aside, or it gives exactly the store's data."""
    try:
        fast = fast_plain(raw)
    except _NotFast:
        return
    assert fast == store_plain(raw), raw


def test_fast_reader_matches_the_store_on_every_demo_case(demo: Path) -> None:
    for path in sorted(demo.glob("*.yaml")):
        raw = path.read_bytes()
        assert fast_plain(raw) == store_plain(raw)


TRICKY = [
    b"a: yes\nb: no\nc: on\nd: off\ne: y\nf: n\n",  # YAML 1.1 booleans are text in 1.2
    b"a: 010\nb: 0o17\nc: 0x1F\nd: 0b101\ne: 1_000\nf: +12\ng: -0\n",
    b"a: 1.5\nb: 1.\nc: .5\nd: 1e5\ne: .inf\nf: -.INF\ng: 1_0.5\nh: 6.02e+23\n",
    b"a: 1:30\nb: 12:30:45\nc: 190:20:30\n",  # sexagesimal in 1.1 only
    b"a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: nULL\n",
    b"a: true\nb: True\nc: TRUE\nd: tRUE\ne: false\n",
    b"a: 2026-01-05\nb: '2026-01-05'\nc: 2026-1-5\nd: 2026-02-30\ne: 2026-13-01\n",
    b"a: 2026-01-05 10:00\nb: 2026-01-05T10:00:00Z\n",
    b"a: &x 1\nb: *x\n",
    b"a: !!str 5\nb: !!int '7'\nc: !!binary aGk=\nd: !custom x\ne: ! 12\n",
    b"a: 1\na: 2\n",
    b"a: 1\n'a': 2\n",
    b"1: x\n01: y\n",
    b"? [a, b]\n: c\n",
    b"<<: {a: 1}\nb: 2\n",
    b"%YAML 1.1\n---\na: yes\n",
    b"a: 1\n---\nb: 2\n",
    b"- a\n- b\n",
    b"",
    b"   \n",
    b"\xef\xbb\xbfa: 1\n",
    b"a: \xff\n",
    b"a:\n\tb: 1\n",
    b"a: |\n  line one\n  line two\nb: >\n  folded\n  text\n",
    b"a: \"tab\\tand \\u00e9 \\x41\"\nb: 'it''s'\n",
    b"a: plain text\n  continued\n",
    b"a: [1, 2, [3, [4]]]\nb: {c: d}\n",
    b"a: " + b"[" * 60 + b"]" * 60 + b"\n",
    b"a: " + b"9" * 2000 + b"\n",
    b"a: =\nb: !\n",
    b"a: 'Smith & Jones'\nb: great!\nc: 5 * 3\n",
]


@pytest.mark.parametrize("raw", TRICKY)
def test_fast_reader_matches_the_store_on_tricky_yaml(raw: bytes) -> None:
    try:
        expected = store_plain(raw)
    except (yamlio.YamlProblem, RecursionError):
        with pytest.raises(_NotFast):
            fast_plain(raw)
        return
    agrees(raw)
    assert expected is not None


SCALAR = st.text(alphabet="0123456789-+._:eEoxbTtrufalsnNyY~ /", min_size=0, max_size=14)


@settings(max_examples=400, deadline=None)
@given(SCALAR, SCALAR)
def test_fast_reader_resolves_plain_scalars_as_the_store(key: str, value: str) -> None:
    raw = f"k{key}: {value}\nother: x\n".encode()
    try:
        store_plain(raw)
    except yamlio.YamlProblem:
        with pytest.raises(_NotFast):
            fast_plain(raw)
        return
    agrees(raw)


def test_read_case_falls_back_to_the_store_for_its_errors(tmp_path: Path, demo: Path) -> None:
    store = CaseStore(demo, today=AS_OF)
    path = sorted(demo.glob("*.yaml"))[0]
    raw = path.read_bytes()
    assert read_case(store, path) == store.read(path).case
    path.write_bytes(raw.replace(b"case_manager:", b"case_manager: &who", 1))
    with pytest.raises(InvalidCaseFile, match="anchors and aliases"):
        read_case(store, path)
    path.write_bytes(raw.replace(b"status:", b"status: open\nstatus:", 1))
    with pytest.raises(InvalidCaseFile, match=r"appears twice|duplicate"):
        read_case(store, path)
    for version in (b"'1'", b"true", b"2", b"0"):
        path.write_bytes(raw.replace(b"schema_version: 1", b"schema_version: " + version, 1))
        with pytest.raises(InvalidCaseFile, match="schema_version"):
            read_case(store, path)
    path.write_bytes(raw.replace(b"schema_version: 1\n", b"", 1))  # no version: schema 1
    assert read_case(store, path) == store.read(path).case
    other = demo / "OTHER.yaml"
    other.write_bytes(raw)
    with pytest.raises(InvalidCaseFile, match="does not match the file name"):
        read_case(store, other)
