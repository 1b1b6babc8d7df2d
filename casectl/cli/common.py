"""Helpers shared by the commands: the store, recorder defaults, stage input and prompting."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from casectl.errors import CasectlError, ExitStatus, InvalidInput

M = TypeVar("M", bound=BaseModel)


# Options every command about one case shares.
CaseArg = typer.Argument(..., metavar="CASE", help="The case id, e.g. C-2026-0001.")
By = typer.Option(
    None, "--by", help="Who records this (default: config case_manager, else your login)."
)
Date = typer.Option(
    None, "--date", help="When it happened: YYYY-MM-DD, today, yesterday, -3d (default today)."
)


class MissingInput(CasectlError):
    exit_status = ExitStatus.USAGE


def store(ctx: typer.Context) -> Any:
    """The CaseStore of the data directory chosen by the global options."""
    from casectl.store import CaseStore

    root: Path = ctx.find_root().obj
    return CaseStore(root)


def stdin_is_tty() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def recorder(store: Any, given: str | None) -> str:
    """Who is recording: --by, else the config's case manager, else the login name."""
    if given:
        return given
    configured: str = store.config.case.case_manager
    if configured:
        return configured
    try:
        return os.environ.get("CASECTL_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "case manager"


def when(given: str | None, what: str = "--date") -> dt.date:
    from casectl.dates import parse_date, today

    return parse_date(given, what=what) if given else today()


def drop_empty(data: Mapping[str, Any]) -> dict[str, Any]:
    """Options the user did not give are None or empty lists: leave them out of the record."""
    return {k: v for k, v in data.items() if v is not None and v != [] and v != {}}


def build_record(
    model: type[M],
    data: dict[str, Any],
    *,
    options: Mapping[str, str],
    command: str,
) -> M:
    """Validate a stage's input; prompt for missing fields on a terminal, else say which option to give.

    `options` maps record fields to the option that sets them, for messages and prompts.
    """
    while True:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors()
        # A misspelt key explains the "missing" field it was meant to be: report it first.
        errors.sort(key=lambda e: e["type"] != "extra_forbidden")
        missing = [e["loc"][0] for e in errors if e["type"] == "missing" and len(e["loc"]) == 1]
        if errors[0]["type"] == "extra_forbidden":
            missing = []
        if missing and stdin_is_tty():
            for name in missing:
                data[str(name)] = _ask(model, str(name), options.get(str(name), str(name)))
            continue
        if missing:
            names = ", ".join(options.get(str(m), str(m)) for m in missing)
            raise MissingInput(
                f"`{command}` needs {names}; give it as an option or in a --from file "
                "(standard input is not a terminal, so casectl does not ask)."
            )
        err = errors[0]
        from casectl.models.validation import describe_error, format_loc

        loc = err["loc"]
        head = str(loc[0]) if loc else ""
        where = options.get(head, format_loc(loc))
        if len(loc) > 1:
            where = f"{where} ({format_loc(loc)})"
        raise InvalidInput(f"{where}: {describe_error(err)}.")


def _ask(model: type[BaseModel], name: str, option: str) -> Any:
    field = model.model_fields[name]
    annotation = str(field.annotation)
    label = option.lstrip("-").replace("-", " ")
    if "bool" in annotation:
        return typer.confirm(label.capitalize() + "?")
    answer: str = typer.prompt(label.capitalize())
    if annotation.startswith("list"):
        return [part.strip() for part in answer.split(",") if part.strip()]
    return answer


def from_file(path: str | None) -> dict[str, Any]:
    from casectl.cli.output import read_input_file

    return read_input_file(path) if path else {}


def save(ctx: typer.Context, case_id: str, change: Callable[[Any], Any]) -> Any:
    """Apply a pure change to a case under its lock; return the saved case.

    With `[git] commit = true` the case's file is then committed on its own, still under the
    case's lock, the message made from what changed. The write stands whatever git does: a git
    failure is a warning on standard error (saying the write has no commit) and exit 0.
    """
    cases = store(ctx)

    def commit(before: Any, after: Any) -> None:
        from casectl.store.gitlog import describe_change

        commit_write(cases, cases.path_for(case_id), case_id, describe_change(before, after))

    return cases.update(case_id, change, then=commit if cases.config.git.commit else None)


def commit_write(cases: Any, path: Path, case_id: str, note: Any) -> None:
    """With `[git] commit = true`, commit the one file just written; a git failure is a warning.

    The one commit step of every write command (stages, new, edit, import).
    """
    if not cases.config.git.commit:
        return
    from casectl.store.gitlog import commit_or_warn

    warning = commit_or_warn(
        cases.root, path, case_id, note, fallback_author=note.recorded_by or recorder(cases, None)
    )
    if warning:
        typer.echo(warning, err=True)


def next_handle(prefix: str, taken: set[str]) -> str:
    """The first free handle such as g1, g2 … for a new goal, referral or appointment."""
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def split_csv(values: list[str] | None) -> list[str]:
    """Repeated options that may also hold comma-separated values: `--with mother,pcp`."""
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def echo_ok(message: str) -> None:
    """Print a confirmation as plain text: it quotes case data and paths, which may hold
    brackets that rich would take for markup (and importing rich costs a stage write ~12 ms)."""
    sys.stdout.write(message + "\n")


__all__ = [
    "By",
    "CaseArg",
    "Date",
    "MissingInput",
    "build_record",
    "commit_write",
    "drop_empty",
    "echo_ok",
    "from_file",
    "next_handle",
    "recorder",
    "save",
    "split_csv",
    "stdin_is_tty",
    "store",
    "when",
]
