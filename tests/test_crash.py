"""Crashes: writers killed with SIGKILL at random moments never leave a case half-written.

Writer processes add follow-ups in a loop and are killed hundreds of times, at random points of
their commands. Throughout, a reader process checks that every case file is a whole, valid
version that never loses a record it had; afterwards every record a writer confirmed (it prints
a line only once the command has returned success) is in its file, exactly once. A lock left by
a killed writer never blocks the next command, and the temporary file a kill can leave behind
is removed by a later write once it is stale.

Writers are forked from this (already imported) process, so a kill costs milliseconds, not a
Python start-up. CASECTL_CRASH_KILLS sets the number of kills (default 240).

Nothing here depends on the machine's speed: every other writer is killed only after it has
confirmed a record (then at a random moment of its next command), and the storm goes on until
the reader has checked every file a number of times. A loaded machine takes longer; it never
fails a check that a fast one passes.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import stat
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from casectl.cli.app import app
from casectl.store import CaseStore
from casectl.store.store import STALE_TEMP_SECONDS, TEMP_GLOB
from tests.conftest import Cli

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")

KILLS = int(os.environ.get("CASECTL_CRASH_KILLS", "240"))
SLOTS = 3  # writers alive at once: two share a pool of cases, one has its own
READER_PASSES = 20  # the storm lasts at least this many passes of the reader over every file
VALID = (Path(__file__).parent / "hostile" / "valid.yaml").read_text("utf-8")


def make_cases(cli: Cli, numbers: range) -> list[str]:
    ids = []
    for n in numbers:
        case_id = f"C-2026-{n:04d}"
        path = cli.path(case_id)
        path.write_text(VALID.replace("C-2026-0042", case_id), "utf-8")
        path.chmod(0o600)
        ids.append(case_id)
    return ids


def follow_up_args(data_dir: Path, case_id: str, summary: str) -> list[str]:
    return ["--data-dir", str(data_dir), "follow-up", case_id, "--mode", "phone", "--with", "father", "--summary", summary]  # fmt: skip


def in_child(body: Callable[[], None], stderr_path: Path) -> int:
    """Fork; the child runs `body` with its output out of pytest's way and never returns."""
    pid = os.fork()
    if pid:
        return pid
    status = 0
    try:
        out = os.open(os.devnull, os.O_WRONLY)
        err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        body()
    except BaseException:
        import traceback

        traceback.print_exc()
        status = 1
    finally:
        with contextlib.suppress(BaseException):
            sys.stderr.flush()
        os._exit(status)


