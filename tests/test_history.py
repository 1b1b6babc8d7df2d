"""Git as the audit trail: one commit per write, only that case's file, and `casectl history`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from casectl.store.gitlog import HISTORY_FIELDS
from tests.conftest import Cli, open_case, planned_case

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture(autouse=True)
def _git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A git that reads no user or system config, with a known author."""
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Jo Rivera")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "jo@example.org")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Jo Rivera")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "jo@example.org")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


def _commit_on(cli: Cli) -> None:
    config = cli.data_dir / "config.toml"
    config.write_text(config.read_text().replace("commit = false", "commit = true"))


@pytest.fixture
def repo(cli: Cli) -> Cli:
    """A data folder that is its own repository, committing every write."""
    cli("init", "--git")
    _commit_on(cli)
    return cli


def _subjects(folder: Path, case_id: str) -> list[str]:
    return git(folder, "log", "--format=%s", "--", f"{case_id}.yaml").splitlines()


def test_every_write_is_one_commit_of_that_case_with_trailers(repo: Cli) -> None:
    case = planned_case(repo)
    repo(
        "follow-up", case, "--mode", "phone", "--with", "mother",
        "--summary", "fewer night symptoms", "--date", "2026-10-01",
    )  # fmt: skip
    subjects = _subjects(repo.data_dir, case)
    assert subjects[0] == f"follow-up {case}: phone contact with mother"
    assert [s.split()[0] for s in reversed(subjects)] == [
        "new", "family", "team", "team", "screen", "assess", "risk", "plan", "follow-up",
    ]  # fmt: skip
    body = git(repo.data_dir, "log", "-1", "--format=%B")
    assert f"Case-Id: {case}" in body and "Stage: follow-up" in body
    assert git(repo.data_dir, "show", "--name-only", "--format=", "HEAD").split() == [
        f"{case}.yaml"
    ]
    assert git(repo.data_dir, "status", "--porcelain", "--", f"{case}.yaml") == ""


def test_a_users_other_staged_file_stays_staged_and_uncommitted(repo: Cli) -> None:
    case = planned_case(repo)
    notes = repo.data_dir / "team-notes.txt"
    notes.write_text("to discuss on Monday\n")
    git(repo.data_dir, "add", "team-notes.txt")
    repo("close", case, "--reason", "goals met")
    assert git(repo.data_dir, "show", "--name-only", "--format=", "HEAD").split() == [
        f"{case}.yaml"
    ]
    assert git(repo.data_dir, "diff", "--cached", "--name-only").split() == ["team-notes.txt"]
    assert _subjects(repo.data_dir, case)[0] == f"close {case}: now closed: goals met"


def test_without_a_git_user_the_recorder_is_the_author(
    repo: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{name}_NAME")
        monkeypatch.delenv(f"GIT_{name}_EMAIL")
    monkeypatch.delenv("EMAIL", raising=False)
    case = planned_case(repo)
    repo("hold", case, "--reason", "family abroad", "--by", "A. Chen")
    assert git(repo.data_dir, "log", "-1", "--format=%an <%ae>") == "A. Chen <casectl@localhost>\n"


def test_gits_configured_user_is_the_author(repo: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{name}_NAME")
        monkeypatch.delenv(f"GIT_{name}_EMAIL")
    git(repo.data_dir, "config", "user.name", "Sam Team")
    git(repo.data_dir, "config", "user.email", "sam@example.org")
    case = planned_case(repo)
    assert git(repo.data_dir, "log", "-1", "--format=%an <%ae>") == "Sam Team <sam@example.org>\n"
    assert case


def test_nothing_is_committed_when_the_setting_is_off(cli: Cli) -> None:
    cli("init", "--git")
    config = cli.data_dir / "config.toml"
    config.write_text(config.read_text().replace("commit = true", "commit = false"))
    planned_case(cli)
    assert git(cli.data_dir, "log", "--format=%s").splitlines() == ["init: casectl data folder"]


# --- history ---


def test_history_lists_each_change_newest_first(repo: Cli) -> None:
    case = planned_case(repo)
    rows = json.loads(repo("history", case, "--format", "json").stdout)
    assert all(list(r) == HISTORY_FIELDS for r in rows)
    assert [r["stage"] for r in rows][:4] == ["plan", "risk", "assess", "screen"]
    assert rows[0]["author"] == "Jo Rivera"
    assert rows[0]["summary"] == "1 goal(s), review every 30 d"
    assert rows[0]["date"].startswith("20") and rows[0]["diff"] is None
    table = repo("history", case).stdout
    assert "plan" in table and "Jo Rivera" in table


def test_hand_edits_committed_by_the_user_show_as_edits(repo: Cli) -> None:
    case = planned_case(repo)
    path = repo.path(case)
    path.write_text(path.read_text() + "x-note: prefers texts\n")
    git(repo.data_dir, "commit", "-q", "-am", "Add a note of my own")
    rows = json.loads(repo("history", case, "--format", "json").stdout)
    assert (rows[0]["stage"], rows[0]["summary"]) == ("edit", "Add a note of my own")


def test_history_diff_shows_what_each_change_did(repo: Cli) -> None:
    case = planned_case(repo)
    out = repo("history", case, "--diff").stdout
    assert "+    level:" in out or "+  - date:" in out
    assert "[plan]  1 goal(s), review every 30 d" in out
    rows = json.loads(repo("history", case, "--diff", "--format", "json").stdout)
    assert "review_interval_days: 30" in rows[0]["diff"]


def test_history_needs_a_repository(cli: Cli) -> None:
    case = planned_case(cli)
    result = cli("history", case, ok=False)
    assert result.exit_code == 10
    assert "is not a git repository" in result.stderr


def test_history_of_an_unknown_case_is_not_found(repo: Cli) -> None:
    planned_case(repo)
    assert repo("history", "C-2099-0001", ok=False).exit_code == 4
    assert repo("history", "../etc", ok=False).exit_code == 9


# --- never outside the data folder; a git failure never undoes a write ---


def test_a_data_folder_inside_another_repository_is_never_committed_to(
    tmp_path: Path, cli: Cli
) -> None:
    # The data folder is tmp_path/cases; make tmp_path itself a repository around it.
    git(tmp_path, "init", "-q")
    _commit_on(cli)
    case = planned_case(cli)
    result = cli("hold", case, "--reason", "travelling")
    assert "warning" in result.stderr and "not its top level" in result.stderr
    assert "status: on-hold" in cli.path(case).read_text()
    outer = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "-q", "--verify", "HEAD"])
    assert outer.returncode != 0  # no commit was made in the outer repository
    assert git(tmp_path, "diff", "--cached", "--name-only") == ""
    history = cli("history", case, ok=False)
    assert history.exit_code == 10 and "not its top level" in history.stderr


