"""A team on git: clones of one caseload and a bare remote in temporary folders, `casectl sync`,
the merge driver as git runs it, the audit trail under concurrent writers, and team views."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from casectl.errors import ExitStatus
from casectl.models.case import Case
from casectl.store import CaseStore
from tests.conftest import Cli, planned_case

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(folder: Path, *args: str, ok: bool = True) -> str:
    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True)
    if ok and done.returncode:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout


@pytest.fixture(autouse=True)
def _git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{who}_NAME", raising=False)
        monkeypatch.delenv(f"GIT_{who}_EMAIL", raising=False)


class Team:
    """A bare remote, the first person's folder (who pushes the caseload first) and clones."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.remote = tmp_path / "remote.git"
        subprocess.run(["git", "init", "-q", "--bare", str(self.remote)], check=True)
        self.ana = Cli(tmp_path / "ana")
        self.ana("init", "--git", "--id-tag", "AL")
        self._person(self.ana, "Ana Lopez")
        git(self.ana.data_dir, "remote", "add", "origin", str(self.remote))
        self.case = planned_case(self.ana)
        self.ana("sync")
        self.ben = self.clone("ben", "Ben Kim", "BK")
        self.cy = self.clone("cy", "Cy Diaz", "CD")

    def _person(self, cli: Cli, name: str) -> None:
        git(cli.data_dir, "config", "user.name", name)
        git(cli.data_dir, "config", "user.email", f"{name.split()[0].lower()}@example.org")

    def clone(self, folder: str, name: str, tag: str) -> Cli:
        cli = Cli(self.tmp / folder)
        subprocess.run(["git", "clone", "-q", str(self.remote), str(cli.data_dir)], check=True)
        self._person(cli, name)
        cli("git", "setup", "--id-tag", tag)
        return cli


@pytest.fixture
def team(tmp_path: Path) -> Team:
    return Team(tmp_path)


def contact(cli: Cli, case: str, summary: str, date: str = "2026-10-05") -> None:
    cli("follow-up", case, "--mode", "phone", "--with", "mother", "--summary", summary,
        "--date", date)  # fmt: skip


def case_of(cli: Cli, case_id: str) -> Case:
    return CaseStore(cli.data_dir).load(case_id).case


def summaries(cli: Cli, case_id: str) -> list[str]:
    return [f.summary for f in case_of(cli, case_id).follow_ups]


# --- init --git ---


def test_init_git_tracks_its_files_turns_commits_on_and_sets_up_the_merge(
    tmp_path: Path,
) -> None:
    cli = Cli(tmp_path / "cases")
    out = cli("init", "--git", "--id-tag", "jr").stdout
    assert out.splitlines()[-1] == f"data directory ready: {cli.data_dir}"
    folder = cli.data_dir
    assert git(folder, "ls-files").split() == [".gitattributes", ".gitignore", "config.toml"]
    assert git(folder, "status", "--porcelain") == ""
    assert "commit = true" in (folder / "config.toml").read_text()
    assert "merge=casectl" in (folder / ".gitattributes").read_text()
    assert "merge-file %O %A %B %P" in git(folder, "config", "merge.casectl.driver")
    assert open_case_id(cli) == "C-2026-JR-0001"
    assert git(folder, "log", "-1", "--format=%s") == "new C-2026-JR-0001: case opened\n"


def open_case_id(cli: Cli) -> str:
    out = cli("new", "--name", "Leo Park", "--dob", "2018-01-01", "--sex", "male").stdout
    return out.strip().splitlines()[-1]


def test_init_git_that_fails_half_way_does_not_report_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "cases")
    cli("init")
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\nexit 1\n")
    (hooks / "pre-commit").chmod(0o755)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.hooksPath")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(hooks))
    result = cli("init", "--git", ok=False)
    assert result.exit_code == ExitStatus.EXTERNAL
    assert "ready" not in result.stdout


# --- the audit trail ---


def test_twenty_writers_at_once_each_get_their_commit(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "cases")
    cli("init", "--git")
    ids = [open_case_id(cli) for _ in range(20)]
    before = int(git(cli.data_dir, "rev-list", "--count", "HEAD"))
    env = {**os.environ, "CASECTL_LOCK_TIMEOUT": "120"}
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "casectl",
                "--data-dir",
                str(cli.data_dir),
                "family",
                case_id,
                "--id",
                "mother",
                "--name",
                f"Parent {n}",
                "--relationship",
                "mother",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, case_id in enumerate(ids)
    ]
    results = [(w.wait(), w.stderr.read() if w.stderr else "") for w in writers]
    assert [code for code, _ in results] == [0] * 20, results
    assert [err for _, err in results] == [""] * 20
    after = int(git(cli.data_dir, "rev-list", "--count", "HEAD"))
    assert after - before == 20
    assert git(cli.data_dir, "status", "--porcelain") == ""


