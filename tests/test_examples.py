"""The bundled example caseload: valid, varied, true to the rules that wrote it, and its scripts run.

Every test works on a copy in tmp_path; nothing here writes into examples/.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from casectl.cli.app import app
from casectl.clinical.risk import assess_risk
from casectl.config import load_config
from casectl.models.case import STAGE_SECTIONS
from casectl.models.records import RiskFactor
from casectl.stages.instruments import instrument_record
from casectl.store import CaseStore

ROOT = Path(__file__).resolve().parents[1]
CASELOAD = ROOT / "examples" / "caseload"
SCRIPTS = ROOT / "examples" / "scripts"
TODAY = "2026-11-25"
# Sections whose records carry the date they happened; a case "as it stood" on a day keeps only
# the records up to that day.
DATED_SECTIONS = (
    "consents",
    "status_history",
    "screening",
    "assessments",
    "care_plans",
    "coordination",
    "follow_ups",
    "evaluations",
)


def _yaml() -> YAML:
    yaml = YAML(typ="safe")
    yaml.representer.ignore_aliases = lambda *_: True
    yaml.default_flow_style = False
    return yaml


def case_files() -> list[Path]:
    return sorted(CASELOAD.glob("C-*.yaml"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = _yaml().load(path.read_text(encoding="utf-8"))
    return data


def as_it_stood(data: dict[str, Any], day: dt.date) -> dict[str, Any]:
    """The case as it was known on `day`: later records left out, and the status of that day."""
    past = copy.deepcopy(data)
    for section in DATED_SECTIONS:
        past[section] = [r for r in past.get(section) or [] if r["date"] <= day]
    past["risk_assessments"] = [r for r in past.get("risk_assessments") or [] if r["date"] < day]
    for key in ("closed", "closed_reason", "transferred_to"):
        past.pop(key, None)
    history = past["status_history"]
    past["status"] = history[-1]["status"] if history else "open"
    return past


def risk_records() -> list[Any]:
    return [
        pytest.param(path.stem, n, id=f"{path.stem}@{record['date']}")
        for path in case_files()
        for n, record in enumerate(load(path).get("risk_assessments") or [])
    ]


def instrument_records() -> list[Any]:
    found = []
    for path in case_files():
        data = load(path)
        for section in ("screening", "assessments"):
            for record in data.get(section) or []:
                for inst in record.get("instruments") or []:
                    label = f"{path.stem}-{section}-{record['date']}-{inst['instrument']}"
                    found.append(pytest.param(inst, id=label))
    return found


def cli(data_dir: Path, *args: str, today: str = TODAY) -> Any:
    return CliRunner().invoke(
        app, ["--data-dir", str(data_dir), *args], env={"CASECTL_TODAY": today}
    )


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASECTL_TODAY", TODAY)


@pytest.fixture
def caseload(tmp_path: Path) -> Path:
    """A private copy of the example caseload, with the modes casectl expects (git drops them)."""
    copied = tmp_path / "caseload"
    shutil.copytree(CASELOAD, copied, ignore=shutil.ignore_patterns(".locks", ".casectl-*"))
    copied.chmod(0o700)
    for path in copied.iterdir():
        if path.is_file():
            path.chmod(0o600)
    return copied


def test_check_is_silent_on_the_example_caseload(caseload: Path) -> None:
    result = cli(caseload, "check")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == ""


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_every_case_file_opens_with_a_one_line_description(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert re.fullmatch(r"# Synthetic example: .{20,}\.", first), first


def test_the_caseload_is_varied(caseload: Path) -> None:
    cases = [load(path) for path in case_files()]
    assert len(cases) >= 12
    languages = {c["client"]["preferred_language"] for c in cases}
    languages |= {m["language"] for c in cases for m in c.get("family") or [] if m.get("language")}
    assert len(languages) >= 3, languages
    statuses = [c["status"] for c in cases]
    assert "closed" in statuses and "transferred" in statuses
    for section in STAGE_SECTIONS.values():
        assert any(c.get(section) for c in cases), f"no example has {section}"
    listed = cli(caseload, "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    stages = {row["stage"] for row in json.loads(listed.stdout)}
    assert set(STAGE_SECTIONS) <= stages, (
        f"no example whose furthest step is {set(STAGE_SECTIONS) - stages}"
    )


def test_the_closed_and_transferred_cases_say_why(caseload: Path) -> None:
    cases = [load(path) for path in case_files()]
    closed = next(c for c in cases if c["status"] == "closed")
    assert closed["evaluations"][-1]["decision"] == "close"
    assert all(
        o["outcome"] == "achieved" and "gas" in o
        for o in closed["evaluations"][-1]["goal_outcomes"]
    )
    moved = next(c for c in cases if c["status"] == "transferred")
    assert moved["transferred_to"] and moved["status_history"][-1]["to"] == moved["transferred_to"]


@pytest.mark.parametrize(("case_id", "index"), risk_records())
def test_each_risk_record_is_what_casectl_risk_computes_on_its_date(
    tmp_path: Path, case_id: str, index: int
) -> None:
    data = load(CASELOAD / f"{case_id}.yaml")
    stored = data["risk_assessments"][index]
    day: dt.date = stored["date"]
    then = tmp_path / "then"
    then.mkdir(mode=0o700)
    shutil.copy(CASELOAD / "config.toml", then / "config.toml")
    with (then / f"{case_id}.yaml").open("w", encoding="utf-8") as handle:
        _yaml().dump(as_it_stood(data, day), handle)

    result = cli(
        then, "risk", case_id, "--dry-run", "--date", day.isoformat(), today=day.isoformat()
    )
    assert result.exit_code == 0, result.output
    shown = re.search(r"^Risk: (\w+) \(score (-?\d+),", result.stdout, re.M)
    assert shown, result.stdout
    # An override stands beside the computed level; the rules are compared with the computed one.
    assert (shown.group(1), int(shown.group(2))) == (stored["level"], stored["score"])

    store = CaseStore(then, today=day)
    computed = assess_risk(store.load(case_id).case, load_config(CASELOAD), on=day, recorded_by="x")
    assert [f.model_dump() for f in computed.factors] == [
        RiskFactor.model_validate(f).model_dump() for f in stored["factors"]
    ]


@pytest.mark.parametrize("stored", instrument_records())
def test_each_instrument_record_is_what_the_scorer_gives(stored: dict[str, Any]) -> None:
    answers = ",".join("" if a is None else str(a) for a in stored["answers"])
    scored = instrument_record(stored["instrument"], answers).model_dump(exclude_unset=True)
    assert {k: v for k, v in stored.items() if k != "source"} == scored


def _next_step(data: dict[str, Any]) -> list[str]:
    """A stage command the case is ready for (or a reopen for a closed one)."""
    case_id = data["id"]
    if data["status"] in ("closed", "transferred"):
        return ["reopen", case_id, "--reason", "new referral", "--date", TODAY]
    if data.get("care_plans"):
        return [
            "follow-up",
            case_id,
            "--mode",
            "phone",
            "--with",
            "client",
            "--summary",
            "checked in",
            "--next-review",
            "+14d",
            "--date",
            TODAY,
        ]
    if data.get("assessments"):
        return ["risk", case_id, "--date", TODAY]
    if data.get("screening"):
        return ["assess", case_id, "--health-status", "well", "--date", TODAY]
    return [
        "screen",
        case_id,
        "--referral-source",
        "PCP",
        "--referral-reason",
        "r",
        "--eligible",
        "--reason",
        "r",
        "--date",
        TODAY,
    ]


def _comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_a_step_on_a_copied_case_keeps_every_comment(caseload: Path, path: Path) -> None:
    before = path.read_text(encoding="utf-8")
    command = _next_step(load(path))
    result = cli(caseload, *command, "--by", "K. Osei")
    assert result.exit_code == 0, result.output
    after = (caseload / path.name).read_text(encoding="utf-8")
    assert after != before
    kept = iter(_comments(after))
    missing = [c for c in _comments(before) if not any(c == line for line in kept)]
    assert not missing, f"`casectl {command[0]}` lost: {missing}"
    assert cli(caseload, "check", path.stem).exit_code == 0


def _env() -> dict[str, str]:
    """The environment for the scripts: casectl on PATH, today fixed, no git redirections."""
    casectl = shutil.which("casectl") or str(Path(sys.executable).parent / "casectl")
    folder = str(Path(casectl).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["PATH"] = folder + os.pathsep + env.get("PATH", "")
    env["CASECTL_TODAY"] = TODAY
    env.pop("CASECTL_DATA_DIR", None)
    return env


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell script")
def test_weekly_review_writes_a_csv_per_manager(caseload: Path, tmp_path: Path) -> None:
    out = tmp_path / "review"
    done = subprocess.run(
        ["sh", str(SCRIPTS / "weekly-review.sh"), str(caseload), str(out)],
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    listed = cli(caseload, "list", "--status", "active", "--format", "json")
    active = json.loads(listed.stdout)
    files = {p.name: list(csv.DictReader(p.open(encoding="utf-8"))) for p in out.glob("*.csv")}
    managers = {row["manager"] for row in active}
    assert set(files) == {"review-all.csv"} | {
        "review-" + re.sub(r"[^a-z0-9]+", "-", m.lower()).strip("-") + ".csv" for m in managers
    }
    for name in files:
        header = (out / name).read_text(encoding="utf-8").splitlines()[0]
        assert header.startswith("case_id,client,"), header
    assert [r["case_id"] for r in files["review-all.csv"]] == [r["case_id"] for r in active]
    for name, rows in files.items():
        if name != "review-all.csv":
            assert rows and len({r["manager"] for r in rows}) == 1


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_pre_commit_hook_blocks_a_broken_case(caseload: Path) -> None:
    env = _env()

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=caseload, env=env, check=True, capture_output=True)

    def hook() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(SCRIPTS / "pre-commit")],
            cwd=caseload,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    git("init", "-q")
    git("add", ".")
    good = hook()
    assert good.returncode == 0, good.stderr
    assert good.stderr == ""

    broken = caseload / "C-2026-0004.yaml"
    broken.write_text(
        broken.read_text(encoding="utf-8").replace("id: C-2026-0004", "id: ["), encoding="utf-8"
    )
    git("add", broken.name)
    bad = hook()
    assert bad.returncode != 0
    assert bad.stderr.startswith("C-2026-0004.yaml:"), bad.stderr


def test_show_reads_as_a_case_manager_would_say_it(caseload: Path) -> None:
    omar = cli(caseload, "show", "C-2026-0004").stdout
    assert "BMI 21.6 (61st percentile, healthy)" in omar
    assert "g1 [mental-health] Omar stays safe" in omar
    assert (
        "Safety flag 2026-10-26: PHQ-9 item 9 (thoughts of self-harm) above 0 — acted on 2026-10-26"
        in omar
    )
    gabriel = cli(caseload, "show", "C-2026-0005").stdout
    assert "BMI 16.3 (42nd percentile, healthy)" in gabriel
