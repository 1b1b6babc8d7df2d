"""The README is part of the product: every command is in it, and its walk-through runs as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from casectl.cli.app import app
from casectl.errors import ExitStatus

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}.*?$(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def _commands() -> list[tuple[str, typer.models.CommandInfo | None]]:
    names = [(c.name or c.callback.__name__.replace("_", "-"), c) for c in app.registered_commands]  # type: ignore[union-attr]
    names += [(g.name or "", None) for g in app.registered_groups]
    return names


def test_every_command_has_help_text_and_an_example() -> None:
    for name, info in _commands():
        if info is None:
            continue
        text = info.help or (info.callback.__doc__ if info.callback else None)
        assert text and text.strip(), f"{name} has no help text"
        assert "Example:" in text, f"{name}'s help has no example"


def test_every_command_is_named_in_the_readme() -> None:
    table = _section("Commands")
    for name, _ in _commands():
        assert f"`{name}" in table, f"{name} is missing from the README's command table"


def test_the_exit_code_table_matches_the_code() -> None:
    table = _section("Exit codes")
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.M)}
    assert documented == {int(s) for s in ExitStatus} | {70}


def test_the_quickstart_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", _section("Quickstart"), re.S)
    commands = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    assert "casectl" in commands[0] and "examples/caseload" in commands[0]
    assert "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


def test_the_readme_commands_install_the_pinned_versions_and_the_pins_are_in_range() -> None:
    """A fresh clone installs what CI tested, whatever was released since; ranges stay honest."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    blocks = re.findall(r"```sh\n(.*?)```", _section("Quickstart"), re.S)
    for command in (line for block in blocks for line in block.splitlines() if line.strip()):
        assert "pip install -q -c constraints.txt " in command, command
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not a pin (name==version)"
            pins[canonicalize_name(name)] = version.strip()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    for text in wanted:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"constraints.txt pins no version of {requirement.name}"
        assert requirement.specifier.contains(pins[name]), (
            f"constraints.txt pins {requirement.name} {pins[name]}, outside {text!r}"
        )
    for script in ("latest", "lock"):
        assert f"bash .ci/{script}" in _section("Development"), script
    # .ci/latest installs the newest releases: it must not take the pins.
    assert "-c constraints.txt" not in (ROOT / ".ci" / "latest").read_text()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_walk_through_runs_as_written(tmp_path: Path) -> None:
    block = re.search(r"```sh\n(.*?)```", _section("Walk-through"), re.S)
    assert block
    bindir = Path(sys.executable).parent
    if not (bindir / "casectl").exists():
        pytest.skip("the casectl script is not installed next to this Python")
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "CASECTL_TODAY": "2026-11-25",
        "CASECTL_USER": "J. Rivera",
    }
    env.pop("CASECTL_DATA_DIR", None)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.group(1)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "all case files valid" in done.stdout
    assert "Risk:" in done.stdout and "Timeline" in done.stdout


def test_each_command_is_loaded_from_the_module_that_defines_it() -> None:
    # main() imports only the module of the command it was given: the map must be exact.
    from casectl.cli import app as app_module

    found = {name for name, _ in _commands()}
    assert set(app_module._MODULE_OF) == found
    for info in app.registered_commands:
        name = info.name or info.callback.__name__.replace("_", "-")  # type: ignore[union-attr]
        assert info.callback is not None
        module = info.callback.__module__
        assert module == f"casectl.cli.{app_module._MODULE_OF[name]}", name
    assert app_module._command_named(["--data-dir", "x", "--debug", "review", "--all"]) == "review"
    assert app_module._command_named(["--help"]) is None
