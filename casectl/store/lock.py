"""A per-case write lock that a killed process cannot leave stuck.

filelock's Unix lock is an `flock` on a file: the kernel drops it when the holder dies, so a
stale lock file on disk never blocks anyone. Lock files live in `.locks/`, out of git's way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from casectl.errors import CaseLocked, cannot_write

LOCK_DIR = ".locks"
LOCK_TIMEOUT_ENV = "CASECTL_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 10.0


def _timeout() -> float:
    try:
        return max(0.0, float(os.environ.get(LOCK_TIMEOUT_ENV, DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


@contextmanager
def locked(data_dir: Path, name: str) -> Iterator[None]:
    """Hold the lock called `name` in `data_dir`, waiting a bounded time for another writer."""
    folder = data_dir / LOCK_DIR
    timeout = _timeout()
    path = folder / f"{name}.lock"
    lock = FileLock(str(path), timeout=timeout, mode=0o600)
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise CaseLocked(
            f"{name} is being changed by another casectl process (waited {timeout:g} s); "
            "try again in a moment."
        ) from None
    except OSError as exc:  # a read-only or full disk: say so, as a write would
        refused = cannot_write(exc, data_dir, folder=data_dir, left="nothing was changed")
        if refused is None:
            raise
        raise refused from None
    try:
        yield
    finally:
        lock.release()
