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

from casectl.errors import CaseLocked

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
    folder.mkdir(mode=0o700, exist_ok=True)
    timeout = _timeout()
    lock = FileLock(str(folder / f"{name}.lock"), timeout=timeout, mode=0o600)
    try:
        lock.acquire()
    except Timeout:
        raise CaseLocked(
            f"{name} is being changed by another casectl process (waited {timeout:g} s); "
            "try again in a moment."
        ) from None
    try:
        yield
    finally:
        lock.release()
