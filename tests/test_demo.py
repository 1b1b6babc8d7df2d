"""`casectl demo generate`: realistic, valid, varied and reproducible to the byte."""

from __future__ import annotations

import datetime as dt
import filecmp
import json
from collections import Counter
from pathlib import Path

import pytest

from casectl.config import Config
from casectl.demo import case_yaml, demo_case, demo_cases
from casectl.errors import ExitStatus
from casectl.state import latest_stage
from casectl.store import yamlio
from casectl.store.store import dump_case
from tests.conftest import TODAY, Cli

AS_OF = dt.date.fromisoformat(TODAY)


def generate(folder: Path, *args: str) -> Cli:
    cli = Cli(folder)
    result = cli("demo", "generate", str(folder), *args)
    assert "demo case(s)" in result.stdout
    return cli


def test_same_seed_same_bytes_other_seed_other_cases(tmp_path: Path) -> None:
    one = generate(tmp_path / "one", "--cases", "25", "--seed", "7")
    two = generate(tmp_path / "two", "--cases", "25", "--seed", "7")
    other = generate(tmp_path / "other", "--cases", "25", "--seed", "8")
    names = sorted(p.name for p in one.data_dir.iterdir() if p.is_file())
    assert names == sorted(p.name for p in two.data_dir.iterdir() if p.is_file())
    match, mismatch, errors = filecmp.cmpfiles(one.data_dir, two.data_dir, names, shallow=False)
    assert len(match) == len(names) and not mismatch and not errors
    assert len([n for n in names if n.endswith(".yaml")]) == 25
    texts = {p.read_bytes() for p in one.data_dir.glob("*.yaml")}
    assert texts != {p.read_bytes() for p in other.data_dir.glob("*.yaml")}


def test_a_case_does_not_depend_on_how_many_are_made() -> None:
    config = Config()
    assert list(demo_cases(5, seed=3, as_of=AS_OF, config=config))[4] == demo_case(
        5, seed=3, as_of=AS_OF, config=config
    )


def test_generated_cases_pass_check(tmp_path: Path) -> None:
    cli = generate(tmp_path / "demo", "--cases", "60", "--seed", "2")
    result = cli("check")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""


def test_files_are_what_the_store_writes(tmp_path: Path) -> None:
    # The demo writes YAML itself for speed; it must be byte for byte the store's own dump.
    for case in demo_cases(120, seed=5, as_of=AS_OF, config=Config()):
        data = dump_case(case)
        assert case_yaml(data) == yamlio.Document(yamlio.to_yaml(data), 2, 2).dumps()


def test_the_caseload_is_varied_and_has_work_due(tmp_path: Path) -> None:
    cases = list(demo_cases(400, seed=1, as_of=AS_OF, config=Config()))
    statuses = Counter(c.status for c in cases)
    assert {"open", "on-hold", "closed", "transferred"} <= set(statuses)
    assert statuses["open"] > len(cases) / 2
    stages = Counter(latest_stage(c) for c in cases)
    assert set(stages) == {
        "new",
        "screen",
        "assess",
        "risk",
        "plan",
        "implement",
        "follow-up",
        "evaluate",
    }
    risks = Counter(c.current_risk.effective_level for c in cases if c.current_risk)
    assert set(risks) == {"low", "moderate", "high"}
    languages = Counter(c.client.preferred_language for c in cases)
    assert len(languages) >= 3 and languages["en"] < len(cases)
    ages = [(AS_OF - c.client.dob).days // 365 for c in cases]
    assert sum(a < 18 for a in ages) > 0.8 * len(cases)  # pediatric first
    assert all(
        record.date <= AS_OF
        for c in cases
        for section in (c.screening, c.assessments, c.care_plans, c.coordination, c.follow_ups)
        for record in section
    )

    cli = generate(tmp_path / "demo", "--cases", "150", "--seed", "1")
    items = json.loads(cli("review", "--all", "--format", "json").stdout)
    groups = Counter(i["group"] for i in items)
    assert groups["overdue"] and groups["due"] and groups["later"]
    assert {"review", "referral", "appointment", "intervention", "goal"} <= {
        i["kind"] for i in items
    }


def test_dates_follow_as_of(tmp_path: Path) -> None:
    cli = generate(tmp_path / "demo", "--cases", "10", "--as-of", "2026-01-31")
    opened = [json.loads(cli("list", "--format", "json").stdout)[n]["opened"] for n in range(10)]
    assert max(opened) <= "2026-01-31"


def test_refuses_a_folder_with_cases_and_a_future_as_of(tmp_path: Path) -> None:
    cli = generate(tmp_path / "demo", "--cases", "3")
    again = cli("demo", "generate", str(cli.data_dir), "--cases", "3", ok=False)
    assert again.exit_code == ExitStatus.INVALID and "already holds case files" in again.stderr
    future = cli("demo", "generate", str(tmp_path / "new"), "--as-of", "2027-01-01", ok=False)
    assert future.exit_code == ExitStatus.INVALID and "after today" in future.stderr
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("count", ["0", "-1"])
def test_needs_at_least_one_case(tmp_path: Path, count: str) -> None:
    result = Cli(tmp_path)("demo", "generate", str(tmp_path / "d"), "--cases", count, ok=False)
    assert result.exit_code == ExitStatus.INVALID
