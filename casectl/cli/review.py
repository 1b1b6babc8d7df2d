"""`casectl review`: what needs attention today — overdue, due within the window, and later.

Only parses options and renders: the worklist (casectl.review.worklist) decides what is due, and the
caseload comes from the summary index (casectl.review.index), so a warm run reads no case file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from casectl.cli.app import commands as app
from casectl.cli.output import Format, bom_option, output_option

if TYPE_CHECKING:
    from casectl.review.caseload import Filters
    from casectl.review.worklist import ReviewItem

# What the table shows at a terminal; JSON, CSV and TSV carry every REVIEW_FIELDS field.
TABLE_FIELDS = ["case_id", "client", "risk", "kind", "due", "days_overdue", "what"]
GROUP_TITLES = {
    "urgent": "[bold red]Act today[/]",
    "overdue": "[bold red]Overdue[/]",
    "due": "Due within {days} days",
    "later": "[dim]Later[/]",
}


@app.command()
def review(
    ctx: typer.Context,
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Judge what is due as of this day: YYYY-MM-DD, today, +7d (default today).",
    ),
    within: str | None = typer.Option(
        None,
        "--within",
        help="The window for 'due': 7d, 2w, 1m (default: config review.window_days).",
    ),
    show_all: bool = typer.Option(
        False, "--all", help="Also list what falls due after the window (group 'later')."
    ),
    risk: list[str] | None = typer.Option(
        None, "--risk", help="low, moderate, high or none; repeatable or comma-separated."
    ),
    manager: str | None = typer.Option(None, "--manager", help="Only this case manager's cases."),
    status: list[str] | None = typer.Option(
        None, "--status", help="open, on-hold or active (both); closed cases have nothing due."
    ),
    stage: list[str] | None = typer.Option(
        None, "--stage", help="Only cases whose furthest step is this: new, screen … evaluate."
    ),
    kind: list[str] | None = typer.Option(
        None,
        "--kind",
        help="safety, invalid, review, referral, appointment, intervention, goal, reassessment, no-plan, stale-risk.",
    ),
    case: list[str] | None = typer.Option(
        None, "--case", help="Only these case ids; repeatable or comma-separated."
    ),
    fmt: Format = typer.Option(
        Format.table,
        "--format",
        "-f",
        help="table, json, csv, tsv, ids (case ids, once each) or xlsx (needs -o or a redirect).",
    ),
    output: str | None = output_option(),
    bom: bool = bom_option(),
    exit_code: bool = typer.Option(
        False,
        "--exit-code",
        help="Exit 3 when anything listed is overdue, a safety flag is open or a case file is invalid (for cron).",
    ),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Read every file; ignore the summary index."
    ),
) -> None:
    """What needs attention: same-day safety flags first, then reviews, referrals to chase,
    appointments, interventions, goals, reassessments, cases with no plan and stale risk records.

    Example: casectl review --within 2w --risk high --format csv
    """
    from casectl.cli.output import check_bom
    from casectl.dates import parse_date, parse_duration_days
    from casectl.errors import ExitStatus
    from casectl.review.caseload import Filters
    from casectl.review.worklist import REVIEW_FIELDS, needs_attention

    check_bom(fmt, bom)
    filters = Filters.parse(
        status=status, risk=risk, manager=manager, stage=stage, cases=case, kinds=kind
    )
    day = parse_date(as_of, what="--as-of") if as_of else None
    days = parse_duration_days(within, what="--within") if within else None
    items, days, day = _items(ctx.find_root().obj, filters, day, days, show_all, no_cache)
    if fmt is Format.table and output in (None, "-"):
        _table(items, day.isoformat(), days)
    else:
        from casectl.cli.output import emit_records

        title = f"Review {day.isoformat()}"
        emit_records(items, REVIEW_FIELDS, fmt, output=output, bom=bom, title=title)
    if exit_code and needs_attention(items):
        raise typer.Exit(int(ExitStatus.OVERDUE))


def _items(
    root: Path,
    filters: Filters,
    day: dt.date | None,
    days: int | None,
    show_all: bool,
    no_cache: bool,
) -> tuple[list[ReviewItem], int, dt.date]:
    """The review's items, with the window and day used; the caseload is let go on return,
    before anything is printed, so a large review does not hold both in memory."""
    import atexit
    import gc

    from casectl.batch import paused_gc
    from casectl.dates import today
    from casectl.review.caseload import read_caseload, warn_unknown_manager
    from casectl.review.worklist import review_items

    # The process ends after one command: skip the collector's final pass over everything
    # the caseload allocated (about 30 ms on 10,000 cases; the memory goes back regardless).
    atexit.unregister(gc.freeze)  # once, however many reviews one process runs (tests)
    atexit.register(gc.freeze)
    with paused_gc():
        caseload = read_caseload(root, today=today(), use_index=not no_cache, warn=False)
        if filters.manager is not None:
            warn_unknown_manager(filters.manager, (c.manager for c in caseload.cases))
        window = caseload.window_days if days is None else days
        on = day or today()
        problems = [
            (name, text)
            for name, text in caseload.problems
            if filters.cases is None or name.rsplit(".", 1)[0] in filters.cases
        ]
        items = review_items(
            filters.select(caseload.cases),
            as_of=on,
            within_days=window,
            include_later=show_all,
            kinds=filters.kinds,
            invalid=problems,
        )
        return items, window, on


def _table(items: list[ReviewItem], as_of: str, days: int) -> None:
    from casectl.cli.output import console, emit_records, is_tty
    from casectl.review.worklist import GROUPS, REVIEW_FIELDS, URGENT_KINDS

    if not is_tty():
        emit_records(items, REVIEW_FIELDS, Format.table)  # plain columns with a header
        return
    if not items:
        console().print(f"Nothing needs attention as of {as_of}.")
        return
    columns = [REVIEW_FIELDS.index(f) for f in TABLE_FIELDS]
    # Same-day flags (and files that do not validate) head the review in every format; at a
    # terminal they get a table of their own, so one raised today is not listed below overdue items.
    tables: dict[str, list[list[object]]] = {group: [] for group in ("urgent", *GROUPS)}
    for item in items:
        group = "urgent" if item.kind in URGENT_KINDS else item.group
        tables[group].append([item[n] for n in columns])
    for group, shown in tables.items():
        if shown:
            title = GROUP_TITLES[group].format(days=days) + f" — {len(shown)} as of {as_of}"
            emit_records(shown, TABLE_FIELDS, Format.table, title=title)
