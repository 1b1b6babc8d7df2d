"""`casectl cache clean`: remove the summary indexes casectl keeps outside the data folder."""

from __future__ import annotations

import typer

from casectl.cli.app import commands as app
from casectl.cli.common import echo_ok

cache_app = typer.Typer(
    help="The summary index `list` and `review` keep in the user cache folder.",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache")


@cache_app.command("clean")
def cache_clean() -> None:
    """Remove every summary index casectl keeps in its cache folder (they hold case names).

    The next `list` or `review` of each data folder rebuilds its index. Indexes of data folders
    that no longer exist are removed on their own, once a day.

    Example: casectl cache clean
    """
    from casectl.review.index import clean_cache

    folder, removed = clean_cache()
    echo_ok(f"removed {len(removed)} index file(s) from {folder}")
