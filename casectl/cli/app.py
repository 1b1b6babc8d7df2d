"""The `casectl` command: global options, the command groups, and the one exit point.

Commands only parse options, call the library and render; every `CasectlError` they raise is
caught here and printed as one sentence with its exit code (`--debug` shows the traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from casectl import __version__
from casectl.dates import EARLIEST, LATEST
from casectl.errors import CasectlError, ExitStatus, cannot_write

INTERNAL_ERROR = 70


class CasectlGroup(TyperGroup):
    """Turns casectl's errors into a message and an exit code, never a traceback."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except CasectlError as exc:
            if _debug(ctx):
                raise
            _fail(exc.message, exc.exit_status)
        except typer.Exit:
            raise
        except (KeyboardInterrupt, typer.Abort):
            # Ctrl-C, or Ctrl-D at a question (which Typer's prompts turn into Abort, and
            # Typer would report as "Aborted!", exit 1): the exit code of an interrupt.
            _fail("interrupted; nothing was written.", ExitStatus.INTERRUPTED)
        except typer.exceptions.TyperException:
            raise
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(0) from None
        except Exception as exc:
            if _debug(ctx):
                raise
            _fail(*_explain(exc))


def _explain(exc: Exception) -> tuple[str, int]:
    """The sentence and exit code for an error no layer below turned into a CasectlError."""
    if isinstance(exc, OSError) and (refused := cannot_write(exc)) is not None:
        # A full or read-only disk, or a refused permission: not a bug, and not casectl's.
        return refused.message, refused.exit_status
    if isinstance(exc, OverflowError):
        # Date arithmetic past year 9999 or before year 1: a date given was far out.
        return (
            f"a date is too far in the past or future; casectl takes dates from {EARLIEST} "
            f"to {LATEST}; nothing was written.",
            ExitStatus.INVALID,
        )
    # The exception text may quote case data: name only its type.
    return (
        f"internal error ({type(exc).__name__}); nothing was written. "
        "Run again with --debug for details and report it.",
        INTERNAL_ERROR,
    )


def _debug(ctx: typer.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug"))


def _fail(message: str, status: int) -> None:
    from casectl.text import printable

    # A message may quote a path or a value from a file: never a control character.
    typer.echo(printable(f"casectl: {message}"), err=True)
    raise typer.Exit(int(status))


commands = typer.Typer(
    cls=CasectlGroup,
    name="casectl",
    help="A caseload tool for case managers: one YAML file per case, one command per step.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"casectl {__version__}")
        raise typer.Exit()


@commands.callback()
def root(
    ctx: typer.Context,
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        "-d",
        help="The folder of case files (else $CASECTL_DATA_DIR, else the user data folder).",
        show_default=False,
    ),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback when something fails."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """casectl takes a case through screen, assess, risk, plan, implement, follow-up, evaluate.

    Every step adds a dated record to the case's YAML file; nothing earlier is overwritten.
    """
    from casectl.store.paths import resolve_data_dir

    ctx.obj = resolve_data_dir(data_dir)


# Each command module registers its commands on `commands` when imported. A run imports only the
# module of the command it was given (every module for `--help`, or a name it does not know), so
# `casectl review` does not pay for building the other thirty commands' options.
_MODULES = (
    "cases",
    "stages",
    "review",
    "report",
    "export",
    "history",
    "importing",
    "migrate",
    "calc",
    "demo",
    "cache",
    "team",
)
_MODULE_OF = {
    **dict.fromkeys(
        (
            "init",
            "new",
            "show",
            "list",
            "check",
            "edit",
            "close",
            "reopen",
            "hold",
            "transfer",
            "family",
            "team",
            "consent",
        ),
        "cases",
    ),
    **dict.fromkeys(
        ("screen", "assess", "risk", "plan", "implement", "follow-up", "evaluate"), "stages"
    ),
    "review": "review",
    "report": "report",
    "export": "export",
    "history": "history",
    "import": "importing",
    "migrate": "migrate",
    "calc": "calc",
    "demo": "demo",
    "cache": "cache",
    "sync": "team",
    "git": "team",
    "merge-file": "team",
}


def _register(modules: tuple[str, ...] = _MODULES) -> None:
    import importlib

    for name in modules:
        importlib.import_module(f"casectl.cli.{name}")


def _command_named(argv: list[str]) -> str | None:
    """The command word in `argv`, skipping the global options before it."""
    value_next = False
    for arg in argv:
        if value_next:
            value_next = False
        elif arg in ("--data-dir", "-d"):
            value_next = True
        elif not arg.startswith("-"):
            return arg
    return None


def __getattr__(name: str) -> typer.Typer:
    # `from casectl.cli.app import app` (tests, embedding) gets every command registered.
    if name == "app":
        _register()
        return commands
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def no_core_dumps() -> None:
    """A crash must not leave the process's memory (case data) in a core file on disk."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass  # no such limit here (Windows), or not allowed: nothing more to do


def main() -> None:
    """Console-script entry point."""
    no_core_dumps()
    module = _MODULE_OF.get(_command_named(sys.argv[1:]) or "")
    _register((module,) if module else _MODULES)
    commands()
