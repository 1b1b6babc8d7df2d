"""`casectl edit`: read under the case's lock and held while the editor runs, so a step recorded
meanwhile is never lost; drafts are private, exclusive, never follow a link, and a killed
edit's draft is cleaned up by the next one.
"""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from casectl.errors import ExitStatus
from casectl.store.editing import DRAFT_DIR, DRAFT_MAX_AGE, remove_stale_drafts
from tests.conftest import Cli
from tests.test_crash import follow_up_args, make_cases

CASECTL = [sys.executable, "-m", "casectl"]
ROUNDS = 8


def editor(tmp_path: Path, body: str) -> str:
    script = tmp_path / "editor.sh"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o700)
    return str(script)


def test_an_edit_and_a_step_recorded_at_the_same_time_both_land(cli: Cli, tmp_path: Path) -> None:
    """Two processes race: `edit` with a slow editor, and `follow-up`. In every round, in
    whichever order they take the lock, the file ends with the edit and the contact."""
    (case,) = make_cases(cli, range(1, 2))
    slow = editor(tmp_path, 'sleep 0.4\nprintf "x-edited-%s: true\\n" "$ROUND" >> "$1"\n')
    env = {**os.environ, "EDITOR": slow, "CASECTL_LOCK_TIMEOUT": "60"}
    rng = random.Random(20261125)
    for n in range(ROUNDS):
        env["ROUND"] = str(n)
        edit = subprocess.Popen(
            [*CASECTL, "--data-dir", str(cli.data_dir), "edit", case],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        # The edit process needs a Python start-up before it takes the lock: stagger the
        # stage write across that, so either may go first.
        time.sleep(rng.uniform(0.0, 0.4))
        step = subprocess.run(
            [*CASECTL, *follow_up_args(cli.data_dir, case, f"race {n}")],
            env=env,
            capture_output=True,
            text=True,
        )
        _, err = edit.communicate(timeout=120)
        assert edit.returncode == 0, err
        assert step.returncode == 0, step.stderr
        text = cli.path(case).read_text("utf-8")
        assert f"x-edited-{n}: true" in text, f"round {n}: the edit was lost"
        assert f"summary: race {n}" in text, f"round {n}: the follow-up was lost"
    assert cli("check").exit_code == 0
    assert not list((cli.data_dir / DRAFT_DIR).iterdir())


def test_the_case_stays_locked_while_the_editor_runs(cli: Cli, tmp_path: Path) -> None:
    (case,) = make_cases(cli, range(1, 2))
    seen = tmp_path / "step-exit"
    step = " ".join(f"'{a}'" for a in [*CASECTL, *follow_up_args(cli.data_dir, case, "during")])
    body = f'CASECTL_LOCK_TIMEOUT=0 {step} >/dev/null 2>&1; echo $? > "{seen}"\n'
    os.environ["EDITOR"] = editor(tmp_path, body)
    try:
        result = cli("edit", case)
    finally:
        del os.environ["EDITOR"]
    assert "no changes" in result.stdout
    assert int(seen.read_text()) == ExitStatus.LOCKED


def test_a_file_changed_behind_casectls_back_during_an_edit_is_not_overwritten(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (case,) = make_cases(cli, range(1, 2))
    path = cli.path(case)
    # The editor changes the draft, and something that takes no lock (git, another editor)
    # changes the case file meanwhile.
    body = f'echo "x-mine: true" >> "$1"\necho "x-theirs: true" >> "{path}"\n'
    monkeypatch.setenv("EDITOR", editor(tmp_path, body))
    result = cli("edit", case, ok=False)
    assert result.exit_code == ExitStatus.LOCKED
    assert "changed on disk while you were editing" in result.stderr
    text = path.read_text("utf-8")
    assert "x-theirs: true" in text and "x-mine" not in text
    (draft,) = (cli.data_dir / DRAFT_DIR).iterdir()
    assert "x-mine: true" in draft.read_text("utf-8")
    assert str(draft) in result.stderr.replace("\n", "")


def test_drafts_are_private_and_never_written_through_a_planted_link(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (case,) = make_cases(cli, range(1, 2))
    target = tmp_path / "somebody-elses-file"
    target.write_text("do not touch\n")
    drafts = cli.data_dir / DRAFT_DIR
    drafts.mkdir(parents=True, mode=0o700)
    # The name this process's draft will have (CliRunner runs edit in this process).
    (drafts / f"{case}.{os.getpid()}.yaml").symlink_to(target)
    (cli.data_dir / f".casectl-edit-{case}.yaml").symlink_to(target)  # casectl 0.1's name
    seen = tmp_path / "seen"
    monkeypatch.setenv("EDITOR", editor(tmp_path, f'stat -c "%a %F" "$1" > "{seen}"\n'))
    cli("edit", case)
    assert target.read_text() == "do not touch\n"
    assert seen.read_text() == "600 regular file\n"
    assert stat.S_IMODE(drafts.stat().st_mode) == 0o700
    assert stat.S_IMODE(drafts.parent.stat().st_mode) == 0o700
    assert (drafts.parent / ".gitignore").read_text().splitlines()[-1] == "*"
    assert not list(drafts.iterdir())


def test_a_killed_edit_leaves_a_draft_that_the_next_edit_removes(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (case,) = make_cases(cli, range(1, 2))
    drafts = cli.data_dir / DRAFT_DIR
    hang = editor(tmp_path, "sleep 60\n")
    killed = subprocess.Popen(
        [*CASECTL, "--data-dir", str(cli.data_dir), "edit", case],
        env={**os.environ, "EDITOR": hang},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so that its editor goes with it
    )
    deadline = time.monotonic() + 60
    while not (drafts.is_dir() and list(drafts.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.05)
    (left,) = drafts.iterdir()
    os.killpg(killed.pid, signal.SIGKILL)  # casectl edit and its editor, as a crash would
    killed.wait()
    assert left.exists()
    # And one whose process is alive (this one) but that is older than any edit session.
    old = drafts / f"C-2026-0099.{os.getpid()}.yaml"
    old.write_text("stale")
    then = time.time() - DRAFT_MAX_AGE - 60
    os.utime(old, (then, then))
    monkeypatch.setenv("EDITOR", editor(tmp_path, "true\n"))
    cli("edit", case)
    assert not left.exists() and not old.exists()


def test_a_live_edits_draft_is_left_alone(cli: Cli) -> None:
    drafts = cli.data_dir / DRAFT_DIR
    drafts.mkdir(parents=True)
    mine = drafts / f"C-2026-0001.{os.getpid()}.yaml"
    mine.write_text("being edited")
    assert remove_stale_drafts(cli.data_dir) == []
    assert mine.exists()
