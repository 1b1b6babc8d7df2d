"""Shared fixtures: a fixed "today", a fresh data directory, and a CLI runner bound to it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from casectl.cli.app import app

TODAY = "2026-11-25"

# No property may fail for being slow: how long an example takes depends on the machine's load
# (hypothesis's default deadline is 200 ms), and speed is measured in tests/bench instead.
settings.register_profile("casectl", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("casectl")


class Cli:
    """Runs casectl commands against one data directory, as a user would type them."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, ok: bool = True):  # type: ignore[no-untyped-def]
        result = self.runner.invoke(app, ["--data-dir", str(self.data_dir), *args], input=input)
        if ok and result.exit_code != 0:
            raise AssertionError(
                f"casectl {' '.join(args)} exited {result.exit_code}:\n{result.output}"
            )
        return result

    def path(self, case_id: str) -> Path:
        return self.data_dir / f"{case_id}.yaml"


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CASECTL_TODAY", TODAY)
    monkeypatch.setenv("CASECTL_USER", "J. Rivera")
    monkeypatch.setenv("CASECTL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CASECTL_DATA_DIR", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """A CLI bound to a freshly initialised data directory."""
    c = Cli(tmp_path / "cases")
    c("init")
    return c


def open_case(cli: Cli, name: str = "Mia Santos", dob: str = "2016-04-02") -> str:
    result = cli(
        "new", "--name", name, "--dob", dob, "--sex", "female", "--language", "es", "--interpreter"
    )
    return result.stdout.strip().splitlines()[-1]


def planned_case(cli: Cli) -> str:
    """A case taken through screen, assess, risk and plan, with a mother and a care team."""
    case = open_case(cli)
    cli(
        "family",
        case,
        "--id",
        "mother",
        "--name",
        "Rosa Santos",
        "--relationship",
        "mother",
        "--guardian",
        "--decision-maker",
        "--language",
        "es",
    )
    cli(
        "team",
        case,
        "--id",
        "pcp",
        "--name",
        "Dr. Ana Ruiz",
        "--role",
        "primary-care",
        "--consent-to-share",
    )
    cli("team", case, "--id", "pulm", "--name", "Dr. Lee", "--role", "specialist")
    cli(
        "screen",
        case,
        "--referral-source",
        "Eastside Pediatrics",
        "--referral-reason",
        "3 ED visits",
        "--eligible",
        "--reason",
        "uncontrolled asthma",
        "--date",
        "2026-09-01",
    )
    cli(
        "assess",
        case,
        "--health-status",
        "poorly controlled asthma",
        "--diagnosis",
        "Moderate persistent asthma; icd10=J45.40; system=respiratory",
        "--ed-visits",
        "3",
        "--date",
        "2026-09-10",
    )
    cli("risk", case, "--date", "2026-09-10")
    cli(
        "plan",
        case,
        "--goal",
        "No ED visits; measure=ED visits per quarter; baseline=3; target=0; by=2027-05-31",
        "--intervention",
        "Asthma action plan review; owner=pcp; goal=g1; every=monthly",
        "--review-every",
        "30d",
        "--agreed-by",
        "mother",
        "--date",
        "2026-09-15",
    )
    return case


@pytest.fixture
def planned(cli: Cli) -> str:
    return planned_case(cli)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)
