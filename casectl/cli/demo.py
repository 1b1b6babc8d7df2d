"""`casectl demo generate`: a synthetic caseload to try casectl on, test it and time it."""

from __future__ import annotations

from pathlib import Path

import typer

from casectl.cli.app import commands as app

demo_app = typer.Typer(
    help="Make a synthetic caseload (invented people) to try casectl on.",
    no_args_is_help=True,
)
app.add_typer(demo_app, name="demo")


@demo_app.command()
def generate(
    folder: Path = typer.Argument(
        ..., metavar="DIR", help="A new or empty folder; it becomes a data directory."
    ),
    cases: int = typer.Option(100, "--cases", "-n", help="How many cases to make."),
    seed: int = typer.Option(1, "--seed", help="The same seed and --as-of give the same files."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Date the caseload around this day (default today; not later)."
    ),
) -> None:
    """Write N realistic synthetic cases: every stage, all risk tiers, several languages, some
    closed or transferred, with reviews and appointments falling due around --as-of.

    Example: casectl demo generate /tmp/demo --cases 500 --seed 7 && casectl -d /tmp/demo review
    """
    from casectl.cli.common import echo_ok
    from casectl.dates import parse_date, today
    from casectl.demo import write_demo
    from casectl.errors import InvalidInput

    now = today()
    day = parse_date(as_of, what="--as-of") if as_of else now
    if day > now:
        raise InvalidInput(
            f"--as-of {day} is after today ({now}): the cases would hold records from the future."
        )
    written = write_demo(folder.expanduser(), cases, seed=seed, as_of=day)
    echo_ok(f"wrote {len(written)} demo case(s) to {folder} (seed {seed}, as of {day})")
