"""`casectl import`: cases from a spreadsheet export, all rows checked before any is written."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from casectl.share.importing import COLUMNS
from tests.conftest import Cli, planned_case

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "examples" / "import-template.csv"
HEADER = "name,dob,sex,preferred_language,interpreter_needed,guardian_name,guardian_relationship"


def _csv(tmp_path: Path, text: str, name: str = "intake.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _case_files(cli: Cli) -> list[str]:
    return sorted(p.name for p in cli.data_dir.glob("*.yaml"))


def test_the_template_documents_every_column_and_imports_as_written(cli: Cli) -> None:
    header = TEMPLATE.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == list(COLUMNS)
    result = cli("import", "--format", "csv", str(TEMPLATE))
    assert result.stdout.split() == ["C-2026-0001", "C-2026-0002"]
    shown = json.loads(cli("show", "C-2026-0001", "--format", "json").stdout)
    text = json.dumps(shown)
    assert "Noah Fictional Park" in text and "Grace Fictional Park" in text
    case = cli.path("C-2026-0001").read_text()
    assert "interpreter_needed: true" in case
    assert "preferred_language: ko" in case
    assert "legal_guardian: true" in case
    assert "opened: 2026-11-02" in case
    assert cli("check").stdout == ""


def test_dry_run_shows_what_would_be_created_and_writes_nothing(cli: Cli) -> None:
    result = cli("import", "--format", "csv", "--dry-run", str(TEMPLATE))
    assert "C-2026-0001" in result.stdout and "Ada Sample Quinn" in result.stdout
    assert _case_files(cli) == []


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(
    cli: Cli, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        f"{HEADER}\n"
        "Good Row,2015-03-03,female,en,no,,\n"
        "Bad Date,03/04/2015,female,en,no,,\n"
        '"Two\nLines",2015-03-03,dragon,en,no,,\n'  # a quoted cell spanning lines 4-5
        ",2015-03-03,male,en,maybe,,\n"
        "Future Child,2027-01-01,male,xx_YY,no,,\n"
        "Half Guardian,2015-03-03,male,en,no,Ana Half,\n",
    )
    result = cli("import", "--format", "csv", str(path), ok=False)
    assert result.exit_code == 5
    err = result.stderr
    assert f"{path}:3: dob: '03/04/2015' is not a date; use YYYY-MM-DD" in err
    assert f"{path}:4: sex:" in err
    assert f"{path}:6: interpreter_needed: 'maybe' is not yes or no" in err
    assert f"{path}:6: name: is empty; every row needs it" in err
    assert f"{path}:7: dob:" in err and "in the future" in err
    assert f"{path}:7: preferred_language:" in err
    assert f"{path}:8: guardian_relationship: is needed" in err
    assert f"{path}:2:" not in err
    assert "nothing was imported" in err
    assert _case_files(cli) == []


def test_an_unknown_or_missing_column_is_reported_on_the_header_line(
    cli: Cli, tmp_path: Path
) -> None:
    path = _csv(tmp_path, "name,dob,gender\nA B,2015-01-01,female\n")
    result = cli("import", "--format", "csv", str(path), ok=False)
    assert result.exit_code == 5
    assert f"{path}:1: gender: unknown column" in result.stderr
    assert f"{path}:1: sex: the column is missing" in result.stderr


def test_an_existing_case_id_is_never_overwritten(cli: Cli, tmp_path: Path) -> None:
    cli("new", "--name", "Already Here", "--dob", "2014-02-02", "--sex", "male")
    before = cli.path("C-2026-0001").read_bytes()
    path = _csv(
        tmp_path,
        "id,name,dob,sex\nC-2026-0001,Someone Else,2016-06-06,female\nX-1,New Person,2016-06-06,male\n",
    )
    result = cli("import", "--format", "csv", str(path), ok=False)
    assert result.exit_code == 9
    assert f"{path}:2: id: a case C-2026-0001 already exists" in result.stderr
    assert cli.path("C-2026-0001").read_bytes() == before
    assert not cli.path("X-1").exists()
    assert cli("import", "--format", "csv", "--dry-run", str(path), ok=False).exit_code == 9


def test_ids_repeated_in_the_file_or_unsafe_are_row_problems(cli: Cli, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "id,name,dob,sex\nK-1,A One,2016-06-06,female\nK-1,A Two,2016-06-06,female\n"
        "../evil,A Three,2016-06-06,male\n",
    )
    result = cli("import", "--format", "csv", str(path), ok=False)
    assert result.exit_code == 5
    assert f"{path}:3: id: K-1 is also on line 2" in result.stderr
    assert f"{path}:4: id:" in result.stderr
    assert _case_files(cli) == []


def test_new_ids_skip_those_already_taken_in_the_folder_and_the_file(
    cli: Cli, tmp_path: Path
) -> None:
    cli("new", "--name", "First Case", "--dob", "2014-02-02", "--sex", "male")
    path = _csv(
        tmp_path,
        "id,name,dob,sex,opened\n"
        ",Auto One,2016-06-06,F,2026-10-01\n"
        "C-2026-0002,Given Id,2016-06-06,M,2026-10-01\n"
        ",Auto Two,2016-06-06,f,2026-10-01\n",
    )
    result = cli("import", "--format", "csv", str(path))
    assert result.stdout.split() == ["C-2026-0003", "C-2026-0002", "C-2026-0004"]
    assert "sex: female" in cli.path("C-2026-0003").read_text()


def test_a_spreadsheet_saved_with_a_byte_order_mark_imports(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffName,DOB,Sex\nBom Child,2016-06-06,female\n".encode())
    assert cli("import", "--format", "csv", str(path)).stdout.split() == ["C-2026-0001"]


def test_a_file_that_is_not_utf8_or_has_no_rows_is_refused(cli: Cli, tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,dob,sex\nJos\xe9 A,2016-01-01,male\n".encode("latin-1"))
    result = cli("import", "--format", "csv", str(latin), ok=False)
    assert result.exit_code == 5 and "UTF-8" in result.stderr
    empty = _csv(tmp_path, "name,dob,sex\n", "empty.csv")
    assert cli("import", "--format", "csv", str(empty), ok=False).exit_code == 5


def test_fhir_input_that_cannot_become_a_case_is_refused(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "patient.json"
    for content, message in (
        ({"resourceType": "Patient"}, "has no name; casectl needs a name to open a case"),
        (
            {"resourceType": "Patient", "name": [{"text": "A B"}], "birthDate": "2016-04"},
            "only a partial birth date (2016-04)",
        ),
        ({"name": "not FHIR"}, "is not FHIR JSON"),
        ({"resourceType": "Bundle", "type": "history", "entry": []}, "type 'history'"),
        ({"resourceType": "Bundle", "type": "collection", "entry": []}, "holds no Patient"),
    ):
        path.write_text(json.dumps(content))
        result = cli("import", "--format", "fhir", str(path), ok=False)
        assert result.exit_code == 5, content
        assert message in result.stderr and str(path) in result.stderr
        assert _case_files(cli) == []


def test_the_template_imports_into_a_copy_of_the_example_caseload(cli: Cli, tmp_path: Path) -> None:
    examples = ROOT / "examples" / "caseload"
    if not any(examples.glob("*.yaml")):
        pytest.skip("the example caseload has no cases yet")
    data = tmp_path / "copy"
    shutil.copytree(examples, data)
    copy = Cli(data)
    taken = {p.stem for p in data.glob("*.yaml")}
    new_ids = copy("import", "--format", "csv", str(TEMPLATE)).stdout.split()
    assert len(new_ids) == 2 and not set(new_ids) & taken


def _bundle_of(cli: Cli, case_id: str, tmp_path: Path) -> Path:
    fhir = pytest.importorskip("casectl.share.fhir")
    from casectl.store.store import CaseStore

    case = CaseStore(cli.data_dir).load(case_id).case
    path = tmp_path / f"{case_id}.fhir.json"
    path.write_text(json.dumps(fhir.case_to_bundle(case, today=dt.date(2026, 11, 25))))
    return path


def test_a_fhir_bundle_becomes_the_same_case_in_another_folder(cli: Cli, tmp_path: Path) -> None:
    case_id = planned_case(cli)
    bundle = _bundle_of(cli, case_id, tmp_path)
    other = Cli(tmp_path / "elsewhere")
    other("init")
    assert other("import", "--format", "fhir", "--dry-run", str(bundle)).stdout.startswith(
        f"Would open {case_id} for Mia Santos (born 2016-04-02), exactly as casectl exported it"
    )
    assert not other.path(case_id).exists()
    assert other("import", "--format", "fhir", str(bundle)).stdout.split() == [case_id]
    mine = json.loads(cli("show", case_id, "--format", "json").stdout)
    theirs = json.loads(other("show", case_id, "--format", "json").stdout)
    assert mine == theirs


def test_a_fhir_bundle_never_replaces_an_existing_case(cli: Cli, tmp_path: Path) -> None:
    case_id = planned_case(cli)
    bundle = _bundle_of(cli, case_id, tmp_path)
    before = cli.path(case_id).read_bytes()
    result = cli("import", "--format", "fhir", str(bundle), ok=False)
    assert result.exit_code == 9 and "already exists" in result.stderr
    assert cli.path(case_id).read_bytes() == before


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_with_git_commits_on_each_imported_case_is_its_own_commit(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "gitconfig").write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{who}_NAME", raising=False)
        monkeypatch.delenv(f"GIT_{who}_EMAIL", raising=False)
    cli("init", "--git")
    config = cli.data_dir / "config.toml"
    config.write_text(config.read_text().replace("commit = false", "commit = true"))
    ids = cli("import", "--format", "csv", str(TEMPLATE)).stdout.split()
    for case_id in ids:
        log = subprocess.run(
            [
                "git",
                "-C",
                str(cli.data_dir),
                "log",
                "--format=%s|%an|%(trailers:key=Stage,valueonly)",
                "--",
                f"{case_id}.yaml",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")[0]
        assert log == f"import {case_id}: opened from import-template.csv|J. Rivera|import"
