"""The summary index's folder: private when casectl made it, left alone (with a warning) when it
did not, never used when another user owns it; indexes of vanished data folders pruned; `cache
clean` removing every index; and core dumps off, so a crash leaves no case data on disk.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from casectl.review import index
from casectl.review.index import TAG_NAME, index_path
from tests.conftest import Cli

NOBODY = 65534


def make_folder(tmp_path: Path, name: str) -> Cli:
    cli = Cli(tmp_path / name)
    cli("init")
    cli("new", "--name", "Ana Cache", "--dob", "2015-01-01", "--sex", "female")
    return cli


def test_a_cache_folder_casectl_makes_is_private_and_tagged(tmp_path: Path) -> None:
    cli = make_folder(tmp_path, "cases")
    cli("list")
    folder = tmp_path / "cache"  # CASECTL_CACHE_DIR (tests/conftest.py), made by this run
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    tag = (folder / TAG_NAME).read_text()
    assert tag.startswith("Signature: 8a477f597d28d172789f06886806bc55\n"), "backup tools skip it"
    assert "Ana" not in tag


def test_an_existing_cache_folder_not_made_by_casectl_is_never_chmod_ed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    monkeypatch.setenv("CASECTL_CACHE_DIR", str(shared))
    cli = make_folder(tmp_path, "cases")
    result = cli("list")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755, "the user's folder keeps its mode"
    assert result.stderr == (
        f"casectl: warning: the cache folder {shared} (CASECTL_CACHE_DIR) was not made by "
        "casectl, so casectl leaves its permissions alone, but other users can see into it; "
        f"chmod 700 {shared} to make it private.\n"
    )
    assert stat.S_IMODE(index_path(cli.data_dir).stat().st_mode) == 0o600
    assert not (shared / TAG_NAME).exists(), "not casectl's folder: no tag"
    shared.chmod(0o700)
    assert cli("list").stderr == "", "a private folder of the user's needs no warning"


@pytest.mark.skipif(os.geteuid() != 0, reason="making another user's folder needs root")
def test_a_cache_folder_owned_by_another_user_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    os.chown(theirs, NOBODY, NOBODY)
    monkeypatch.setenv("CASECTL_CACHE_DIR", str(theirs))
    cli = make_folder(tmp_path, "cases")
    result = cli("list", "--format", "ids")
    assert result.stdout.split() == ["C-2026-0001"], "list still works, reading every file"
    assert "belongs to another user, so casectl keeps no index there" in result.stderr
    assert list(theirs.iterdir()) == [] and stat.S_IMODE(theirs.stat().st_mode) == 0o755
    assert theirs.stat().st_uid == NOBODY


def test_the_index_of_a_data_folder_that_is_gone_is_pruned(tmp_path: Path) -> None:
    kept, gone = make_folder(tmp_path, "kept"), make_folder(tmp_path, "gone")
    kept("list")
    gone("list")
    kept_index, gone_index = index_path(kept.data_dir), index_path(gone.data_dir)
    assert kept_index.exists() and gone_index.exists()
    shutil.rmtree(gone.data_dir)
    # Looked for once a day: make the last look a day old, then change something in `kept`.
    tag = tmp_path / "cache" / TAG_NAME
    yesterday = time.time() - index.PRUNE_EVERY_SECONDS - 60
    os.utime(tag, (yesterday, yesterday))
    kept("new", "--name", "Ben Cache", "--dob", "2014-01-01", "--sex", "male")
    kept("list")
    assert kept_index.exists() and not gone_index.exists()
    assert tag.stat().st_mtime > yesterday


def test_pruning_leaves_indexes_it_cannot_read_and_those_of_live_folders(tmp_path: Path) -> None:
    kept = make_folder(tmp_path, "kept")
    kept("list")
    folder = tmp_path / "cache"
    foreign = folder / "index-0123456789abcdef0123456789abcdef.bin"
    foreign.write_bytes(b"casectl index 2 python 3.99\nnot for this Python")
    assert index.prune_indexes(folder) == []
    assert foreign.exists() and index_path(kept.data_dir).exists()


def test_cache_clean_removes_every_index_and_nothing_else(tmp_path: Path) -> None:
    first, second = make_folder(tmp_path, "first"), make_folder(tmp_path, "second")
    first("list")
    second("list")
    folder = tmp_path / "cache"
    other = folder / "notes.txt"  # a file that is not casectl's
    other.write_text("keep me")
    result = first("cache", "clean")
    assert result.stdout == f"removed 2 index file(s) from {folder}\n"
    assert sorted(p.name for p in folder.iterdir()) == [TAG_NAME, "notes.txt"]
    assert first("list", "--format", "ids").stdout.split() == ["C-2026-0001"]
    assert index_path(first.data_dir).exists(), "rebuilt by the next list"
    assert first("cache", "clean").stdout == f"removed 1 index file(s) from {folder}\n"


def test_cache_clean_without_a_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASECTL_CACHE_DIR", str(tmp_path / "never-made"))
    result = Cli(tmp_path / "cases")("cache", "clean")
    assert result.stdout == f"removed 0 index file(s) from {tmp_path / 'never-made'}\n"
    assert not (tmp_path / "never-made").exists()


def test_the_command_turns_core_dumps_off(tmp_path: Path) -> None:
    resource = pytest.importorskip("resource")
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    if hard == 0:
        pytest.skip("core dumps are off for this whole session already")
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_CORE, (resource.getrlimit(resource.RLIMIT_CORE)[1],) * 2)\n"
        "from casectl.cli.app import main\n"
        "sys.argv = ['casectl', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(resource.getrlimit(resource.RLIMIT_CORE))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "(0, 0)"