def writer(data_dir: Path, cases: list[str], tag: str, confirmed: Path) -> Callable[[], None]:
    """Add follow-ups round the cases for ever; confirm each only after success was returned."""

    def run() -> NoReturn:
        os.environ["CASECTL_LOCK_TIMEOUT"] = "60"
        out = os.open(confirmed, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        offset = random.randrange(len(cases))
        for i in itertools.count():
            case_id = cases[(offset + i) % len(cases)]
            summary = f"{tag} {i}"
            try:
                app(follow_up_args(data_dir, case_id, summary), prog_name="casectl")
                code: Any = 0
            except SystemExit as exc:
                code = exc.code
            line = f"{case_id}\t{summary}\n" if code in (0, None) else f"FAIL\t{case_id}\t{code}\n"
            os.write(out, line.encode())  # one O_APPEND write: whole lines, even from many writers
        raise AssertionError("unreachable")

    return run


def reader(data_dir: Path, stop: Path, results: Path, passes: Path) -> Callable[[], None]:
    """Read every case file again and again: each must be whole, valid, and never lose a record.

    One byte is added to `passes` after each pass over the folder, so the storm can wait for it.
    """

    def run() -> None:
        store = CaseStore(data_dir)
        seen: dict[str, int] = {}
        problems: list[str] = []
        reads = 0
        progress = os.open(passes, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        while not stop.exists():
            for path in sorted(data_dir.glob("C-*.yaml")):
                reads += 1
                try:
                    count = len(store.read(path).case.follow_ups)
                except Exception as exc:
                    problems.append(f"{path.name}: {type(exc).__name__}: {exc}")
                    continue
                if count < seen.get(path.name, 0):
                    problems.append(f"{path.name}: {count} follow-ups after {seen[path.name]}")
                seen[path.name] = max(count, seen.get(path.name, 0))
            os.write(progress, b".")
        results.write_text(json.dumps({"reads": reads, "problems": problems, "seen": seen}))

    return run


def reap(pid: int) -> int:
    """Wait for a child; its exit status, or minus the signal that ended it."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def ended_by_itself(pid: int) -> bool:
    """True when a child has already ended (a writer never should)."""
    done, _ = os.waitpid(pid, os.WNOHANG)
    return done != 0


def size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def lines_in(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "work"
    folder.mkdir()
    yield folder


def test_writers_killed_at_random_moments_lose_nothing_they_confirmed(cli: Cli, work: Path) -> None:
    shared = make_cases(cli, range(1, 9))
    own = make_cases(cli, range(101, 105))
    # Import what a command imports lazily once, here, so no forked writer spends its life on it.
    cli(*follow_up_args(cli.data_dir, own[0], "warm-up")[2:])
    stop = work / "stop"
    results = work / "reader.json"
    passes = work / "reader.passes"
    reader_pid = in_child(reader(cli.data_dir, stop, results, passes), work / "reader.err")
    rng = random.Random(os.environ.get("CASECTL_CRASH_SEED", "20261125"))
    store = CaseStore(cli.data_dir)
    most: dict[str, int] = {}
    # slot -> [pid, lines its confirmed file must reach first, when to kill it (once it has)]
    alive: dict[int, list[Any]] = {}
    kills = writers = waited_for = 0
    started = time.monotonic()
    try:
        while kills < KILLS or size_of(passes) < READER_PASSES:
            for slot in range(SLOTS):
                if slot not in alive:
                    writers += 1
                    tag = f"s{slot}w{writers}"
                    pool = own if slot == SLOTS - 1 else shared
                    confirmed_file = work / f"confirmed-{slot}"
                    body = writer(cli.data_dir, pool, tag, confirmed_file)
                    # Every other writer confirms a record before its random moment comes:
                    # records are confirmed however slow the machine is.
                    waits = writers % 2 == 0
                    waited_for += waits
                    goal = lines_in(confirmed_file) + waits
                    pid = in_child(body, work / f"writer-{slot}.err")
                    alive[slot] = [pid, goal, None]
            now = time.monotonic()
            for slot, state in alive.items():
                if state[2] is None and lines_in(work / f"confirmed-{slot}") >= state[1]:
                    state[2] = now + rng.uniform(0.005, 0.4)
                assert not ended_by_itself(state[0]), f"see writer-{slot}.err"
            due = [
                slot for slot, state in alive.items() if state[2] is not None and state[2] <= now
            ]
            if not due:
                time.sleep(0.002)
                continue
            slot = due[0]
            pid = alive.pop(slot)[0]
            os.kill(pid, signal.SIGKILL)
            assert reap(pid) == -signal.SIGKILL, (
                f"writer {pid} ended by itself; see writer-{slot}.err"
            )
            kills += 1
            # Right after the kill: the file it may have been writing is a whole, valid version.
            case_id = rng.choice(own if slot == SLOTS - 1 else shared)
            count = len(store.load(case_id).case.follow_ups)
            assert count >= most.get(case_id, 0), f"{case_id} lost a record"
            most[case_id] = count
    finally:
        for pid, *_ in alive.values():
            os.kill(pid, signal.SIGKILL)
            reap(pid)
        stop.touch()
        reader_status = reap(reader_pid)
    elapsed = time.monotonic() - started

    assert reader_status == 0, (work / "reader.err").read_text()
    read = json.loads(results.read_text())
    assert read["problems"] == [], read["problems"][:5]
    assert read["reads"] >= READER_PASSES * len(shared + own), read

    confirmed: list[tuple[str, str]] = []
    for slot in range(SLOTS):
        for line in (work / f"confirmed-{slot}").read_text().splitlines():
            assert not line.startswith("FAIL"), f"a command failed: {line}; see writer-{slot}.err"
            case_id, summary = line.split("\t")
            confirmed.append((case_id, summary))
    saved = {
        case_id: Counter(f.summary for f in store.load(case_id).case.follow_ups)
        for case_id in shared + own
    }
    for case_id, summary in confirmed:
        assert saved[case_id][summary] == 1, f"{summary!r}, confirmed, is not once in {case_id}"
    for case_id, counts in saved.items():
        assert all(n == 1 for n in counts.values()), f"a record twice in {case_id}"
    # Not a speed floor: half the writers were only killed after confirming a record.
    assert len(confirmed) >= waited_for, (len(confirmed), waited_for)

    cli("check")
    leftovers = list(cli.data_dir.glob(TEMP_GLOB))
    print(
        f"\n{kills} kills of {writers} writers in {elapsed:.1f} s; {len(confirmed)} records "
        f"confirmed, {sum(sum(c.values()) for c in saved.values())} saved; reader read "
        f"{read['reads']} times; {len(leftovers)} temporary file(s) left by kills"
    )

    # Killed writers held locks: none of them may hold up the next command (a lock still held
    # would make it exit 7 after half a second).
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CASECTL_LOCK_TIMEOUT", "0.5")
        for case_id in shared + own:
            cli(*follow_up_args(cli.data_dir, case_id, "after the storm")[2:])

    # What kills left behind goes once it is stale.
    aged = time.time() - STALE_TEMP_SECONDS - 60
    for leftover in leftovers:
        os.utime(leftover, (aged, aged))
    cli(*follow_up_args(cli.data_dir, shared[0], "sweeps")[2:])
    assert list(cli.data_dir.glob(TEMP_GLOB)) == []


def test_a_kill_between_write_and_rename_leaves_the_old_file_and_a_temp_file_that_goes(
    cli: Cli, work: Path
) -> None:
    """The one moment a kill can leave something behind, made to happen every time."""
    (case_id,) = make_cases(cli, range(42, 43))
    path = cli.path(case_id)
    before = path.read_bytes()

    def killed_before_rename() -> None:
        import casectl.store.store as store_module

        def die(*_: object) -> None:
            os.kill(os.getpid(), signal.SIGKILL)

        store_module.os.replace = die  # type: ignore[assignment]
        app(follow_up_args(cli.data_dir, case_id, "never renamed"), prog_name="casectl")

    pid = in_child(killed_before_rename, work / "killed.err")
    assert reap(pid) == -signal.SIGKILL
    assert path.read_bytes() == before, "the case file is the old version"
    (leftover,) = cli.data_dir.glob(TEMP_GLOB)
    assert stat.S_IMODE(leftover.stat().st_mode) == 0o600
    assert "never renamed" in leftover.read_text(), "a whole new version, never used"
    # Harmless meanwhile: not a case file, ignored by git, inside the private folder.
    assert cli("list", "--format", "ids").stdout.split() == [case_id]
    assert ".casectl-*.tmp" in (cli.data_dir / ".gitignore").read_text()
    cli("check")

    # The lock the killed writer held does not block; a fresh temp file (maybe a live writer's)
    # is left alone; a stale one is removed by the next write.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CASECTL_LOCK_TIMEOUT", "0.5")
        cli(*follow_up_args(cli.data_dir, case_id, "first after the kill")[2:])
    assert leftover.exists()
    aged = time.time() - STALE_TEMP_SECONDS - 1
    os.utime(leftover, (aged, aged))
    cli(*follow_up_args(cli.data_dir, case_id, "second after the kill")[2:])
    assert not leftover.exists()
    summaries = [f.summary for f in CaseStore(cli.data_dir).load(case_id).case.follow_ups]
    assert summaries == ["first after the kill", "second after the kill"]