def test_a_data_folder_that_is_not_a_repository_gets_a_warning_not_an_error(cli: Cli) -> None:
    _commit_on(cli)
    case = planned_case(cli)
    result = cli("hold", case, "--reason", "travelling")
    assert result.exit_code == 0 and "is not a git repository" in result.stderr
    assert "status: on-hold" in cli.path(case).read_text()


def test_when_git_fails_the_write_stands_with_a_warning(repo: Cli) -> None:
    case = planned_case(repo)
    hook = repo.data_dir / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'refused by hook' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = repo("hold", case, "--reason", "family abroad")
    assert result.exit_code == 0
    assert "was saved but has no commit of its own" in result.stderr
    assert "refused by hook. Commit it yourself: git -C" in result.stderr
    assert "status: on-hold" in repo.path(case).read_text()


def test_when_git_is_missing_the_write_stands_and_history_says_so(
    repo: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = planned_case(repo)
    monkeypatch.setattr("casectl.store.gitlog.shutil.which", lambda name: None)
    result = repo("hold", case, "--reason", "family abroad")
    assert result.exit_code == 0 and "git is not installed" in result.stderr
    assert "status: on-hold" in repo.path(case).read_text()
    history = repo("history", case, ok=False)
    assert history.exit_code == 10 and "git is not installed" in history.stderr


def test_new_and_edit_are_commits_too(
    repo: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = open_case(repo)
    assert _subjects(repo.data_dir, case) == [f"new {case}: case opened"]
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/name: Mia Santos/name: Mia R. Santos/' \"$1\"\n")
    editor.chmod(0o700)
    monkeypatch.setenv("EDITOR", str(editor))
    repo("edit", case)
    assert _subjects(repo.data_dir, case)[0] == f"edit {case}: edited in $EDITOR"
    assert git(repo.data_dir, "status", "--porcelain", "--", f"{case}.yaml") == ""


def test_history_escapes_control_characters_from_git_for_the_terminal(repo: Cli) -> None:
    """A commit made by hand may say anything: its escape sequences (here OSC 52, a clipboard
    write, and a right-to-left override) are shown escaped; JSON keeps the exact text."""
    case = planned_case(repo)
    path = repo.path(case)
    path.write_text(path.read_text() + "x-note: prefers texts\n")
    message = "Note \x1b]52;c;aGk=\x07 \u202eevil"
    git(repo.data_dir, "commit", "-q", "-am", message)
    for args in ((), ("--diff",)):
        out = repo("history", case, *args).stdout
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
        assert "\\x1b]52;c;aGk=\\x07 \\u202eevil" in out
    rows = json.loads(repo("history", case, "--format", "json").stdout)
    assert rows[0]["summary"] == message
