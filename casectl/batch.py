"""Long batch work over many case files: a progress bar on a terminal, worker processes when
there are many, and no garbage collector running for nothing.

Used by the summary index (reading cold files), `check` and `export --all`.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many items, starting worker processes costs more than it saves.
PARALLEL_FROM = 300
CHUNK = 250


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run a block without the cyclic garbage collector.

    Building hundreds of thousands of small lists and tuples (the index, the review) makes the
    collector run over and over for nothing: none of them form cycles. Paused, it is 2-3x faster.
    """
    import gc

    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # What was built lives until the command ends: freeze it, so that re-enabling the
        # collector does not start with a full pass over every one of those objects.
        gc.freeze()
        if was_on:
            gc.enable()


@contextmanager
def progress(total: int, label: str, *, minimum: int = 200) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)`; a progress bar on stderr while it runs, only when stderr is a terminal.

    Short jobs (fewer than `minimum` steps) and piped stderr show nothing.
    """
    if total < minimum or not sys.stderr.isatty():
        yield _no_progress
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def advance(steps: int = 1) -> None:
            bar.advance(task, steps)

        yield advance


def _no_progress(steps: int = 1) -> None:
    pass


def workers() -> int:
    """How many worker processes to start: the CPUs this process may use, at most 8."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def in_chunks(
    work: Callable[..., R], args: tuple[Any, ...], items: Sequence[T], label: str
) -> Iterator[R]:
    """`work(*args, chunk)` for consecutive chunks of `items`, the results in order, with a
    progress bar counting items.

    With PARALLEL_FROM items or more, in worker processes (forked on Linux, so import what
    `work` needs first); `work` and `args` must then be picklable. If the caller stops early,
    chunks not yet started are cancelled.
    """
    count = workers() if len(items) >= PARALLEL_FROM else 1
    if count == 1:
        with progress(len(items), label) as advance:
            for start in range(0, len(items), CHUNK):
                chunk = items[start : start + CHUNK]
                yield work(*args, chunk)
                advance(len(chunk))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork") if sys.platform == "linux" else None
    size = min(CHUNK, max(50, len(items) // (count * 4) + 1))
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    pool = ProcessPoolExecutor(max_workers=count, mp_context=context)
    try:
        # All work is submitted (and the workers forked) before any progress thread starts.
        pending = deque((pool.submit(work, *args, chunk), len(chunk)) for chunk in chunks)
        with progress(len(items), label) as advance:
            while pending:
                # Each result is let go once passed on: an export's are 200 MB in all.
                future, count_done = pending.popleft()
                yield future.result()
                advance(count_done)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
