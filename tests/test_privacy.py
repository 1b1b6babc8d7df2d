"""Privacy: case data stays in the private data folder (files 0600, folders 0700), never lands
in temporary folders, logs or tracebacks, reaches the index only as far as `list` and `review`
need it, and error messages name a problem without copying the case. Exports that identify the
client say so.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from casectl.errors import ExitStatus
from tests.conftest import Cli, planned_case

# Distinctive text in fields `list` and `review` never show: none may leave the case file.
SECRETS = {
    "phone": "555-0199-SECRETPHONE",
    "email": "secret.mail@example.org",
    "address": "12 Hidden Lane SECRETADDR",
    "culture": "SECRETCULTURE prefers evening visits",
    "family": "Xiomara SECRETFAMILY",
    "reason": "SECRETREASON school refusal",
    "diagnosis": "SECRETDIAG disorder",
    "medication": "SECRETMED 5 mg",
    "health": "SECRETHEALTH status",
    "summary": "SECRETSUMMARY talked about the move",
    "barrier": "SECRETBARRIER no car",
    "family_input": "SECRETINPUT wants Saturday calls",
}


def secret_case(cli: Cli) -> str:
    """A case taken to a follow-up, with a secret in every field list and review do not show."""
    case = cli(
        "new", "--name", "Mia Santos", "--dob", "2016-04-02", "--sex", "female",
        "--phone", SECRETS["phone"], "--email", SECRETS["email"],
        "--address", SECRETS["address"], "--culture", SECRETS["culture"],
    ).stdout.split()[-1]  # fmt: skip
    cli("family", case, "--id", "mother", "--name", SECRETS["family"], "--relationship", "mother", "--guardian", "--decision-maker", "--phone", SECRETS["phone"])  # fmt: skip
    cli("team", case, "--id", "pcp", "--name", "Dr. Ana Ruiz", "--role", "primary-care")
    cli("screen", case, "--referral-source", "PCP", "--referral-reason", SECRETS["reason"], "--eligible", "--reason", "eligible", "--date", "2026-09-01")  # fmt: skip
    cli("assess", case, "--health-status", SECRETS["health"], "--diagnosis", f"{SECRETS['diagnosis']}; icd10=F93.0", "--medication", SECRETS["medication"], "--date", "2026-09-10")  # fmt: skip
    cli("risk", case, "--date", "2026-09-10")
    cli("plan", case, "--goal", "Back at school; measure=days a week; target=5; by=2027-03-01", "--intervention", "School meeting; owner=pcp; goal=g1; every=monthly", "--review-every", "30d", "--agreed-by", "mother", "--family-input", SECRETS["family_input"], "--date", "2026-09-15")  # fmt: skip
    cli("follow-up", case, "--mode", "phone", "--with", "mother", "--summary", SECRETS["summary"], "--barrier", SECRETS["barrier"], "--date", "2026-10-01")  # fmt: skip
    return case


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")) if folder.exists() else []


def test_case_data_stays_in_the_data_folder_and_the_index(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, scratch = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    scratch.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)  # make tempfile look at TMPDIR again
    for name in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    case = secret_case(cli)
    cli("list")
    cli("list", "--format", "json")
    cli("review", "--all")
    cli("show", case)
    cli("check")
    cli("migrate", "--dry-run")
    cli("close", case, "--reason", "moved away")

    assert files_under(scratch) == [], "nothing in the temporary folder"
    assert files_under(home) == [], "nothing in the home folder (no logs, no caches there)"
    everything = {p for p in files_under(tmp_path) if p.is_file()}
    data = set(files_under(cli.data_dir))
    cache = tmp_path / "cache"  # CASECTL_CACHE_DIR (tests/conftest.py)
    tag = cache / "CACHEDIR.TAG"  # marks casectl's cache folder; the same text everywhere
    assert tag.read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55\n")
    index = set(files_under(cache)) - {tag}
    assert everything - data - index - {tag} == set(), (
        "case data only in the data folder and the index"
    )
    assert [p.name.startswith("index-") for p in index] == [True], index
    text = next(iter(index)).read_bytes().decode("utf-8", "replace")
    assert "Mia Santos" in text, "the index holds what list shows"
    leaked = [name for name, secret in SECRETS.items() if secret in text]
    assert leaked == [], f"the index holds more than list and review need: {leaked}"


def test_the_installed_command_writes_nothing_outside_its_folders(tmp_path: Path) -> None:
    """Real processes, with HOME and TMPDIR empty: only the data folder and the user cache."""
    home, scratch, data = tmp_path / "home", tmp_path / "tmp", tmp_path / "cases"
    home.mkdir()
    scratch.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XDG_", "CASECTL_CACHE", "CASECTL_DATA"))
    }
    env.update(HOME=str(home), TMPDIR=str(scratch), CASECTL_TODAY="2026-11-25")

    def casectl(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "casectl", "--data-dir", str(data), *args],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        return done.stdout

    casectl("init")
    case = casectl("new", "--name", "Leo Park", "--dob", "2012-01-09", "--sex", "male", "--phone", SECRETS["phone"]).split()[-1]  # fmt: skip
    casectl("assess", case, "--health-status", SECRETS["health"], "--date", "2026-09-10")
    casectl("list", "--format", "json")
    casectl("show", case)
    assert files_under(scratch) == []
    outside = [p for p in files_under(home) if p.is_file() and p.name != "CACHEDIR.TAG"]
    assert [p.parent.name for p in outside] == ["casectl"], outside  # ~/.cache/casectl/index-…
    for folder in [p for p in files_under(home) if p.is_dir() and "casectl" in p.parts]:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(outside[0].stat().st_mode) == 0o600
    text = outside[0].read_bytes().decode("utf-8", "replace")
    assert SECRETS["phone"] not in text and SECRETS["health"] not in text


def test_every_file_and_folder_is_private_under_a_permissive_umask(
    tmp_path: Path, permissive_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "cases")
    cli("init")
    case = secret_case(cli)
    cli("list")
    cli("review")
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys\nwith open(sys.argv[1], 'a') as f:\n    f.write('# seen by the editor\\n')\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    cli("edit", case)
    cli("migrate")
    export = tmp_path / "out" / "plan.md"
    export.parent.mkdir()
    cli("export", case, "-o", str(export))
    checked = [cli.data_dir, *files_under(cli.data_dir), *files_under(tmp_path / "cache"), export]
    for path in checked:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {mode:o}"


def test_check_warns_when_others_can_read_the_folder_or_a_file(cli: Cli) -> None:
    case = planned_case(cli)
    os.chmod(cli.data_dir, 0o750)
    os.chmod(cli.path(case), 0o640)
    result = cli("check")
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert (
        f"casectl: warning: {cli.data_dir} can be read by other users; run: chmod 700 {cli.data_dir}"
        in lines
    )
    assert (
        f"casectl: warning: {cli.path(case)} can be read by other users; run: chmod 600 {cli.path(case)}"
        in lines
    )


def test_an_internal_error_names_its_kind_not_the_case(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = secret_case(cli)

    def broken(*_: object) -> None:
        raise ValueError(f"cannot handle {SECRETS['diagnosis']} for Mia Santos")

    monkeypatch.setattr("casectl.stages.records.follow_up", broken)
    before = cli.path(case).read_bytes()
    result = cli(
        "follow-up", case, "--mode", "phone", "--with", "mother", "--summary", "x", ok=False
    )
    assert result.exit_code == 70
    assert result.stderr == (
        "casectl: internal error (ValueError); nothing was written. "
        "Run again with --debug for details and report it.\n"
    )
    assert cli.path(case).read_bytes() == before


def test_an_error_in_a_big_case_is_one_short_sentence(cli: Cli) -> None:
    case = secret_case(cli)
    path = cli.path(case)
    yaml = YAML(typ="rt")
    yaml.representer.ignore_aliases = lambda *_: True  # type: ignore[method-assign]
    data = yaml.load(path.read_text())
    follow_up = dict(data["follow_ups"][0])
    data["follow_ups"] = [{**follow_up, "summary": f"{SECRETS['summary']} {n}"} for n in range(300)]
    data["client"] = list(data["follow_ups"])  # the whole history where the client belongs
    with path.open("w") as out:
        yaml.dump(data, out)
    assert path.stat().st_size > 50_000
    for args in (
        ("show", case),
        ("follow-up", case, "--mode", "phone", "--with", "mother", "--summary", "x"),
    ):
        result = cli(*args, ok=False)
        assert result.exit_code == ExitStatus.INVALID
        assert result.stderr.count("\n") == 1 and len(result.stderr) < 300, result.stderr[:500]
        assert "client: should be a mapping of keys to values, not a list" in result.stderr
        assert not any(secret in result.stderr for secret in SECRETS.values())
    checked = cli("check", ok=False)
    assert checked.exit_code == ExitStatus.PROBLEMS_FOUND
    assert all(len(line) < 400 for line in checked.stdout.splitlines())
    assert not any(secret in checked.stdout for secret in SECRETS.values())


def test_exports_that_identify_the_client_say_so(cli: Cli, tmp_path: Path) -> None:
    case = secret_case(cli)
    for args in (
        ("export", case),
        ("export", case, "--format", "html"),
        ("export", case, "--format", "fhir"),
        ("export", "--all", "--format", "fhir"),
        ("export", case, "-o", str(tmp_path / "plan.md")),
    ):
        result = cli(*args)
        assert result.stderr.startswith("casectl: this export identifies "), args
        assert result.stderr.endswith("; share it only as your consent rules allow.\n"), args
        assert result.stderr.count("\n") == 1
    for args in (
        ("export", case, "--format", "fhir", "--deidentify"),
        ("export", "--all", "--format", "fhir", "--deidentify"),
    ):
        result = cli(*args)
        assert result.stderr == "", args
        assert "Mia Santos" not in result.stdout and "2016-04-02" not in result.stdout
        assert not any(secret in result.stdout for secret in SECRETS.values()), args
        if "--all" in args:
            assert all(json.loads(line) for line in result.stdout.splitlines())
        else:
            assert json.loads(result.stdout)["resourceType"] == "Bundle"