def test_a_write_during_a_stopped_rebase_is_refused_with_the_way_out(team: Team) -> None:
    folder = team.ben.data_dir
    contact(team.ben, team.case, "first")
    git(folder, "rebase", "-q", "--exec", "false", "HEAD~1", ok=False)  # stops after one step
    assert (folder / ".git" / "rebase-merge").is_dir()
    result = team.ben("follow-up", team.case, "--mode", "phone", "--with", "mother",
                      "--summary", "lost?", ok=False)  # fmt: skip
    assert result.exit_code == ExitStatus.GIT_BUSY
    assert "a git rebase is in progress" in result.stderr
    assert "`git rebase --continue`" in result.stderr and "`git rebase --abort`" in result.stderr
    git(folder, "rebase", "--abort")
    contact(team.ben, team.case, "after the rebase")


def test_a_stale_index_lock_gets_one_message_with_the_fix(team: Team) -> None:
    lock = team.ben.data_dir / ".git" / "index.lock"
    lock.write_text("")
    old = time.time() - 3600
    os.utime(lock, (old, old))
    result = team.ben("hold", team.case, "--reason", "away", ok=False)
    assert result.exit_code == ExitStatus.GIT_BUSY
    assert result.stderr.count("\n") == 1
    assert f"rm {lock}" in result.stderr and "Nothing was written" in result.stderr


# --- sync: what merges ---


def test_follow_ups_on_the_same_case_from_three_clones_all_arrive(team: Team) -> None:
    contact(team.ana, team.case, "Ana's call", "2026-10-03")
    contact(team.ben, team.case, "Ben's visit", "2026-10-01")
    contact(team.cy, team.case, "Cy's call", "2026-10-02")
    for person in (team.ana, team.ben, team.cy, team.ana, team.ben):
        person("sync")
    for person in (team.ana, team.ben, team.cy):
        assert summaries(person, team.case) == ["Ben's visit", "Cy's call", "Ana's call"]
        assert person("check").stdout == ""
        assert "<<<<<<<" not in person.path(team.case).read_text()


def test_new_cases_in_two_clones_never_share_an_id(team: Team) -> None:
    assert open_case_id(team.ben) == "C-2026-BK-0001"
    assert open_case_id(team.cy) == "C-2026-CD-0001"
    team.ben("sync")
    team.cy("sync")
    team.ben("sync")
    ids = team.ben("list", "--format", "ids").stdout.split()
    assert {"C-2026-BK-0001", "C-2026-CD-0001", team.case} == set(ids)


def test_goals_added_in_two_clones_both_survive_with_their_references(team: Team) -> None:
    for person, goal in ((team.ana, "School"), (team.ben, "Housing")):
        person("plan", team.case, "--goal", f"{goal}; measure=m; target=t; by=2027-06-01",
               "--intervention", f"{goal} step; owner=pcp; goal=g2; every=weekly",
               "--review-every", "30d", "--agreed-by", "mother", "--date", "2026-10-01")  # fmt: skip
    team.ana("sync")
    out = team.ben("sync").stdout
    assert "renamed this clone's new goal g2 to g3" in out
    team.ana("sync")
    plans = case_of(team.ana, team.case).care_plans
    steps = {i.description: i.goal for p in plans for i in p.interventions}
    goals = {g.id: g.description for p in plans for g in p.goals}
    assert goals["g2"] == "School" and goals["g3"] == "Housing"
    assert steps["School step"] == "g2" and steps["Housing step"] == "g3"
    assert team.ana("check").stdout == ""


def test_sync_keeps_case_files_private(team: Team) -> None:
    contact(team.ana, team.case, "Ana's call")
    team.ana("sync")
    team.ben("sync")
    assert (team.ben.path(team.case).stat().st_mode & 0o077) == 0
    assert (team.ben.data_dir.stat().st_mode & 0o077) == 0


# --- sync: what conflicts, and what it says ---


