"""The store's promises: comments survive, a failed write changes nothing, writers don't collide."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from casectl.errors import ExitStatus
from tests.conftest import Cli, open_case

HAND_EDITED = """\
# Synthetic case, hand-edited: these comments must survive every command.
schema_version: 1
id: C-2026-0042
status: open   # still open
opened: 2026-01-05
case_manager: K. Osei
client:
  name: Tomás Ortega  # preferred name: Tomi
  dob: 2015-06-30
  sex: male
  preferred_language: es
x-intake-notes: {source: paper form, scanned: true}   # the user's own key, kept as is
family:
  - id: father
    name: Luis Ortega
    relationship: father
    legal_guardian: true
    decision_maker: true
care_team: []
screening:
  # first contact was by phone
  - date: 2026-01-05
    recorded_by: K. Osei
    referral_source: school nurse
    referral_reason: frequent absences
    eligible: true
    eligibility_reason: chronic illness affecting school
"""


def write_case(cli: Cli, text: str = HAND_EDITED, case_id: str = "C-2026-0042") -> Path:
    path = cli.path(case_id)
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def test_comments_user_keys_and_layout_survive_a_stage_write(cli: Cli) -> None:
    path = write_case(cli)
    cli(
        "screen",
        "C-2026-0042",
        "--referral-source",
        "PCP",
        "--referral-reason",
        "asthma",
        "--eligible",
        "--reason",
        "r",
        "--date",
        "2026-02-01",
    )
    text = path.read_text()
    assert text.startswith(HAND_EDITED.rstrip("\n")), (
        "the untouched part of the file must be byte-identical"
    )
    added = text[len(HAND_EDITED) :]
    assert "  - date: 2026-02-01" in added and "referral_source: PCP" in added


def test_git_diff_shows_only_the_new_record(cli: Cli) -> None:
    path = write_case(cli)
    before = path.read_text().splitlines()
    cli("assess", "C-2026-0042", "--health-status", "well", "--date", "2026-02-01")
    after = path.read_text().splitlines()
    removed = [line for line in before if line not in after]
    assert removed == [], removed


def test_a_misspelt_key_is_an_error_with_its_line(cli: Cli) -> None:
    write_case(cli, HAND_EDITED.replace("    referral_reason:", "    referal_reason:"))
    result = cli("check", ok=False)
    assert result.exit_code == ExitStatus.PROBLEMS_FOUND
    assert "C-2026-0042.yaml:25: screening[0].referal_reason: unknown key" in result.stdout


def test_a_failed_validation_leaves_the_file_byte_identical(cli: Cli) -> None:
    path = write_case(cli)
    before = path.read_bytes()
    result = cli(
        "assess",
        "C-2026-0042",
        "--health-status",
        "x",
        "--systolic",
        "70",
        "--diastolic",
        "90",
        ok=False,
    )
    assert result.exit_code == ExitStatus.INVALID
    assert "diastolic 90 must be below systolic 70" in result.stderr
    assert path.read_bytes() == before
    assert not list(cli.data_dir.glob(".casectl-*")), "no temporary file is left behind"


def test_a_crash_during_the_write_leaves_the_old_file(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_case(cli)
    before = path.read_bytes()

    def boom(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("casectl.store.store.os.replace", boom)
    result = cli("assess", "C-2026-0042", "--health-status", "x", ok=False)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert path.read_bytes() == before
    assert not list(cli.data_dir.glob(".casectl-*"))


def test_files_are_private_even_under_a_permissive_umask(
    tmp_path: Path, permissive_umask: None
) -> None:
    cli = Cli(tmp_path / "cases")
    cli("init")
    case = open_case(cli)
    cli("assess", case, "--health-status", "ok")
    assert stat.S_IMODE(cli.data_dir.stat().st_mode) == 0o700
    for path in [cli.path(case), cli.data_dir / "config.toml", cli.data_dir / ".gitignore"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((cli.data_dir / ".locks").stat().st_mode) == 0o700


def test_check_warns_when_others_can_read(cli: Cli) -> None:
    case = open_case(cli)
    os.chmod(cli.path(case), 0o644)
    result = cli("check")
    assert result.stdout == ""
    assert "can be read by other users" in result.stderr


def _writer(data_dir: Path, case: str, n: int, tag: str) -> subprocess.Popen[bytes]:
    script = (
        "import sys\n"
        "from casectl.cli.app import main\n"
        "data_dir, case, tag = sys.argv[1:4]\n"
        f"for i in range({n}):\n"
        "    sys.argv = ['casectl', '--data-dir', data_dir, 'follow-up', case, '--mode', 'phone',"
        " '--with', 'mother', '--summary', f'{tag} {i}']\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as e:\n"
        "        if e.code: raise\n"
    )
    env = {**os.environ, "CASECTL_LOCK_TIMEOUT": "30"}
    return subprocess.Popen(
        [sys.executable, "-c", script, str(data_dir), case, tag], env=env, stdout=subprocess.DEVNULL
    )


def test_two_processes_writing_the_same_case_both_land(cli: Cli, planned: str) -> None:
    procs = [_writer(cli.data_dir, planned, 8, tag) for tag in ("alpha", "beta")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    shown = cli("show", planned, "--format", "json")
    import json

    summaries = [f["summary"] for f in json.loads(shown.stdout)["follow_ups"]]
    assert sorted(summaries) == sorted(
        [f"alpha {i}" for i in range(8)] + [f"beta {i}" for i in range(8)]
    )
    cli("check")


def test_a_held_lock_gives_a_clear_message_after_a_bounded_wait(
    cli: Cli, planned: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casectl.store.lock import locked

    monkeypatch.setenv("CASECTL_LOCK_TIMEOUT", "0.2")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time\nfrom pathlib import Path\nfrom casectl.store.lock import locked\n"
            "with locked(Path(sys.argv[1]), sys.argv[2]):\n    print('held', flush=True)\n    time.sleep(30)\n",
            str(cli.data_dir),
            planned,
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        result = cli("assess", planned, "--health-status", "x", ok=False)
        assert result.exit_code == ExitStatus.LOCKED
        assert "being changed by another casectl process" in result.stderr
    finally:
        holder.kill()
        holder.wait()
    # A killed holder leaves its lock file, which must not block the next writer.
    with locked(cli.data_dir, planned):
        pass
    cli("assess", planned, "--health-status", "fine")


@pytest.mark.parametrize(
    "case_id",
    ["../evil", "/etc/passwd", "a/b", "..", ".hidden", "con", "NUL.txt", "a\x00b", "x" * 80],
)
def test_unsafe_case_ids_are_refused(cli: Cli, case_id: str) -> None:
    result = cli("show", case_id, ok=False)
    assert result.exit_code == ExitStatus.UNSAFE, result.output
    result = cli(
        "new", "--name", "A B", "--dob", "2020-01-01", "--sex", "male", "--id", case_id, ok=False
    )
    assert result.exit_code == ExitStatus.UNSAFE
    assert not any(p.suffix == ".yaml" for p in cli.data_dir.iterdir())


def test_a_case_file_linked_from_outside_is_refused(cli: Cli, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(HAND_EDITED)
    (cli.data_dir / "C-2026-0042.yaml").symlink_to(outside)
    result = cli("show", "C-2026-0042", ok=False)
    assert result.exit_code == ExitStatus.UNSAFE and "outside the data directory" in result.stderr


def test_a_file_whose_id_does_not_match_its_name(cli: Cli) -> None:
    write_case(cli, HAND_EDITED, case_id="C-2026-0043")
    result = cli("check", ok=False)
    assert (
        "C-2026-0043.yaml:3: id: the id 'C-2026-0042' does not match the file name" in result.stdout
    )


def test_a_file_with_windows_line_endings_keeps_them(cli: Cli) -> None:
    path = write_case(cli, HAND_EDITED.replace("\n", "\r\n"))
    cli("assess", "C-2026-0042", "--health-status", "well", "--date", "2026-02-01")
    text = path.read_bytes()
    assert text.startswith(HAND_EDITED.replace("\n", "\r\n").encode())
    assert b"\r\n" in text and b"\n" not in text.replace(b"\r\n", b"")


def test_check_reports_a_broken_config(cli: Cli) -> None:
    (cli.data_dir / "config.toml").write_text("[risk]\nhigh_at = 'lots'\n")
    result = cli("check", ok=False)
    assert result.exit_code == ExitStatus.PROBLEMS_FOUND
    assert "config.toml" in result.stdout and "risk.high_at" in result.stdout


def test_from_reads_no_more_than_a_case_file_can_hold(cli: Cli, planned: str) -> None:
    big = cli.data_dir.parent / "big.yaml"
    big.write_bytes(b"x-pad: " + b"0" * (3 * 1024 * 1024) + b"\n")
    result = cli("follow-up", planned, "--from", str(big), ok=False)
    assert result.exit_code == ExitStatus.INVALID and "larger than any case file" in result.stderr
