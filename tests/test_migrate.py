"""Schema evolution: every file says its schema; old files are read migrated and saved migrated
on their next write; `casectl migrate` does a whole folder; newer files are refused, never written.

The package is at schema 1, so the version 1 → 2 change shown here is a test-only one: section
`coordination` renamed `implementation` (the key of the `implement` step), with a case model that
reads and writes the new key. It goes through the real mechanism (casectl.store.schema and the store).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import Field
from ruamel.yaml.comments import CommentedMap

import casectl.store.schema
from casectl.errors import ExitStatus
from casectl.models.case import Case
from casectl.models.records import Coordination
from casectl.store.lock import locked
from casectl.store.schema import Migration, Schema, rename_key
from tests.conftest import Cli, open_case, planned_case


class CaseV2(Case):
    """The case model of the test-only schema 2."""

    schema_version: int = Field(2, ge=1, le=2)
    coordination: list[Coordination] = Field(default_factory=list, alias="implementation")


def _rename_coordination(tree: CommentedMap) -> list[str]:
    records = len(tree.get("coordination") or [])
    if rename_key(tree, "coordination", "implementation"):
        return [f"renamed coordination to implementation ({records} record(s))"]
    return []


SCHEMA_2 = Schema(2, (Migration(1, _rename_coordination),), CaseV2)


@pytest.fixture
def schema_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """This casectl, as if it had been upgraded to schema 2."""
    monkeypatch.setattr(casectl.store.schema, "CURRENT", SCHEMA_2)


def comments(text: str) -> list[str]:
    return [m.group(0).strip() for m in re.finditer(r"#[^\n]*", text)]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".locks" not in p.parts
    }


def implemented_case(cli: Cli) -> str:
    """A schema-1 case with a coordination record and hand-written comments around it."""
    case = planned_case(cli)
    cli(
        "implement", case, "--refer", "Tenant legal aid; reason=mold repair", "--date", "2026-10-01"
    )
    path = cli.path(case)
    text = path.read_text()
    text = text.replace(
        "coordination:\n", "# referrals and appointments\ncoordination:   # step 5\n"
    )
    text = text.replace("schema_version: 1\n", "schema_version: 1   # written by casectl 0.1\n")
    path.write_text("# Hand-kept notes: these comments must survive the migration.\n" + text)
    return case


# --- every file says its schema ---


def test_every_file_casectl_writes_starts_with_schema_version(cli: Cli) -> None:
    fresh = open_case(cli)
    worked = planned_case(cli)
    for case in (fresh, worked):
        assert cli.path(case).read_text().startswith("schema_version: 1\nid: ")


def test_a_file_without_schema_version_is_schema_1_and_gets_it_on_its_next_write(cli: Cli) -> None:
    case = planned_case(cli)
    path = cli.path(case)
    old = path.read_text().replace("schema_version: 1\n", "")
    path.write_text(old)
    cli("show", case)
    cli("check")
    assert path.read_text() == old, "reading never writes"
    cli("follow-up", case, "--mode", "phone", "--with", "mother", "--summary", "s")
    new = path.read_text()
    assert new.startswith("schema_version: 1\n")
    untouched = old[: old.index("follow_ups: []")]
    assert new[len("schema_version: 1\n") :].startswith(untouched)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "2",
            "this file was written for schema 2 by a newer casectl (this one knows schema 1 at most); upgrade casectl to read it (the file was not changed)",
        ),
        ("99", "this file was written for schema 99 by a newer casectl"),
        ("0", "0 is not a schema casectl has used; the first is 1"),
        ("one", "must be a whole number such as 1, not 'one'"),
        ("true", "must be a whole number such as 1, not true"),
        ("1.5", "must be a whole number such as 1, not 1.5"),
    ],
)
def test_an_unknown_schema_version_is_refused_and_the_file_never_written(
    cli: Cli, value: str, message: str
) -> None:
    case = planned_case(cli)
    path = cli.path(case)
    path.write_text(path.read_text().replace("schema_version: 1", f"schema_version: {value}"))
    before = snapshot(cli.data_dir)
    where = f"{path}:1: schema_version: {message}"
    for args in (
        ["show", case],
        ["follow-up", case, "--mode", "phone", "--with", "mother", "--summary", "s"],
        ["migrate"],
    ):
        result = cli(*args, ok=False)
        assert result.exit_code == ExitStatus.INVALID, (args, result.output)
        assert where in result.stderr
    result = cli("check", ok=False)
    assert result.exit_code == ExitStatus.PROBLEMS_FOUND and where in result.stdout
    assert snapshot(cli.data_dir) == before


# --- a version 1 -> 2 change, end to end ---


def test_an_old_file_is_read_migrated_and_reading_never_writes(cli: Cli, schema_2: None) -> None:
    with pytest.MonkeyPatch.context() as real:
        real.setattr(casectl.store.schema, "CURRENT", casectl.store.schema.Schema(1, (), Case))
        case = implemented_case(cli)
    before = snapshot(cli.data_dir)
    shown = cli("show", case, "--format", "json")
    assert "Tenant legal aid" in shown.stdout
    cli("check")
    assert case in cli("list", "--format", "ids").stdout
    assert snapshot(cli.data_dir) == before


def test_the_next_write_saves_the_migration_and_keeps_every_comment(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = implemented_case(cli)
    path = cli.path(case)
    old = path.read_text()
    monkeypatch.setattr(casectl.store.schema, "CURRENT", SCHEMA_2)
    cli("follow-up", case, "--mode", "phone", "--with", "mother", "--summary", "after the upgrade")
    new = path.read_text()
    assert "schema_version: 2   # written by casectl 0.1\n" in new
    assert "\ncoordination:" not in new
    assert "# referrals and appointments\nimplementation: # step 5\n" in new
    assert comments(new) == comments(old)
    assert "after the upgrade" in new
    # Apart from the version, the renamed key and the new record, the file is as it was.
    changed = {line for line in new.splitlines()} ^ {line for line in old.splitlines()}
    assert {line for line in changed if line in old.splitlines()} == {
        "schema_version: 1   # written by casectl 0.1",
        "coordination:   # step 5",
        "follow_ups: []",  # now holds the new record
    }
    # A write of the new version is read back by it as a schema-2 file: nothing left to migrate.
    assert "migrated 0 of 1" in cli("migrate").stderr


def test_migrate_reports_each_file_and_dry_run_writes_nothing(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = implemented_case(cli)
    second = open_case(cli, name="Leo Park", dob="2012-01-09")
    unversioned = open_case(cli, name="Ana Lima", dob="2014-03-03")
    cli.path(unversioned).write_text(
        cli.path(unversioned).read_text().replace("schema_version: 1\n", "")
    )
    broken = open_case(cli, name="Sam Reed", dob="2013-05-05")
    cli.path(broken).write_text(
        cli.path(broken).read_text().replace("dob: 2013-05-05", "dob: 2013-02-30")
    )
    monkeypatch.setattr(casectl.store.schema, "CURRENT", SCHEMA_2)
    old = snapshot(cli.data_dir)

    dry = cli("migrate", "--dry-run", ok=False)
    assert dry.exit_code == ExitStatus.INVALID
    assert dry.stdout.splitlines() == [
        f"{first}: 1 → 2: renamed coordination to implementation (1 record(s))",
        f"{second}: 1 → 2: renamed coordination to implementation (0 record(s))",
        f"{unversioned}: none → 2: added schema_version: 1; renamed coordination to implementation (0 record(s))",
    ]
    assert f"{cli.path(broken)}:8: 2013-02-30 is not a real date" in dry.stderr
    assert (
        "would migrate 3 of 4 case file(s) to schema 2; dry run, nothing was written." in dry.stderr
    )
    assert snapshot(cli.data_dir) == old

    real = cli("migrate", ok=False)
    assert real.exit_code == ExitStatus.INVALID
    assert real.stdout == dry.stdout
    assert "migrated 3 of 4 case file(s) to schema 2." in real.stderr
    for case in (first, second, unversioned):
        text = cli.path(case).read_text()
        assert text.count("schema_version: 2") == 1 and "implementation:" in text
        assert comments(text) == comments(old[f"{case}.yaml"].decode())
    assert cli.path(broken).read_bytes() == old[f"{broken}.yaml"], "an invalid file is left alone"
    assert not list(cli.data_dir.glob(".casectl-*")), "no temporary file is left behind"

    again = cli("migrate", ok=False)
    assert again.stdout == "" and "migrated 0 of 4" in again.stderr
    cli("follow-up", first, "--mode", "phone", "--with", "mother", "--summary", "still fine")

    # The old casectl refuses what the new one wrote, and leaves it alone.
    monkeypatch.setattr(casectl.store.schema, "CURRENT", casectl.store.schema.Schema(1, (), Case))
    before = cli.path(first).read_bytes()
    result = cli(
        "follow-up", first, "--mode", "phone", "--with", "mother", "--summary", "x", ok=False
    )
    assert result.exit_code == ExitStatus.INVALID
    assert "written for schema 2 by a newer casectl" in result.stderr
    assert cli.path(first).read_bytes() == before


def test_migrate_takes_each_case_s_lock(
    cli: Cli, schema_2: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.MonkeyPatch.context() as real:
        real.setattr(casectl.store.schema, "CURRENT", casectl.store.schema.Schema(1, (), Case))
        busy = open_case(cli)
        free = open_case(cli, name="Leo Park", dob="2012-01-09")
    monkeypatch.setenv("CASECTL_LOCK_TIMEOUT", "0.1")
    before = cli.path(busy).read_bytes()
    with locked(cli.data_dir, busy):
        result = cli("migrate", ok=False)
    assert result.exit_code == ExitStatus.INVALID
    assert f"{busy} is being changed by another casectl process" in result.stderr
    assert result.stdout == f"{free}: 1 → 2: renamed coordination to implementation (0 record(s))\n"
    assert cli.path(busy).read_bytes() == before
    assert cli("migrate", busy).stdout.startswith(f"{busy}: 1 → 2")


def test_a_registry_must_lead_from_version_1_without_gaps() -> None:
    with pytest.raises(ValueError, match="one migration from each of versions 1 to 2"):
        Schema(3, (Migration(2, _rename_coordination),), CaseV2)