def test_the_same_field_changed_in_two_clones_is_one_marked_conflict(team: Team) -> None:
    team.ana("hold", team.case, "--reason", "family abroad")
    team.ben("close", team.case, "--reason", "moved away")
    team.ana("sync")
    result = team.ben("sync", ok=False)
    assert result.exit_code == ExitStatus.CONFLICT
    path = team.ben.path(team.case)
    text = path.read_text()
    assert text.count("<<<<<<<") == 1
    start = text.splitlines().index("<<<<<<< ours") + 1
    assert text.splitlines()[start - 1 : start + 4] == [
        "<<<<<<< ours", "status: closed", "=======", "status: on-hold", ">>>>>>> theirs",
    ]  # fmt: skip
    assert f"{path}:{start}" in result.stderr and "git add" in result.stderr
    check = team.ben("check", ok=False)
    assert check.stdout.startswith(f"{path}:{start}: git merge conflict at line {start}:")
    review = json.loads(team.ben("review", "--format", "json", ok=False).stdout)
    item = next(i for i in review if i["case_id"] == team.case)
    assert item["kind"] == "invalid" and f"git merge conflict at line {start}" in item["what"]
    # Writing is refused until the merge is finished.
    refused = team.ben("hold", team.case, "--reason", "x", ok=False)
    assert refused.exit_code == ExitStatus.GIT_BUSY and "git merge --abort" in refused.stderr
    # Resolve: keep "closed", drop the markers, then git add, commit, sync.
    lines = text.splitlines()
    fixed = [*lines[: start - 1], lines[start], *lines[start + 4 :]]
    path.write_text("\n".join(fixed) + "\n")
    git(team.ben.data_dir, "add", path.name)
    git(team.ben.data_dir, "commit", "-q", "--no-edit")
    team.ben("sync")
    assert team.ben("check").stdout == ""


def test_sync_offline_says_the_work_is_safe(team: Team) -> None:
    contact(team.ben, team.case, "Ben's call")
    git(team.ben.data_dir, "remote", "set-url", "origin", str(team.tmp / "gone.git"))
    result = team.ben("sync", ok=False)
    assert result.exit_code == ExitStatus.REMOTE
    assert "cannot reach the shared remote origin" in result.stderr
    assert "run `casectl sync` again" in result.stderr


def test_sync_commits_no_hand_edit_that_is_not_valid(team: Team) -> None:
    path = team.ben.path(team.case)
    path.write_text(path.read_text().replace("sex: female", "sex: femle"))
    result = team.ben("sync", ok=False)
    assert result.exit_code == ExitStatus.INVALID
    assert "nothing was committed, pulled or pushed" in result.stderr
    assert git(team.ben.data_dir, "status", "--porcelain").strip() == f"M {path.name}"


def test_sync_commits_a_valid_hand_edit(team: Team) -> None:
    path = team.ben.path(team.case)
    path.write_text(path.read_text().replace("name: Mia Santos", "name: Mia Santos-Ruiz"))
    assert "commit 1 changed file(s)" in team.ben("sync").stdout
    team.ana("sync")
    assert "Mia Santos-Ruiz" in team.ana.path(team.case).read_text()


def test_sync_dry_run_changes_nothing(team: Team) -> None:
    contact(team.ana, team.case, "Ana's call")
    team.ana("sync")
    contact(team.ben, team.case, "Ben's call")
    head = git(team.ben.data_dir, "rev-parse", "HEAD")
    out = team.ben("sync", "--dry-run").stdout
    assert "would receive 1 commit(s)" in out and "1 changed on both sides" in out
    assert "would send" in out
    assert git(team.ben.data_dir, "rev-parse", "HEAD") == head


def test_sync_checks_and_repairs_this_clones_merge_setup(team: Team) -> None:
    git(team.ben.data_dir, "config", "--unset", "merge.casectl.driver")
    out = team.ben("sync").stdout
    assert "set git config merge.casectl.driver (for this clone only)" in out


# --- team views ---


def test_transfer_to_a_colleague_reassigns_and_keeps_the_case_open(team: Team) -> None:
    ana = team.ana
    other = open_case_id(ana)
    ana("transfer", other, "--to", "Ben Kim", "--colleague", "--reason", "caseload balance")
    # Ben now has a case, so naming him (in any capitalisation) is a transfer to a colleague.
    out = ana("transfer", team.case, "--to", "ben kim", "--reason", "Spanish speaker").stdout
    assert out == f"{team.case} is now Ben Kim's (still open).\n"
    rows = json.loads(ana("list", "--manager", "BEN KIM", "--format", "json").stdout)
    assert {r["case_id"] for r in rows} == {team.case, other}
    assert all(r["status"] == "open" and r["manager"] == "Ben Kim" for r in rows)
    moved = case_of(ana, team.case).status_history[-1]
    assert (moved.status, moved.to, moved.reason) == ("open", "Ben Kim", "Spanish speaker")
    assert git(ana.data_dir, "log", "-1", "--format=%s").startswith(
        f"transfer {team.case}: to Ben Kim"
    )
    ana("transfer", other, "--to", "Adult services", "--reason", "turned 18")
    assert case_of(ana, other).status == "transferred"


