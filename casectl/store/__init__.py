"""The data directory: case files on disk, their locks, and safe atomic writes.

The names below are loaded on first use: the CLI's root callback imports `casectl.store.paths`
on every command, and that must not pull in ruamel.yaml and the models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casectl.store.store import CaseStore, LoadedCase, dump_case, write_atomic

__all__ = ["CaseStore", "LoadedCase", "dump_case", "write_atomic"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from casectl.store import store

        return getattr(store, name)
    raise AttributeError(f"module 'casectl.store' has no attribute {name!r}")
