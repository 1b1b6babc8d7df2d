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
from pydantic import BaseModel

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
    """Validate input that needs nothing from the case (a client, a family member, a consent):
    ask for missing fields on a terminal, else say which option to give."""
    from casectl.stages.draft import DraftInvalid, build

    while True:
        try:
            return build(model, data)
        except DraftInvalid as exc:
            _ask_or_explain(exc, data, options, command)


def run_step(
    ctx: typer.Context,
    case_id: str,
    make: Callable[[Any, dict[str, Any]], Any],
    draft: dict[str, Any],
    *,
    options: Mapping[str, str],
    command: str,
    questions: Mapping[str, Any] | None = None,
) -> Any:
    """Run a stage function on the case under its lock and save what it returns (a Step).

    Commands ask for what they know is missing before this (casectl.cli.prompts). When the
    stage still finds a required field missing — one only the case under the lock decides,
    such as who agreed to a plan revision — the lock is let go and, on a terminal, casectl
    asks for it (`questions` by field, else the field's own question) and runs the stage
    again; otherwise it says which options to give.
    """
    while True:
        try:
            return save_step(ctx, case_id, lambda case: make(case, draft))
        except CasectlError as exc:
            from casectl.stages.draft import DraftInvalid

            if not isinstance(exc, DraftInvalid):
                raise
            _ask_or_explain(exc, draft, options, command, questions)


def _ask_or_explain(
    exc: Any,
    data: dict[str, Any],
    options: Mapping[str, str],
    command: str,
    questions: Mapping[str, Any] | None = None,
) -> None:
    """Ask for the missing fields of a DraftInvalid on a terminal; otherwise raise it in the
    words of the command line."""
    from casectl.models.validation import describe_error, error_loc, format_loc

    if exc.missing and stdin_is_tty():
        from casectl.cli import prompts

        prompts.ask_missing(exc.model, exc.missing, data, questions)
        return
    if exc.missing:
        names = ", ".join(options.get(m, m) for m in exc.missing)
        raise MissingInput(
            f"`{command}` needs {names}; give it as an option or in a --from file "
            "(standard input is not a terminal, so casectl does not ask)."
        ) from None
    err = exc.errors[0]
    loc = error_loc(err)
    head = str(loc[0]) if loc else ""
    where = options.get(head, format_loc(loc))
    if len(loc) > 1:
        where = f"{where} ({format_loc(loc)})"
    raise InvalidInput(f"{where}: {describe_error(err)}.") from None


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

    # A change that changes nothing writes nothing, so `then` is not called and no commit made.
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
        echo_err(warning)


def save_step(ctx: typer.Context, case_id: str, make: Callable[[Any], Any]) -> Any:
    """Run a stage function (case -> Step) under the case's lock; the Step, with the saved case.

    A Step that changed nothing writes nothing (and makes no commit)."""
    steps: list[Any] = []

    def change(case: Any) -> Any:
        step = make(case)
        steps.append(step._replace(previous=case))
        return step.case if step.changed else case

    saved = save(ctx, case_id, change)
    return steps[-1]._replace(case=saved)


def say_step(step: Any, *, next_command: str | None = None) -> None:
    """Print what a stage did: its first note after the case id, the rest indented."""
    notes = list(step.notes) or ["recorded"]
    head = notes[0] if notes[0].endswith((".", ")")) else notes[0] + "."
    echo_ok(f"{step.case.id}: {head}")
    for note in notes[1:]:
        echo_ok(f"  {note.lstrip()}" if not note.startswith("  ") else note)
    if next_command and step.changed:
        echo_ok(f"next: casectl {next_command} {step.case.id}")


def split_csv(values: list[str] | None) -> list[str]:
    """Repeated options that may also hold comma-separated values: `--with mother,pcp`."""
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def echo_ok(message: str) -> None:
    """Print a confirmation as plain text: it quotes case data and paths, which may hold
    brackets that rich would take for markup (and importing rich costs a stage write ~12 ms),
    and, from a file written by hand or by an older casectl, control characters (escaped)."""
    from casectl.text import printable

    sys.stdout.write(printable(message) + "\n")


def echo_err(message: str) -> None:
    """A warning or note on standard error, control characters escaped."""
    from casectl.text import printable

    sys.stderr.write(printable(message) + "\n")


__all__ = [
    "By",
    "CaseArg",
    "Date",
    "MissingInput",
    "build_record",
    "commit_write",
    "drop_empty",
    "echo_err",
    "echo_ok",
    "from_file",
    "recorder",
    "run_step",
    "save",
    "save_step",
    "say_step",
    "split_csv",
    "stdin_is_tty",
    "store",
    "when",
]