def test_manager_filters_say_when_the_name_matches_no_case(team: Team) -> None:
    for command in ("list", "review", "report"):
        result = team.ana(command, "--manager", "Nobody Here")
        assert "no case has the case manager" in result.stderr, command


def test_report_counts_per_manager(team: Team) -> None:
    data = json.loads(team.ana("report", "--format", "json").stdout)
    assert list(data)[-1] == "by_manager"
    team.ana("transfer", open_case_id(team.ana), "--to", "Ben Kim", "--colleague", "--reason", "r")
    data = json.loads(team.ana("report", "--format", "json").stdout)
    assert {name: m["active"] for name, m in data["by_manager"].items()} == {
        "Ben Kim": 1, "J. Rivera": 1,
    }  # fmt: skip
    assert list(data["by_manager"]["Ben Kim"]) == [
        "active", "high_risk", "overdue_cases", "overdue_items", "contacts",
    ]  # fmt: skip
    mine = json.loads(team.ana("report", "--manager", "ben kim", "--format", "json").stdout)
    assert mine["caseload"]["total"] == 1


def test_a_week_of_three_people_syncing_never_shows_a_conflict_marker(team: Team) -> None:
    people = {"Ana": team.ana, "Ben": team.ben, "Cy": team.cy}
    shared = team.case
    for day in range(1, 6):
        date = f"2026-11-{16 + day:02d}"
        for name, person in people.items():
            contact(person, shared, f"{name} day {day}", date)
            if day in (1, 3):
                person("plan", shared, "--goal", f"{name} goal {day}; measure=m; target=t; by=2027-06-01",
                       "--review-every", "30d", "--agreed-by", "mother", "--date", date)  # fmt: skip
            if day in (2, 4):
                person(
                    "implement",
                    shared,
                    "--refer",
                    f"{name} service {day}; reason=r",
                    "--date",
                    date,
                )
            if day == 5:
                person("implement", shared, "--referral-update", "r1=accepted", "--date", date)
            if day == 2:
                open_case_id(person)
            out = person("sync")
            assert "<<<<<<<" not in person.path(shared).read_text(), out.stdout
        for person in people.values():
            person("sync")
    texts = {p.path(shared).read_text() for p in people.values()}
    assert len(texts) == 1
    merged = case_of(team.ana, shared)
    assert len(merged.follow_ups) == 15
    goals = {g.description for p in merged.care_plans for g in p.goals}
    assert {f"{n} goal {d}" for n in people for d in (1, 3)} <= goals
    assert len(merged.referral_history()) == 6
    assert len(team.ana("list", "--format", "ids").stdout.split()) == 4
    for person in people.values():
        assert person("check").stdout == ""


def test_a_push_the_remote_refuses_says_why_and_keeps_the_work(team: Team) -> None:
    hook = team.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'main is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    contact(team.ben, team.case, "Ben's call")
    result = team.ben("sync", ok=False)
    assert result.exit_code == ExitStatus.REMOTE
    assert "origin refused the push (pre-receive hook declined)" in result.stderr
    assert "Your work is committed here" in result.stderr
    assert git(team.ben.data_dir, "status", "--porcelain") == ""


def test_merge_file_on_a_file_that_is_no_case_falls_back_to_git_line_merge(
    cli: Cli, tmp_path: Path
) -> None:
    base, ours, theirs = (tmp_path / f"{n}.yaml" for n in ("base", "ours", "theirs"))
    base.write_text("- one\n- two\n- three\n")
    ours.write_text("- one, changed here\n- two\n- three\n")
    theirs.write_text("- one\n- two\n- three, changed there\n")
    cli("merge-file", str(base), str(ours), str(theirs), "notes.yaml")
    assert ours.read_text() == "- one, changed here\n- two\n- three, changed there\n"
    theirs.write_text("- one, changed there\n- two\n- three\n")
    base.write_text("- one\n- two\n- three\n")
    ours.write_text("- one, changed here\n- two\n- three\n")
    result = cli("merge-file", str(base), str(ours), str(theirs), "notes.yaml", ok=False)
    assert result.exit_code == ExitStatus.CONFLICT
    assert "<<<<<<< ours" in ours.read_text() and "- one, changed there" in ours.read_text()
